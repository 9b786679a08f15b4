/**
 * The monthly cost estimate of one synthesized stack: one line per priced dimension of each
 * resource (type, address, quantity, unit price, monthly cost), with totals per concern.
 * Driven only by resource types and attributes; usage the JSON cannot carry comes from the
 * validated assumptions (src/insight/usage.ts). A type neither priced nor known to have no
 * charge of its own is listed as "not priced", never dropped.
 */
import { PriceRow, regionPrices } from "./prices";
import { blocks, jsonAttr, list, num, StackIndex, str, TfResource, TfStack } from "./terraform-json";
import { Usage } from "./usage";

/** The concerns a platform team reads a bill by. */
export const CONCERNS = ["network", "compute", "data", "delivery", "observability", "security"] as const;
export type Concern = (typeof CONCERNS)[number];

/** One priced dimension of one resource. */
export interface CostLine {
  readonly concern: Concern;
  readonly type: string;
  readonly address: string;
  /** What is priced, e.g. `Fargate vCPU, on-demand`. */
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitUsd: number;
  /** quantity x unitUsd, rounded to cents. */
  readonly monthlyUsd: number;
  /** The price table key. */
  readonly priceKey: string;
  /** How the quantity was derived, where it is not plain. */
  readonly basis?: string;
}

/** A resource (or one dimension of it) the table cannot price. */
export interface UnpricedLine {
  readonly type: string;
  readonly address: string;
  readonly reason: string;
}

export interface StackEstimate {
  readonly stack: string;
  readonly label: string;
  readonly region: string;
  /** Sorted by concern, type, address, item. */
  readonly lines: readonly CostLine[];
  readonly notPriced: readonly UnpricedLine[];
  /** Resources with no charge of their own, counted per type (sorted by type). */
  readonly noCharge: readonly { readonly type: string; readonly count: number }[];
  readonly totalUsd: number;
  readonly byConcernUsd: Readonly<Record<Concern, number>>;
}

/** What a pricer asks for: a price key, a quantity in that key's unit, and the concern. */
interface Dimension {
  readonly concern: Concern;
  readonly key: string;
  readonly item: string;
  readonly quantity: number;
  readonly basis?: string;
}

/** A pricer's answer for one resource: dimensions to price, or a reason it cannot be. */
type Priced = Dimension | { readonly unpriced: string };

interface PricingContext {
  readonly index: StackIndex;
  readonly usage: Usage;
  readonly hours: number;
}

type Pricer = (r: TfResource, ctx: PricingContext) => Priced[];

/**
 * Types with no charge of their own, and why. Their cost, if any, is priced on the resource
 * that carries it (flow logs on their log group, listeners in the load balancer's LCUs, ...).
 */
