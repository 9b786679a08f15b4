import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentConfig, ServiceConfig, serviceDesiredCount, subnetPrefixLength, taskSubnetTier } from "../../environments/schema";
import { Naming } from "../../lib/naming";
import { Security } from "../../modules/security";
import { Networking } from "../../modules/networking";
import { ContainerSecret, Iam, managedSecretKey, secretsManagerSecret, ssmParameterSecret } from "../../modules/iam";
import { Alb, AlbServiceSpec } from "../../modules/alb";
import { Ecs, EcsServiceSpec } from "../../modules/ecs";
import { Rds } from "../../modules/rds";
import { Observability } from "../../modules/observability";
import { Cicd, CicdServiceSpec } from "../../modules/cicd";

export interface PlatformStackProps {
  /** The validated environment (environments/index.ts). */
  readonly config: EnvironmentConfig;
  /**
   * Extra provider arguments, for the emulator environment only (endpoints, skip flags).
   * @default - none: real AWS
   */
  readonly providerOverrides?: Partial<AwsProviderConfig>;
}

/** The stack name of an environment: `<project>-<env>`. Stable: it is the cdktf deploy target. */
export function platformStackName(config: Pick<EnvironmentConfig, "project" | "name">): string {
  return `${config.project}-${config.name}`;
}

/** The state key of an environment: one per environment inside the shared bucket. */
export function stateKey(config: Pick<EnvironmentConfig, "project" | "name">): string {
  return `${config.project}/${config.name}/terraform.tfstate`;
}

/**
 * One environment: provider and backend from config, then the modules wired one way
 * (security -> networking -> ...). Modules never create providers, backends or variables.
 */
export class PlatformStack extends TerraformStack {
  public readonly naming: Naming;
  public readonly security: Security;
  public readonly networking: Networking;
  public readonly rds?: Rds;
  public readonly iam: Iam;
  /** Absent when the environment has no public service. */
  public readonly alb?: Alb;
  public readonly ecs: Ecs;
  public readonly observability: Observability;
  /** Absent when `features.cicd` is off or no service has a source. */
  public readonly cicd?: Cicd;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const c = props.config;
    this.naming = new Naming(c.project, c.name);

    new AwsProvider(this, "aws", {
      region: c.region,
      // A prod config can never be applied with credentials of another account.
      allowedAccountIds: [c.accountId],
      defaultTags: [{ tags: { ...c.tags, Project: c.project, ManagedBy: "cdktf", Stack: id } }],
      ...props.providerOverrides,
    });

    const backend = new S3Backend(this, {
      bucket: c.stateBackend.bucket,
      key: stateKey(c),
      region: c.stateBackend.region,
      dynamodbTable: c.stateBackend.lockTable,
      encrypt: true,
      kmsKeyId: `arn:aws:kms:${c.stateBackend.region}:${c.accountId}:${c.stateBackend.kmsKeyAlias}`,
    });
    if (c.stateBackend.useLockfile) {
      // S3-native locking (Terraform >= 1.10); not yet a typed S3Backend field in cdktf 0.21.
      backend.addOverride("use_lockfile", true);
    }

