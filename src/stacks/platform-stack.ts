import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentConfig, ServiceConfig, serviceDesiredCount, subnetPrefixLength, taskSubnetTier } from "../../environments/schema";
import { Naming } from "../../lib/naming";
import { Construct as Scope } from "constructs";
import { Security } from "../../modules/security";
import { Networking } from "../../modules/networking";
import { ContainerSecret, managedSecretKey, secretsManagerSecret, ssmParameterSecret } from "../../modules/iam";
import { Alb } from "../../modules/alb";
import { Ecs } from "../../modules/ecs";
import { Rds } from "../../modules/rds";
import { Observability } from "../../modules/observability";
import { Cicd, CodeDeployRole } from "../../modules/cicd";
import { FargateService } from "../../modules/service";

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
  /** Absent when the environment has no public service. */
  public readonly alb?: Alb;
  public readonly ecs: Ecs;
  public readonly observability: Observability;
  /** Absent when `features.cicd` is off or no service has a source. */
  public readonly cicd?: Cicd;
  /** The CodeDeploy service role (when a service deploys blue/green). */
  public readonly codeDeployRole?: CodeDeployRole;
  /** One construct per application service, by name. */
  public readonly services: Readonly<Record<string, FargateService>>;

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
      testListener: usesCodeDeploy(c) ? { port: c.alb.testListener.port, allowedCidrs: c.alb.testListener.allowedCidrs } : undefined,
      kafkaPeers: c.services.flatMap((s) => (s.exposure.type === "internal" && s.exposure.kafka ? [{ securityGroupId: s.exposure.kafka.securityGroupId, port: s.exposure.kafka.port }] : [])),
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

    this.rds = this.composeDatabase(c);
    this.alb = this.composeLoadBalancer(c);
    this.ecs = new Ecs(this, "ecs", {
      naming: this.naming,
      fargateSpotPercent: c.scaling.fargateSpotPercent,
      executeCommand: c.services.some((s) => s.enableExecuteCommand),
      repositoryKmsKeyArn: this.security.dataKey.key.arn,
      repositories: c.services.flatMap((s) => (s.image.ecrRepository !== undefined ? [s.image.ecrRepository] : [])),
      forceDeleteRepositories: !c.deletionProtection,
    });
    this.observability = new Observability(this, "observability", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      environment: c.name,
      dataKmsKeyArn: this.security.dataKey.key.arn,
      alarmEmails: c.observability.alarmEmails,
      albArnSuffix: this.alb?.loadBalancer.arnSuffix,
      // Filled below: the dashboard reads every service's metrics lazily.
      services: [],
      database: this.rds && c.database ? { instanceId: this.rds.instance.identifier, allocatedStorageGiB: c.database.allocatedStorageGiB } : undefined,
    });
    this.cicd = this.composeDelivery(c);

    if (usesCodeDeploy(c) && this.alb) {
      this.codeDeployRole = new CodeDeployRole(this, "codedeploy", {
        naming: this.naming,
        accountId: c.accountId,
        region: c.region,
        clusterName: this.naming.name("ecsCluster", "cluster"),
        loadBalancerName: this.naming.name("alb", "alb"),
        taskRoleArns: c.services.flatMap((s) => [`arn:aws:iam::${c.accountId}:role/${this.naming.name("iamRole", `${s.name}-execution`)}`, `arn:aws:iam::${c.accountId}:role/${this.naming.name("iamRole", `${s.name}-task`)}`]),
      });
    }
    const servicesScope = new Scope(this, "services");
    this.services = Object.fromEntries(c.services.map((svc) => [svc.name, this.composeService(servicesScope, c, svc)]));
    this.observability.watch(Object.values(this.services).map((s) => s.observed));

    this.outputs(c);
    new TerraformOutput(this, "alarm_topic_arn", { value: this.observability.alarmTopic.arn, description: "SNS topic of every alarm (and of pipeline approvals)" });
    if (this.cicd) {
      new TerraformOutput(this, "pipeline_names", {
        value: Object.fromEntries(Object.entries(this.services).flatMap(([name, s]) => (s.pipeline ? [[name, s.pipeline.pipeline.name]] : []))),
        description: "CodePipeline per delivered service",
      });
      new TerraformOutput(this, "source_connection_arn", { value: this.cicd.connectionArn, description: "Complete the Bitbucket handshake once if it is PENDING" });
    }
  }

  private composeDatabase(c: EnvironmentConfig): Rds | undefined {
    const db = c.database;
    if (!db) return undefined;
    return new Rds(this, "rds", {
      naming: this.naming,
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
      kmsKeyArn: this.security.dataKey.key.arn,
      performanceInsights: db.performanceInsights,
    });
  }

  private composeLoadBalancer(c: EnvironmentConfig): Alb | undefined {
    if (!c.services.some((s) => s.exposure.type === "public")) return undefined;
    return new Alb(this, "alb", {
      naming: this.naming,
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
      testListenerPort: usesCodeDeploy(c) ? c.alb.testListener.port : undefined,
    });
  }

  /** The environment's delivery plumbing: one connection and one artifact bucket. */
  private composeDelivery(c: EnvironmentConfig): Cicd | undefined {
    const delivered = c.services.filter((svc) => svc.source && svc.image.ecrRepository);
    if (!c.features.cicd || delivered.length === 0) return undefined;
    const approvals = c.cicd.manualApproval;
    return new Cicd(this, "cicd", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      dataKmsKeyArn: this.security.dataKey.key.arn,
      logsKmsKeyArn: this.security.logsKey.key.arn,
      logRetentionDays: c.logRetentionDays,
      connectionArn: c.cicd.connectionArn,
      manualApproval: c.cicd.manualApproval,
      branchPattern: c.cicd.branchPattern,
      approvalTopicArn: approvals ? this.observability.alarmTopic.arn : undefined,
      accessLogsBucket: this.security.accessLogsBucket?.bucket.bucket,
    });
  }

  /** One application service: config translated to its construct's props (constructs never see config). */
  private composeService(scope: Scope, c: EnvironmentConfig, svc: ServiceConfig): FargateService {
    const location = { region: c.region, accountId: c.accountId };
    const rds = this.rds;
    const isDbClient = rds !== undefined && (c.database?.clientServices ?? []).includes(svc.name);
    // Every secret the task references, with the exact ARN its execution role may read.
    const secrets: ContainerSecret[] = [
      ...svc.secrets.map((s) => (s.source === "ssm" ? ssmParameterSecret(s.name, s.path, location) : secretsManagerSecret(s.name, s.path, location, s.jsonKey))),
      ...(rds && isDbClient ? [managedSecretKey("DB_USERNAME", rds.masterSecretArn, "username"), managedSecretKey("DB_PASSWORD", rds.masterSecretArn, "password")] : []),
    ];
    const dbEnvironment: Record<string, string> = rds && isDbClient ? { DB_HOST: rds.address, DB_PORT: String(rds.port), DB_NAME: rds.databaseName } : {};
    const exp = svc.exposure;
    const repository = svc.image.ecrRepository !== undefined ? this.ecs.repositories[svc.image.ecrRepository] : undefined;
    const d = svc.deployment;
    return new FargateService(scope, svc.name, {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      name: svc.name,
      image: repository ? { repository, tag: svc.image.tag } : { uri: svc.image.uri!, tag: svc.image.tag },
      containerPort: svc.containerPort,
      cpu: svc.cpu,
      memoryMiB: svc.memoryMiB,
      desiredCount: serviceDesiredCount(c, svc),
      // Kafka brokers from the exposure config, unless the service names them itself.
      environment: { ...(exp.type === "internal" && exp.kafka ? { KAFKA_BROKERS: exp.kafka.brokers.join(",") } : {}), ...svc.environment, ...dbEnvironment },
      secrets,
      healthCheck: svc.healthCheck,
      xraySidecar: svc.xraySidecar,
      enableExecuteCommand: svc.enableExecuteCommand,
      readonlyRootFilesystem: svc.readonlyRootFilesystem,
      user: svc.user,
      readOwnParameters: svc.readOwnParameters,
      deployment:
        d.strategy === "rolling" || !this.codeDeployRole
          ? { strategy: "rolling" }
          : {
              strategy: "blue-green",
              shift: d.strategy === "all-at-once" ? { type: "all-at-once" } : { type: d.strategy, percent: d.percent, intervalMinutes: d.intervalMinutes },
              terminationWaitMinutes: d.terminationWaitMinutes,
              waitForOperatorMinutes: d.waitForOperatorMinutes,
              codeDeployRoleArn: this.codeDeployRole.role.arn,
            },
      healthCheckGracePeriodSec: svc.healthCheckGracePeriodSec,
      logRetentionDays: c.logRetentionDays,
      logsKmsKeyArn: this.security.logsKey.key.arn,
      secretsKmsKeyArn: this.security.dataKey.key.arn,
      cluster: this.ecs,
      subnetIds: this.networking.taskSubnetIds,
      securityGroupId: this.networking.ecsSecurityGroup.id,
      assignPublicIp: this.networking.assignPublicIp,
      routing:
        exp.type === "public" && this.alb
          ? { alb: this.alb, vpcId: this.networking.vpc.id, paths: exp.paths, hosts: exp.hosts, priority: exp.priority, healthCheck: exp.healthCheck, deregistrationDelaySec: exp.deregistrationDelaySec }
          : undefined,
      autoscaling: c.features.autoscaling ? { minCapacity: c.scaling.minCapacity, maxCapacity: c.scaling.maxCapacity, ...svc.autoscaling } : undefined,
      alarms: { topicArn: this.observability.alarmTopic.arn, environment: c.name },
      delivery: this.cicd && svc.source && repository ? { cicd: this.cicd, repository: svc.source.repository, defaultBranch: svc.source.defaultBranch } : undefined,
      // A service with a source is released (pipeline or `platform release`): the release path owns its image.
      releases: svc.source !== undefined && repository !== undefined,
    });
  }

  /** Outputs with the names the operators' runbooks and tools use. */
  private outputs(c: EnvironmentConfig): void {
    const alb = this.alb;
    const services = Object.entries(this.services);
    const routed = services.flatMap(([name, s]) => (s.routing ? [[name, s.routing] as const] : []));
    if (alb) {
      new TerraformOutput(this, "alb_dns_name", { value: alb.loadBalancer.dnsName });
      new TerraformOutput(this, "alb_listener_arn", { value: alb.serviceListener.arn, description: "The HTTPS listener (HTTP only where the config says allowHttpOnly)" });
      new TerraformOutput(this, "target_group_arns", {
        value: Object.fromEntries(routed.map(([name, r]) => [name, r.targetGroups.green ? { blue: r.targetGroups.blue.arn, green: r.targetGroups.green.arn } : { rolling: r.targetGroups.blue.arn }])),
      });
      new TerraformOutput(this, "listener_rule_arns", {
        value: Object.fromEntries(routed.map(([name, r]) => [name, r.listenerRule.arn])),
        description: "Listener rule per public service (scripts/traffic-switch.ts changes its weights)",
      });
    }
    new TerraformOutput(this, "ecs_cluster_name", { value: this.ecs.cluster.name });
    new TerraformOutput(this, "service_names", {
      value: Object.fromEntries(services.map(([name, s]) => [name, s.tasks.service.name])),
      description: "ECS service name per application service",
    });
    // What the release path (platform CLI, pipelines) needs: the config revision every release
    // starts from, how each service deploys, and where its tasks run.
    new TerraformOutput(this, "releases", {
      value: Object.fromEntries(
        services.map(([name, s]) => [
          name,
          {
            service: s.tasks.service.name,
            config_task_definition: s.tasks.taskDefinition.arn,
            family: s.tasks.taskDefinition.family,
            container: name,
            container_port: c.services.find((x) => x.name === name)!.containerPort,
            image_owner: s.tasks.imageOwnedByReleases ? "release" : "terraform",
            deploy_with: s.blueGreen ? "codedeploy" : "ecs",
            codedeploy_application: s.blueGreen?.application.name ?? "",
            codedeploy_deployment_group: s.blueGreen?.deploymentGroup.deploymentGroupName ?? "",
            rollback_alarms: s.rollbackAlarmNames,
            target_groups: s.routing ? [s.routing.targetGroups.blue.arn, ...(s.routing.targetGroups.green ? [s.routing.targetGroups.green.arn] : [])] : [],
          },
        ]),
      ),
      description: "Per service: what `platform release|rollout|rollback` needs (config revision, deployment engine, alarms)",
    });
    new TerraformOutput(this, "task_network", {
      value: { subnets: this.networking.taskSubnetIds, security_groups: [this.networking.ecsSecurityGroup.id], assign_public_ip: this.networking.assignPublicIp, capacity_provider_strategy: this.ecs.capacityProviderStrategy.map((p) => ({ capacity_provider: p.capacityProvider, base: p.base ?? 0, weight: p.weight ?? 0 })) },
      description: "Network and capacity settings of every task (a CodeDeploy release carries them in its AppSpec)",
    });
    if (this.alb?.testListener) new TerraformOutput(this, "test_listener_arn", { value: this.alb.testListener.arn, description: "Blue/green test listener (reachable from inside only)" });
    new TerraformOutput(this, "ecr_repository_urls", {
      value: Object.fromEntries(Object.entries(this.ecs.repositories).map(([name, repo]) => [name, repo.repositoryUrl])),
    });
    if (this.rds && c.database) {
      new TerraformOutput(this, "db_address", { value: this.rds.address });
      new TerraformOutput(this, "db_master_secret_arn", { value: this.rds.masterSecretArn, description: "RDS-managed master secret (keys username, password)" });
    }
  }
}

/** Whether any service of the environment deploys blue/green through CodeDeploy. */
export function usesCodeDeploy(c: EnvironmentConfig): boolean {
  return c.services.some((s) => s.deployment.strategy !== "rolling" && s.exposure.type === "public");
}
