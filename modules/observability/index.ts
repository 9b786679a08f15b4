import { Construct } from "constructs";
import { Lazy, Token } from "cdktf";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmConfig, CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { Naming } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import { policyDocument } from "../../lib/iam-policy";

/** One application service to watch. */
export interface ObservedService {
  /** Service name (kebab-case, unique); part of alarm names and keys. */
  readonly name: string;
  /** ECS cluster the service runs in. */
  readonly clusterName: string;
  /** ECS service(s) of the application: one for rolling, both colours for blue/green. */
  readonly serviceNames: readonly string[];
  /**
   * ARN suffixes (`targetgroup/<name>/<id>`) of the service's target groups; public services only.
   * @default - no ALB alarms for this service (internal service)
   */
  readonly targetGroupArnSuffixes?: readonly string[];
}

/** The database to watch. */
export interface ObservedDatabase {
  /** RDS DB instance identifier. */
  readonly instanceId: string;
  /** Allocated storage in GiB; the free-storage alarm fires below 10% of it. */
  readonly allocatedStorageGiB: number;
  /**
   * `max_connections` of the instance (PostgreSQL: LEAST(DBInstanceClassMemory/9531392, 5000)).
   * @default 100
   */
  readonly maxConnections?: number;
}

/** Alarm thresholds; every one has an environment-aware default. */
export interface AlarmThresholds {
  /** ALB-generated 5xx per minute. @default 5 in prod, 20 elsewhere */
  readonly elb5xxPerMinute?: number;
  /** Target (application) 5xx per minute, per service. @default 5 in prod, 20 elsewhere */
  readonly target5xxPerMinute?: number;
  /** p95 target response time in seconds. @default 1 in prod, 2 elsewhere */
  readonly latencyP95Sec?: number;
  /** ECS service CPU, percent. @default 80 */
  readonly cpuPercent?: number;
  /** ECS service memory, percent. @default 80 */
  readonly memoryPercent?: number;
  /** RDS CPU, percent. @default 80 */
  readonly databaseCpuPercent?: number;
  /** RDS connections as a percentage of maxConnections. @default 80 */
  readonly databaseConnectionsPercent?: number;
}

export interface ObservabilityProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Account whose CloudWatch alarms may publish to the topic. */
  readonly accountId: string;
  /** Region of the metrics (dashboard widgets and the topic policy). */
  readonly region: string;
  /**
   * AWS partition of the ARNs.
   * @default "aws"
   */
  readonly partition?: string;
  /** Environment name: labels and thresholds (prod alarms sooner and on less). */
  readonly environment: string;
  /**
   * KMS key that encrypts the alarm topic. Its key policy must let `cloudwatch.amazonaws.com`
   * use it (kms:Decrypt, kms:GenerateDataKey*), or alarms cannot publish.
   */
  readonly dataKmsKeyArn: string;
  /**
   * Email addresses subscribed to the topic (each must confirm the subscription mail).
   * @default - no subscriptions
   */
  readonly alarmEmails?: readonly string[];
  /**
   * ARN suffix of the ALB (`app/<name>/<id>`).
   * @default - no ALB alarms (required when any service has target groups)
   */
  readonly albArnSuffix?: string;
  /** Application services. */
  readonly services: readonly ObservedService[];
  /**
   * The database.
   * @default - no database alarms or widgets
   */
  readonly database?: ObservedDatabase;
  /** @default - environment-aware defaults (see AlarmThresholds) */
  readonly thresholds?: AlarmThresholds;
}

type MissingData = "breaching" | "notBreaching" | "ignore" | "missing";

/** One metric as the alarms and the dashboard both need it. */
interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** CloudWatch statistic or percentile (`Sum`, `Maximum`, `p95`, ...). */
  readonly stat: string;
}

