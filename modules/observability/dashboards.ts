/**
 * The guide's three dashboards as typed widget lists (checked at compile time, generated from
 * what the stack knows about its services): `<env>-cluster-overview`, `<env>-<service>` and
 * `<env>-pipelines`. docs/observability.md#dashboards describes every widget.
 */
import { METRIC_LOG_PATTERNS, countByServiceQuery, logPattern, recentEventsQuery } from "./log-patterns";
import { MetricSpec, RUNBOOK_DOC } from "./alarms";

export const ALB = "AWS/ApplicationELB";
export const ECS = "AWS/ECS";
export const CONTAINER_INSIGHTS = "ECS/ContainerInsights";
export const RDS = "AWS/RDS";
export const CODEBUILD = "AWS/CodeBuild";

/** Logs Insights reads at most this many log groups per query (widgets and saved queries). */
export const LOGS_INSIGHTS_MAX_LOG_GROUPS = 50;

type MetricOptions = { readonly stat?: string; readonly label?: string; readonly period?: number; readonly id?: string; readonly visible?: boolean };
/** `[namespace, metric, dimName, dimValue, ..., options]`, or an expression row. */
export type DashboardMetricRow = (string | MetricOptions)[] | [{ readonly expression: string; readonly label: string; readonly id: string; readonly visible?: boolean }];

