/**
 * The alarm thresholds a service may set in config, and which of them need the ALB: written
 * once, checked by the config schema per field and by the service's alarm construct
 * (`ServiceAlarms`), so an internal service can never ask for an alarm on a metric it does
 * not have (an internal service has no target group, so no HTTPCode_Target_5XX_Count,
 * RequestCount or TargetResponseTime).
 */
import { Problem } from "./aws-limits";

/** Per-service alarm thresholds; each has an environment-aware default in the alarm construct. */
export interface ServiceAlarmThresholds {
  /** Target 5xx as a share of requests, percent (the guide: 5). */
  readonly errorRatePercent?: number;
  /** p95 target response time in seconds. */
  readonly latencyP95Sec?: number;
  /** ECS service CPU, percent (the guide: 80). */
  readonly cpuPercent?: number;
  /** ECS service memory, percent (the guide: 80). */
  readonly memoryPercent?: number;
}

/** Thresholds whose metric only exists for a service behind the ALB. */
export const LOAD_BALANCER_THRESHOLDS: readonly (keyof ServiceAlarmThresholds)[] = ["errorRatePercent", "latencyP95Sec"];

const PERCENT_FIELDS: readonly (keyof ServiceAlarmThresholds)[] = ["errorRatePercent", "cpuPercent", "memoryPercent"];

/** Problems by field (empty when every threshold is valid for this service). */
export function serviceAlarmThresholdProblems(t: ServiceAlarmThresholds, behindLoadBalancer: boolean): Partial<Record<keyof ServiceAlarmThresholds, string>> {
  const out: Partial<Record<keyof ServiceAlarmThresholds, string>> = {};
  for (const field of Object.keys(t) as (keyof ServiceAlarmThresholds)[]) {
    const v = t[field];
    if (v === undefined) continue;
    let problem: Problem;
    if (!behindLoadBalancer && LOAD_BALANCER_THRESHOLDS.includes(field)) {
      problem = `needs ALB metrics (HTTPCode_Target_5XX_Count, RequestCount, TargetResponseTime), which a service without a target group does not have; got ${JSON.stringify(v)} on an internal service; remove it or expose the service publicly`;
    } else if (PERCENT_FIELDS.includes(field) && !(v > 0 && v <= 100)) {
      problem = `must be a percentage above 0 and at most 100; got ${JSON.stringify(v)}`;
    } else if (!(v > 0)) {
      problem = `must be above 0; got ${JSON.stringify(v)}`;
    }
    if (problem) out[field] = problem;
  }
  return out;
}