/** What one alarm watches and why it is there. */
interface AlarmSpec {
  /** Key in `alarms` (the construct ID). */
  readonly key: string;
  /** The alarm name's purpose. @default - the key */
  readonly name?: string;
  /** Heading of the alarm's first steps in docs/cicd-observability.md. */
  readonly runbook: string;
  readonly description: string;
  /** One metric, or several combined with `combine` (metric math). */
  readonly metrics: readonly MetricSpec[];
  readonly combine?: "SUM" | "MAX";
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  readonly threshold: number;
  readonly periodSec: number;
  readonly evaluationPeriods: number;
  readonly treatMissingData: MissingData;
}

/** Dashboard widget JSON (the subset used), typed so the body is checked at compile time. */
type DashboardMetricRow = (string | { readonly stat?: string; readonly label?: string; readonly period?: number })[];
interface MetricWidget {
  readonly type: "metric";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title: string;
    readonly region: string;
    readonly view: "timeSeries";
    readonly stacked: boolean;
    readonly period: number;
    readonly metrics: DashboardMetricRow[];
    readonly annotations?: { readonly horizontal: { readonly label: string; readonly value: number }[] };
    readonly yAxis?: { readonly left: { readonly min?: number; readonly max?: number; readonly label?: string } };
  };
}
interface TextWidget {
  readonly type: "text";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: { readonly markdown: string };
}
export type DashboardWidget = MetricWidget | TextWidget;

const ALB = "AWS/ApplicationELB";
const ECS = "AWS/ECS";
const RDS = "AWS/RDS";
const GIB = 1024 * 1024 * 1024;

/**
 * Alarms, their SNS topic and one dashboard, designed with the platform rather than after it.
 * ECS publishes no running-task-count metric, so capacity is watched through the ALB's
 * HealthyHostCount / UnHealthyHostCount per service (and, for services without a target group,
 * through the presence of the service's utilisation metrics).
 */
export class Observability extends Construct {
  /** Topic every alarm notifies on ALARM and OK (KMS-encrypted; only this account's alarms publish). */
  public readonly alarmTopic: SnsTopic;
  /** Alarms by purpose, e.g. `alb-elb-5xx`, `api-healthy-hosts`, `api-cpu-high`, `db-free-storage-low`. */
  public readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  public readonly dashboard: CloudwatchDashboard;
  /** Email subscriptions (PendingConfirmation until each recipient confirms). */
  public readonly emailSubscriptions: SnsTopicSubscription[];

  private readonly watched: ObservedService[] = [];

  /** Adds services to the environment dashboard (each service's own alarms live in its construct). */
  public watch(services: readonly ObservedService[]): void {
    this.watched.push(...services);
  }

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    validate(this, props);
    const { naming, accountId, region } = props;
    const partition = props.partition ?? "aws";

