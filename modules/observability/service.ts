/**
 * What one application service owns of observability, created inside its FargateService:
 * its alarms (`ServiceAlarms`), its dashboard `<env>-<service>` (`ServiceDashboard`) and the
 * metric filters on its log group (`ServiceLogMetrics`). Every construct ID depends only on
 * the service's own name.
 */
import { Construct } from "constructs";
import { Lazy, Token } from "cdktf";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { Naming } from "../../lib/naming";
import { ServiceAlarmThresholds, serviceAlarmThresholdProblems } from "../../lib/alarm-thresholds";
import { AlarmSpec, AlarmTopics, MetricSpec, createAlarms, idsOf, keyed, sumFilled } from "./alarms";
import { CONTAINER_INSIGHTS, ObservedService, serviceDashboardWidgets, serviceMetrics } from "./dashboards";
import { METRIC_LOG_PATTERNS, filterPattern } from "./log-patterns";

export type { ObservedService };

/** Defaults of the per-service thresholds (the guide's numbers; prod alarms on less latency). */
export function serviceThresholds(environment: string, t: ServiceAlarmThresholds = {}): Required<ServiceAlarmThresholds> {
  return {
    errorRatePercent: t.errorRatePercent ?? 5,
    latencyP95Sec: t.latencyP95Sec ?? (environment === "prod" ? 1 : 2),
    cpuPercent: t.cpuPercent ?? 80,
    memoryPercent: t.memoryPercent ?? 80,
  };
}

/** prod pages after 3 bad minutes; other environments wait 5 to stay quiet during experiments. */
export function confirmationMinutes(environment: string): number {
  return environment === "prod" ? 3 : 5;
}

/** What {@link ServiceAlarms} needs: the environment's topics and the service's metrics. */
export interface ServiceAlarmsProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Environment name (labels and environment-aware thresholds). */
  readonly environment: string;
  /** The environment's critical and warning topics (each alarm notifies the one of its severity). */
  readonly topics: AlarmTopics;
  /**
   * ARN suffix of the environment's ALB (`app/<name>/<id>`); needed with target groups.
   * @default - no ALB metrics
   */
  readonly albArnSuffix?: string;
  readonly service: ObservedService;
  /** @default - the guide's thresholds (see serviceThresholds) */
  readonly thresholds?: ServiceAlarmThresholds;
}

/**
 * One service's alarms, named `<project>-<env>-<service>-<purpose>` and keyed by purpose:
 * `tasks-below-desired` (critical), `5xx-rate` (critical), `unhealthy-hosts`, `latency-p95`,
 * `cpu-high`, `memory-high` (warning). The ALB ones exist only for services with target groups.
 */
export class ServiceAlarms extends Construct {
  /** Alarms by purpose, e.g. `tasks-below-desired`, `cpu-high`. */
  public readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  /**
   * The alarms a deployment of this service rolls back on (ECS deployment alarms, CodeDeploy
   * alarm rollback): they fire when a new revision is bad (5xx share, p95 latency, serving
   * tasks below desired), not when the environment is merely busy.
   */
  public readonly deploymentAlarms: readonly CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    validateService(this, props);
    const specs = serviceAlarmSpecs(props.service, props.environment, props.albArnSuffix, props.thresholds ?? {});
    this.alarms = createAlarms(this, specs, props.naming, props.environment, props.topics);
    this.deploymentAlarms = DEPLOYMENT_ALARMS.flatMap((key) => (this.alarms[key] ? [this.alarms[key]] : []));
  }
}

/** Purposes of {@link ServiceAlarms.deploymentAlarms}, in that order. */
export const DEPLOYMENT_ALARMS = ["tasks-below-desired", "unhealthy-hosts", "5xx-rate"] as const;

/**
 * Several series reduced to one: the worst (`MAX`) or the total (`SUM`, a missing series
 * counting 0). One series alone stays a plain metric alarm.
 */
function combined(prefix: string, series: readonly MetricSpec[], how: "SUM" | "MAX"): Pick<AlarmSpec, "metrics" | "expression"> {
  const metrics = keyed(prefix, series);
  if (series.length === 1) return { metrics };
  const ids = idsOf(prefix, metrics);
  return { metrics, expression: how === "SUM" ? sumFilled(ids) : `MAX([${ids.join(", ")}])` };
}