export const NO_CHARGE: Readonly<Record<string, string>> = {
  aws_vpc: "VPCs are free",
  aws_subnet: "subnets are free",
  aws_internet_gateway: "free; data transfer is billed on traffic",
  aws_route_table: "free",
  aws_route: "free",
  aws_route_table_association: "free",
  aws_main_route_table_association: "free",
  aws_security_group: "free",
  aws_default_security_group: "free",
  aws_security_group_rule: "free",
  aws_vpc_security_group_ingress_rule: "free",
  aws_vpc_security_group_egress_rule: "free",
  aws_network_acl: "free",
  aws_default_network_acl: "free",
  aws_flow_log: "priced as ingestion and storage of its log group",
  aws_db_subnet_group: "free",
  aws_db_parameter_group: "free",
  aws_db_option_group: "free",
  aws_iam_role: "IAM is free",
  aws_iam_role_policy: "IAM is free",
  aws_iam_role_policy_attachment: "IAM is free",
  aws_iam_policy: "IAM is free",
  aws_iam_service_linked_role: "IAM is free",
  aws_iam_openid_connect_provider: "IAM is free",
  aws_kms_alias: "aliases are free; the key is priced",
  aws_kms_key_policy: "free; the key is priced",
  aws_ecs_cluster: "the cluster is free; tasks are priced on their services (Container Insights metrics are not modelled)",
  aws_ecs_cluster_capacity_providers: "free; the Spot share is priced on each service",
  aws_ecs_task_definition: "priced on the services that run it",
  aws_lb_listener: "priced in the load balancer's capacity units",
  aws_lb_listener_rule: "priced in the load balancer's capacity units",
  aws_lb_listener_certificate: "free",
  aws_lb_target_group: "free",
  aws_lb_target_group_attachment: "free",
  aws_acm_certificate: "public ACM certificates are free",
  aws_acm_certificate_validation: "free",
  aws_appautoscaling_target: "Application Auto Scaling is free",
  aws_appautoscaling_policy: "Application Auto Scaling is free (its alarms are managed by AWS)",
  aws_ecr_lifecycle_policy: "free",
  aws_ecr_repository_policy: "free",
  aws_ecr_registry_policy: "free",
  aws_ecr_replication_configuration: "free; the replicas are stored GB of the destination's repositories (same region: no transfer charge)",
  aws_s3_bucket_policy: "free",
  aws_s3_bucket_versioning: "free; old versions are part of the bucket's stored GB",
  aws_s3_bucket_lifecycle_configuration: "free",
  aws_s3_bucket_logging: "free; the logs are stored GB of the target bucket",
  aws_s3_bucket_ownership_controls: "free",
  aws_s3_bucket_public_access_block: "free",
  aws_s3_bucket_server_side_encryption_configuration: "free; KMS requests are not modelled",
  aws_s3_bucket_notification: "free",
  aws_s3_bucket_acl: "free",
  aws_sns_topic: "publishes and email deliveries of alarm traffic stay within SNS's free million",
  aws_sns_topic_policy: "free",
  aws_sns_topic_subscription: "free",
  aws_config_delivery_channel: "free; delivery goes to a priced bucket",
  aws_config_configuration_recorder_status: "free; the recorder is priced",
  aws_codestarconnections_connection: "connections are free",
  aws_codeconnections_connection: "connections are free",
  aws_codedeploy_app: "CodeDeploy to ECS is free",
  aws_codedeploy_deployment_group: "CodeDeploy to ECS is free",
  aws_codedeploy_deployment_config: "CodeDeploy to ECS is free",
  aws_route53_record: "records are free; queries are priced on the zone",
  aws_cloudwatch_query_definition: "saved queries are free; Logs Insights bills GB scanned per query run",
  aws_cloudwatch_log_resource_policy: "free",
  aws_cloudwatch_event_rule: "rules on the default bus matching AWS service events are free (EventBridge bills custom and partner events)",
  aws_cloudwatch_event_target: "free; what it delivers to (SNS, CloudWatch Logs) is priced there",
  aws_wafv2_web_acl_association: "free; the web ACL is priced",
  aws_wafv2_web_acl_logging_configuration: "free; the logs are priced at their destination",
  aws_secretsmanager_secret_version: "free; the secret is priced",
  aws_secretsmanager_secret_policy: "free",
  aws_ssm_parameter: "standard parameters are free",
  aws_dynamodb_table_item: "free; the table is priced",
  aws_kms_grant: "free; the key is priced",
  aws_iam_instance_profile: "IAM is free",
  aws_iam_policy_attachment: "IAM is free",
  aws_ecs_account_setting_default: "free",
  aws_cloudwatch_log_subscription_filter: "free; the destination is priced",
  aws_codestarnotifications_notification_rule: "notification rules are free; deliveries go through SNS",
  aws_s3_bucket_cors_configuration: "free",
  aws_ecr_registry_scanning_configuration: "basic scanning is free",
};

const dim = (concern: Concern, key: string, item: string, quantity: number, basis?: string): Dimension => (basis === undefined ? { concern, key, item, quantity } : { concern, key, item, quantity, basis });
const unpriced = (reason: string): Priced => ({ unpriced: reason });

/** A `{ capacity_provider, base, weight }` entry of a capacity provider strategy. */
export interface CapacityShare {
  readonly capacityProvider: string;
  readonly base: number;
  readonly weight: number;
}

/**
 * How ECS places `tasks` over a capacity provider strategy: the base tasks first on the
 * provider that has a base, the rest in proportion to the weights. Returns the expected
 * number of tasks per provider (fractions where the weights split a task).
 */