    this.alarmTopic = new SnsTopic(this, "alarm-topic", {
      name: naming.name("generic", "alarms"),
      displayName: `${naming.stem} alarms`,
      kmsMasterKeyId: props.dataKmsKeyArn,
    });
    new SnsTopicPolicy(this, "alarm-topic-policy", {
      arn: this.alarmTopic.arn,
      policy: policyDocument(this, "alarm-topic-policy-document", [
        {
          sid: "CloudWatchAlarmsOfThisAccountPublish",
          effect: "Allow",
          actions: ["sns:Publish"],
          resources: [this.alarmTopic.arn],
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:${partition}:cloudwatch:${region}:${accountId}:alarm:*`] },
          ],
        },
      ]),
    });
    this.emailSubscriptions = (props.alarmEmails ?? []).map(
      (email, i) => new SnsTopicSubscription(this, `email-subscription-${i}`, { topicArn: this.alarmTopic.arn, protocol: "email", endpoint: email }),
    );

    this.alarms = createAlarms(new Construct(this, "alarms"), alarmSpecs(props), naming, props.environment, this.alarmTopic.arn);

    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: naming.name("generic", "overview"),
      // Services register after this construct exists (they alarm on its topic): see watch().
      dashboardBody: Lazy.stringValue({ produce: () => JSON.stringify({ widgets: dashboardWidgets({ ...props, services: [...props.services, ...this.watched] }) }) }),
    });
  }
}

/** Alarms of a set of specs, each under its key. */
function createAlarms(scope: Construct, specs: readonly AlarmSpec[], naming: Naming, environment: string, topicArn: string): Record<string, CloudwatchMetricAlarm> {
  const alarms: Record<string, CloudwatchMetricAlarm> = {};
  for (const spec of specs) {
    alarms[spec.key] = new CloudwatchMetricAlarm(scope, spec.key, {
      alarmName: naming.name("generic", spec.name ?? spec.key),
      alarmDescription: `[${environment}] ${spec.description} Runbook: docs/cicd-observability.md#${spec.runbook}`,
      comparisonOperator: spec.comparison,
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.evaluationPeriods,
      treatMissingData: spec.treatMissingData,
      alarmActions: [topicArn],
      okActions: [topicArn],
      ...metricOf(spec),
    });
  }
  return alarms;
}

/** What {@link ServiceAlarms} needs: the environment's topic and the service's metrics. */
export interface ServiceAlarmsProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Environment name (labels and environment-aware thresholds). */
  readonly environment: string;
  /** Topic the alarms notify (the environment's alarm topic). */
  readonly topicArn: string;
  /**
   * ARN suffix of the environment's ALB (`app/<name>/<id>`); needed with target groups.
   * @default - no ALB metrics
   */
  readonly albArnSuffix?: string;
  readonly service: ObservedService;
  readonly thresholds?: AlarmThresholds;
}

/**
 * One service's alarms (capacity, health, errors, latency, CPU and memory), named
 * `<project>-<env>-<service>-<purpose>` and keyed by purpose (`cpu-high`, ...).
 */
export class ServiceAlarms extends Construct {
  /** Alarms by purpose, e.g. `healthy-hosts`, `cpu-high`. */
  public readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    validateService(this, props);
    const specs = serviceAlarmSpecs(props.service, props.environment, props.albArnSuffix, props.thresholds ?? {});
    this.alarms = createAlarms(this, specs, props.naming, props.environment, props.topicArn);
  }
}

/** The alarm's metric: plain when it watches one series, metric math when it combines several. */
function metricOf(spec: AlarmSpec): Partial<CloudwatchMetricAlarmConfig> {
  if (spec.metrics.length === 1) {
    const [m] = spec.metrics;
    const percentile = /^p\d+(\.\d+)?$/.test(m.stat);
    return {
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: { ...m.dimensions },
      period: spec.periodSec,
      ...(percentile ? { extendedStatistic: m.stat } : { statistic: m.stat }),
    };
  }
  const ids = spec.metrics.map((_, i) => `m${i}`);
  // FILL: a colour or target group with no datapoint (standby, no traffic) counts as 0 in a sum.
  const expression = spec.combine === "SUM" ? `SUM([${ids.map((id) => `FILL(${id}, 0)`).join(", ")}])` : `MAX([${ids.join(", ")}])`;
  const queries: CloudwatchMetricAlarmMetricQuery[] = spec.metrics.map((m, i) => ({
    id: ids[i],
    returnData: false,
    metric: { namespace: m.namespace, metricName: m.metricName, dimensions: { ...m.dimensions }, stat: m.stat, period: spec.periodSec },
  }));
  queries.push({ id: "e1", expression, label: spec.key, returnData: true });
  return { metricQuery: queries };
}

/** Every alarm of the environment, each with its deliberate missing-data treatment. */
export function alarmSpecs(props: ObservabilityProps): AlarmSpec[] {
  const prod = props.environment === "prod";
  const t = props.thresholds ?? {};
  // prod pages after 3 bad minutes; other environments wait 5 to stay quiet during experiments.
  const minutes = prod ? 3 : 5;
  const specs: AlarmSpec[] = [];
  const lb = props.albArnSuffix;

  // The ALB exists only for public services, so its own 5xx are always worth watching.
  if (lb) {
    specs.push({
      key: "alb-elb-5xx",
      runbook: "alb-elb-5xx",
      description: "The ALB itself answers 5xx (no healthy target, target timeouts or resets).",
      metrics: [{ namespace: ALB, metricName: "HTTPCode_ELB_5XX_Count", dimensions: { LoadBalancer: lb }, stat: "Sum" }],
      comparison: "GreaterThanThreshold",
      threshold: t.elb5xxPerMinute ?? (prod ? 5 : 20),
      periodSec: 60,
      evaluationPeriods: minutes,
      // Count metrics are only published when non-zero: no data means no errors.
      treatMissingData: "notBreaching",
    });
  }

  const db = props.database;
  if (db) specs.push(...databaseAlarmSpecs(db, t));
  return specs;
}

