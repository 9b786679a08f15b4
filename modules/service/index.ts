import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { Naming } from "../../lib/naming";
import { skipShortRetention } from "../../lib/checkov";
import { ContainerSecret, ServiceRoles } from "../iam";
import { ServiceRouting, ServiceRoutingProps } from "../alb";
import { Ecs, EcsContainerHealthCheck, EcsServiceAutoscaling, ServiceTasks } from "../ecs";
import { BlueGreenDeployment, Cicd, ReleaseSpec, ServicePipeline, TrafficShift } from "../cicd";
import { AlarmTopics, ObservedService, ServiceAlarms, ServiceDashboard, ServiceLogMetrics } from "../observability";
import { ServiceAlarmThresholds } from "../../lib/alarm-thresholds";
import { DatabaseClientSpec, DatabaseMigration, databaseEnvironment, databaseUserName } from "./migration";

/** Where the image comes from: a repository of the platform's ECR, or an external URI. */
export type ServiceImage =
  | { readonly repository: { readonly arn: string; readonly repositoryUrl: string }; readonly tag: string }
  | { readonly uri: string; readonly tag: string };

/** How a public service is reached through the environment's ALB (ServiceRouting's own props, less what the service supplies). */
export type ServiceRoutingSpec = Omit<ServiceRoutingProps, "naming" | "serviceName" | "containerPort" | "deployment">;

/** How releases reach the service: a pipeline on the environment's delivery plumbing. */
export interface ServiceDeliverySpec {
  readonly cicd: Cicd;
  /** Bitbucket repository as `workspace/repo`. */
  readonly repository: string;
  /** The account registry's repository name of the image (`<project>/<image>`). */
  readonly imageRepositoryName: string;
}

export interface FargateServiceProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** Service name (kebab-case): the construct's only input to its resources' addresses. */
  readonly name: string;
  readonly image: ServiceImage;
  readonly containerPort: number;
  /** Fargate CPU units. */
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Tasks of the serving colour (or rolling service) at creation; autoscaling owns it afterwards. */
  readonly desiredCount: number;
  /**
   * Non-secret environment variables.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Secrets resolved at task start; the execution role may read exactly these.
   * @default []
   */
  readonly secrets?: readonly ContainerSecret[];
  /**
   * Container health check.
   * @default - none (the ALB health check still applies to public services)
   */
  readonly healthCheck?: EcsContainerHealthCheck;
  /** @default false */
  readonly xraySidecar?: boolean;
  /** @default false */
  readonly enableExecuteCommand?: boolean;
  /** @default true */
  readonly readonlyRootFilesystem?: boolean;
  /**
   * Container user (uid or uid:gid), never root.
   * @default - the image's user
   */
  readonly user?: string;
  /**
   * The task role may read parameters under the service's own path.
   * @default false
   */
  readonly readOwnParameters?: boolean;
  /**
   * How releases reach running tasks. `rolling`: ECS rolling update, circuit breaker and
   * alarm rollback. `blueGreen`: CodeDeploy (canary, linear or all-at-once) with the test
   * listener, two target groups and alarm rollback; public services only.
   */
  readonly deployment:
    | { readonly strategy: "rolling" }
    | {
        readonly strategy: "blue-green";
        readonly shift: TrafficShift;
        readonly terminationWaitMinutes: number;
        readonly waitForOperatorMinutes?: number;
        /** The environment's CodeDeploy service role. */
        readonly codeDeployRoleArn: string;
      };
  /**
   * Seconds ECS ignores failing ALB health checks after a task starts (public services only).
   * @default 60
   */
  readonly healthCheckGracePeriodSec?: number;
  /** Retention of the service's log group (a CloudWatch-allowed value). */
  readonly logRetentionDays: number;
  /** KMS key of the log group. */
  readonly logsKmsKeyArn: string;
  /** KMS key the service's secrets are encrypted with. */
  readonly secretsKmsKeyArn: string;
  /**
   * Secret ARNs the execution role keeps reading after the config dropped them, until the
   * rollout of the new config is recorded (environments/execution-grants.json).
   * @default []
   */
  readonly retainedSecretArns?: readonly string[];
  /** The environment's cluster. */
  readonly cluster: Ecs;
  /** Subnets tasks run in. */
  readonly subnetIds: readonly string[];
  /** The networking ECS security group. */
  readonly securityGroupId: string;
  /** Public IPs for tasks (only in public subnets, NAT `none`). */
  readonly assignPublicIp: boolean;
  /**
   * Public services: the ALB route and target group(s).
   * @default - internal service, no load balancer
   */
  readonly routing?: ServiceRoutingSpec;
  /**
   * Application Auto Scaling bounds and targets.
   * @default - no scaling target
   */
  readonly autoscaling?: EcsServiceAutoscaling & { readonly minCapacity: number; readonly maxCapacity: number };
  /** The environment's alarm topics, metrics namespace, and the service's thresholds. */
  readonly alarms: {
    readonly topics: AlarmTopics;
    readonly environment: string;
    /** Namespace of the platform's own metrics (Observability.metricsNamespace). */
    readonly metricsNamespace: string;
    /** @default - the guide's thresholds */
    readonly thresholds?: ServiceAlarmThresholds;
  };
  /**
   * The service uses the database: it connects as its own user (`svc_<name>`) with IAM
   * authentication (its task role may `rds-db:connect` as exactly that user) and gets a
   * one-off migration task that creates the user. It never receives the master password.
   * @default - not a database client
   */
  readonly database?: DatabaseClientSpec;
  /**
   * A delivery pipeline for the service.
   * @default - no pipeline (releases through `platform release`, or apply when Terraform owns the image)
   */
  readonly delivery?: ServiceDeliverySpec;
  /**
   * The release path owns the running image (the service has a source): Terraform registers
   * the config revision and never reverts what a release deployed.
   * @default false - Terraform deploys the configured image tag
   */
  readonly releases?: boolean;
  /**
   * Launch type instead of the cluster's capacity provider strategy (emulator only).
   * @default - the cluster's strategy (the environment's Spot share)
   */
  readonly launchType?: "FARGATE";
}

