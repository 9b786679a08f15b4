import { Construct } from "constructs";
import { ITerraformDependable, Token } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { EcsService, EcsServiceCapacityProviderStrategy } from "@cdktf/provider-aws/lib/ecs-service";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { checkedName, Naming } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import { describeFargateMemory, fargateMemoryAllowed } from "../../lib/fargate";
import { skipCheckov } from "../../lib/checkov";

/** ECR repository names (the registry's own rule). */
const ECR_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** Pinned X-Ray daemon image for the optional sidecar. */
export const DEFAULT_XRAY_DAEMON_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.3.11";

/** The container image: a repository this module creates, or an external URI. */
export interface EcsContainerImage {
  /** Repository created here as `<project>-<env>/<ecrRepository>`; give this or `uri`. */
  readonly ecrRepository?: string;
  /** External image URI without tag; give this or `ecrRepository`. */
  readonly uri?: string;
  readonly tag: string;
}

/** Container health check; it runs inside the container, so it must use a binary the image has. */
export interface EcsContainerHealthCheck {
  /** e.g. `["CMD", "python", "-c", "..."]` (slim images have no curl). */
  readonly command: readonly string[];
  readonly intervalSec: number;
  readonly timeoutSec: number;
  readonly retries: number;
  readonly startPeriodSec: number;
}

/** The ALB side of a public service. */
export interface EcsLoadBalancerTarget {
  /** Target group of the rolling service, or of the blue service. */
  readonly blueTargetGroupArn: string;
  /** Target group of the green service (blue/green only). */
  readonly greenTargetGroupArn?: string;
  /** `<alb arn_suffix>/<target group arn_suffix>` for request-count scaling of blue (or rolling). */
  readonly blueResourceLabel?: string;
  /** The same for green. */
  readonly greenResourceLabel?: string;
}

/** Target tracking values of one service. */
export interface EcsServiceAutoscaling {
  readonly cpuTargetPercent: number;
  readonly memoryTargetPercent: number;
  /**
   * ALB requests per target (public services only).
   * @default - no request-count policy
   */
  readonly requestsPerTarget?: number;
}

/** One application service. */
export interface EcsServiceSpec {
  /** Service name (kebab-case); the container name and part of every physical name. */
  readonly serviceName: string;
  readonly image: EcsContainerImage;
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
  readonly taskRoleArn: string;
  /** `rolling`: one ECS service. `blue-green`: a blue and a green service. */
  readonly deployment:
    | { readonly strategy: "rolling" }
    | {
        readonly strategy: "blue-green";
        readonly blueWeight: number;
        readonly greenWeight: number;
        /** Desired count of a colour with weight 0 (0 = cold standby). */
        readonly standbyDesiredCount: number;
      };
  /**
   * ALB target group(s); required for public and blue/green services.
   * @default - internal service, no load balancer
   */
  readonly loadBalancer?: EcsLoadBalancerTarget;
  /**
   * Seconds ECS ignores failing ALB health checks after a task starts (absorbs slow starts,
   * e.g. a database still warming up). Only for services behind the ALB.
   * @default 60
   */
  readonly healthCheckGracePeriodSec?: number;
  /** Target tracking values (used when autoscaling is enabled). */
  readonly autoscaling: EcsServiceAutoscaling;
  /**
   * A delivery pipeline deploys this service's images (it registers task-definition
   * revisions and updates the service): the service then also ignores `task_definition`,
   * or the next apply would roll back what the pipeline deployed.
   * @default false - Terraform owns the task definition the service runs
   */
  readonly deployedByPipeline?: boolean;
  /**
   * External Kafka: ECS SG egress to its security group and an ingress rule on that group.
   * @default - none
   */
  readonly kafka?: { readonly securityGroupId: string; readonly port: number };
}

