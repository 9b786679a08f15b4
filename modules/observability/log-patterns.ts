/**
 * The deployment guide's "Common Log Patterns to Monitor", written once: the per-service
 * metric filters, the saved Logs Insights queries and the dashboards' log widgets all read
 * this table, so a pattern changes in one place.
 */

/** One pattern group of the guide. */
export interface LogPattern {
  /** Stable key: part of construct IDs and query names. */
  readonly key: "application-errors" | "performance-issues" | "security-events" | "deployment-events";
  readonly title: string;
  /** The guide's terms (case-sensitive, as the guide writes them). */
  readonly terms: readonly string[];
  /**
   * Metric the per-service filters count into (`<stem>` namespace, no dimension: every
   * service's filter adds to the environment's one series).
   * @default - no metric filter (queries only)
   */
  readonly metricName?: string;
}

export const LOG_PATTERNS: readonly LogPattern[] = [
  { key: "application-errors", title: "Application errors", terms: ["ERROR", "Exception", "Failed", "Timeout", "Connection refused"], metricName: "ApplicationErrors" },
  { key: "performance-issues", title: "Performance issues", terms: ["Slow query", "High latency", "Timeout", "Request took"], metricName: "PerformanceIssues" },
  { key: "security-events", title: "Security events", terms: ["Unauthorized", "Forbidden", "Authentication failed", "Invalid token"], metricName: "SecurityEvents" },
  // Deployment events are context for the others, not a signal: queries only, no metric.
  { key: "deployment-events", title: "Deployment events", terms: ["Starting", "Stopping", "Deployment", "Health check"] },
];

/** The patterns that get a metric filter on every service log group. */
export const METRIC_LOG_PATTERNS = LOG_PATTERNS.filter((p): p is LogPattern & { metricName: string } => p.metricName !== undefined);

export function logPattern(key: LogPattern["key"]): LogPattern {
  return LOG_PATTERNS.find((p) => p.key === key)!;
}

/** CloudWatch Logs filter pattern matching any of the terms (`?A ?"B C"`). */
export function filterPattern(pattern: LogPattern): string {
  return pattern.terms.map((t) => (/^\w+$/.test(t) ? `?${t}` : `?"${t}"`)).join(" ");
}

/** Logs Insights regular expression matching any of the terms. */
export function insightsRegex(pattern: LogPattern): string {
  return `/${pattern.terms.map((t) => t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")}/`;
}

/** Logs Insights query: the newest events of the pattern, newest first. */
export function recentEventsQuery(pattern: LogPattern, limit = 100): string {
  return [`fields @timestamp, @log, @logStream, @message`, `filter @message like ${insightsRegex(pattern)}`, `sort @timestamp desc`, `limit ${limit}`].join("\n| ");
}

/** Logs Insights query: events of the pattern per log group (service), most first. */
export function countByServiceQuery(pattern: LogPattern): string {
  return [`filter @message like ${insightsRegex(pattern)}`, `stats count(*) as events, latest(@message) as latest by @log`, `sort events desc`].join("\n| ");
}