/**
 * Everything that belongs to one application service and nothing shared: its log group,
 * execution and task roles, target group(s) and listener rule, task definition(s), ECS
 * service(s), autoscaling, alarms and pipeline. Each part is the concern module's own
 * per-service construct (iam, alb, ecs, observability, cicd); this one wires them in the
 * only order that works (log group -> roles -> routing -> tasks -> alarms, pipeline).
 *
 * Every resource address below depends on the service name alone: adding, removing or
 * reordering other services never moves it (test/stacks/service-addresses.test.ts).
 */
export class FargateService extends Construct {
  public readonly logGroup: CloudwatchLogGroup;
  public readonly roles: ServiceRoles;
  public readonly routing?: ServiceRouting;
  public readonly tasks: ServiceTasks;
  public readonly alarms: ServiceAlarms;
  /** The service's dashboard `<project>-<env>-<service>`. */
  public readonly dashboard: ServiceDashboard;
  /** Metric filters of the guide's log patterns on its log group. */
  public readonly logMetrics: ServiceLogMetrics;
  /** Database clients: the user they connect as (`svc_<name>`). */
  public readonly databaseUser?: string;
  /** Database clients: the migrations task (`aws ecs run-task`; docs/observability.md#run-the-migrations). */
  public readonly migration?: DatabaseMigration;
  public readonly pipeline?: ServicePipeline;
  /** How a release lands here (services the release path owns the image of): read by every release project. */
  public readonly releaseSpec?: ReleaseSpec;
  /** CodeDeploy application and deployment group (blue/green services). */
  public readonly blueGreen?: BlueGreenDeployment;
  /** Names of the alarms a deployment rolls back on. */
  public readonly rollbackAlarmNames: readonly string[];
  /** What the environment dashboard shows of this service. */
  public readonly observed: ObservedService;