export interface EcsProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly region: string;
  /** Subnets tasks run in (private, or public with NAT `none`). */
  readonly subnetIds: readonly string[];
  /** The networking ECS security group. */
  readonly securityGroupId: string;
  /** Public IPs for tasks: only when they run in public subnets (NAT `none`). */
  readonly assignPublicIp: boolean;
  /** Retention of the service log groups (a CloudWatch-allowed value). */
  readonly logRetentionDays: number;
  /** KMS key of the log groups. */
  readonly logsKmsKeyArn: string;
  /** KMS key of the ECR repositories. */
  readonly repositoryKmsKeyArn: string;
  /** Share of tasks on FARGATE_SPOT (0-100); the rest on FARGATE. */
  readonly fargateSpotPercent: number;
  /** Application Auto Scaling targets and policies; `enabled: false` creates none. */
  readonly autoscaling: { readonly enabled: boolean; readonly minCapacity: number; readonly maxCapacity: number };
  /**
   * Delete ECR repositories that still hold images on destroy.
   * @default false
   */
  readonly forceDeleteRepositories?: boolean;
  /**
   * Untagged images expire after this many days.
   * @default 7
   */
  readonly untaggedImageExpiryDays?: number;
  /**
   * Tagged images kept per repository.
   * @default 50
   */
  readonly maxImageCount?: number;
  /**
   * X-Ray daemon sidecar image.
   * @default DEFAULT_XRAY_DAEMON_IMAGE
   */
  readonly xrayDaemonImage?: string;
  readonly services: readonly EcsServiceSpec[];
  /**
   * What services must wait for (the listener rules: a target group must belong to a load
   * balancer before a service can use it).
   * @default []
   */
  readonly serviceDependencies?: readonly ITerraformDependable[];
}

/** Which ECS service of an application service. */
export type ServiceVariant = "rolling" | "blue" | "green";

/** One ECS service with its task definition and scaling target. */
export interface EcsServiceUnit {
  readonly variant: ServiceVariant;
  readonly service: EcsService;
  readonly taskDefinition: EcsTaskDefinition;
  readonly scalableTarget?: AppautoscalingTarget;
}

/**
 * The ECS cluster (Container Insights; FARGATE and FARGATE_SPOT with the environment's Spot
 * share) and per service: its ECR repository, KMS-encrypted log group, task definition(s) and
 * ECS service(s) - one for rolling, blue and green for blue/green - plus target tracking.
 * Services ignore `desired_count` after creation (autoscaling and operators own it).
 */
export class Ecs extends Construct {
  public readonly cluster: EcsCluster;
  public readonly capacityProviders: EcsClusterCapacityProviders;
  /** The strategy every service uses. */
  public readonly capacityProviderStrategy: readonly EcsServiceCapacityProviderStrategy[];
  /** ECR repositories by their config name (`ecrRepository`). */
  public readonly repositories: Readonly<Record<string, EcrRepository>>;
  /** Log groups by service name. */
  public readonly logGroups: Readonly<Record<string, CloudwatchLogGroup>>;
  /** ECS services by application service name. */
  public readonly serviceUnits: Readonly<Record<string, readonly EcsServiceUnit[]>>;