/** The alarms of one service (construct IDs by purpose; names carry the service). */
export function serviceAlarmSpecs(svc: ObservedService, environment: string, lb: string | undefined, t: AlarmThresholds): AlarmSpec[] {
  const prod = environment === "prod";
  const minutes = prod ? 3 : 5;
  const specs: AlarmSpec[] = [];
  {
    const tgs = svc.targetGroupArnSuffixes ?? [];
    const perTg = (metricName: string, stat: string): MetricSpec[] =>
      tgs.map((tg) => ({ namespace: ALB, metricName, dimensions: { LoadBalancer: lb!, TargetGroup: tg }, stat }));
    const perEcsService = (metricName: string, stat: string): MetricSpec[] =>
      svc.serviceNames.map((name) => ({ namespace: ECS, metricName, dimensions: { ClusterName: svc.clusterName, ServiceName: name }, stat }));

    if (tgs.length) {
      specs.push(
        {
          key: `${svc.name}-healthy-hosts`,
          runbook: "healthy-hosts",
          description: `${svc.name} has no healthy target behind the ALB (replaces the task-count metric ECS does not publish).`,
          metrics: perTg("HealthyHostCount", "Minimum"),
          combine: "SUM",
          comparison: "LessThanThreshold",
          threshold: 1,
          periodSec: 60,
          evaluationPeriods: minutes,
          // The ALB reports this every minute for an attached target group: silence is itself an outage signal.
          treatMissingData: "breaching",
        },
        {
          key: `${svc.name}-unhealthy-hosts`,
          runbook: "unhealthy-hosts",
          description: `${svc.name} has targets failing ALB health checks.`,
          metrics: perTg("UnHealthyHostCount", "Maximum"),
          combine: "SUM",
          comparison: "GreaterThanThreshold",
          threshold: 0,
          periodSec: 60,
          evaluationPeriods: minutes,
          // No data means no registered targets; losing all capacity is the healthy-hosts alarm's job.
          treatMissingData: "notBreaching",
        },
        {
          key: `${svc.name}-target-5xx`,
          runbook: "target-5xx",
          description: `${svc.name} answers 5xx.`,
          metrics: perTg("HTTPCode_Target_5XX_Count", "Sum"),
          combine: "SUM",
          comparison: "GreaterThanThreshold",
          threshold: t.target5xxPerMinute ?? (prod ? 5 : 20),
          periodSec: 60,
          evaluationPeriods: minutes,
          // Only published when non-zero.
          treatMissingData: "notBreaching",
        },
        {
          key: `${svc.name}-latency-p95`,
          runbook: "latency-p95",
          description: `${svc.name} p95 response time is high (worst target group).`,
          metrics: perTg("TargetResponseTime", "p95"),
          combine: "MAX",
          comparison: "GreaterThanThreshold",
          threshold: t.latencyP95Sec ?? (prod ? 1 : 2),
          periodSec: 60,
          evaluationPeriods: minutes,
          // No requests, no latency: nothing is slow.
          treatMissingData: "notBreaching",
        },
      );
    } else {
      specs.push({
        key: `${svc.name}-no-tasks-reporting`,
        runbook: "no-tasks-reporting",
        description: `${svc.name} (no target group) reports no utilisation: no task is running.`,
        metrics: perEcsService("CPUUtilization", "SampleCount"),
        combine: "SUM",
        comparison: "LessThanThreshold",
        threshold: 1,
        periodSec: 60,
        evaluationPeriods: minutes,
        // ECS publishes service utilisation only while tasks run: silence means no task.
        treatMissingData: "breaching",
      });
    }
    specs.push(
      {
        key: `${svc.name}-cpu-high`,
        runbook: "cpu-high",
        description: `${svc.name} CPU is high (busiest ECS service of the application).`,
        metrics: perEcsService("CPUUtilization", "Average"),
        combine: "MAX",
        comparison: "GreaterThanThreshold",
        threshold: t.cpuPercent ?? 80,
        periodSec: 60,
        evaluationPeriods: 5,
        // No tasks, no utilisation; lost capacity is the healthy-hosts / no-tasks alarms' job.
        treatMissingData: "notBreaching",
      },
      {
        key: `${svc.name}-memory-high`,
        runbook: "memory-high",
        description: `${svc.name} memory is high (busiest ECS service of the application).`,
        metrics: perEcsService("MemoryUtilization", "Average"),
        combine: "MAX",
        comparison: "GreaterThanThreshold",
        threshold: t.memoryPercent ?? 80,
        periodSec: 60,
        evaluationPeriods: 5,
        treatMissingData: "notBreaching",
      },
    );
  }

  return specs.map((spec) => ({ ...spec, key: spec.key.slice(svc.name.length + 1), name: spec.key }));
}

