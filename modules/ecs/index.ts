import { Construct } from "constructs";
import { ITerraformDependable, Token } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { EcsService, EcsServiceCapacityProviderStrategy } from "@cdktf/provider-aws/lib/ecs-service";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { Naming } from "../../lib/naming";
import {
  containerHealthCheckProblems,
  containerUserProblem,
  fargateSizeProblem,
  gracePeriodProblem,
  portProblem,
} from "../../lib/aws-limits";
import { skipCheckov } from "../../lib/checkov";


/** Pinned X-Ray daemon image for the optional sidecar. */
export const DEFAULT_XRAY_DAEMON_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.3.11";

/** Container health check; it runs inside the container, so it must use a binary the image has. */
export interface EcsContainerHealthCheck {
  /** e.g. `["CMD", "python", "-c", "..."]` (slim images have no curl). */
  readonly command: readonly string[];
  readonly intervalSec: number;
  readonly timeoutSec: number;
  readonly retries: number;
  readonly startPeriodSec: number;
}

/** Target tracking values of one service. */
export interface EcsServiceAutoscaling {
  readonly cpuTargetPercent: number;
  /**
   * Memory target tracking.
   * @default - none: the service scales on CPU (and requests) only
   */
  readonly memoryTargetPercent?: number;
  /**
   * ALB requests per target (public services only).
   * @default - no request-count policy
   */
  readonly requestsPerTarget?: number;
}

/** One application service's tasks: task definition(s), ECS service(s) and their scaling. */
export interface ServiceTasksProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly region: string;
  /** The environment's cluster (created by {@link Ecs}). */
  readonly cluster: Ecs;
  /** Subnets tasks run in (private, or public with NAT `none`). */
  readonly subnetIds: readonly string[];
  /** The networking ECS security group. */
  readonly securityGroupId: string;
  /** Public IPs for tasks: only when they run in public subnets (NAT `none`). */
  readonly assignPublicIp: boolean;
  /** Service name (kebab-case); the container name and part of every physical name. */
  readonly serviceName: string;
  /** Full image reference (`<repository>:<tag>`). */
  readonly image: string;
  /** Log group the containers write to. */
  readonly logGroupName: string;
  readonly containerPort: number;
  /** Fargate CPU units. */
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Tasks of the colour (or rolling service) that takes traffic; set at creation only. */
  readonly desiredCount: number;
  /**
   * Non-secret environment variables.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Secrets resolved by ECS at task start (`valueFrom`); the execution role must cover them.
   * @default []
   */
  readonly secrets?: readonly { readonly name: string; readonly valueFrom: string }[];
  /**
   * Container health check.
   * @default - none (the ALB health check still applies to public services)
   */
  readonly healthCheck?: EcsContainerHealthCheck;
  /**
   * Run the X-Ray daemon as a sidecar.
   * @default false
   */
  readonly xraySidecar?: boolean;
  /**
   * ECS Exec; needs a writable root filesystem (the SSM agent writes into it).
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * Read-only root filesystem (a writable `/tmp` volume is mounted).
   * @default true
   */
  readonly readonlyRootFilesystem?: boolean;
  /**
   * Container user (uid or uid:gid), never root.
   * @default - the image's user
   */
  readonly user?: string;
  readonly executionRoleArn: string;
  /**
   * The application's role.
   * @default - none: the application gets no AWS credentials
   */
  readonly taskRoleArn?: string;
  /**
   * Who runs deployments. `ECS`: rolling updates with the circuit breaker, rolled back also
   * when one of `rollbackAlarmNames` goes to ALARM. `CODE_DEPLOY`: blue/green task sets run by
   * a CodeDeploy deployment group (which then owns the fields a deployment carries).
   */
  readonly deployment: { readonly controller: "ECS"; readonly rollbackAlarmNames?: readonly string[] } | { readonly controller: "CODE_DEPLOY" };
  /**
   * The ALB target group the service registers in (for CODE_DEPLOY: the blue one at creation).
   * @default - internal service, no load balancer
   */
  readonly loadBalancer?: { readonly targetGroupArn: string; readonly resourceLabel?: string };
  /**
   * Seconds ECS ignores failing ALB health checks after a task starts (absorbs slow starts,
   * e.g. a database still warming up). Only for services behind the ALB.
   * @default 60
   */
  readonly healthCheckGracePeriodSec?: number;
  /**
   * Application Auto Scaling: capacity bounds and target tracking values.
   * @default - no scaling target; the service keeps the count operators set
   */
  readonly autoscaling?: EcsServiceAutoscaling & { readonly minCapacity: number; readonly maxCapacity: number };
  /**
   * X-Ray daemon sidecar image.
   * @default DEFAULT_XRAY_DAEMON_IMAGE
   */
  readonly xrayDaemonImage?: string;
  /**
   * What the service must wait for (its listener rule: a target group must belong to a load
   * balancer before a service can use it).
   * @default []
   */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * The release path (pipeline or `platform release`) owns the image: every release registers
   * a revision = the task definition Terraform registered (config) + the released image, and
   * deploys it. The service then ignores `task_definition`; Terraform's revision is the
   * config template (`configTaskDefinition`), and `platform rollout` deploys a config change
   * with the running image.
   * @default false - Terraform owns the whole task definition, image included
   */
  readonly imageOwnedByReleases?: boolean;
  /**
   * Run on this launch type instead of the cluster's capacity provider strategy (the
   * emulator only: moto ignores capacity provider strategies).
   * @default - the cluster's FARGATE/FARGATE_SPOT strategy
   */
  readonly launchType?: "FARGATE";
}

