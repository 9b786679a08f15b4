import { Testing, TerraformStack } from "cdktf";
import { BlueGreenDeployment, BlueGreenDeploymentProps, CodeDeployRole, CodeDeployRoleProps, predefinedDeploymentConfig, TrafficShift } from "../../modules/cicd";
import { Naming } from "../../lib/naming";
import { evaluateStack } from "../../src/policy/aspect";
import { ACCOUNT, newStack, policyOfRole, problemsOf, resourcesOf, synthJson, synthText } from "./fixtures";

const naming = new Naming("fargate", "prod");

function roleProps(overrides: Partial<CodeDeployRoleProps> = {}): CodeDeployRoleProps {
  return {
    naming,
    accountId: ACCOUNT,
    region: "us-east-1",
    clusterName: "fargate-prod-cluster",
    loadBalancerName: "fargate-prod-alb",
    taskRoleArns: [`arn:aws:iam::${ACCOUNT}:role/fargate-prod-api-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-prod-api-task`],
    ...overrides,
  };
}

function roleStack(overrides: Partial<CodeDeployRoleProps> = {}): { stack: TerraformStack; role: CodeDeployRole } {
  const stack = newStack();
  return { stack, role: new CodeDeployRole(stack, "codedeploy", roleProps(overrides)) };
}

const statementsOf = (json: any): any[] => policyOfRole(json, "fargate-prod-codedeploy").statements;
const bySid = (json: any, sid: string) => statementsOf(json).find((s) => s.sid === sid);