interface Placed {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
interface MetricWidget extends Placed {
  readonly type: "metric";
  readonly properties: {
    readonly title: string;
    readonly region: string;
    readonly view: "timeSeries" | "singleValue";
    readonly stacked: boolean;
    readonly period: number;
    readonly metrics: DashboardMetricRow[];
    readonly annotations?: { readonly horizontal: { readonly label: string; readonly value: number }[] };
    readonly yAxis?: { readonly left: { readonly min?: number; readonly max?: number; readonly label?: string } };
  };
}
interface TextWidget extends Placed {
  readonly type: "text";
  readonly properties: { readonly markdown: string };
}
interface AlarmWidget extends Placed {
  readonly type: "alarm";
  readonly properties: { readonly title: string; readonly alarms: string[] };
}
interface LogWidget extends Placed {
  readonly type: "log";
  readonly properties: { readonly title: string; readonly region: string; readonly query: string; readonly view: "table" | "timeSeries" };
}
export type DashboardWidget = MetricWidget | TextWidget | AlarmWidget | LogWidget;
type Unplaced<W> = W extends Placed ? Omit<W, "x" | "y"> : never;

/** Places widgets left to right in rows of 24 columns (a row is as tall as its tallest widget). */
export function pack(widgets: readonly Unplaced<DashboardWidget>[]): DashboardWidget[] {
  const out: DashboardWidget[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const w of widgets) {
    if (x + w.width > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    out.push({ ...w, x, y } as DashboardWidget);
    x += w.width;
    rowHeight = Math.max(rowHeight, w.height);
  }
  return out;
}

const row = (m: MetricSpec, options: MetricOptions): DashboardMetricRow => [m.namespace, m.metricName, ...Object.entries(m.dimensions).flat(), { stat: m.stat, ...options }];
const text = (markdown: string, height = 2): Unplaced<TextWidget> => ({ type: "text", width: 24, height, properties: { markdown } });
const percent = { yAxis: { left: { min: 0, max: 100, label: "%" } } } as const;
const countAxis = { yAxis: { left: { min: 0 } } } as const;

function graph(region: string, width: number, title: string, metrics: DashboardMetricRow[], extra: Partial<MetricWidget["properties"]> = {}): Unplaced<MetricWidget> {
  return { type: "metric", width, height: 6, properties: { title, region, view: "timeSeries", stacked: false, period: 60, metrics, ...extra } };
}

function logs(region: string, width: number, title: string, logGroups: readonly string[], query: string, view: LogWidget["properties"]["view"] = "table"): Unplaced<LogWidget> {
  const sources = logGroups.slice(0, LOGS_INSIGHTS_MAX_LOG_GROUPS).map((g) => `SOURCE '${g}'`).join(" | ");
  return { type: "log", width, height: 6, properties: { title, region, view, query: `${sources} | ${query}` } };
}

const threshold = (label: string, value: number) => ({ annotations: { horizontal: [{ label, value }] } });

/** One application service to watch (alarms, dashboards, queries). */
export interface ObservedService {
  /** Service name (kebab-case, unique); part of alarm and dashboard names. */
  readonly name: string;
  /** ECS cluster the service runs in. */
  readonly clusterName: string;
  /** The ECS service(s) of the application. */
  readonly serviceNames: readonly string[];
  /**
   * ARN suffixes (`targetgroup/<name>/<id>`) of the service's target groups; public services only.
   * @default - no ALB alarms or widgets (internal service)
   */
  readonly targetGroupArnSuffixes?: readonly string[];
  /** The service's log group (metric filters, log widgets, saved queries). */
  readonly logGroupName: string;
  /**
   * Its pipeline and build project (the pipelines dashboard).
   * @default - no pipeline
   */
  readonly pipeline?: { readonly pipelineName: string; readonly buildProjectName: string };
}

/** Per-ECS-service and per-target-group metric builders of one service. */
export function serviceMetrics(svc: ObservedService, albArnSuffix: string | undefined) {
  const ecs = (namespace: string, metricName: string, stat: string): MetricSpec[] =>
    svc.serviceNames.map((name) => ({ namespace, metricName, dimensions: { ClusterName: svc.clusterName, ServiceName: name }, stat }));
  const tg = (metricName: string, stat: string): MetricSpec[] =>
    albArnSuffix ? (svc.targetGroupArnSuffixes ?? []).map((t) => ({ namespace: ALB, metricName, dimensions: { LoadBalancer: albArnSuffix, TargetGroup: t }, stat })) : [];
  return { ecs, tg };
}

/** Label of the i-th ECS service or target group of a service: its colour for blue/green. */
function colour(count: number, i: number): string {
  if (count === 1) return "";
  return count === 2 ? (i === 0 ? " blue" : " green") : ` #${i + 1}`;
}

export interface ThresholdsShown {
  readonly cpuPercent: number;
  readonly memoryPercent: number;
}

/** `<env>-cluster-overview`: every service, the load balancer, the database, task failures, log patterns. */
export interface ClusterOverviewInput {
  readonly stem: string;
  readonly environment: string;
  readonly region: string;
  /** Namespace of the platform's own metrics (task failures, log patterns). */
  readonly namespace: string;
  readonly albArnSuffix?: string;
  readonly services: readonly ObservedService[];
  readonly database?: { readonly instanceId: string; readonly maxConnections: number; readonly connectionsThreshold: number };
  /** The environment-level alarms (ARNs) for the status widget. */
  readonly alarmArns: readonly string[];
  readonly thresholds: ThresholdsShown;
}

export function clusterOverviewWidgets(o: ClusterOverviewInput): DashboardWidget[] {
  const { region } = o;
  const w: Unplaced<DashboardWidget>[] = [
    text(
      `# ${o.stem} cluster overview\nEnvironment **${o.environment}**: every service, the load balancer, the database. Per service: dashboard \`${o.stem}-<service>\`; delivery: \`${o.stem}-pipelines\`. Alarms and runbooks: ${RUNBOOK_DOC}`,
    ),
  ];
  if (o.alarmArns.length) w.push({ type: "alarm", width: 24, height: 3, properties: { title: "Environment alarms", alarms: [...o.alarmArns] } });

  const each = (f: (s: ObservedService, m: ReturnType<typeof serviceMetrics>) => DashboardMetricRow[]) => o.services.flatMap((s) => f(s, serviceMetrics(s, o.albArnSuffix)));
  const perEcsService = (namespace: string, metricName: string, stat: string, suffix = "") =>
    each((s, m) => m.ecs(namespace, metricName, stat).map((spec, i) => row(spec, { label: `${s.name}${colour(s.serviceNames.length, i)}${suffix}` })));
  if (o.services.length) {
    w.push(
      graph(region, 12, "Running tasks (Container Insights)", perEcsService(CONTAINER_INSIGHTS, "RunningTaskCount", "Average"), { stacked: true, ...countAxis }),
      graph(region, 12, "Task failures (stopped with a failure, per 5 min)", [[{ expression: `SEARCH('{${o.namespace},Group} MetricName="TaskFailures"', 'Sum', 300)`, label: "", id: "e1" }]], { period: 300, ...countAxis }),
      graph(region, 12, "ECS CPU utilisation", perEcsService(ECS, "CPUUtilization", "Average"), { ...percent, ...threshold("alarm", o.thresholds.cpuPercent) }),
      graph(region, 12, "ECS memory utilisation", perEcsService(ECS, "MemoryUtilization", "Average"), { ...percent, ...threshold("alarm", o.thresholds.memoryPercent) }),
    );
  }

  const lb = o.albArnSuffix;
  const routed = o.services.filter((s) => (s.targetGroupArnSuffixes ?? []).length > 0);
  if (lb && routed.length) {
    const perTg = (metricName: string, stat: string) => each((s, m) => m.tg(metricName, stat).map((spec, i) => row(spec, { label: `${s.name}${colour(s.targetGroupArnSuffixes!.length, i)}` })));
    w.push(
      graph(region, 8, "Requests", [[ALB, "RequestCount", "LoadBalancer", lb, { stat: "Sum", label: "ALB total" }], ...perTg("RequestCount", "Sum")]),
      graph(region, 8, "ALB-generated 5xx (% of requests)", [
        [ALB, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, { stat: "Sum", id: "e5xx", visible: false }],
        [ALB, "RequestCount", "LoadBalancer", lb, { stat: "Sum", id: "req", visible: false }],
        [{ expression: "IF((FILL(req, 0) + FILL(e5xx, 0)) > 0, 100 * FILL(e5xx, 0) / (FILL(req, 0) + FILL(e5xx, 0)), 0)", label: "ELB 5xx %", id: "rate" }],
      ], percent),
      graph(region, 8, "Latency p95 (s)", perTg("TargetResponseTime", "p95")),
      graph(region, 12, "Healthy targets", perTg("HealthyHostCount", "Minimum"), countAxis),
      graph(region, 12, "Unhealthy targets", perTg("UnHealthyHostCount", "Maximum"), countAxis),
    );
  }

  if (o.services.length) {
    w.push(
      graph(region, 12, "Log patterns (all services, per minute)", METRIC_LOG_PATTERNS.map((p) => [o.namespace, p.metricName, { stat: "Sum", label: p.title }]), countAxis),
      logs(region, 12, "Application errors by service (dashboard time range)", o.services.map((s) => s.logGroupName), countByServiceQuery(logPattern("application-errors"))),
    );
  }

  const db = o.database;
  if (db) {
    const dims = ["DBInstanceIdentifier", db.instanceId];
    w.push(
      graph(region, 8, "RDS CPU", [[RDS, "CPUUtilization", ...dims, { stat: "Average", label: "CPU %" }]], percent),
      graph(region, 8, `RDS connections (max_connections ${db.maxConnections})`, [[RDS, "DatabaseConnections", ...dims, { stat: "Maximum", label: "connections" }]], { ...countAxis, ...threshold("alarm", db.connectionsThreshold) }),
      graph(region, 8, "RDS free storage (bytes)", [[RDS, "FreeStorageSpace", ...dims, { stat: "Minimum", label: "free bytes" }]], countAxis),
    );
  }
  return pack(w);
}

/** `<env>-<service>`: request count, latency, error rate, task count, failures, CPU/memory, recent errors. */
export interface ServiceDashboardInput {
  readonly stem: string;
  readonly environment: string;
  readonly region: string;
  readonly namespace: string;
  readonly albArnSuffix?: string;
  readonly service: ObservedService;
  /** The service's own alarms (ARNs) for the status widget. */
  readonly alarmArns: readonly string[];
  readonly thresholds: ThresholdsShown & { readonly errorRatePercent: number };
}

export function serviceDashboardWidgets(o: ServiceDashboardInput): DashboardWidget[] {
  const { region } = o;
  const s = o.service;
  const m = serviceMetrics(s, o.albArnSuffix);
  const label = (i: number, count: number, what: string) => `${what}${colour(count, i)}`;
  const ecsRows = (namespace: string, metricName: string, stat: string, what: string) =>
    m.ecs(namespace, metricName, stat).map((spec, i) => row(spec, { label: label(i, s.serviceNames.length, what) }));
  const w: Unplaced<DashboardWidget>[] = [
    text(
      `# ${o.stem}-${s.name}\nECS service(s) ${s.serviceNames.map((n) => `\`${n}\``).join(", ")} in \`${s.clusterName}\`; logs \`${s.logGroupName}\`. Alarms and runbooks: ${RUNBOOK_DOC}`,
    ),
  ];
  if (o.alarmArns.length) w.push({ type: "alarm", width: 24, height: 3, properties: { title: `${s.name} alarms`, alarms: [...o.alarmArns] } });