    this.security = new Security(this, "security", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      accessLogs: c.features.s3AccessLogging,
      accountBaseline: c.accountBaseline
        ? { cloudTrail: c.features.cloudTrail, awsConfig: c.features.awsConfig, logRetentionDays: c.logRetentionDays }
        : undefined,
    });

    const publicPorts = c.services.filter((s) => s.exposure.type === "public").map((s) => s.containerPort);
    this.networking = new Networking(this, "networking", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      availabilityZones: c.availabilityZones,
      vpcCidr: c.network.vpcCidr,
      subnetPrefixLength: subnetPrefixLength(c),
      natStrategy: c.network.natStrategy,
      vpcEndpoints: c.network.vpcEndpoints,
      taskSubnets: taskSubnetTier(c),
      appPorts: publicPorts,
      flowLogRetentionDays: c.logRetentionDays,
      logsKmsKeyArn: this.security.logsKey.key.arn,
    });

    new TerraformOutput(this, "vpc_id", { value: this.networking.vpc.id });
    new TerraformOutput(this, "public_subnet_ids", { value: this.networking.publicSubnets.map((s) => s.id) });
    new TerraformOutput(this, "private_subnet_ids", { value: this.networking.privateSubnets.map((s) => s.id) });
    new TerraformOutput(this, "database_subnet_ids", { value: this.networking.databaseSubnets.map((s) => s.id) });
    new TerraformOutput(this, "alb_security_group_id", { value: this.networking.albSecurityGroup.id });
    new TerraformOutput(this, "ecs_security_group_id", { value: this.networking.ecsSecurityGroup.id });
    new TerraformOutput(this, "rds_security_group_id", { value: this.networking.rdsSecurityGroup.id });

    const path = this.composeServicePath(c);
    this.rds = path.rds;
    this.iam = path.iam;
    this.alb = path.alb;
    this.ecs = path.ecs;

    this.observability = this.composeObservability(c);
    this.cicd = this.composeDelivery(c);
    new TerraformOutput(this, "alarm_topic_arn", { value: this.observability.alarmTopic.arn, description: "SNS topic of every alarm (and of pipeline approvals)" });
    if (this.cicd) {
      new TerraformOutput(this, "pipeline_names", {
        value: Object.fromEntries(Object.entries(this.cicd.pipelines).map(([name, p]) => [name, p.pipeline.name])),
        description: "CodePipeline per delivered service",
      });
      new TerraformOutput(this, "source_connection_arn", { value: this.cicd.connectionArn, description: "Complete the Bitbucket handshake once if it is PENDING" });
    }
  }

  /** Alarms and a dashboard over what the service path created. */
  private composeObservability(c: EnvironmentConfig): Observability {
    return new Observability(this, "observability", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      environment: c.name,
      dataKmsKeyArn: this.security.dataKey.key.arn,
      alarmEmails: c.observability.alarmEmails,
      albArnSuffix: this.alb?.loadBalancer.arnSuffix,
      services: c.services.map((svc) => {
        const tgs = this.alb?.targetGroups[svc.name];
        return {
          name: svc.name,
          clusterName: this.ecs.cluster.name,
          serviceNames: this.ecs.serviceUnits[svc.name].map((unit) => unit.service.name),
          targetGroupArnSuffixes: tgs ? [tgs.blue.arnSuffix, ...(tgs.green ? [tgs.green.arnSuffix] : [])] : undefined,
        };
      }),
      database: this.rds && c.database ? { instanceId: this.rds.instance.identifier, allocatedStorageGiB: c.database.allocatedStorageGiB } : undefined,
    });
  }

  /**
   * One pipeline per service that has a source. Rolling services deploy in place; blue/green
   * services deploy to green (the candidate slot, no traffic) and promote to blue (live)
   * after a manual approval, so a release never lands on the colour serving traffic.
   */
  private composeDelivery(c: EnvironmentConfig): Cicd | undefined {
    const delivered = c.services.filter((svc) => svc.source && svc.image.ecrRepository);
    if (!c.features.cicd || delivered.length === 0) return undefined;
    const hasPromote = delivered.some((svc) => svc.deployment.strategy === "blue-green");
    const services: CicdServiceSpec[] = delivered.map((svc) => {
      const units = this.ecs.serviceUnits[svc.name];
      const unit = (variant: string) => units.find((u) => u.variant === variant);
      const candidate = unit("green") ?? units[0];
      const live = unit("green") ? unit("blue") : undefined;
      const roles = this.iam.serviceRoles[svc.name];
      const repository = this.ecs.repositories[svc.image.ecrRepository!];
      return {
        name: svc.name,
        repository: svc.source!.repository,
        defaultBranch: svc.source!.defaultBranch,
        ecrRepositoryArn: repository.arn,
        ecrRepositoryUrl: repository.repositoryUrl,
        clusterName: this.ecs.cluster.name,
        serviceName: candidate.service.name,
        taskDefinitionFamily: candidate.taskDefinition.family,
        promoteTo: live ? { serviceName: live.service.name, taskDefinitionFamily: live.taskDefinition.family } : undefined,
        containerName: svc.name,
        taskRoleArns: [roles.executionRole.arn, roles.taskRole.arn],
        logRetentionDays: c.logRetentionDays,
      };
    });
    return new Cicd(this, "cicd", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      dataKmsKeyArn: this.security.dataKey.key.arn,
      logsKmsKeyArn: this.security.logsKey.key.arn,
      connectionArn: c.cicd.connectionArn,
      manualApproval: c.cicd.manualApproval,
      branchPattern: c.cicd.branchPattern,
      approvalTopicArn: c.cicd.manualApproval || hasPromote ? this.observability.alarmTopic.arn : undefined,
      accessLogsBucket: this.security.accessLogsBucket?.bucket.bucket,
      services,
    });
  }

  /**
   * The service path, wired one way: rds -> iam (exact secret ARNs) -> alb -> ecs.
   * Config is translated to module props here; modules never see the config.
   */
  private composeServicePath(c: EnvironmentConfig): { rds?: Rds; iam: Iam; alb?: Alb; ecs: Ecs } {
    const naming = this.naming;
    const location = { region: c.region, accountId: c.accountId };
    const dataKeyArn = this.security.dataKey.key.arn;
    const db = c.database;

    let rds: Rds | undefined;
    if (db) {
      rds = new Rds(this, "rds", {
        naming,
        accountId: c.accountId,
        engineVersion: db.engineVersion,
        instanceClass: db.instanceClass,
        allocatedStorageGiB: db.allocatedStorageGiB,
        maxAllocatedStorageGiB: db.maxAllocatedStorageGiB,
        multiAz: db.multiAz,
        backupRetentionDays: db.backupRetentionDays,
        deletionProtection: db.deletionProtection ?? c.deletionProtection,
        databaseName: db.databaseName,
        masterUsername: db.masterUsername,
        dbSubnetGroupName: this.networking.dbSubnetGroup.name,
        securityGroupId: this.networking.rdsSecurityGroup.id,
        kmsKeyArn: dataKeyArn,
        performanceInsights: db.performanceInsights,
      });
    }
    const isDbClient = (svc: ServiceConfig) => rds !== undefined && (db?.clientServices ?? []).includes(svc.name);

    // Every secret a task references, with the exact ARN its execution role may read.
    const secretsOf = (svc: ServiceConfig): ContainerSecret[] => [
      ...svc.secrets.map((s) => (s.source === "ssm" ? ssmParameterSecret(s.name, s.path, location) : secretsManagerSecret(s.name, s.path, location, s.jsonKey))),
      ...(rds && isDbClient(svc)
        ? [managedSecretKey("DB_USERNAME", rds.masterSecretArn, "username"), managedSecretKey("DB_PASSWORD", rds.masterSecretArn, "password")]
        : []),
    ];
    const secrets = new Map(c.services.map((svc) => [svc.name, secretsOf(svc)]));

    const iam = new Iam(this, "iam", {
      naming,
      accountId: c.accountId,
      region: c.region,
      secretsKmsKeyArn: dataKeyArn,
      services: c.services.map((svc) => ({
        serviceName: svc.name,
        secrets: secrets.get(svc.name)!,
        readOwnParameters: svc.readOwnParameters,
        xraySidecar: svc.xraySidecar,
        enableExecuteCommand: svc.enableExecuteCommand,
      })),
    });

    const publicServices: AlbServiceSpec[] = [];
    for (const svc of c.services) {
      const exp = svc.exposure;
      if (exp.type !== "public") continue;
      const d = svc.deployment;
      publicServices.push({
        serviceName: svc.name,
        containerPort: svc.containerPort,
        paths: exp.paths,
        hosts: exp.hosts,
        priority: exp.priority,
        healthCheck: exp.healthCheck,
        deregistrationDelaySec: exp.deregistrationDelaySec,
        deployment: d.strategy === "blue-green" ? { strategy: "blue-green", blueWeight: d.blueWeight, greenWeight: d.greenWeight } : { strategy: "rolling" },
      });
    }
    let alb: Alb | undefined;
    if (publicServices.length) {
      alb = new Alb(this, "alb", {
        naming,
        accountId: c.accountId,
        region: c.region,
        vpcId: this.networking.vpc.id,
        publicSubnetIds: this.networking.publicSubnets.map((s) => s.id),
        securityGroupId: this.networking.albSecurityGroup.id,
        certificate: c.alb.certificate,
        allowHttpOnly: c.alb.allowHttpOnly,
        deletionProtection: c.deletionProtection,
        accessLogs: c.alb.accessLogs,
        accessLogRetentionDays: c.logRetentionDays,
        serverAccessLogsBucket: this.security.accessLogsBucket?.bucket.bucket,
        idleTimeoutSec: c.alb.idleTimeoutSec,
        services: publicServices,
      });
    }

    const ecsServices: EcsServiceSpec[] = c.services.map((svc) => {
      const roles = iam.serviceRoles[svc.name];
      const tgs = alb?.targetGroups[svc.name];
      const label = (tg?: { arnSuffix: string }) => (alb && tg ? `${alb.loadBalancer.arnSuffix}/${tg.arnSuffix}` : undefined);
      const dbEnvironment: Record<string, string> =
        rds && isDbClient(svc) ? { DB_HOST: rds.address, DB_PORT: String(rds.port), DB_NAME: rds.databaseName } : {};
      const d = svc.deployment;
      return {
        serviceName: svc.name,
        image: svc.image,
        containerPort: svc.containerPort,
        cpu: svc.cpu,
        memoryMiB: svc.memoryMiB,
        desiredCount: serviceDesiredCount(c, svc),
        // Kafka brokers from the exposure config, unless the service names them itself.
        environment: { ...(svc.exposure.type === "internal" && svc.exposure.kafka ? { KAFKA_BROKERS: svc.exposure.kafka.brokers.join(",") } : {}), ...svc.environment, ...dbEnvironment },
        secrets: secrets.get(svc.name)!,
        healthCheck: svc.healthCheck,
        xraySidecar: svc.xraySidecar,
        enableExecuteCommand: svc.enableExecuteCommand,
        readonlyRootFilesystem: svc.readonlyRootFilesystem,
        user: svc.user,
        executionRoleArn: roles.executionRole.arn,
        taskRoleArn: roles.taskRole.arn,
        deployment:
          d.strategy === "blue-green"
            ? { strategy: "blue-green", blueWeight: d.blueWeight, greenWeight: d.greenWeight, standbyDesiredCount: d.standbyDesiredCount }
            : { strategy: "rolling" },
        loadBalancer: tgs
          ? { blueTargetGroupArn: tgs.blue.arn, greenTargetGroupArn: tgs.green?.arn, blueResourceLabel: label(tgs.blue), greenResourceLabel: label(tgs.green) }
          : undefined,
        healthCheckGracePeriodSec: svc.healthCheckGracePeriodSec,
        // A service with a source and an ECR repository gets a pipeline (features.cicd): the
        // pipeline owns the revision the service runs after creation.
        deployedByPipeline: c.features.cicd && svc.source !== undefined && svc.image.ecrRepository !== undefined,
        autoscaling: svc.autoscaling,
        kafka: svc.exposure.type === "internal" && svc.exposure.kafka ? { securityGroupId: svc.exposure.kafka.securityGroupId, port: svc.exposure.kafka.port } : undefined,
      };
    });

    const ecs = new Ecs(this, "ecs", {
      naming,
      region: c.region,
      subnetIds: this.networking.taskSubnetIds,
      securityGroupId: this.networking.ecsSecurityGroup.id,
      assignPublicIp: this.networking.assignPublicIp,
      logRetentionDays: c.logRetentionDays,
      logsKmsKeyArn: this.security.logsKey.key.arn,
      repositoryKmsKeyArn: dataKeyArn,
      fargateSpotPercent: c.scaling.fargateSpotPercent,
      autoscaling: { enabled: c.features.autoscaling, minCapacity: c.scaling.minCapacity, maxCapacity: c.scaling.maxCapacity },
      forceDeleteRepositories: !c.deletionProtection,
      services: ecsServices,
      // A target group must belong to a load balancer (via its rule) before a service uses it.
      serviceDependencies: alb ? Object.values(alb.listenerRules) : [],
    });

    // Outputs with the names the operators' runbooks use.
    if (alb) {
      new TerraformOutput(this, "alb_dns_name", { value: alb.loadBalancer.dnsName });
      new TerraformOutput(this, "alb_listener_arn", { value: alb.serviceListener.arn, description: "The HTTPS listener (HTTP only where the config says allowHttpOnly)" });
      const blueGreen = c.services.filter((s) => s.deployment.strategy === "blue-green" && alb.targetGroups[s.name]?.green);
      if (blueGreen.length) {
        const first = alb.targetGroups[blueGreen[0].name];
        new TerraformOutput(this, "blue_target_group_arn", { value: first.blue.arn, description: `Blue target group of ${blueGreen[0].name}` });
        new TerraformOutput(this, "green_target_group_arn", { value: first.green!.arn, description: `Green target group of ${blueGreen[0].name}` });
      }
      new TerraformOutput(this, "blue_target_group_arns", {
        value: Object.fromEntries(blueGreen.map((s) => [s.name, alb.targetGroups[s.name].blue.arn])),
      });
      new TerraformOutput(this, "green_target_group_arns", {
        value: Object.fromEntries(blueGreen.map((s) => [s.name, alb.targetGroups[s.name].green!.arn])),
      });
      new TerraformOutput(this, "target_group_arns", {
        value: Object.fromEntries(Object.entries(alb.targetGroups).map(([name, tg]) => [name, tg.green ? { blue: tg.blue.arn, green: tg.green.arn } : { rolling: tg.blue.arn }])),
      });
      new TerraformOutput(this, "listener_rule_arns", {
        value: Object.fromEntries(Object.entries(alb.listenerRules).map(([name, rule]) => [name, rule.arn])),
        description: "Listener rule per public service (scripts/traffic-switch.ts changes its weights)",
      });
    }
    new TerraformOutput(this, "ecs_cluster_name", { value: ecs.cluster.name });
    new TerraformOutput(this, "service_names", {
      value: Object.fromEntries(Object.entries(ecs.serviceUnits).map(([name, units]) => [name, Object.fromEntries(units.map((u) => [u.variant, u.service.name]))])),
      description: "ECS service names per application service: { rolling } or { blue, green }",
    });
    new TerraformOutput(this, "ecr_repository_urls", {
      value: Object.fromEntries(Object.entries(ecs.repositories).map(([name, repo]) => [name, repo.repositoryUrl])),
    });
    if (rds) {
      new TerraformOutput(this, "db_address", { value: rds.address });
      new TerraformOutput(this, "db_master_secret_arn", { value: rds.masterSecretArn, description: "RDS-managed master secret (keys username, password)" });
    }
    return { rds, iam, alb, ecs };
  }
}