export interface EcsProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Share of tasks on FARGATE_SPOT (0-100); the rest on FARGATE. */
  readonly fargateSpotPercent: number;
  /**
   * Turn on the cluster's ECS Exec logging configuration (some service uses ECS Exec).
   * @default false
   */
  readonly executeCommand?: boolean;
}

/**
 * Fields of a CODE_DEPLOY service that ECS refuses to update outside a deployment
 * ("Unable to update ... on services with a CODE_DEPLOY deployment controller"): CodeDeploy
 * applies them from the release's AppSpec, which `platform release`/`rollout` and the
 * pipeline build from this stack's outputs (config). Terraform sets them at creation only.
 */
export const CODE_DEPLOY_OWNED_FIELDS = ["task_definition", "load_balancer", "network_configuration", "capacity_provider_strategy", "platform_version"] as const;

/**
 * The ECS cluster (Container Insights; FARGATE and FARGATE_SPOT with the environment's Spot
 * share). Images live in the account's registry (modules/cicd/registry.ts). Services live in their own construct
 * (modules/service), each with a {@link ServiceTasks}.
 */
export class Ecs extends Construct {
  public readonly cluster: EcsCluster;
  public readonly capacityProviders: EcsClusterCapacityProviders;
  /** The strategy every service uses. */
  public readonly capacityProviderStrategy: readonly EcsServiceCapacityProviderStrategy[];

  constructor(scope: Construct, id: string, props: EcsProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;

    const execEnabled = props.executeCommand ?? false;
    this.cluster = new EcsCluster(this, "cluster", {
      name: naming.name("ecsCluster", "cluster"),
      setting: [{ name: "containerInsights", value: "enabled" }],
      configuration: execEnabled ? { executeCommandConfiguration: { logging: "DEFAULT" } } : undefined,
    });
    if (execEnabled) {
      skipCheckov(this.cluster, "CKV_AWS_224", "ECS Exec sessions log through each task awslogs config (KMS log group); no separate session key or log group");
    }

    const spot = props.fargateSpotPercent;
    const strategy: EcsServiceCapacityProviderStrategy[] = [];
    // One on-demand task first, so a Spot reclaim never takes the whole service down.
    if (spot < 100) strategy.push({ capacityProvider: "FARGATE", base: 1, weight: 100 - spot });
    if (spot > 0) strategy.push({ capacityProvider: "FARGATE_SPOT", base: 0, weight: spot });
    this.capacityProviderStrategy = strategy;
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity-providers", {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      defaultCapacityProviderStrategy: strategy,
    });
  }
}

