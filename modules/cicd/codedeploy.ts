import { Construct } from "constructs";
import { Token } from "cdktf";
import { CodedeployApp } from "@cdktf/provider-aws/lib/codedeploy-app";
import { CodedeployDeploymentConfig } from "@cdktf/provider-aws/lib/codedeploy-deployment-config";
import { CodedeployDeploymentGroup } from "@cdktf/provider-aws/lib/codedeploy-deployment-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Naming } from "../../lib/naming";
import { policyDocument, serviceTrustPolicy } from "../../lib/iam-policy";
import { rangeProblem } from "../../lib/aws-limits";

/** How CodeDeploy moves production traffic to the replacement task set. */
export type TrafficShift =
  | { readonly type: "canary"; readonly percent: number; readonly intervalMinutes: number }
  | { readonly type: "linear"; readonly percent: number; readonly intervalMinutes: number }
  | { readonly type: "all-at-once" };

/** CodeDeploy's predefined ECS configurations; anything else gets its own deployment config. */
const PREDEFINED: Readonly<Record<string, string>> = {
  "all-at-once": "CodeDeployDefault.ECSAllAtOnce",
  "canary-10-5": "CodeDeployDefault.ECSCanary10Percent5Minutes",
  "canary-10-15": "CodeDeployDefault.ECSCanary10Percent15Minutes",
  "linear-10-1": "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
  "linear-10-3": "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
};

/** The predefined configuration name for a shift, if CodeDeploy has one. */
export function predefinedDeploymentConfig(shift: TrafficShift): string | undefined {
  return PREDEFINED[shift.type === "all-at-once" ? shift.type : `${shift.type}-${shift.percent}-${shift.intervalMinutes}`];
}

export interface CodeDeployRoleProps {
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** @default "aws" */
  readonly partition?: string;
  /** Cluster whose services the deployments swap task sets of. */
  readonly clusterName: string;
  /** Name of the environment's ALB (listeners and rules CodeDeploy may modify). */
  readonly loadBalancerName: string;
  /** Execution and task roles the task sets run with (CodeDeploy passes them to ECS). */
  readonly taskRoleArns: readonly string[];
}

/**
 * The environment's CodeDeploy service role, written out instead of the AWS managed
 * AWSCodeDeployRoleForECS (which grants ECS and load-balancer changes on "*"): task sets of
 * this cluster's services, the listeners and rules of this environment's ALB, the alarms of
 * this environment, and only the task roles of its services.
 */
export class CodeDeployRole extends Construct {
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: CodeDeployRoleProps) {
    super(scope, id);
    const { naming, accountId, region } = props;
    const partition = props.partition ?? "aws";
    const arn = (service: string, resource: string) => `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
    this.role = new IamRole(this, "role", {
      name: naming.name("iamRole", "codedeploy"),
      description: `CodeDeploy blue/green deployments of ${naming.stem} services`,
      assumeRolePolicy: serviceTrustPolicy(this, "trust-policy", "codedeploy.amazonaws.com", accountId),
    });
    new IamRolePolicy(this, "policy", {
      name: "blue-green-ecs",
      role: this.role.id,
      policy: policyDocument(this, "policy-document", [
        {
          sid: "SwapTaskSetsOfOwnCluster",
          effect: "Allow",
          actions: ["ecs:DescribeServices", "ecs:CreateTaskSet", "ecs:UpdateServicePrimaryTaskSet", "ecs:DeleteTaskSet"],
          resources: [arn("ecs", `service/${props.clusterName}/*`), arn("ecs", `task-set/${props.clusterName}/*`)],
        },
        {
          sid: "ReadLoadBalancing",
          effect: "Allow",
          // Elastic Load Balancing's Describe* actions support no resource-level permissions.
          actions: ["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetHealth"],
          resources: ["*"],
        },
        {
          sid: "ShiftTrafficOnOwnLoadBalancer",
          effect: "Allow",
          actions: ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"],
          resources: [arn("elasticloadbalancing", `listener/app/${props.loadBalancerName}/*`), arn("elasticloadbalancing", `listener-rule/app/${props.loadBalancerName}/*`)],
        },
        { sid: "WatchOwnAlarms", effect: "Allow", actions: ["cloudwatch:DescribeAlarms"], resources: [arn("cloudwatch", `alarm:${naming.stem}-*`)] },
        {
          sid: "PassTaskRoles",
          effect: "Allow",
          actions: ["iam:PassRole"],
          resources: [...props.taskRoleArns],
          condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
        },
      ]),
    });
  }
}

export interface BlueGreenDeploymentProps {
  readonly naming: Naming;
  /** Service name: part of the application and deployment group names. */
  readonly serviceName: string;
  /** The environment's CodeDeploy role. */
  readonly roleArn: string;
  readonly clusterName: string;
  readonly ecsServiceName: string;
  /** Production listener (the rule of the service is on it). */
  readonly productionListenerArn: string;
  /** Test listener: reachable from inside only; serves the replacement task set before traffic moves. */
  readonly testListenerArn: string;
  readonly blueTargetGroupName: string;
  readonly greenTargetGroupName: string;
  readonly shift: TrafficShift;
  /** Minutes the old task set keeps running after traffic moved (the rollback window). */
  readonly terminationWaitMinutes: number;
  /**
   * Hold the deployment before production traffic moves until an operator continues it
   * (`platform switch <service> --to green`), for at most this many minutes.
   * @default - no wait
   */
  readonly waitForOperatorMinutes?: number;
  /** Alarms whose ALARM state stops and rolls back a deployment (the service's health alarms). */
  readonly rollbackAlarmNames: readonly string[];
}