  constructor(scope: Construct, id: string, props: EcsProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;

    const execEnabled = props.services.some((s) => s.enableExecuteCommand);
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

    const repositories: Record<string, EcrRepository> = {};
    const logGroups: Record<string, CloudwatchLogGroup> = {};
    const units: Record<string, EcsServiceUnit[]> = {};
    const kafkaRules = new Set<string>();

    for (const svc of props.services) {
      const svcScope = new Construct(this, svc.serviceName);

      let imageName: string;
      if (svc.image.ecrRepository !== undefined) {
        let repo = repositories[svc.image.ecrRepository];
        if (!repo) {
          repo = this.createRepository(svcScope, props, svc.image.ecrRepository);
          repositories[svc.image.ecrRepository] = repo;
        }
        imageName = `${repo.repositoryUrl}:${svc.image.tag}`;
      } else {
        imageName = `${svc.image.uri}:${svc.image.tag}`;
      }

      const logGroup = new CloudwatchLogGroup(svcScope, "log-group", {
        name: naming.logGroup(`ecs/${svc.serviceName}`),
        retentionInDays: props.logRetentionDays,
        kmsKeyId: props.logsKmsKeyArn,
      });
      logGroups[svc.serviceName] = logGroup;
      skipCheckov(logGroup, "CKV_AWS_338", "retention is the environment config value from the deployment guide (7, 30 or 90 days)");

      if (svc.kafka) {
        const key = `${svc.kafka.securityGroupId}:${svc.kafka.port}`;
        // Two services on the same Kafka share one pair of rules (AWS rejects duplicates).
        if (!kafkaRules.has(key)) {
          kafkaRules.add(key);
          new VpcSecurityGroupEgressRule(svcScope, "kafka-egress", {
            securityGroupId: props.securityGroupId,
            description: `Kafka brokers (${svc.serviceName})`,
            ipProtocol: "tcp",
            fromPort: svc.kafka.port,
            toPort: svc.kafka.port,
            referencedSecurityGroupId: svc.kafka.securityGroupId,
          });
          new VpcSecurityGroupIngressRule(svcScope, "kafka-ingress", {
            securityGroupId: svc.kafka.securityGroupId,
            description: `Kafka from ${naming.stem} ECS tasks`,
            ipProtocol: "tcp",
            fromPort: svc.kafka.port,
            toPort: svc.kafka.port,
            referencedSecurityGroupId: props.securityGroupId,
          });
        }
      }

      const d = svc.deployment;
      const variants: { variant: ServiceVariant; desired: number; targetGroupArn?: string; resourceLabel?: string }[] =
        d.strategy === "blue-green"
          ? [
              {
                variant: "blue",
                desired: d.blueWeight > 0 ? svc.desiredCount : d.standbyDesiredCount,
                targetGroupArn: svc.loadBalancer?.blueTargetGroupArn,
                resourceLabel: svc.loadBalancer?.blueResourceLabel,
              },
              {
                variant: "green",
                desired: d.greenWeight > 0 ? svc.desiredCount : d.standbyDesiredCount,
                targetGroupArn: svc.loadBalancer?.greenTargetGroupArn,
                resourceLabel: svc.loadBalancer?.greenResourceLabel,
              },
            ]
          : [{ variant: "rolling", desired: svc.desiredCount, targetGroupArn: svc.loadBalancer?.blueTargetGroupArn, resourceLabel: svc.loadBalancer?.blueResourceLabel }];

      units[svc.serviceName] = variants.map((v) => {
        // Blue and green each get their own task definition so the colours can run different releases.
        const unitScope = v.variant === "rolling" ? svcScope : new Construct(svcScope, v.variant);
        const suffix = v.variant === "rolling" ? svc.serviceName : `${svc.serviceName}-${v.variant}`;
        const taskDefinition = new EcsTaskDefinition(unitScope, "task-definition", {
          family: naming.name("ecsService", suffix),
          requiresCompatibilities: ["FARGATE"],
          networkMode: "awsvpc",
          cpu: String(svc.cpu),
          memory: String(svc.memoryMiB),
          executionRoleArn: svc.executionRoleArn,
          taskRoleArn: svc.taskRoleArn,
          runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
          volume: (svc.readonlyRootFilesystem ?? true) ? [{ name: "tmp" }] : undefined,
          containerDefinitions: JSON.stringify(containerDefinitions(svc, imageName, logGroup.name, props.region, v.variant, props.xrayDaemonImage ?? DEFAULT_XRAY_DAEMON_IMAGE)),
        });

        const service = new EcsService(unitScope, "service", {
          name: naming.name("ecsService", suffix),
          cluster: this.cluster.arn,
          taskDefinition: taskDefinition.arn,
          desiredCount: v.desired,
          capacityProviderStrategy: strategy,
          platformVersion: "LATEST",
          networkConfiguration: {
            subnets: [...props.subnetIds],
            securityGroups: [props.securityGroupId],
            assignPublicIp: props.assignPublicIp,
          },
          loadBalancer: v.targetGroupArn ? [{ targetGroupArn: v.targetGroupArn, containerName: svc.serviceName, containerPort: svc.containerPort }] : undefined,
          // Only valid with a load balancer; absorbs slow starts (e.g. RDS warming up).
          healthCheckGracePeriodSeconds: v.targetGroupArn ? (svc.healthCheckGracePeriodSec ?? 60) : undefined,
          deploymentController: { type: "ECS" },
          deploymentCircuitBreaker: { enable: true, rollback: true },
          deploymentMinimumHealthyPercent: 100,
          deploymentMaximumPercent: 200,
          enableExecuteCommand: svc.enableExecuteCommand ?? false,
          enableEcsManagedTags: true,
          propagateTags: "SERVICE",
          waitForSteadyState: false,
          dependsOn: [this.capacityProviders, ...(props.serviceDependencies ?? [])],
          // Autoscaling and operators (scale-up of a colour before a switch) own the count;
          // a delivery pipeline, where there is one, owns the running revision.
          lifecycle: { ignoreChanges: svc.deployedByPipeline ? ["desired_count", "task_definition"] : ["desired_count"] },
        });

        if (props.assignPublicIp) {
          skipCheckov(service, "CKV_AWS_333", "NAT strategy none by environment config (cost lever): tasks in public subnets need public IPs; the ECS SG admits only the ALB");
        }

        let scalableTarget: AppautoscalingTarget | undefined;
        if (props.autoscaling.enabled) {
          scalableTarget = this.createScaling(unitScope, props, svc, service, v.variant, v.desired, v.resourceLabel);
        }
        return { variant: v.variant, service, taskDefinition, scalableTarget };
      });
    }

    this.repositories = repositories;
    this.logGroups = logGroups;
    this.serviceUnits = units;
  }