function databaseAlarmSpecs(db: ObservedDatabase, t: AlarmThresholds): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  {
    const dims = { DBInstanceIdentifier: db.instanceId };
    const maxConnections = db.maxConnections ?? 100;
    specs.push(
      {
        key: "db-cpu-high",
        runbook: "db-cpu-high",
        description: "Database CPU is high.",
        metrics: [{ namespace: RDS, metricName: "CPUUtilization", dimensions: dims, stat: "Average" }],
        comparison: "GreaterThanThreshold",
        threshold: t.databaseCpuPercent ?? 80,
        periodSec: 60,
        evaluationPeriods: 10,
        // RDS publishes every minute while available; a gap (reboot, failover) keeps the last state.
        treatMissingData: "missing",
      },
      {
        key: "db-free-storage-low",
        runbook: "db-free-storage-low",
        description: `Database free storage is below 10% of ${db.allocatedStorageGiB} GiB.`,
        metrics: [{ namespace: RDS, metricName: "FreeStorageSpace", dimensions: dims, stat: "Minimum" }],
        comparison: "LessThanThreshold",
        threshold: Math.floor(db.allocatedStorageGiB * GIB * 0.1),
        periodSec: 300,
        evaluationPeriods: 1,
        treatMissingData: "missing",
      },
      {
        key: "db-connections-high",
        runbook: "db-connections-high",
        description: `Database connections exceed ${t.databaseConnectionsPercent ?? 80}% of max_connections (${maxConnections}).`,
        metrics: [{ namespace: RDS, metricName: "DatabaseConnections", dimensions: dims, stat: "Maximum" }],
        comparison: "GreaterThanThreshold",
        threshold: Math.floor((maxConnections * (t.databaseConnectionsPercent ?? 80)) / 100),
        periodSec: 60,
        evaluationPeriods: 5,
        treatMissingData: "missing",
      },
    );
  }
  return specs;
}