export function placeTasks(tasks: number, strategy: readonly CapacityShare[]): Record<string, number> {
  const placed: Record<string, number> = {};
  let left = tasks;
  for (const share of strategy) {
    const base = Math.min(share.base, left);
    placed[share.capacityProvider] = (placed[share.capacityProvider] ?? 0) + base;
    left -= base;
  }
  const totalWeight = strategy.reduce((sum, s) => sum + s.weight, 0);
  for (const share of strategy) {
    const part = totalWeight > 0 ? (left * share.weight) / totalWeight : 0;
    placed[share.capacityProvider] = (placed[share.capacityProvider] ?? 0) + part;
  }
  return placed;
}

function strategyOf(value: unknown): CapacityShare[] {
  return blocks(value).map((b) => ({ capacityProvider: str(b.capacity_provider) ?? "", base: num(b.base) ?? 0, weight: num(b.weight) ?? 0 }));
}

/** The service's own strategy, else its cluster's default, else plain FARGATE. */
function serviceStrategy(service: TfResource, index: StackIndex): CapacityShare[] {
  const own = strategyOf(service.attrs.capacity_provider_strategy);
  if (own.length) return own;
  const launchType = str(service.attrs.launch_type);
  if (launchType) return [{ capacityProvider: launchType, base: 0, weight: 1 }];
  const cluster = index.resolve(service.attrs.cluster, "aws_ecs_cluster")[0];
  const providers = cluster ? index.referrers(cluster, "aws_ecs_cluster_capacity_providers")[0] : undefined;
  const fallback = providers ? strategyOf(providers.attrs.default_capacity_provider_strategy) : [];
  return fallback.length ? fallback : [{ capacityProvider: "FARGATE", base: 0, weight: 1 }];
}

/** The task definition a service runs: by reference, else by a literal family name. */
export function taskDefinitionOf(service: TfResource, index: StackIndex): TfResource | undefined {
  const byReference = index.resolve(service.attrs.task_definition, "aws_ecs_task_definition")[0];
  if (byReference) return byReference;
  const family = str(service.attrs.task_definition)?.replace(/:\d+$/, "");
  return family ? index.ofType("aws_ecs_task_definition").find((t) => t.attrs.family === family) : undefined;
}

const fmt = (n: number): string => String(Math.round(n * 1000) / 1000);

const priceEcsService: Pricer = (service, { index, hours }) => {
  const tasks = num(service.attrs.desired_count) ?? 0;
  const taskDef = taskDefinitionOf(service, index);
  if (!taskDef) return [unpriced("its task definition is not in this stack, so its size is unknown")];
  const vcpu = (num(taskDef.attrs.cpu) ?? NaN) / 1024;
  const memoryGb = (num(taskDef.attrs.memory) ?? NaN) / 1024;
  if (!Number.isFinite(vcpu) || !Number.isFinite(memoryGb)) return [unpriced(`task definition ${taskDef.address} has no task-level cpu and memory`)];
  const platform = blocks(taskDef.attrs.runtime_platform)[0] ?? {};
  const os = str(platform.operating_system_family) ?? "LINUX";
  if (os !== "LINUX") return [unpriced(`Fargate on ${os} is not in the price table`)];
  const arch = str(platform.cpu_architecture) === "ARM64" ? "arm" : "x86";
  const placed = placeTasks(tasks, serviceStrategy(service, index));
  const size = `${fmt(vcpu)} vCPU / ${fmt(memoryGb)} GB per task`;
  const out: Priced[] = [];
  for (const [provider, count] of Object.entries(placed).sort()) {
    const spot = provider === "FARGATE_SPOT";
    if (provider !== "FARGATE" && !spot) {
      if (count > 0) out.push(unpriced(`${fmt(count)} task(s) on capacity provider ${provider} (EC2 capacity is not priced)`));
      continue;
    }
    if (count === 0 && (spot || tasks > 0)) continue;
    if (spot && arch === "arm") {
      out.push(unpriced(`${fmt(count)} Fargate Spot task(s) on ARM64 (no Spot ARM price in the table)`));
      continue;
    }
    const family = `${spot ? "fargate-spot" : "fargate"}.linux-${arch}`;
    const label = `${spot ? "Fargate Spot" : "Fargate"} ${arch === "arm" ? "ARM " : ""}`;
    const basis = `${fmt(count)} of ${fmt(tasks)} desired task(s) ${spot ? "on Spot" : "on-demand"}, ${size}, ${hours} h`;
    out.push(dim("compute", `${family}.vcpu`, `${label}vCPU${spot ? "" : ", on-demand"}`, count * vcpu * hours, basis));
    out.push(dim("compute", `${family}.memory`, `${label}memory${spot ? "" : ", on-demand"}`, count * memoryGb * hours, basis));
  }
  const ephemeral = num(blocks(taskDef.attrs.ephemeral_storage)[0]?.size_in_gib) ?? 20;
  if (ephemeral > 20 && tasks > 0) out.push(dim("compute", "fargate.ephemeral-storage", "Fargate ephemeral storage above 20 GiB", tasks * (ephemeral - 20) * hours));
  if (blocks(service.attrs.network_configuration)[0]?.assign_public_ip === true && tasks > 0) {
    out.push(dim("network", "ipv4.public-address", "public IPv4 address per task", tasks * hours, `${fmt(tasks)} task(s) with assign_public_ip, ${hours} h`));
  }
  return out;
};