  private createRepository(scope: Construct, props: EcsProps, repositoryName: string): EcrRepository {
    const name = checkedName("generic", `${props.naming.stem}/${repositoryName}`, `${this.node.path}/${scope.node.id}`);
    const repository = new EcrRepository(scope, "ecr-repository", {
      name,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.repositoryKmsKeyArn }],
      forceDelete: props.forceDeleteRepositories ?? false,
    });
    new EcrLifecyclePolicy(scope, "ecr-lifecycle-policy", {
      repository: repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "Expire untagged images",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: props.untaggedImageExpiryDays ?? 7 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: "Keep the most recent images",
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: props.maxImageCount ?? 50 },
            action: { type: "expire" },
          },
        ],
      }),
    });
    return repository;
  }

  private createScaling(
    scope: Construct,
    props: EcsProps,
    svc: EcsServiceSpec,
    service: EcsService,
    variant: ServiceVariant,
    desired: number,
    resourceLabel: string | undefined,
  ): AppautoscalingTarget {
    const { minCapacity, maxCapacity } = props.autoscaling;
    const blueGreen = variant !== "rolling";
    // A cold-standby colour may sit below the environment minimum.
    const min = blueGreen ? Math.min(minCapacity, desired) : minCapacity;
    const target = new AppautoscalingTarget(scope, "scaling-target", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${this.cluster.name}/${service.name}`,
      minCapacity: min,
      maxCapacity,
      // Operators raise the standby colour's minimum before a switch; apply must not undo it.
      lifecycle: blueGreen ? { ignoreChanges: ["min_capacity"] } : undefined,
    });
    const policy = (policyId: string, metric: string, value: number, label?: string) =>
      new AppautoscalingPolicy(scope, policyId, {
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
    policy("cpu-scaling", "ECSServiceAverageCPUUtilization", svc.autoscaling.cpuTargetPercent);
    policy("memory-scaling", "ECSServiceAverageMemoryUtilization", svc.autoscaling.memoryTargetPercent);
    if (svc.autoscaling.requestsPerTarget !== undefined && resourceLabel) {
      policy("requests-scaling", "ALBRequestCountPerTarget", svc.autoscaling.requestsPerTarget, resourceLabel);
    }
    return target;
  }
}

/** The task's containers: the application and, optionally, the X-Ray daemon. */
function containerDefinitions(svc: EcsServiceSpec, image: string, logGroupName: string, region: string, variant: ServiceVariant, xrayImage: string): object[] {
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
    logConfiguration: logs(variant === "rolling" ? svc.serviceName : `${svc.serviceName}-${variant}`),
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
  const fail = (message: string): never => {
    throw new ConstructPropsError(scope, message);
  };
  props.naming.name("ecsCluster", "cluster");
  if (props.fargateSpotPercent < 0 || props.fargateSpotPercent > 100 || !Number.isInteger(props.fargateSpotPercent)) {
    fail(`fargateSpotPercent must be an integer 0-100; got ${props.fargateSpotPercent}`);
  }
  const { minCapacity, maxCapacity } = props.autoscaling;
  if (minCapacity < 0 || minCapacity > maxCapacity) {
    fail(`autoscaling minCapacity must be between 0 and maxCapacity (${maxCapacity}); got ${minCapacity}`);
  }
  if (props.subnetIds.length === 0) fail(`subnetIds must list at least one subnet; got none`);
  const names = new Set<string>();
  for (const svc of props.services) {
    const at = `service "${svc.serviceName}"`;
    if (!/^[a-z][a-z0-9-]*$/.test(svc.serviceName)) fail(`serviceName must be lowercase kebab-case; got "${svc.serviceName}"`);
    if (names.has(svc.serviceName)) fail(`${at} is listed twice; give each service once`);
    names.add(svc.serviceName);
    // Names first: a NameError before anything is created.
    for (const suffix of svc.deployment.strategy === "blue-green" ? ["-blue", "-green"] : [""]) props.naming.name("ecsService", `${svc.serviceName}${suffix}`);
    props.naming.logGroup(`ecs/${svc.serviceName}`);
    if (!fargateMemoryAllowed(svc.cpu, svc.memoryMiB)) {
      fail(`${at}: cpu ${svc.cpu} with memoryMiB ${svc.memoryMiB} is not a Fargate task size; got ${svc.cpu}/${svc.memoryMiB}; cpu ${svc.cpu} allows ${describeFargateMemory(svc.cpu)}`);
    }
    if ((svc.image.ecrRepository === undefined) === (svc.image.uri === undefined)) {
      fail(`${at}: give either image.ecrRepository or image.uri, not both or neither; got ${JSON.stringify(svc.image)}`);
    }
    if (svc.image.ecrRepository !== undefined && !ECR_NAME.test(`${props.naming.stem}/${svc.image.ecrRepository}`)) {
      fail(`${at}: image.ecrRepository is not a valid ECR repository name; got "${svc.image.ecrRepository}"`);
    }
    if (svc.image.ecrRepository !== undefined) checkedName("generic", `${props.naming.stem}/${svc.image.ecrRepository}`, `${scope.node.path}/${svc.serviceName}`);
    if (!Number.isInteger(svc.containerPort) || svc.containerPort < 1 || svc.containerPort > 65535) {
      fail(`${at}: containerPort must be 1-65535; got ${svc.containerPort}`);
    }
    if (svc.desiredCount < 0 || svc.desiredCount > maxCapacity) {
      fail(`${at}: desiredCount must be between 0 and autoscaling max (${maxCapacity}); got ${svc.desiredCount}`);
    }
    if (svc.enableExecuteCommand && (svc.readonlyRootFilesystem ?? true)) {
      fail(`${at}: ECS Exec needs a writable root filesystem (the SSM agent writes into it); got enableExecuteCommand true with readonlyRootFilesystem true; set readonlyRootFilesystem false or turn ECS Exec off`);
    }
    if (svc.user !== undefined && !/^[1-9]\d*(:\d+)?$/.test(svc.user)) {
      fail(`${at}: user must be a non-root uid or uid:gid; got "${svc.user}"`);
    }
    const variables = new Set<string>();
    for (const name of [...Object.keys(svc.environment ?? {}), ...(svc.secrets ?? []).map((s) => s.name)]) {
      if (variables.has(name)) fail(`${at}: variable ${name} is defined twice (environment and/or secrets); define it once`);
      variables.add(name);
    }
    const d = svc.deployment;
    if (d.strategy === "blue-green") {
      if (!svc.loadBalancer?.blueTargetGroupArn || !svc.loadBalancer.greenTargetGroupArn) {
        fail(`${at}: blue-green needs a blue and a green target group; got ${svc.loadBalancer ? "only one" : "none"}`);
      }
      if (d.blueWeight + d.greenWeight !== 100) fail(`${at}: blueWeight + greenWeight must be 100; got ${d.blueWeight} + ${d.greenWeight}`);
      if (d.standbyDesiredCount < 0 || d.standbyDesiredCount > maxCapacity) {
        fail(`${at}: standbyDesiredCount must be between 0 and autoscaling max (${maxCapacity}); got ${d.standbyDesiredCount}`);
      }
    }
    const grace = svc.healthCheckGracePeriodSec;
    if (grace !== undefined && !Token.isUnresolved(grace) && (grace < 0 || grace > 2147483647)) {
      fail(`${at}: healthCheckGracePeriodSec must be 0-2147483647; got ${grace}`);
    }
    if (svc.autoscaling.requestsPerTarget !== undefined && !svc.loadBalancer) {
      fail(`${at}: requestsPerTarget needs an ALB target group; got ${svc.autoscaling.requestsPerTarget} on a service without a load balancer`);
    }
    if (svc.healthCheck && svc.healthCheck.command.length < 2) {
      fail(`${at}: healthCheck.command needs CMD or CMD-SHELL and a command; got ${JSON.stringify(svc.healthCheck.command)}`);
    }
  }
}