/**
 * One service's CodeDeploy application and deployment group: ECS blue/green with the
 * production and test listeners, its two target groups, automatic rollback on failure and
 * on alarm, and the old task set kept for `terminationWaitMinutes`.
 */
export class BlueGreenDeployment extends Construct {
  public readonly application: CodedeployApp;
  public readonly deploymentGroup: CodedeployDeploymentGroup;
  /** The configuration name deployments use (predefined, or created here). */
  public readonly deploymentConfigName: string;

  constructor(scope: Construct, id: string, props: BlueGreenDeploymentProps) {
    super(scope, id);
    const { naming } = props;
    validate(this, props);
    const name = naming.name("generic", props.serviceName);
    this.application = new CodedeployApp(this, "application", { name, computePlatform: "ECS" });

    const predefined = predefinedDeploymentConfig(props.shift);
    if (predefined) {
      this.deploymentConfigName = predefined;
    } else {
      const shift = props.shift as Exclude<TrafficShift, { type: "all-at-once" }>;
      const timed = { interval: shift.intervalMinutes, percentage: shift.percent };
      const config = new CodedeployDeploymentConfig(this, "deployment-config", {
        deploymentConfigName: `${name}-${shift.type}-${shift.percent}-${shift.intervalMinutes}`,
        computePlatform: "ECS",
        trafficRoutingConfig:
          shift.type === "canary" ? { type: "TimeBasedCanary", timeBasedCanary: timed } : { type: "TimeBasedLinear", timeBasedLinear: timed },
      });
      this.deploymentConfigName = config.deploymentConfigName;
    }

    const wait = props.waitForOperatorMinutes;
    this.deploymentGroup = new CodedeployDeploymentGroup(this, "deployment-group", {
      appName: this.application.name,
      deploymentGroupName: name,
      serviceRoleArn: props.roleArn,
      deploymentConfigName: this.deploymentConfigName,
      deploymentStyle: { deploymentOption: "WITH_TRAFFIC_CONTROL", deploymentType: "BLUE_GREEN" },
      blueGreenDeploymentConfig: {
        deploymentReadyOption: wait === undefined ? { actionOnTimeout: "CONTINUE_DEPLOYMENT" } : { actionOnTimeout: "STOP_DEPLOYMENT", waitTimeInMinutes: wait },
        terminateBlueInstancesOnDeploymentSuccess: { action: "TERMINATE", terminationWaitTimeInMinutes: props.terminationWaitMinutes },
      },
      ecsService: { clusterName: props.clusterName, serviceName: props.ecsServiceName },
      loadBalancerInfo: {
        targetGroupPairInfo: {
          prodTrafficRoute: { listenerArns: [props.productionListenerArn] },
          testTrafficRoute: { listenerArns: [props.testListenerArn] },
          targetGroup: [{ name: props.blueTargetGroupName }, { name: props.greenTargetGroupName }],
        },
      },
      autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
      alarmConfiguration: { enabled: true, alarms: [...props.rollbackAlarmNames] },
    });
  }
}

function validate(scope: Construct, props: BlueGreenDeploymentProps): void {
  scope.node.addValidation({
    validate: () => {
      const problems: (string | undefined)[] = [];
      const field = (name: string, value: number, min: number, max: number) => {
        if (!Token.isUnresolved(value)) problems.push(rangeProblem(value, min, max) && `${name} ${rangeProblem(value, min, max)}`);
      };
      field("terminationWaitMinutes", props.terminationWaitMinutes, 0, 2880);
      if (props.waitForOperatorMinutes !== undefined) field("waitForOperatorMinutes", props.waitForOperatorMinutes, 1, 2880);
      if (props.shift.type !== "all-at-once") {
        field("percent", props.shift.percent, 1, 99);
        field("intervalMinutes", props.shift.intervalMinutes, 1, 2880);
      }
      if (props.rollbackAlarmNames.length === 0) problems.push(`a blue/green deployment needs at least one rollback alarm (the service's health alarms); got none`);
      if (props.rollbackAlarmNames.length > 10) problems.push(`CodeDeploy watches at most 10 alarms per deployment group; got ${props.rollbackAlarmNames.length}`);
      return problems.filter((p): p is string => p !== undefined);
    },
  });
}