/**
 * One application service's tasks: its task definition and ECS service, plus target
 * tracking. Who owns which field after creation (each `ignore_changes` entry below):
 * - `desired_count`: autoscaling and operators;
 * - `task_definition`, when the release path owns the image (`imageOwnedByReleases`);
 * - for CODE_DEPLOY services, what only a deployment may change ({@link CODE_DEPLOY_OWNED_FIELDS}).
 */
export class ServiceTasks extends Construct {
  public readonly service: EcsService;
  /** The revision Terraform registered: the whole task when Terraform owns the image, else the config template of every release. */
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly scalableTarget?: AppautoscalingTarget;
  /** Whether the release path owns the image (Terraform's revision is then the config template). */
  public readonly imageOwnedByReleases: boolean;

  constructor(scope: Construct, id: string, props: ServiceTasksProps) {
    super(scope, id);
    validateTasks(this, props);
    const { naming } = props;
    const svc = props;
    const cluster = props.cluster;
    const d = props.deployment;
    const lb = props.loadBalancer;
    this.imageOwnedByReleases = props.imageOwnedByReleases ?? false;

    this.taskDefinition = new EcsTaskDefinition(this, "task-definition", {
      family: naming.name("ecsService", svc.serviceName),
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(svc.cpu),
      memory: String(svc.memoryMiB),
      executionRoleArn: svc.executionRoleArn,
      taskRoleArn: svc.taskRoleArn,
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      volume: (svc.readonlyRootFilesystem ?? true) ? [{ name: "tmp" }] : undefined,
      containerDefinitions: JSON.stringify(containerDefinitions(svc, svc.image, svc.logGroupName, props.region, props.xrayDaemonImage ?? DEFAULT_XRAY_DAEMON_IMAGE)),
      // Releases register later revisions of this family and the service may still run an
      // older one: keep Terraform's replaced revisions registered (a running service can
      // scale an INACTIVE revision, but a rollback can only return to an ACTIVE one).
      skipDestroy: svc.imageOwnedByReleases ? true : undefined,
    });

    const ignore: string[] = ["desired_count"];
    if (svc.imageOwnedByReleases) ignore.push("task_definition");
    if (d.controller === "CODE_DEPLOY") ignore.push(...CODE_DEPLOY_OWNED_FIELDS.filter((f) => !ignore.includes(f)));
    const alarmNames = d.controller === "ECS" ? [...(d.rollbackAlarmNames ?? [])] : [];

    this.service = new EcsService(this, "service", {
      name: naming.name("ecsService", svc.serviceName),
      cluster: cluster.cluster.arn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: svc.desiredCount,
      capacityProviderStrategy: svc.launchType ? undefined : [...cluster.capacityProviderStrategy],
      launchType: svc.launchType,
      platformVersion: "LATEST",
      networkConfiguration: {
        subnets: [...props.subnetIds],
        securityGroups: [props.securityGroupId],
        assignPublicIp: props.assignPublicIp,
      },
      loadBalancer: lb ? [{ targetGroupArn: lb.targetGroupArn, containerName: svc.serviceName, containerPort: svc.containerPort }] : undefined,
      // Only valid with a load balancer; absorbs slow starts (e.g. RDS warming up).
      healthCheckGracePeriodSeconds: lb ? (svc.healthCheckGracePeriodSec ?? 60) : undefined,
      deploymentController: { type: d.controller },
      // ECS deployments only: CodeDeploy runs its own health gates and alarm rollback.
      deploymentCircuitBreaker: d.controller === "ECS" ? { enable: true, rollback: true } : undefined,
      alarms: alarmNames.length ? { alarmNames, enable: true, rollback: true } : undefined,
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      enableExecuteCommand: svc.enableExecuteCommand ?? false,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      waitForSteadyState: false,
      dependsOn: [cluster.capacityProviders, ...(props.dependsOn ?? [])],
      lifecycle: { ignoreChanges: ignore },
    });

    if (props.assignPublicIp) {
      skipCheckov(this.service, "CKV_AWS_333", "NAT strategy none by environment config (cost lever): tasks in public subnets need public IPs; the ECS SG admits only the ALB");
    }
    this.scalableTarget = props.autoscaling ? this.createScaling(props.autoscaling, cluster.cluster.name, this.service, lb?.resourceLabel) : undefined;
  }