const priceLoadBalancer: Pricer = (lb, { usage, hours }) => {
  const type = str(lb.attrs.load_balancer_type) ?? "application";
  const kind = type === "application" ? "alb" : type === "network" ? "nlb" : undefined;
  if (!kind) return [unpriced(`load balancer type "${type}" is not in the price table`)];
  const units = usage.loadBalancer.capacityUnitsPerHour;
  const out: Priced[] = [
    dim("network", `${kind}.hour`, `${kind.toUpperCase()} hours`, hours),
    dim("network", `${kind}.${kind === "alb" ? "lcu" : "nlcu"}`, `${kind === "alb" ? "LCU" : "NLCU"}-hours`, units * hours, `${units} capacity unit(s) per hour (usage), ${hours} h`),
  ];
  const nodes = list(lb.attrs.subnets).length || blocks(lb.attrs.subnet_mapping).length;
  if (lb.attrs.internal !== true && nodes > 0) {
    out.push(dim("network", "ipv4.public-address", "public IPv4 address per AZ node", nodes * hours, `internet-facing in ${nodes} subnet(s), ${hours} h`));
  }
  return out;
};

const priceNatGateway: Pricer = (_nat, { usage, hours }) => [
  dim("network", "nat.hour", "NAT gateway hours", hours),
  dim("network", "nat.data", "NAT data processed", usage.nat.dataGbPerMonth, "usage: GB per NAT gateway a month"),
];

const priceVpcEndpoint: Pricer = (endpoint, { usage, hours }) => {
  if ((str(endpoint.attrs.vpc_endpoint_type) ?? "Gateway") !== "Interface") return [];
  const azs = list(endpoint.attrs.subnet_ids).length || blocks(endpoint.attrs.subnet_configuration).length;
  const service = str(endpoint.attrs.service_name)?.split(".").slice(3).join(".") ?? "interface";
  return [
    dim("network", "vpce.interface.az-hour", `interface endpoint ${service}, ENI hours`, azs * hours, `${azs} AZ(s) (subnet_ids), ${hours} h`),
    dim("network", "vpce.interface.data", `interface endpoint ${service}, data processed`, usage.vpcEndpoints.dataGbPerMonth, "usage: GB per endpoint a month"),
  ];
};