/** The alarms of one service (construct IDs by purpose; names carry the service). */
export function serviceAlarmSpecs(svc: ObservedService, environment: string, lb: string | undefined, given: ServiceAlarmThresholds): AlarmSpec[] {
  const t = serviceThresholds(environment, given);
  const minutes = confirmationMinutes(environment);
  const { ecs, tg } = serviceMetrics(svc, lb);
  const routed = lb !== undefined && (svc.targetGroupArnSuffixes ?? []).length > 0;
  const specs: AlarmSpec[] = [];

  // Running below desired (Container Insights publishes both per ECS service), and for a
  // public service a task only counts while its target is healthy: the troubleshooting notes'
  // lesson that the ALB's host counts are the truer production signal.
  const capacity = {
    ...keyed("d", ecs(CONTAINER_INSIGHTS, "DesiredTaskCount", "Average")),
    ...keyed("r", ecs(CONTAINER_INSIGHTS, "RunningTaskCount", "Average")),
    ...(routed ? keyed("h", tg("HealthyHostCount", "Minimum")) : {}),
  };
  const serving = routed ? `MIN([${sumFilled(idsOf("r", capacity))}, ${sumFilled(idsOf("h", capacity))}])` : sumFilled(idsOf("r", capacity));
  specs.push({
    key: "tasks-below-desired",
    severity: "critical",
    runbook: "tasks-below-desired",
    description: `${svc.name}: fewer tasks ${routed ? "running and healthy behind the ALB" : "running"} than desired for 5 minutes (Container Insights RunningTaskCount < DesiredTaskCount${routed ? ", HealthyHostCount" : ""}).`,
    metrics: capacity,
    expression: `${sumFilled(idsOf("d", capacity))} - ${serving}`,
    comparison: "GreaterThanThreshold",
    threshold: 0,
    periodSec: 60,
    evaluationPeriods: 5,
    // Container Insights publishes every minute while the service exists: silence is itself an outage signal.
    treatMissingData: "breaching",
  });

  if (routed) {
    const errors = { ...keyed("e", tg("HTTPCode_Target_5XX_Count", "Sum")), ...keyed("q", tg("RequestCount", "Sum")) };
    const requests = sumFilled(idsOf("q", errors));
    specs.push(
      {
        key: "5xx-rate",
        severity: "critical",
        runbook: "5xx-rate",
        description: `${svc.name}: target 5xx above ${t.errorRatePercent}% of requests for ${minutes} minutes (HTTPCode_Target_5XX_Count / RequestCount).`,
        metrics: errors,
        expression: `IF(${requests} > 0, 100 * ${sumFilled(idsOf("e", errors))} / ${requests}, 0)`,
        comparison: "GreaterThanThreshold",
        threshold: t.errorRatePercent,
        periodSec: 60,
        evaluationPeriods: minutes,
        // No requests, no errors: quiet is fine (losing capacity is tasks-below-desired's job).
        treatMissingData: "notBreaching",
      },
      {
        key: "unhealthy-hosts",
        severity: "warning",
        runbook: "unhealthy-hosts",
        description: `${svc.name}: targets failing ALB health checks for ${minutes} minutes (UnHealthyHostCount > 0).`,
        ...combined("u", tg("UnHealthyHostCount", "Maximum"), "SUM"),
        comparison: "GreaterThanThreshold",
        threshold: 0,
        periodSec: 60,
        evaluationPeriods: minutes,
        // No data means no registered targets; losing all capacity is tasks-below-desired's job.
        treatMissingData: "notBreaching",
      },
      {
        key: "latency-p95",
        severity: "warning",
        runbook: "latency-p95",
        description: `${svc.name}: p95 response time above ${t.latencyP95Sec} s for ${minutes} minutes (worst target group).`,
        ...combined("l", tg("TargetResponseTime", "p95"), "MAX"),
        comparison: "GreaterThanThreshold",
        threshold: t.latencyP95Sec,
        periodSec: 60,
        evaluationPeriods: minutes,
        // No requests, no latency: nothing is slow.
        treatMissingData: "notBreaching",
      },
    );
  }

  for (const [key, metricName, threshold] of [["cpu-high", "CPUUtilization", t.cpuPercent], ["memory-high", "MemoryUtilization", t.memoryPercent]] as const) {
    specs.push({
      key,
      severity: "warning",
      runbook: key,
      description: `${svc.name}: ${key === "cpu-high" ? "CPU" : "memory"} above ${threshold}% for 5 minutes (busiest ECS service of the application).`,
      ...combined("c", ecs("AWS/ECS", metricName, "Average"), "MAX"),
      comparison: "GreaterThanThreshold",
      threshold,
      periodSec: 60,
      evaluationPeriods: 5,
      // No tasks, no utilisation; lost capacity is tasks-below-desired's job.
      treatMissingData: "notBreaching",
    });
  }

  return specs.map((spec) => ({ ...spec, name: `${svc.name}-${spec.key}` }));
}