/** Dashboard rows: header, ALB traffic and health, ECS utilisation, RDS. */
export function dashboardWidgets(props: ObservabilityProps): DashboardWidget[] {
  const { region } = props;
  const widgets: DashboardWidget[] = [];
  let y = 0;
  const metric = (x: number, width: number, title: string, metrics: DashboardMetricRow[], extra: Partial<MetricWidget["properties"]> = {}): MetricWidget => ({
    type: "metric",
    x,
    y,
    width,
    height: 6,
    properties: { title, region, view: "timeSeries", stacked: false, period: 60, metrics, ...extra },
  });

  widgets.push({
    type: "text",
    x: 0,
    y,
    width: 24,
    height: 2,
    properties: {
      markdown: `# ${props.naming.stem}\nEnvironment **${props.environment}**. Task capacity is shown as ALB healthy hosts (ECS has no task-count metric). Alarms and first steps: docs/cicd-observability.md`,
    },
  });
  y += 2;

  const lb = props.albArnSuffix;
  const withTgs = props.services.filter((s) => (s.targetGroupArnSuffixes ?? []).length > 0);
  if (lb && withTgs.length) {
    const tgRows = (metricName: string, stat: string, suffix = ""): DashboardMetricRow[] =>
      withTgs.flatMap((s) =>
        (s.targetGroupArnSuffixes ?? []).map((tg, i): DashboardMetricRow => [ALB, metricName, "LoadBalancer", lb, "TargetGroup", tg, { stat, label: `${s.name}${tgLabel(s, i)}${suffix}` }]),
      );
    widgets.push(
      metric(0, 8, "Requests", [[ALB, "RequestCount", "LoadBalancer", lb, { stat: "Sum", label: "ALB total" }], ...tgRows("RequestCount", "Sum")]),
      metric(8, 8, "5xx", [
        [ALB, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, { stat: "Sum", label: "ALB (ELB) 5xx" }],
        ...tgRows("HTTPCode_Target_5XX_Count", "Sum", " target 5xx"),
      ]),
      metric(16, 8, "Latency p95 (s)", tgRows("TargetResponseTime", "p95", " p95")),
    );
    y += 6;
    widgets.push(
      metric(0, 12, "Healthy hosts (task capacity)", tgRows("HealthyHostCount", "Minimum", " healthy"), { yAxis: { left: { min: 0 } } }),
      metric(12, 12, "Unhealthy hosts", tgRows("UnHealthyHostCount", "Maximum", " unhealthy"), { yAxis: { left: { min: 0 } } }),
    );
    y += 6;
  }

  if (props.services.length) {
    const ecsRows = (metricName: string): DashboardMetricRow[] =>
      props.services.flatMap((s) =>
        s.serviceNames.map((name): DashboardMetricRow => [ECS, metricName, "ClusterName", s.clusterName, "ServiceName", name, { stat: "Average", label: s.serviceNames.length > 1 ? `${s.name} (${name})` : s.name }]),
      );
    const percent = { yAxis: { left: { min: 0, max: 100, label: "%" } } };
    widgets.push(
      metric(0, 12, "ECS CPU utilisation", ecsRows("CPUUtilization"), { ...percent, annotations: { horizontal: [{ label: "alarm", value: props.thresholds?.cpuPercent ?? 80 }] } }),
      metric(12, 12, "ECS memory utilisation", ecsRows("MemoryUtilization"), { ...percent, annotations: { horizontal: [{ label: "alarm", value: props.thresholds?.memoryPercent ?? 80 }] } }),
    );
    y += 6;
  }

  const db = props.database;
  if (db) {
    const dims = ["DBInstanceIdentifier", db.instanceId];
    widgets.push(
      metric(0, 8, "RDS CPU", [[RDS, "CPUUtilization", ...dims, { stat: "Average", label: "CPU %" }]], { yAxis: { left: { min: 0, max: 100, label: "%" } } }),
      metric(8, 8, "RDS connections", [[RDS, "DatabaseConnections", ...dims, { stat: "Maximum", label: "connections" }]], { yAxis: { left: { min: 0 } } }),
      metric(16, 8, "RDS free storage (bytes)", [[RDS, "FreeStorageSpace", ...dims, { stat: "Minimum", label: "free bytes" }]], {
        yAxis: { left: { min: 0 } },
        annotations: { horizontal: [{ label: "alarm (10%)", value: Math.floor(db.allocatedStorageGiB * GIB * 0.1) }] },
      }),
    );
  }
  return widgets;
}

function tgLabel(svc: ObservedService, index: number): string {
  const count = (svc.targetGroupArnSuffixes ?? []).length;
  if (count === 1) return "";
  return count === 2 ? (index === 0 ? " blue" : " green") : ` #${index + 1}`;
}

const ALB_SUFFIX = /^app\/[\w-]+\/[0-9a-f]+$/;
const TG_SUFFIX = /^targetgroup\/[\w-]+\/[0-9a-f]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