const priceDbInstance: Pricer = (db, { usage, hours }) => {
  const engine = str(db.attrs.engine) ?? "unknown";
  const instanceClass = str(db.attrs.instance_class) ?? "unknown";
  const copies = db.attrs.multi_az === true ? 2 : 1;
  const deployment = copies === 2 ? "Multi-AZ: primary + standby" : "Single-AZ";
  const storageGb = num(db.attrs.allocated_storage) ?? 0;
  const storageType = str(db.attrs.storage_type) ?? "gp2";
  const retention = num(db.attrs.backup_retention_period) ?? 0;
  const out: Priced[] = [dim("data", `rds.${engine}.${instanceClass}`, `RDS ${engine} ${instanceClass} instance hours`, copies * hours, `${deployment}, ${hours} h`)];
  if (storageType === "gp2" || storageType === "gp3") {
    out.push(dim("data", "rds.storage.general-purpose", `RDS ${storageType} storage`, copies * storageGb, `${storageGb} GB allocated x ${copies} cop${copies === 2 ? "ies" : "y"}`));
  } else out.push(unpriced(`RDS storage type ${storageType} is not in the price table`));
  if (retention > 0) {
    out.push(dim("data", "rds.backup", "RDS backup storage beyond the free amount", retention * usage.database.backupChangeGbPerDay, `${retention} days retained x ${usage.database.backupChangeGbPerDay} GB changed a day (usage)`));
  }
  if (db.attrs.manage_master_user_password === true) out.push(dim("security", "secretsmanager.secret", "managed master password secret", 1));
  if ((num(db.attrs.performance_insights_retention_period) ?? 7) > 7) out.push(unpriced("Performance Insights retention beyond the free 7 days"));
  return out;
};

/** What writes to a log group decides its default volume; the first writer type found wins. */
const LOG_WRITERS: readonly [string, keyof Usage["logs"]["ingestedGbPerMonth"]][] = [
  ["aws_flow_log", "flowLogs"],
  ["aws_cloudtrail", "trail"],
  ["aws_codebuild_project", "build"],
  ["aws_ecs_task_definition", "service"],
];

const priceLogGroup: Pricer = (group, { index, usage }) => {
  const writers = new Set(index.referrers(group).map((r) => r.type));
  const [writerType, kind] = LOG_WRITERS.find(([type]) => writers.has(type)) ?? ["", "other" as const];
  const ingested = usage.logs.ingestedGbPerMonth[kind];
  const retentionDays = num(group.attrs.retention_in_days) ?? 0;
  const months = retentionDays > 0 ? retentionDays / 30 : usage.logs.neverExpireMonths;
  const source = writerType ? `written by ${writerType}` : "no known writer";
  return [
    dim("observability", "logs.ingestion", "log ingestion", ingested, `usage: ${ingested} GB a month (${kind}; ${source})`),
    dim("observability", "logs.storage", "log storage", ingested * months, `${ingested} GB a month kept ${retentionDays > 0 ? `${retentionDays} days` : `${months} months (never expires)`}, uncompressed`),
  ];
};

const priceAlarm: Pricer = (alarm) => {
  const queries = blocks(alarm.attrs.metric_query);
  const metrics = queries.length ? queries.filter((q) => q.metric !== undefined).length || 1 : 1;
  const periods = [num(alarm.attrs.period), ...queries.map((q) => num(blocks(q.metric)[0]?.period))].filter((v): v is number => v !== undefined);
  const highResolution = periods.some((period) => period < 60);
  return [dim("observability", highResolution ? "cloudwatch.alarm-metric-high-resolution" : "cloudwatch.alarm-metric", "alarm metrics", metrics)];
};

const priceCodeBuild: Pricer = (project, { usage }) => {
  const env = blocks(project.attrs.environment)[0] ?? blocks(jsonAttr(project.attrs.environment))[0] ?? {};
  const computeType = str(env.compute_type) ?? "BUILD_GENERAL1_SMALL";
  const containerType = str(env.type) ?? "LINUX_CONTAINER";
  if (containerType !== "LINUX_CONTAINER") return [unpriced(`CodeBuild ${containerType} is not in the price table`)];
  return [dim("delivery", `codebuild.linux.${computeType}`, `CodeBuild ${computeType} minutes`, usage.delivery.buildMinutesPerMonth, "usage: build minutes a month per project")];
};

const priceCodePipeline: Pricer = (pipeline, { usage }) =>
  str(pipeline.attrs.pipeline_type) === "V2"
    ? [dim("delivery", "codepipeline.v2.action-minute", "CodePipeline V2 action minutes", usage.delivery.pipelineActionMinutesPerMonth, "usage: action minutes a month per pipeline")]
    : [dim("delivery", "codepipeline.v1.pipeline", "CodePipeline V1 active pipeline", 1)];