  const tgs = s.targetGroupArnSuffixes ?? [];
  if (o.albArnSuffix && tgs.length) {
    const tgRows = (metricName: string, stat: string, what: string, extra: MetricOptions = {}) => m.tg(metricName, stat).map((spec, i) => row(spec, { label: label(i, tgs.length, what), ...extra }));
    const errors = m.tg("HTTPCode_Target_5XX_Count", "Sum").map((spec, i) => row(spec, { id: `e${i}`, visible: false }));
    const requests = m.tg("RequestCount", "Sum").map((spec, i) => row(spec, { id: `r${i}`, visible: false }));
    const sum = (prefix: string) => `SUM([${tgs.map((_, i) => `FILL(${prefix}${i}, 0)`).join(", ")}])`;
    w.push(
      graph(region, 8, "Requests per minute", tgRows("RequestCount", "Sum", "requests")),
      graph(region, 8, "Error rate (target 5xx, % of requests)", [...errors, ...requests, [{ expression: `IF(${sum("r")} > 0, 100 * ${sum("e")} / ${sum("r")}, 0)`, label: "5xx %", id: "rate" }]], {
        ...percent,
        ...threshold("alarm", o.thresholds.errorRatePercent),
      }),
      graph(region, 8, "Latency (s)", [...tgRows("TargetResponseTime", "p50", "p50"), ...tgRows("TargetResponseTime", "p95", "p95"), ...tgRows("TargetResponseTime", "p99", "p99")]),
      graph(region, 12, "Targets: healthy / unhealthy", [...tgRows("HealthyHostCount", "Minimum", "healthy"), ...tgRows("UnHealthyHostCount", "Maximum", "unhealthy")], countAxis),
    );
  }
  w.push(
    graph(region, tgs.length ? 12 : 8, "Tasks: running / desired / pending", [
      ...ecsRows(CONTAINER_INSIGHTS, "RunningTaskCount", "Average", "running"),
      ...ecsRows(CONTAINER_INSIGHTS, "DesiredTaskCount", "Average", "desired"),
      ...ecsRows(CONTAINER_INSIGHTS, "PendingTaskCount", "Average", "pending"),
    ], countAxis),
    graph(region, 8, "Task failures (per 5 min)", s.serviceNames.map((name, i) => [o.namespace, "TaskFailures", "Group", `service:${name}`, { stat: "Sum", label: label(i, s.serviceNames.length, "failures") }]), { period: 300, ...countAxis }),
    graph(region, 8, "CPU / memory utilisation", [...ecsRows(ECS, "CPUUtilization", "Average", "CPU"), ...ecsRows(ECS, "MemoryUtilization", "Average", "memory")], {
      ...percent,
      ...threshold("alarm", Math.min(o.thresholds.cpuPercent, o.thresholds.memoryPercent)),
    }),
    logs(region, 24, `Recent errors of ${s.name}`, [s.logGroupName], recentEventsQuery(logPattern("application-errors"), 50)),
  );
  return pack(w);
}