  private createScaling(scaling: NonNullable<ServiceTasksProps["autoscaling"]>, clusterName: string, service: EcsService, resourceLabel: string | undefined): AppautoscalingTarget {
    const target = new AppautoscalingTarget(this, "scaling-target", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${clusterName}/${service.name}`,
      minCapacity: scaling.minCapacity,
      maxCapacity: scaling.maxCapacity,
    });
    const policy = (policyId: string, metric: string, value: number, label?: string) =>
      new AppautoscalingPolicy(this, policyId, {
        name: `${service.name}-${policyId}`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: value,
          scaleInCooldown: 300,
          scaleOutCooldown: 60,
          predefinedMetricSpecification: { predefinedMetricType: metric, resourceLabel: label },
        },
      });
    policy("cpu-scaling", "ECSServiceAverageCPUUtilization", scaling.cpuTargetPercent);
    if (scaling.memoryTargetPercent !== undefined) policy("memory-scaling", "ECSServiceAverageMemoryUtilization", scaling.memoryTargetPercent);
    if (scaling.requestsPerTarget !== undefined && resourceLabel) {
      policy("requests-scaling", "ALBRequestCountPerTarget", scaling.requestsPerTarget, resourceLabel);
    }
    return target;
  }
}

/** The task's containers: the application and, optionally, the X-Ray daemon. */
function containerDefinitions(svc: ServiceTasksProps, image: string, logGroupName: string, region: string, xrayImage: string): object[] {
  const readonlyRoot = svc.readonlyRootFilesystem ?? true;
  const logs = (prefix: string) => ({
    logDriver: "awslogs",
    options: { "awslogs-group": logGroupName, "awslogs-region": region, "awslogs-stream-prefix": prefix },
  });
  const environment = Object.entries({ ...(svc.xraySidecar ? { AWS_XRAY_DAEMON_ADDRESS: "localhost:2000" } : {}), ...(svc.environment ?? {}) })
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  const app: Record<string, unknown> = {
    name: svc.serviceName,
    image,
    essential: true,
    privileged: false,
    readonlyRootFilesystem: readonlyRoot,
    portMappings: [{ containerPort: svc.containerPort, hostPort: svc.containerPort, protocol: "tcp" }],
    environment,
    secrets: (svc.secrets ?? []).map((s) => ({ name: s.name, valueFrom: s.valueFrom })),
    logConfiguration: logs(svc.serviceName),
    mountPoints: readonlyRoot ? [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }] : [],
    volumesFrom: [],
    systemControls: [],
    // An init process reaps zombies and forwards signals (and ECS Exec wants it).
    linuxParameters: { initProcessEnabled: true },
  };
  if (svc.user !== undefined) app.user = svc.user;
  if (svc.healthCheck) {
    app.healthCheck = {
      command: [...svc.healthCheck.command],
      interval: svc.healthCheck.intervalSec,
      timeout: svc.healthCheck.timeoutSec,
      retries: svc.healthCheck.retries,
      startPeriod: svc.healthCheck.startPeriodSec,
    };
  }
  const containers: object[] = [app];
  if (svc.xraySidecar) {
    containers.push({
      name: "xray-daemon",
      image: xrayImage,
      essential: false,
      privileged: false,
      readonlyRootFilesystem: true,
      user: "1337",
      cpu: 32,
      memoryReservation: 256,
      portMappings: [{ containerPort: 2000, hostPort: 2000, protocol: "udp" }],
      environment: [],
      secrets: [],
      mountPoints: [],
      volumesFrom: [],
      systemControls: [],
      logConfiguration: logs("xray"),
    });
  }
  return containers;
}

function validate(scope: Construct, props: EcsProps): void {
  props.naming.name("ecsCluster", "cluster");
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      if (props.fargateSpotPercent < 0 || props.fargateSpotPercent > 100 || !Number.isInteger(props.fargateSpotPercent)) {
        problems.push(`fargateSpotPercent must be an integer 0-100; got ${props.fargateSpotPercent}`);
      }
      return problems;
    },
  });
}

function validateTasks(scope: Construct, svc: ServiceTasksProps): void {
  // Names first: a NameError before anything is created.
  svc.naming.name("ecsService", svc.serviceName);
  scope.node.addValidation({
    validate: () => {
      const problems: (string | undefined)[] = [];
      const field = (name: string, problem: string | undefined) => problems.push(problem && `${name} ${problem}`);
      if (!/^[a-z][a-z0-9-]*$/.test(svc.serviceName)) problems.push(`serviceName must be lowercase kebab-case; got "${svc.serviceName}"`);
      problems.push(fargateSizeProblem(svc.cpu, svc.memoryMiB));
      field("containerPort", portProblem(svc.containerPort));
      if (svc.subnetIds.length === 0) problems.push(`subnetIds must list at least one subnet; got none`);
      const scaling = svc.autoscaling;
      const max = scaling?.maxCapacity ?? 1000;
      if (scaling && (scaling.minCapacity < 0 || scaling.minCapacity > scaling.maxCapacity)) {
        problems.push(`autoscaling minCapacity must be between 0 and maxCapacity (${scaling.maxCapacity}); got ${scaling.minCapacity}`);
      }
      if (svc.desiredCount < 0 || svc.desiredCount > max) problems.push(`desiredCount must be between 0 and autoscaling max (${max}); got ${svc.desiredCount}`);
      if (svc.enableExecuteCommand && (svc.readonlyRootFilesystem ?? true)) {
        problems.push(`ECS Exec needs a writable root filesystem (the SSM agent writes into it); got enableExecuteCommand true with readonlyRootFilesystem true; set readonlyRootFilesystem false or turn ECS Exec off`);
      }
      if (svc.user !== undefined) field("user", containerUserProblem(svc.user));
      const variables = new Set<string>();
      for (const name of [...Object.keys(svc.environment ?? {}), ...(svc.secrets ?? []).map((s) => s.name)]) {
        if (variables.has(name)) problems.push(`variable ${name} is defined twice (environment and/or secrets); got it twice; define it once`);
        variables.add(name);
      }
      if (svc.deployment.controller === "CODE_DEPLOY" && !svc.loadBalancer) {
        problems.push(`a CODE_DEPLOY service needs its blue target group; got no load balancer; CodeDeploy blue/green is for public services`);
      }
      const grace = svc.healthCheckGracePeriodSec;
      if (grace !== undefined && !Token.isUnresolved(grace)) field("healthCheckGracePeriodSec", gracePeriodProblem(grace));
      if (scaling?.requestsPerTarget !== undefined && !svc.loadBalancer) {
        problems.push(`requestsPerTarget needs an ALB target group; got ${scaling.requestsPerTarget} on a service without a load balancer`);
      }
      if (svc.healthCheck) {
        for (const [name, problem] of Object.entries(containerHealthCheckProblems(svc.healthCheck))) field(`healthCheck.${name}`, problem);
      }
      return problems.filter((p): p is string => p !== undefined);
    },
  });
}