describe("CodeDeployRole", () => {
  test("creates the environment's CodeDeploy role, trusted by CodeDeploy of this account only", () => {
    const json = synthJson(roleStack().stack);
    expect(resourcesOf(json, "aws_iam_role").map(([, r]) => r.name)).toEqual(["fargate-prod-codedeploy"]);
    const trust = Object.values<any>(json.data.aws_iam_policy_document)
      .flatMap((d) => d.statement)
      .filter((s) => s.actions?.includes("sts:AssumeRole"));
    expect(trust).toEqual([
      expect.objectContaining({
        principals: [{ type: "Service", identifiers: ["codedeploy.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }],
      }),
    ]);
  });

  test("writes its policy out instead of attaching the AWS managed AWSCodeDeployRoleForECS (ECS and ELB changes on *)", () => {
    const json = synthJson(roleStack().stack);
    expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toEqual([]);
    expect(JSON.stringify(json)).not.toContain("AWSCodeDeployRoleForECS");
    expect(policyOfRole(json, "fargate-prod-codedeploy").name).toBe("blue-green-ecs");
  });

  test("swaps task sets of its own cluster's services only", () => {
    expect(bySid(synthJson(roleStack().stack), "SwapTaskSetsOfOwnCluster")).toEqual({
      sid: "SwapTaskSetsOfOwnCluster",
      effect: "Allow",
      actions: ["ecs:DescribeServices", "ecs:CreateTaskSet", "ecs:UpdateServicePrimaryTaskSet", "ecs:DeleteTaskSet"],
      resources: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-prod-cluster/*`, `arn:aws:ecs:us-east-1:${ACCOUNT}:task-set/fargate-prod-cluster/*`],
    });
  });

  test("shifts traffic on the listeners and listener rules of the environment's ALB only", () => {
    expect(bySid(synthJson(roleStack().stack), "ShiftTrafficOnOwnLoadBalancer")).toEqual({
      sid: "ShiftTrafficOnOwnLoadBalancer",
      effect: "Allow",
      actions: ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"],
      resources: [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/fargate-prod-alb/*`, `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/fargate-prod-alb/*`],
    });
  });

  test('uses Resource "*" only for the Elastic Load Balancing Describe actions, which support no resource ARN', () => {
    const statements = statementsOf(synthJson(roleStack().stack));
    const wildcard = statements.filter((s) => s.resources.includes("*"));
    expect(wildcard).toHaveLength(1);
    expect(wildcard[0].resources).toEqual(["*"]);
    expect(wildcard[0].actions.length).toBeGreaterThan(0);
    for (const action of wildcard[0].actions) expect(action).toMatch(/^elasticloadbalancing:Describe\w+$/);
    for (const s of statements) expect(s.actions.some((a: string) => a === "*" || a.endsWith(":*"))).toBe(false);
    // The policy pack agrees through its allowlist, without a suppression.
    const findings = evaluateStack(roleStack().stack).filter((f) => f.ruleId === "IAM-NO-WILDCARD");
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.filter((f) => f.status === "non-compliant" || f.status === "suppressed")).toEqual([]);
  });

  test("reads the alarms of its own environment only", () => {
    expect(bySid(synthJson(roleStack().stack), "WatchOwnAlarms")).toMatchObject({ actions: ["cloudwatch:DescribeAlarms"], resources: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:fargate-prod-*`] });
  });

  test("passes only the services' task roles, and only to ECS tasks", () => {
    expect(bySid(synthJson(roleStack().stack), "PassTaskRoles")).toEqual({
      sid: "PassTaskRoles",
      effect: "Allow",
      actions: ["iam:PassRole"],
      resources: [`arn:aws:iam::${ACCOUNT}:role/fargate-prod-api-execution`, `arn:aws:iam::${ACCOUNT}:role/fargate-prod-api-task`],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    });
  });

  test("builds every ARN in the given partition", () => {
    const statements = statementsOf(synthJson(roleStack({ partition: "aws-cn", region: "cn-north-1" }).stack));
    const arns = statements.flatMap((s) => s.resources).filter((r: string) => r.startsWith("arn:") && !r.includes(":iam::"));
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) expect(arn).toMatch(/^arn:aws-cn:[\w-]+:cn-north-1:123456789012:/);
  });
});

const ALARMS = ["fargate-prod-api-target-5xx", "fargate-prod-api-unhealthy-hosts"];
const PROD_LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/fargate-prod-alb/1/443";
const TEST_LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/fargate-prod-alb/1/8443";

function deploymentProps(overrides: Partial<BlueGreenDeploymentProps> = {}): BlueGreenDeploymentProps {
  return {
    naming,
    serviceName: "api",
    roleArn: `arn:aws:iam::${ACCOUNT}:role/fargate-prod-codedeploy`,
    clusterName: "fargate-prod-cluster",
    ecsServiceName: "fargate-prod-api",
    productionListenerArn: PROD_LISTENER,
    testListenerArn: TEST_LISTENER,
    blueTargetGroupName: "fargate-prod-api-b8000",
    greenTargetGroupName: "fargate-prod-api-g8000",
    shift: { type: "canary", percent: 10, intervalMinutes: 5 },
    terminationWaitMinutes: 60,
    rollbackAlarmNames: ALARMS,
    ...overrides,
  };
}

function deploymentStack(overrides: Partial<BlueGreenDeploymentProps> = {}) {
  const stack = newStack();
  return { stack, deployment: new BlueGreenDeployment(stack, "blue-green", deploymentProps(overrides)) };
}

const groupOf = (json: any) => {
  const groups = resourcesOf(json, "aws_codedeploy_deployment_group");
  expect(groups).toHaveLength(1);
  return groups[0][1];
};

describe("BlueGreenDeployment", () => {
  test("creates an ECS application and a blue/green deployment group with traffic control by default", () => {
    const text = synthText(deploymentStack().stack);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_codedeploy_app" }, { name: "fargate-prod-api", compute_platform: "ECS" });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_codedeploy_deployment_group" },
      {
        app_name: expect.stringMatching(/^\$\{aws_codedeploy_app\.blue-green_application_\w+\.name\}$/),
        deployment_group_name: "fargate-prod-api",
        service_role_arn: `arn:aws:iam::${ACCOUNT}:role/fargate-prod-codedeploy`,
        deployment_style: { deployment_option: "WITH_TRAFFIC_CONTROL", deployment_type: "BLUE_GREEN" },
        ecs_service: { cluster_name: "fargate-prod-cluster", service_name: "fargate-prod-api" },
      },
    );
  });

  test.each<[string, TrafficShift, string]>([
    ["canary 10% for 5 minutes", { type: "canary", percent: 10, intervalMinutes: 5 }, "CodeDeployDefault.ECSCanary10Percent5Minutes"],
    ["canary 10% for 15 minutes", { type: "canary", percent: 10, intervalMinutes: 15 }, "CodeDeployDefault.ECSCanary10Percent15Minutes"],
    ["linear 10% every minute", { type: "linear", percent: 10, intervalMinutes: 1 }, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"],
    ["linear 10% every 3 minutes", { type: "linear", percent: 10, intervalMinutes: 3 }, "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"],
    ["all at once", { type: "all-at-once" }, "CodeDeployDefault.ECSAllAtOnce"],
  ])("uses CodeDeploy's predefined configuration for %s and creates none", (_what, shift, name) => {
    const { stack, deployment } = deploymentStack({ shift });
    const json = synthJson(stack);
    expect(predefinedDeploymentConfig(shift)).toBe(name);
    expect(deployment.deploymentConfigName).toBe(name);
    expect(groupOf(json).deployment_config_name).toBe(name);
    expect(resourcesOf(json, "aws_codedeploy_deployment_config")).toEqual([]);
  });

  test("creates its own deployment configuration for a canary CodeDeploy has none for (20% for 7 minutes)", () => {
    const shift: TrafficShift = { type: "canary", percent: 20, intervalMinutes: 7 };
    expect(predefinedDeploymentConfig(shift)).toBeUndefined();
    const json = synthJson(deploymentStack({ shift }).stack);
    const configs = resourcesOf(json, "aws_codedeploy_deployment_config");
    expect(configs.map(([, c]) => c)).toEqual([
      {
        deployment_config_name: "fargate-prod-api-canary-20-7",
        compute_platform: "ECS",
        traffic_routing_config: { type: "TimeBasedCanary", time_based_canary: { percentage: 20, interval: 7 } },
      },
    ]);
    expect(groupOf(json).deployment_config_name).toBe(`\${aws_codedeploy_deployment_config.${configs[0][0]}.deployment_config_name}`);
  });

  test("creates a time-based linear configuration for a linear shift CodeDeploy has none for", () => {
    const [[, config]] = resourcesOf(synthJson(deploymentStack({ shift: { type: "linear", percent: 25, intervalMinutes: 2 } }).stack), "aws_codedeploy_deployment_config");
    expect(config).toEqual(expect.objectContaining({ deployment_config_name: "fargate-prod-api-linear-25-2", traffic_routing_config: { type: "TimeBasedLinear", time_based_linear: { percentage: 25, interval: 2 } } }));
  });

  test("moves production traffic as soon as the replacement is ready when no operator wait is asked", () => {
    const ready = groupOf(synthJson(deploymentStack().stack)).blue_green_deployment_config.deployment_ready_option;
    expect(ready).toEqual({ action_on_timeout: "CONTINUE_DEPLOYMENT" });
  });

  test("holds the deployment for an operator and stops it when nobody continues within waitForOperatorMinutes", () => {
    const ready = groupOf(synthJson(deploymentStack({ waitForOperatorMinutes: 30 }).stack)).blue_green_deployment_config.deployment_ready_option;
    expect(ready).toEqual({ action_on_timeout: "STOP_DEPLOYMENT", wait_time_in_minutes: 30 });
  });

  test("keeps the old task set for terminationWaitMinutes after traffic moved (the rollback window)", () => {
    const config = groupOf(synthJson(deploymentStack({ terminationWaitMinutes: 120 }).stack)).blue_green_deployment_config;
    expect(config.terminate_blue_instances_on_deployment_success).toEqual({ action: "TERMINATE", termination_wait_time_in_minutes: 120 });
  });

  test("routes production and test traffic through their listeners to the service's two target groups", () => {
    expect(groupOf(synthJson(deploymentStack().stack)).load_balancer_info).toEqual({
      target_group_pair_info: {
        prod_traffic_route: { listener_arns: [PROD_LISTENER] },
        test_traffic_route: { listener_arns: [TEST_LISTENER] },
        target_group: [{ name: "fargate-prod-api-b8000" }, { name: "fargate-prod-api-g8000" }],
      },
    });
  });

  test("rolls back on a failed deployment and when one of the service's alarms fires", () => {
    const group = groupOf(synthJson(deploymentStack().stack));
    expect(group.auto_rollback_configuration).toEqual({ enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] });
    expect(group.alarm_configuration).toEqual({ enabled: true, alarms: ALARMS });
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(deploymentStack().stack)).toEqual([]);
    expect(problemsOf(deploymentStack({ shift: { type: "all-at-once" }, waitForOperatorMinutes: 2880, terminationWaitMinutes: 0 }).stack)).toEqual([]);
  });

  test.each<[string, Partial<BlueGreenDeploymentProps>, string]>([
    ["terminationWaitMinutes is over two days", { terminationWaitMinutes: 2881 }, "terminationWaitMinutes must be a whole number from 0 to 2880; got 2881"],
    ["terminationWaitMinutes is negative", { terminationWaitMinutes: -1 }, "terminationWaitMinutes must be a whole number from 0 to 2880; got -1"],
    ["waitForOperatorMinutes is 0", { waitForOperatorMinutes: 0 }, "waitForOperatorMinutes must be a whole number from 1 to 2880; got 0"],
    ["waitForOperatorMinutes is over two days", { waitForOperatorMinutes: 3000 }, "waitForOperatorMinutes must be a whole number from 1 to 2880; got 3000"],
    ["a canary shifts 0%", { shift: { type: "canary", percent: 0, intervalMinutes: 5 } }, "percent must be a whole number from 1 to 99; got 0"],
    ["a linear shift moves 100% at once", { shift: { type: "linear", percent: 100, intervalMinutes: 5 } }, "percent must be a whole number from 1 to 99; got 100"],
    ["a canary interval is 0 minutes", { shift: { type: "canary", percent: 10, intervalMinutes: 0 } }, "intervalMinutes must be a whole number from 1 to 2880; got 0"],
    ["there is no rollback alarm", { rollbackAlarmNames: [] }, "a blue/green deployment needs at least one rollback alarm (the service's health alarms); got none"],
    ["there are more than 10 rollback alarms", { rollbackAlarmNames: Array.from({ length: 11 }, (_, i) => `fargate-prod-api-alarm-${i}`) }, "CodeDeploy watches at most 10 alarms per deployment group; got 11"],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack, deployment } = deploymentStack(overrides);
    expect(deployment.node.validate()).toEqual([message]);
    expect(problemsOf(stack)).toEqual([`test/blue-green: ${message}`]);
  });

  test("reports every problem at once and fails synth with validations", () => {
    const { stack } = deploymentStack({ terminationWaitMinutes: 5000, rollbackAlarmNames: [] });
    expect(problemsOf(stack)).toHaveLength(2);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed with the following errors/);
  });
});