function validateService(scope: Construct, props: ServiceAlarmsProps): void {
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      const svc = props.service;
      if (svc.serviceNames.length === 0) problems.push(`serviceNames must list the ECS service(s) of "${svc.name}"; got none`);
      const tgs = svc.targetGroupArnSuffixes ?? [];
      if (tgs.length && props.albArnSuffix === undefined) problems.push(`target group metrics need the LoadBalancer dimension; got target groups but no albArnSuffix; pass the ALB's arn_suffix`);
      if (known(props.albArnSuffix) && !ALB_SUFFIX.test(props.albArnSuffix)) problems.push(`albArnSuffix must be an ALB ARN suffix like "app/<name>/<id>"; got "${props.albArnSuffix}"`);
      for (const tg of tgs) {
        if (known(tg) && !TG_SUFFIX.test(tg)) problems.push(`targetGroupArnSuffixes must be like "targetgroup/<name>/<id>"; got "${tg}"; pass the target group's arn_suffix, not its ARN`);
      }
      return problems;
    },
  });
}

function validate(scope: Construct, props: ObservabilityProps): void {
  if (!props.environment) {
    throw new ConstructPropsError(scope, `environment must name the environment (labels and thresholds); got ${JSON.stringify(props.environment)}`);
  }
  (props.alarmEmails ?? []).forEach((email, i) => {
    if (known(email) && !EMAIL.test(email)) {
      throw new ConstructPropsError(scope, `alarmEmails[${i}] is not an email address; got ${JSON.stringify(email)}`);
    }
  });
  if (known(props.albArnSuffix) && !ALB_SUFFIX.test(props.albArnSuffix)) {
    throw new ConstructPropsError(scope, `albArnSuffix must be an ALB ARN suffix like "app/<name>/<id>"; got "${props.albArnSuffix}"; pass the load balancer's arn_suffix, not its ARN`);
  }
  props.services.forEach((svc, i) => {
    const at = `services[${i}]`;
    if (svc.serviceNames.length === 0) {
      throw new ConstructPropsError(scope, `${at}.serviceNames must list the ECS service(s) of "${svc.name}"; got none`);
    }
    const tgs = svc.targetGroupArnSuffixes ?? [];
    if (tgs.length && props.albArnSuffix === undefined) {
      throw new ConstructPropsError(scope, `${at} has target groups but albArnSuffix is missing; target group metrics need the LoadBalancer dimension; pass the ALB's arn_suffix`);
    }
    for (const tg of tgs) {
      if (known(tg) && !TG_SUFFIX.test(tg)) {
        throw new ConstructPropsError(scope, `${at}.targetGroupArnSuffixes must be like "targetgroup/<name>/<id>"; got "${tg}"; pass the target group's arn_suffix, not its ARN`);
      }
    }
  });
  const db = props.database;
  if (db) {
    if (!Number.isInteger(db.allocatedStorageGiB) || db.allocatedStorageGiB < 1) {
      throw new ConstructPropsError(scope, `database.allocatedStorageGiB must be a positive whole number of GiB; got ${db.allocatedStorageGiB}`);
    }
    if (db.maxConnections !== undefined && (!Number.isInteger(db.maxConnections) || db.maxConnections < 1)) {
      throw new ConstructPropsError(scope, `database.maxConnections must be a positive whole number; got ${db.maxConnections}`);
    }
  }
  const t = props.thresholds ?? {};
  for (const key of ["cpuPercent", "memoryPercent", "databaseCpuPercent", "databaseConnectionsPercent"] as const) {
    const v = t[key];
    if (v !== undefined && (v <= 0 || v > 100)) {
      throw new ConstructPropsError(scope, `thresholds.${key} must be a percentage above 0 and at most 100; got ${v}`);
    }
  }
  for (const key of ["elb5xxPerMinute", "target5xxPerMinute", "latencyP95Sec"] as const) {
    const v = t[key];
    if (v !== undefined && !(v > 0)) {
      throw new ConstructPropsError(scope, `thresholds.${key} must be above 0; got ${v}`);
    }
  }
}