/** `<env>-pipelines`: build success rate, deployment frequency, failure rate. */
export interface PipelinesDashboardInput {
  readonly stem: string;
  readonly environment: string;
  readonly region: string;
  readonly namespace: string;
  readonly pipelines: readonly { readonly service: string; readonly pipelineName: string; readonly buildProjectName: string }[];
}

export function pipelinesDashboardWidgets(o: PipelinesDashboardInput): DashboardWidget[] {
  const { region } = o;
  const day = 86400;
  const perPipeline = (metricName: string) => o.pipelines.map((p) => [o.namespace, metricName, "Pipeline", p.pipelineName, { stat: "Sum", label: p.service }] as DashboardMetricRow);
  const builds = o.pipelines.flatMap((p, i): DashboardMetricRow[] => [
    [CODEBUILD, "SucceededBuilds", "ProjectName", p.buildProjectName, { stat: "Sum", id: `s${i}`, visible: false }],
    [CODEBUILD, "Builds", "ProjectName", p.buildProjectName, { stat: "Sum", id: `b${i}`, visible: false }],
    [{ expression: `IF(FILL(b${i}, 0) > 0, 100 * FILL(s${i}, 0) / b${i}, 0)`, label: p.service, id: `rate${i}` }],
  ]);
  const w: Unplaced<DashboardWidget>[] = [
    text(
      `# ${o.stem} pipelines\nEnvironment **${o.environment}**: ${o.pipelines.length} pipeline(s). Executions are counted from CodePipeline's state-change events (the platform's events log group); builds from CodeBuild's own metrics. Runbook: ${RUNBOOK_DOC}#pipeline-failed`,
    ),
    graph(region, 12, "Deployment frequency (succeeded executions per day)", perPipeline("PipelineExecutionsSucceeded"), { period: day, ...countAxis }),
    graph(region, 12, "Failed executions per day", perPipeline("PipelineExecutionsFailed"), { period: day, ...countAxis }),
    graph(region, 12, "Build success rate (% of builds per day)", builds, { period: day, ...percent }),
    graph(
      region,
      12,
      "Failure rate (all pipelines, % of executions per day)",
      [
        [{ expression: `SEARCH('{${o.namespace},Pipeline} MetricName="PipelineExecutionsFailed"', 'Sum', ${day})`, label: "failed", id: "f", visible: false }],
        [{ expression: `SEARCH('{${o.namespace},Pipeline} MetricName="PipelineExecutionsSucceeded"', 'Sum', ${day})`, label: "succeeded", id: "s", visible: false }],
        [{ expression: "IF((SUM(f) + SUM(s)) > 0, 100 * SUM(f) / (SUM(f) + SUM(s)), 0)", label: "failure %", id: "rate" }],
      ],
      { period: day, ...percent },
    ),
    graph(region, 24, "Build duration (s)", o.pipelines.map((p) => [CODEBUILD, "Duration", "ProjectName", p.buildProjectName, { stat: "Average", label: p.service }] as DashboardMetricRow), { period: day }),
  ];
  return pack(w);
}