const priceTrail: Pricer = (trail, { usage }) => {
  const t = usage.cloudTrail;
  const selectsData = blocks(trail.attrs.event_selector).some((s) => blocks(s.data_resource).length > 0) || blocks(trail.attrs.advanced_event_selector).length > 0;
  const out: Priced[] = [
    dim("security", t.additionalCopy ? "cloudtrail.management-events-additional-copy" : "cloudtrail.management-events-first-copy", `management events${t.additionalCopy ? ", additional copy" : ", first copy"}`, t.managementEventsPerMonth / 100_000, `usage: ${t.managementEventsPerMonth} events a month`),
  ];
  if (selectsData) out.push(dim("security", "cloudtrail.data-events", "data events", t.dataEventsPerMonth / 100_000, `usage: ${t.dataEventsPerMonth} events a month`));
  return out;
};

const priceWebAcl: Pricer = (acl, { usage }) => [
  dim("security", "waf.web-acl", "web ACL", 1),
  dim("security", "waf.rule", "web ACL rules", blocks(acl.attrs.rule).length, "one per rule block"),
  dim("security", "waf.requests", "requests inspected", usage.waf.millionRequestsPerMonth, "usage: million requests a month"),
];

const priceDynamoDb: Pricer = (table, { usage }) => {
  const s = usage.storage;
  const out: Priced[] = [];
  if ((str(table.attrs.billing_mode) ?? "PROVISIONED") === "PAY_PER_REQUEST") {
    out.push(dim("data", "dynamodb.on-demand.writes", "on-demand writes", s.dynamoDbMillionWritesPerMonth, "usage: million write units a month"));
    out.push(dim("data", "dynamodb.on-demand.reads", "on-demand reads", s.dynamoDbMillionReadsPerMonth, "usage: million read units a month"));
  } else out.push(unpriced("provisioned capacity is not in the price table"));
  out.push(dim("data", "dynamodb.storage", "table storage", s.dynamoDbGbPerTable, "usage: GB per table"));
  if (blocks(table.attrs.point_in_time_recovery)[0]?.enabled === true) out.push(dim("data", "dynamodb.pitr", "point-in-time recovery", s.dynamoDbGbPerTable, "usage: GB per table"));
  return out;
};

/** Priced types; every other type is either in NO_CHARGE or reported as not priced. */
const PRICERS: Readonly<Record<string, Pricer>> = {
  aws_ecs_service: priceEcsService,
  aws_lb: priceLoadBalancer,
  aws_alb: priceLoadBalancer,
  aws_nat_gateway: priceNatGateway,
  aws_eip: (_eip, { hours }) => [dim("network", "ipv4.public-address", "Elastic IP (public IPv4) hours", hours)],
  aws_vpc_endpoint: priceVpcEndpoint,
  aws_db_instance: priceDbInstance,
  aws_secretsmanager_secret: () => [dim("security", "secretsmanager.secret", "secret", 1)],
  aws_kms_key: () => [dim("security", "kms.customer-managed-key", "customer managed key", 1)],
  aws_cloudwatch_metric_alarm: priceAlarm,
  aws_cloudwatch_composite_alarm: () => [dim("observability", "cloudwatch.composite-alarm", "composite alarm", 1)],
  aws_cloudwatch_dashboard: () => [dim("observability", "cloudwatch.dashboard", "dashboard", 1)],
  aws_cloudwatch_log_group: priceLogGroup,
  aws_grafana_workspace: () => [dim("observability", "grafana.editor", "Managed Grafana editor licence", 1)],
  aws_cloudwatch_log_metric_filter: () => [dim("observability", "cloudwatch.custom-metric", "custom metric from a metric filter", 1)],
  aws_config_configuration_recorder: (_r, { usage }) => [dim("security", "config.configuration-item", "configuration items recorded", usage.config.itemsPerMonth, "usage: items a month")],
  aws_config_config_rule: (_r, { usage }) => [dim("security", "config.rule-evaluation", "rule evaluations", usage.config.evaluationsPerRulePerMonth, "usage: evaluations a month per rule")],
  aws_cloudtrail: priceTrail,
  aws_wafv2_web_acl: priceWebAcl,
  aws_codepipeline: priceCodePipeline,
  aws_codebuild_project: priceCodeBuild,
  aws_route53_zone: (_z, { usage }) => [
    dim("network", "route53.hosted-zone", "hosted zone", 1),
    dim("network", "route53.queries", "queries", usage.route53.millionQueriesPerMonth, "usage: million queries a month"),
  ],
  aws_s3_bucket: (_b, { usage }) => [dim("data", "s3.standard.storage", "S3 Standard storage", usage.storage.s3GbPerBucket, "usage: GB per bucket")],
  aws_ecr_repository: (_r, { usage }) => [dim("delivery", "ecr.storage", "image storage", usage.storage.ecrGbPerRepository, "usage: GB per repository")],
  aws_dynamodb_table: priceDynamoDb,
};