export interface ServiceDashboardProps {
  readonly naming: Naming;
  readonly environment: string;
  /** Region of the metrics. */
  readonly region: string;
  /** Namespace of the platform's own metrics (task failures). */
  readonly metricsNamespace: string;
  /** @default - no ALB widgets */
  readonly albArnSuffix?: string;
  readonly service: ObservedService;
  /** The service's alarms, for the status widget and the threshold lines. */
  readonly alarms: ServiceAlarms;
  /** @default - the guide's thresholds */
  readonly thresholds?: ServiceAlarmThresholds;
}

/** The service's dashboard `<project>-<env>-<service>` (the guide's `${ENVIRONMENT}-my-service`). */
export class ServiceDashboard extends Construct {
  public readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const { naming } = props;
    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: naming.name("generic", props.service.name),
      dashboardBody: Lazy.stringValue({
        produce: () =>
          JSON.stringify({
            widgets: serviceDashboardWidgets({
              stem: naming.stem,
              environment: props.environment,
              region: props.region,
              namespace: props.metricsNamespace,
              albArnSuffix: props.albArnSuffix,
              service: props.service,
              alarmArns: Object.values(props.alarms.alarms).map((a) => a.arn),
              thresholds: serviceThresholds(props.environment, props.thresholds),
            }),
          }),
      }),
    });
  }
}

export interface ServiceLogMetricsProps {
  /** The service's log group. */
  readonly logGroupName: string;
  /** Namespace the counts go to (the environment's; one series per pattern for all services). */
  readonly metricsNamespace: string;
}

/**
 * Metric filters for the guide's error, performance and security patterns on one service's
 * log group. They count into the environment's series (no dimension: a text pattern cannot
 * carry one), which the environment alarms; per-service breakdowns come from Logs Insights
 * (the service dashboard's widget, the saved queries).
 */
export class ServiceLogMetrics extends Construct {
  /** Filters by pattern key (`application-errors`, `performance-issues`, `security-events`). */
  public readonly filters: Readonly<Record<string, CloudwatchLogMetricFilter>>;

  constructor(scope: Construct, id: string, props: ServiceLogMetricsProps) {
    super(scope, id);
    this.filters = Object.fromEntries(
      METRIC_LOG_PATTERNS.map((p) => [
        p.key,
        new CloudwatchLogMetricFilter(this, p.key, {
          name: p.key,
          logGroupName: props.logGroupName,
          pattern: filterPattern(p),
          metricTransformation: { namespace: props.metricsNamespace, name: p.metricName, value: "1", defaultValue: "0", unit: "Count" },
        }),
      ]),
    );
  }
}

const ALB_SUFFIX = /^app\/[\w-]+\/[0-9a-f]+$/;
const TG_SUFFIX = /^targetgroup\/[\w-]+\/[0-9a-f]+$/;
export const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

/** The problems of an ALB ARN suffix (shared with the environment construct). */
export function albSuffixProblem(albArnSuffix: string | undefined): string | undefined {
  if (known(albArnSuffix) && !ALB_SUFFIX.test(albArnSuffix)) return `albArnSuffix must be an ALB ARN suffix like "app/<name>/<id>"; got "${albArnSuffix}"; pass the load balancer's arn_suffix, not its ARN`;
  return undefined;
}

function validateService(scope: Construct, props: ServiceAlarmsProps): void {
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      const svc = props.service;
      if (svc.serviceNames.length === 0) problems.push(`serviceNames must list the ECS service(s) of "${svc.name}"; got none`);
      const tgs = svc.targetGroupArnSuffixes ?? [];
      if (tgs.length && props.albArnSuffix === undefined) problems.push(`target group metrics need the LoadBalancer dimension; got target groups but no albArnSuffix; pass the ALB's arn_suffix`);
      const lb = albSuffixProblem(props.albArnSuffix);
      if (lb) problems.push(lb);
      for (const tg of tgs) {
        if (known(tg) && !TG_SUFFIX.test(tg)) problems.push(`targetGroupArnSuffixes must be like "targetgroup/<name>/<id>"; got "${tg}"; pass the target group's arn_suffix, not its ARN`);
      }
      for (const [field, problem] of Object.entries(serviceAlarmThresholdProblems(props.thresholds ?? {}, tgs.length > 0))) {
        problems.push(`thresholds.${field} ${problem}`);
      }
      return problems;
    },
  });
}