  constructor(scope: Construct, id: string, props: FargateServiceProps) {
    super(scope, id);
    const { naming, name } = props;

    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: naming.logGroup(`ecs/${name}`),
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    skipShortRetention(this.logGroup, props.logRetentionDays, "retention is the environment config value from the deployment guide (7, 30 or 90 days)");

    const repository = "repository" in props.image ? props.image.repository : undefined;
    const imageName = "repository" in props.image ? `${props.image.repository.repositoryUrl}:${props.image.tag}` : `${props.image.uri}:${props.image.tag}`;
    const secrets = props.secrets ?? [];
    const db = props.database;
    this.databaseUser = db ? databaseUserName(name) : undefined;
    const environment = { ...(props.environment ?? {}), ...(db ? databaseEnvironment(db, this.databaseUser!) : {}) };

    this.roles = new ServiceRoles(this, "roles", {
      naming,
      accountId: props.accountId,
      region: props.region,
      serviceName: name,
      secrets,
      secretsKmsKeyArn: props.secretsKmsKeyArn,
      retainedSecretArns: props.retainedSecretArns,
      logGroupArn: this.logGroup.arn,
      ecrRepositoryArn: repository?.arn,
      readOwnParameters: props.readOwnParameters,
      xraySidecar: props.xraySidecar,
      enableExecuteCommand: props.enableExecuteCommand,
      databaseUser: db ? { dbiResourceId: db.dbiResourceId, userName: this.databaseUser! } : undefined,
    });

    const d = props.deployment;
    if (props.routing) {
      const r = props.routing;
      this.routing = new ServiceRouting(this, "routing", {
        naming,
        alb: r.alb,
        vpcId: r.vpcId,
        serviceName: name,
        containerPort: props.containerPort,
        paths: r.paths,
        hosts: r.hosts,
        priority: r.priority,
        healthCheck: r.healthCheck,
        deregistrationDelaySec: r.deregistrationDelaySec,
        deployment: d.strategy,
      });
    }
    const tgs = this.routing?.targetGroups;

    const observed: ObservedService = {
      name,
      clusterName: props.cluster.cluster.name,
      // Deterministic names: the alarms exist before the service that rolls back on them.
      serviceNames: [naming.name("ecsService", name)],
      targetGroupArnSuffixes: tgs ? [tgs.blue.arnSuffix, ...(tgs.green ? [tgs.green.arnSuffix] : [])] : undefined,
      logGroupName: this.logGroup.name,
      // Named like ServicePipeline names them (the pipelines dashboard and rules find them by name).
      pipeline:
        props.delivery && repository
          ? { pipelineName: naming.name("generic", name), buildProjectName: naming.name("generic", props.delivery.cicd.settings.pipeline.kind === "build" ? `${name}-build` : `${name}-release`) }
          : undefined,
    };
    this.observed = observed;
    const albArnSuffix = props.routing?.alb.loadBalancer.arnSuffix;
    this.alarms = new ServiceAlarms(this, "alarms", {
      naming,
      environment: props.alarms.environment,
      topics: props.alarms.topics,
      albArnSuffix,
      service: observed,
      thresholds: props.alarms.thresholds,
    });
    this.dashboard = new ServiceDashboard(this, "dashboard", {
      naming,
      environment: props.alarms.environment,
      region: props.region,
      metricsNamespace: props.alarms.metricsNamespace,
      albArnSuffix,
      service: observed,
      alarms: this.alarms,
      thresholds: props.alarms.thresholds,
    });
    this.logMetrics = new ServiceLogMetrics(this, "log-metrics", { logGroupName: this.logGroup.name, metricsNamespace: props.alarms.metricsNamespace });

    // The deployment alarms of ServiceAlarms: health and errors, not load (CPU/memory high is a scaling signal, not a bad release).
    const rollbackAlarmNames = (this.rollbackAlarmNames = this.alarms.deploymentAlarms.map((alarm) => alarm.alarmName));

    this.tasks = new ServiceTasks(this, "tasks", {
      naming,
      region: props.region,
      cluster: props.cluster,
      subnetIds: props.subnetIds,
      securityGroupId: props.securityGroupId,
      assignPublicIp: props.assignPublicIp,
      serviceName: name,
      image: imageName,
      logGroupName: this.logGroup.name,
      containerPort: props.containerPort,
      cpu: props.cpu,
      memoryMiB: props.memoryMiB,
      desiredCount: props.desiredCount,
      environment,
      secrets,
      healthCheck: props.healthCheck,
      xraySidecar: props.xraySidecar,
      enableExecuteCommand: props.enableExecuteCommand,
      readonlyRootFilesystem: props.readonlyRootFilesystem,
      user: props.user,
      executionRoleArn: this.roles.executionRole.arn,
      taskRoleArn: this.roles.taskRole?.arn,
      deployment: d.strategy === "rolling" ? { controller: "ECS", rollbackAlarmNames } : { controller: "CODE_DEPLOY" },
      loadBalancer: this.routing && tgs ? { targetGroupArn: tgs.blue.arn, resourceLabel: this.routing.resourceLabel(tgs.blue) } : undefined,
      healthCheckGracePeriodSec: props.healthCheckGracePeriodSec,
      autoscaling: props.autoscaling,
      imageOwnedByReleases: props.releases === true,
      launchType: props.launchType,
      // A target group must belong to a load balancer (via its rule) before a service uses it.
      dependsOn: this.routing ? [this.routing.listenerRule] : [],
    });

    if (d.strategy === "blue-green" && this.routing && tgs?.green && props.routing?.alb.testListener) {
      this.blueGreen = new BlueGreenDeployment(this, "blue-green", {
        naming,
        serviceName: name,
        roleArn: d.codeDeployRoleArn,
        clusterName: props.cluster.cluster.name,
        ecsServiceName: this.tasks.service.name,
        productionListenerArn: props.routing.alb.serviceListener.arn,
        testListenerArn: props.routing.alb.testListener.arn,
        blueTargetGroupName: tgs.blue.name,
        greenTargetGroupName: tgs.green.name,
        shift: d.shift,
        terminationWaitMinutes: d.terminationWaitMinutes,
        waitForOperatorMinutes: d.waitForOperatorMinutes,
        rollbackAlarmNames,
      });
    }

    if (props.delivery) {
      if (!repository) {
        this.node.addValidation({ validate: () => [`a pipeline pushes to the account registry, so a delivered service needs an image repository; got an external image URI; use a repository or drop delivery`] });
      } else {
        this.pipeline = new ServicePipeline(this, "pipeline", {
          naming,
          accountId: props.accountId,
          region: props.region,
          cicd: props.delivery.cicd,
          name,
          repository: props.delivery.repository,
          imageRepositoryName: props.delivery.imageRepositoryName,
          imageRepositoryUrl: repository.repositoryUrl,
        });
      }
    }

    if (db) {
      this.migration = new DatabaseMigration(this, "migration", {
        naming,
        accountId: props.accountId,
        region: props.region,
        serviceName: name,
        image: imageName,
        ecrRepositoryArn: repository?.arn,
        logGroupName: this.logGroup.name,
        logGroupArn: this.logGroup.arn,
        secretsKmsKeyArn: props.secretsKmsKeyArn,
        cpu: props.cpu,
        memoryMiB: props.memoryMiB,
        user: props.user,
        environment: props.environment,
        database: db,
      });
    }

    if (props.releases) {
      this.releaseSpec = new ReleaseSpec(this, "release-spec", {
        naming,
        serviceName: name,
        clusterName: props.cluster.cluster.name,
        ecsServiceName: this.tasks.service.name,
        configTaskDefinitionArn: this.tasks.taskDefinition.arn,
        containerName: name,
        containerPort: props.containerPort,
        codeDeploy: this.blueGreen ? { applicationName: this.blueGreen.application.name, deploymentGroupName: this.blueGreen.deploymentGroup.deploymentGroupName } : undefined,
        network: { subnetIds: props.subnetIds, securityGroupIds: [props.securityGroupId], assignPublicIp: props.assignPublicIp },
        capacityProviderStrategy: props.cluster.capacityProviderStrategy,
        migrationTaskDefinitionArn: this.migration?.taskDefinition.arn,
      });
    }
  }

  /** The migrations task definition of a database client (run it before traffic moves to a release). */
  public get migrationTaskDefinition(): EcsTaskDefinition | undefined {
    return this.migration?.taskDefinition;
  }
}