/** Whether the estimate knows a type (priced, or known to have no charge of its own). */
export function isKnownType(type: string): boolean {
  return type in PRICERS || type in NO_CHARGE;
}

const cents = (usd: number): number => Math.round(usd * 100);

function compareLines(a: CostLine, b: CostLine): number {
  const keys = (l: CostLine) => [String(CONCERNS.indexOf(l.concern)), l.type, l.address, l.item];
  const [ka, kb] = [keys(a), keys(b)];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  return 0;
}

/** Estimates one stack's monthly cost. Throws PriceError for a region the table lacks. */
export function estimateStack(stack: TfStack, usage: Usage): StackEstimate {
  const prices = regionPrices(stack.region);
  const ctx: PricingContext = { index: new StackIndex(stack), usage, hours: usage.hoursPerMonth };
  const lines: CostLine[] = [];
  const notPriced: UnpricedLine[] = [];
  const noCharge = new Map<string, number>();
  for (const r of stack.resources) {
    const pricer = PRICERS[r.type];
    if (!pricer) {
      if (r.type in NO_CHARGE) noCharge.set(r.type, (noCharge.get(r.type) ?? 0) + 1);
      else notPriced.push({ type: r.type, address: r.address, reason: `type ${r.type} is not in the price table (src/insight/cost.ts)` });
      continue;
    }
    const priced = pricer(r, ctx);
    if (!priced.length) noCharge.set(r.type, (noCharge.get(r.type) ?? 0) + 1);
    for (const p of priced) {
      if ("unpriced" in p) {
        notPriced.push({ type: r.type, address: r.address, reason: p.unpriced });
        continue;
      }
      const row: PriceRow | undefined = Object.prototype.hasOwnProperty.call(prices, p.key) ? prices[p.key] : undefined;
      if (!row) {
        notPriced.push({ type: r.type, address: r.address, reason: `${p.item}: no price "${p.key}" for ${stack.region} in src/insight/prices.ts` });
        continue;
      }
      const line: CostLine = { concern: p.concern, type: r.type, address: r.address, item: p.item, quantity: p.quantity, unit: row.unit, unitUsd: row.usd, monthlyUsd: cents(p.quantity * row.usd) / 100, priceKey: p.key };
      lines.push(p.basis === undefined ? line : { ...line, basis: p.basis });
    }
  }
  lines.sort(compareLines);
  const byConcernCents = Object.fromEntries(CONCERNS.map((c) => [c, 0])) as Record<Concern, number>;
  for (const l of lines) byConcernCents[l.concern] += cents(l.monthlyUsd);
  const totalCents = CONCERNS.reduce((sum, c) => sum + byConcernCents[c], 0);
  return {
    stack: stack.name,
    label: stack.label,
    region: stack.region,
    lines,
    notPriced,
    noCharge: [...noCharge.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, count]) => ({ type, count })),
    totalUsd: totalCents / 100,
    byConcernUsd: Object.fromEntries(CONCERNS.map((c) => [c, byConcernCents[c] / 100])) as Record<Concern, number>,
  };
}
