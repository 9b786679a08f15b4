import { pipelinePlan } from "../../environments/delivery";
import { imageRepositoryArn, imageRepositoryName, imageRepositoryUrl } from "../../lib/registry";
import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { dependable } from "cdktf/lib/tfExpression";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentConfig, githubSubject, ServiceConfig, serviceDesiredCount, subnetPrefixLength, taskSubnetTier, wafEnabled } from "../../environments/schema";
import { securityLogRetentionDays } from "../../environments/accounts";
import { Naming } from "../../lib/naming";
import { Construct as Scope } from "constructs";
import { githubOidcProviderArn, GithubDeployRole, Security } from "../../modules/security";
import { accountAccessLogsBucket, providerAccess, s3BackendConfig } from "./access";
import { Networking } from "../../modules/networking";
import { ContainerSecret, secretsManagerSecret, ssmParameterSecret } from "../../modules/iam";
import { Alb } from "../../modules/alb";
import { Ecs } from "../../modules/ecs";
import { Rds } from "../../modules/rds";
import { Observability } from "../../modules/observability";
import { Cicd, CodeDeployRole } from "../../modules/cicd";
import { FargateService } from "../../modules/service";
import { guardStatefulResources } from "./destroy-guard";

export interface PlatformStackProps {
  /** The validated environment (environments/index.ts). */
  readonly config: EnvironmentConfig;
  /**
   * Extra provider arguments, for the emulator environment only (endpoints, skip flags).
   * @default - none: real AWS
   */
  readonly providerOverrides?: Partial<AwsProviderConfig>;
  /**
   * Per service, secret ARNs its execution role keeps reading beyond the config (a narrowing
   * whose rollout is not recorded yet; environments/execution-grants.ts, src/grants.ts).
   * @default {}
   */
  readonly retainedSecretArns?: Readonly<Record<string, readonly string[]>>;
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
  /** The account's access-logs bucket (its account stack creates it); absent when access logging is off. */
  public readonly accessLogsBucket?: string;
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
  /** GitHub Actions OIDC deploy role; absent without `github` in the config. */
  public readonly github?: GithubDeployRole;
  /** One construct per application service, by name. */
  public readonly services: Readonly<Record<string, FargateService>>;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const c = props.config;
    this.naming = new Naming(c.project, c.name);

    new AwsProvider(this, "aws", {
      region: c.region,
      // Only this environment's account, through its account's deploy role (src/stacks/access.ts).
      ...providerAccess(c.accountId, c.assumeRole),
      defaultTags: [{ tags: { ...c.tags, Project: c.project, ManagedBy: "cdktf", Stack: id } }],
      ...props.providerOverrides,
    });

    // The state account's bucket, table and key; its state-access role when that is another account.
    const backend = new S3Backend(this, s3BackendConfig(c.stateBackend, stateKey(c)));
    if (c.stateBackend.useLockfile) {
      // S3-native locking (Terraform >= 1.10); not yet a typed S3Backend field in cdktf 0.21.
      backend.addOverride("use_lockfile", true);
    }

