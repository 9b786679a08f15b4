/**
 * How an alarm is described once and created the same way everywhere: what it watches, how
 * it treats missing data, its severity (which decides its topic) and its runbook section.
 */
import { Construct } from "constructs";
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmConfig, CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Naming } from "../../lib/naming";

/** critical: pages someone now (the guide's "PagerDuty" list); warning: email, business hours. */
export type Severity = "critical" | "warning";

/** The two topics alarms notify, by severity. */
export interface AlarmTopics {
  readonly critical: string;
  readonly warning: string;
}

/** Where the runbook sections live (every alarm description links one). */
export const RUNBOOK_DOC = "docs/observability.md";

export type MissingData = "breaching" | "notBreaching" | "ignore" | "missing";

/** One metric as alarms and dashboards both need it. */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** CloudWatch statistic or percentile (`Sum`, `Maximum`, `p95`, ...). */
  readonly stat: string;
}

/** What one alarm watches and why it is there. */
export interface AlarmSpec {
  /** Key in `alarms` (the construct ID). */
  readonly key: string;
  /** The alarm name's purpose. @default - the key */
  readonly name?: string;
  readonly severity: Severity;
  /** Section of the runbook (docs/observability.md) with the first steps. */
  readonly runbook: string;
  /** What is wrong when it fires, with the threshold and how it was derived. */
  readonly description: string;
  /**
   * The series: one metric alone, or several (ids are the keys) combined by `expression`.
   * Empty with an `expression` that is a Metrics Insights query (`SELECT ...`).
   */
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  /** Metric math over the ids of `metrics`, or a Metrics Insights query. @default - the one metric */
  readonly expression?: string;
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  /** A number, or a token for a threshold Terraform derives (e.g. from the live allocated storage). */
  readonly threshold: number;
  readonly periodSec: number;
  readonly evaluationPeriods: number;
  readonly treatMissingData: MissingData;
}

/** `SUM([FILL(a, 0), FILL(b, 0)])`: a series with no datapoint (standby colour, no traffic) counts as 0. */
export function sumFilled(ids: readonly string[]): string {
  return `SUM([${ids.map((id) => `FILL(${id}, 0)`).join(", ")}])`;
}

/** Ids `<prefix>0 .. <prefix>n-1` for a list of metrics, as the `metrics` record of a spec. */
export function keyed(prefix: string, metrics: readonly MetricSpec[]): Record<string, MetricSpec> {
  return Object.fromEntries(metrics.map((m, i) => [`${prefix}${i}`, m]));
}

export function idsOf(prefix: string, metrics: Readonly<Record<string, MetricSpec>>): string[] {
  return Object.keys(metrics).filter((id) => new RegExp(`^${prefix}\\d+$`).test(id));
}

/** The description every alarm carries: environment, severity, what, runbook. */
export function alarmDescription(environment: string, spec: Pick<AlarmSpec, "severity" | "description" | "runbook">): string {
  return `[${environment}][${spec.severity}] ${spec.description} Runbook: ${RUNBOOK_DOC}#${spec.runbook}`;
}

/** Alarms of a set of specs, each under its key, notifying the topic of its severity on ALARM and OK. */
export function createAlarms(scope: Construct, specs: readonly AlarmSpec[], naming: Naming, environment: string, topics: AlarmTopics): Record<string, CloudwatchMetricAlarm> {
  const alarms: Record<string, CloudwatchMetricAlarm> = {};
  for (const spec of specs) {
    const topic = topics[spec.severity];
    alarms[spec.key] = new CloudwatchMetricAlarm(scope, spec.key, {
      alarmName: naming.name("generic", spec.name ?? spec.key),
      alarmDescription: alarmDescription(environment, spec),
      comparisonOperator: spec.comparison,
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.evaluationPeriods,
      treatMissingData: spec.treatMissingData,
      alarmActions: [topic],
      okActions: [topic],
      tags: { Severity: spec.severity },
      ...metricOf(spec),
    });
  }
  return alarms;
}

/** The alarm's metric: plain for one series, metric math (or a Metrics Insights query) otherwise. */
function metricOf(spec: AlarmSpec): Partial<CloudwatchMetricAlarmConfig> {
  const entries = Object.entries(spec.metrics);
  if (entries.length === 1 && spec.expression === undefined) {
    const [[, m]] = entries;
    const percentile = /^p\d+(\.\d+)?$/.test(m.stat);
    return {
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: { ...m.dimensions },
      period: spec.periodSec,
      ...(percentile ? { extendedStatistic: m.stat } : { statistic: m.stat }),
    };
  }
  const queries: CloudwatchMetricAlarmMetricQuery[] = entries.map(([id, m]) => ({
    id,
    returnData: false,
    metric: { namespace: m.namespace, metricName: m.metricName, dimensions: { ...m.dimensions }, stat: m.stat, period: spec.periodSec },
  }));
  const insights = entries.length === 0;
  // A Metrics Insights query carries its own period; metric math takes the metrics' periods.
  queries.push({ id: "result", expression: spec.expression, label: spec.name ?? spec.key, returnData: true, ...(insights ? { period: spec.periodSec } : {}) });
  return { metricQuery: queries };
}