    this.security = new Security(this, "security", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
    });
    // The account stack's access-logs bucket, by its computed name (no cross-stack reference).
    this.accessLogsBucket = c.features.s3AccessLogging ? accountAccessLogsBucket(c.project, c.account, c.accountId) : undefined;

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
      // Security and change records (flow logs, database logs, builds, events): a year under a
      // regulated Compliance tag; application logs keep the guide's 7/30/30/90 (issue 10).
      flowLogRetentionDays: securityLogRetentionDays(c.tags, c.logRetentionDays),
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
    });
    this.observability = new Observability(this, "observability", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      environment: c.name,
      dataKmsKeyArn: this.security.dataKey.key.arn,
      logsKmsKeyArn: this.security.logsKey.key.arn,
      // ECS/deployment events and Container Insights task records: kept like the other operational records.
      logRetentionDays: securityLogRetentionDays(c.tags, c.logRetentionDays),
      critical: c.observability.critical,
      warning: c.observability.warning,
      // The configured name (a literal): the Container Insights log group exists before the cluster.
      cluster: { name: this.ecs.cluster.nameInput ?? this.ecs.cluster.name, arn: this.ecs.cluster.arn },
      albArnSuffix: this.alb?.loadBalancer.arnSuffix,
      // Services register below (watch): the dashboards and queries read them lazily.
      database:
        this.rds && c.database
          ? {
              instanceId: this.rds.instance.identifier,
              instanceClass: c.database.instanceClass,
              allocatedStorageGiB: c.database.allocatedStorageGiB,
              maxAllocatedStorageGiB: c.database.maxAllocatedStorageGiB,
              currentAllocatedStorageGiB: this.rds.instance.allocatedStorage,
            }
          : undefined,
      // Its own pipelines only: QA releases run in test's pipeline (and its rules and dashboard).
      pipelines: c.features.cicd && c.cicd.releases !== "delivered" && c.services.some((s) => s.source && s.image.ecrRepository),
      savedQueries: c.features.savedQueries,
      grafana: c.observability.grafana.enabled ? { authenticationProviders: c.observability.grafana.authenticationProviders } : undefined,
    });
    // Container Insights writes its performance events into this group: it must exist first.
    this.ecs.cluster.dependsOn = [...(this.ecs.cluster.dependsOn ?? []), dependable(this.observability.containerInsightsLogGroup)];
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
    this.services = Object.fromEntries(c.services.map((svc) => [svc.name, this.composeService(servicesScope, c, svc, props.retainedSecretArns?.[svc.name])]));
    this.observability.watch(Object.values(this.services).map((s) => s.observed));
    this.github = this.composeGithub(c);

    // Stateful resources in protected environments (prod) cannot be destroyed by any plan.
    if (c.destroyGuard ?? c.deletionProtection) guardStatefulResources(this);

    this.outputs(c);
    this.observabilityOutputs();
    if (this.cicd) {
      new TerraformOutput(this, "pipeline_names", {
        value: Object.fromEntries(Object.entries(this.services).flatMap(([name, s]) => (s.pipeline ? [[name, s.pipeline.pipeline.name]] : []))),
        description: "CodePipeline per delivered service",
      });
      new TerraformOutput(this, "release_project_names", {
        value: Object.fromEntries(Object.entries(this.services).flatMap(([name, s]) => (s.pipeline ? [[name, s.pipeline.releaseProject.name]] : []))),
        description: "CodeBuild project per service that deploys a digest into this pipeline's environments",
      });
    }
  }

  /** The account registry's repositories this environment's images come from (names computed, never looked up). */
  private imageRepositories(c: EnvironmentConfig): Record<string, { arn: string; repositoryUrl: string }> {
    const names = [...new Set(c.services.flatMap((s) => (s.image.ecrRepository !== undefined ? [s.image.ecrRepository] : [])))].sort();
    return Object.fromEntries(
      names.map((image) => {
        const name = imageRepositoryName(c.project, image);
        return [image, { arn: imageRepositoryArn(c.accountId, c.region, name), repositoryUrl: imageRepositoryUrl(c.accountId, c.region, name) }];
      }),
    );
  }

  /**
   * The GitHub Actions deploy role: trusted through the account stack's OIDC provider (its ARN
   * is fixed by AWS, so no lookup), allowed to push to this environment's repositories and
   * release this environment's services only.
   */
  private composeGithub(c: EnvironmentConfig): GithubDeployRole | undefined {
    if (!c.github) return undefined;
    const services = Object.values(this.services);
    const tasks = services.map((s) => s.tasks);
    const role = new GithubDeployRole(this, "github", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      oidcProviderArn: githubOidcProviderArn(c.accountId),
      subject: githubSubject(c.github),
      // A promoting environment (prod) runs only digests its pipeline promoted: GitHub may release them, never push.
      repositoryArns: c.cicd.releases === "promote" ? [] : Object.values(this.imageRepositories(c)).map((r) => r.arn),
      // Deterministic ARNs (cluster and service names come from naming), not the services' ids:
      // the policy must not change when a service is replaced or refreshed.
      serviceArns: c.services.map((svc) => `arn:aws:ecs:${c.region}:${c.accountId}:service/${this.naming.name("ecsCluster", "cluster")}/${this.naming.name("ecsService", svc.name)}`),
      taskDefinitionFamilies: tasks.map((t) => t.taskDefinition.family),
      taskRoleArns: services.flatMap((s) => [s.roles.executionRole.arn, ...(s.roles.taskRole ? [s.roles.taskRole.arn] : [])]),
    });
    new TerraformOutput(this, "github_deploy_role_arn", { value: role.role.arn, description: "role-to-assume for aws-actions/configure-aws-credentials" });
    return role;
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
      logRetentionDays: securityLogRetentionDays(c.tags, c.logRetentionDays),
      logsKmsKeyArn: this.security.logsKey.key.arn,
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
      serverAccessLogsBucket: this.accessLogsBucket,
      idleTimeoutSec: c.alb.idleTimeoutSec,
      testListenerPort: usesCodeDeploy(c) ? c.alb.testListener.port : undefined,
      // WAF request logs are security records: a year under a regulated Compliance tag.
      waf: wafEnabled(c) ? { rateLimitPer5Min: c.alb.waf.rateLimitPer5Min, logRetentionDays: securityLogRetentionDays(c.tags, c.logRetentionDays), logsKmsKeyArn: this.security.logsKey.key.arn } : undefined,
    });
  }

  /**
   * The environment's delivery plumbing, when it runs pipelines of its own (cicd `build` or
   * `promote`; a `delivered` environment only publishes release specs): one artifact bucket,
   * the account's connection, and the plan loadConfig derived from every environment.
   */
  private composeDelivery(c: EnvironmentConfig): Cicd | undefined {
    const delivered = c.services.filter((svc) => svc.source && svc.image.ecrRepository);
    // loadConfig derives the plan from every environment; a config built alone plans by itself.
    const plan = c.delivery ? c.delivery.pipeline : pipelinePlan(c, [c]);
    const trigger = c.cicd;
    if (!c.features.cicd || delivered.length === 0 || !plan || trigger.releases === "delivered") return undefined;
    return new Cicd(this, "cicd", {
      naming: this.naming,
      accountId: c.accountId,
      region: c.region,
      dataKmsKeyArn: this.security.dataKey.key.arn,
      logsKmsKeyArn: this.security.logsKey.key.arn,
      logRetentionDays: securityLogRetentionDays(c.tags, c.logRetentionDays),
      connectionArn: c.delivery?.connectionArn ?? "",
      pipeline: {
        ...plan,
        manualApproval: trigger.manualApproval,
        branchPattern: trigger.branchPattern,
        trigger: trigger.trigger,
        releaseBranch: trigger.releaseBranch,
        // Approvals are not pages: they go to the warning topic (email).
        approvalTopicArn: trigger.manualApproval ? this.observability.warningTopic.arn : undefined,
      },
      accessLogsBucket: this.accessLogsBucket,
    });
  }

  /** One application service: config translated to its construct's props (constructs never see config). */
  private composeService(scope: Scope, c: EnvironmentConfig, svc: ServiceConfig, retainedSecretArns?: readonly string[]): FargateService {
    const location = { region: c.region, accountId: c.accountId };
    const rds = this.rds;
    const isDbClient = rds !== undefined && (c.database?.clientServices ?? []).includes(svc.name);
    // Every secret the task references, with the exact ARN its execution role may read.
    const secrets: ContainerSecret[] = [
      ...svc.secrets.map((s) => (s.source === "ssm" ? ssmParameterSecret(s.name, s.path, location) : secretsManagerSecret(s.name, s.path, location, s.jsonKey))),
    ];
    const exp = svc.exposure;
    const repository = svc.image.ecrRepository !== undefined ? this.imageRepositories(c)[svc.image.ecrRepository] : undefined;
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
      environment: { ...(exp.type === "internal" && exp.kafka ? { KAFKA_BROKERS: exp.kafka.brokers.join(",") } : {}), ...svc.environment },
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
      retainedSecretArns,
      cluster: this.ecs,
      subnetIds: this.networking.taskSubnetIds,
      securityGroupId: this.networking.ecsSecurityGroup.id,
      assignPublicIp: this.networking.assignPublicIp,
      routing:
        exp.type === "public" && this.alb
          ? { alb: this.alb, vpcId: this.networking.vpc.id, paths: exp.paths, hosts: exp.hosts, priority: exp.priority, healthCheck: exp.healthCheck, deregistrationDelaySec: exp.deregistrationDelaySec }
          : undefined,
      autoscaling: c.features.autoscaling ? { minCapacity: c.scaling.minCapacity, maxCapacity: c.scaling.maxCapacity, ...svc.autoscaling } : undefined,
      alarms: { topics: this.observability.topics, environment: c.name, metricsNamespace: this.observability.metricsNamespace, thresholds: svc.alarms },
      // Its own IAM-authenticated user, created by its migration task; never the master password.
      database:
        rds && isDbClient && svc.migration
          ? { address: rds.address, port: rds.port, databaseName: rds.databaseName, dbiResourceId: rds.resourceId, masterSecretArn: rds.masterSecretArn, migrationCommand: svc.migration.command }
          : undefined,
      delivery: this.cicd && svc.source && repository ? { cicd: this.cicd, repository: svc.source.repository, imageRepositoryName: imageRepositoryName(c.project, svc.image.ecrRepository!) } : undefined,
      // A service with a source is released (pipeline or `platform release`): the release path owns its image.
      releases: svc.source !== undefined && repository !== undefined,
      launchType: c.features.capacityProviders ? undefined : "FARGATE",
    });
  }

  /** Alarm routing, dashboards, migrations and Grafana (docs/observability.md uses these names). */
  private observabilityOutputs(): void {
    const o = this.observability;
    new TerraformOutput(this, "critical_topic_arn", { value: o.criticalTopic.arn, description: "SNS topic of critical alarms (pages)" });
    new TerraformOutput(this, "warning_topic_arn", { value: o.warningTopic.arn, description: "SNS topic of warning alarms and pipeline approvals (email)" });
    new TerraformOutput(this, "dashboards", {
      value: [o.clusterOverview, ...(o.pipelinesDashboard ? [o.pipelinesDashboard] : []), ...Object.values(this.services).map((s) => s.dashboard.dashboard)].map((d) => d.dashboardNameInput),
      description: "CloudWatch dashboards of the environment",
    });
    const migrations = Object.entries(this.services).flatMap(([name, s]) => (s.migration ? [[name, { task_definition: s.migration.taskDefinition.familyInput, database_user: s.migration.userName }] as const] : []));
    if (migrations.length) {
      new TerraformOutput(this, "migrations", {
        value: Object.fromEntries(migrations),
        description: "Per database client: the migrations task family and the user it creates (run with aws ecs run-task, network from task_network)",
      });
    }
    if (o.grafana && o.grafanaDashboardJson) {
      new TerraformOutput(this, "grafana_url", { value: o.grafana.url, description: "Managed Grafana (AWS-provided URL; custom domains are not supported)" });
      new TerraformOutput(this, "grafana_dashboard", { value: o.grafanaDashboardJson, description: "Grafana import JSON: target health per service (docs/observability.md#grafana)" });
    }
  }

  /** Outputs with the names the operators' runbooks and tools use. */
  private outputs(c: EnvironmentConfig): void {
    const alb = this.alb;
    const services = Object.entries(this.services);
    const routed = services.flatMap(([name, s]) => (s.routing ? [[name, s.routing] as const] : []));
    if (alb) {
      new TerraformOutput(this, "alb_dns_name", { value: alb.loadBalancer.dnsName });
      new TerraformOutput(this, "alb_listener_arn", { value: alb.serviceListener.arn, description: "The HTTPS listener (HTTP only where the config says allowHttpOnly)" });
      const blueGreen = routed.filter(([, r]) => r.targetGroups.green);
      // The manual weights tool (`platform switch --blue N --green M`) reads these.
      new TerraformOutput(this, "blue_target_group_arns", { value: Object.fromEntries(blueGreen.map(([name, r]) => [name, r.targetGroups.blue.arn])) });
      new TerraformOutput(this, "green_target_group_arns", { value: Object.fromEntries(blueGreen.map(([name, r]) => [name, r.targetGroups.green!.arn])) });
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
      value: Object.fromEntries(Object.entries(this.imageRepositories(c)).map(([name, repo]) => [name, repo.repositoryUrl])),
      description: "The account registry's repository per image (the account stack creates them)",
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
