/**
 * AWS's documented limits for every field the platform exposes, written once. The config
 * schema (environments/schema.ts) reports them per field before anything is synthesized; the
 * constructs check the same functions through `node.addValidation`, so a construct used
 * without the schema refuses exactly what AWS would refuse at apply.
 *
 * Each check returns `undefined` when the value is valid, else one message in the house
 * format: what is wrong; got <value>; what would be valid.
 */
import { describeFargateMemory, fargateMemoryAllowed } from "./fargate";

export type Problem = string | undefined;

const show = (value: unknown): string => JSON.stringify(value);

/** Integer in [min, max]. */
export function rangeProblem(value: number, min: number, max: number, unit = ""): Problem {
  if (!Number.isInteger(value) || value < min || value > max) return `must be a whole number from ${min} to ${max}${unit}; got ${show(value)}`;
  return undefined;
}

/** TCP port (container ports, target groups). */
export function portProblem(port: number): Problem {
  return rangeProblem(port, 1, 65535);
}

/** Fargate task sizes (ECS "Task CPU and memory"). */
export function fargateSizeProblem(cpu: number, memoryMiB: number): Problem {
  if (fargateMemoryAllowed(cpu, memoryMiB)) return undefined;
  return `${cpu} CPU units need ${describeFargateMemory(cpu)} of memory on Fargate; got ${memoryMiB}`;
}

// --- Elastic Load Balancing: listener rules and target groups -------------------------
// "Listener rules for your Application Load Balancer" / "Condition types for listener rules".

/** Listener rule priorities: 1-50000, unique per listener. */
export function rulePriorityProblem(priority: number): Problem {
  return rangeProblem(priority, 1, 50000);
}

/** Up to 3 values per condition, 5 per rule, 5 wildcards per rule. */
export const RULE_LIMITS = { valuesPerCondition: 3, valuesPerRule: 5, wildcardsPerRule: 5 } as const;

export function ruleConditionsProblem(paths: readonly string[], hosts: readonly string[]): Problem {
  if (paths.length === 0 && hosts.length === 0) return `a listener rule needs at least one path or host to route on; got none; e.g. paths: ["/api/*"]`;
  for (const [kind, values] of [["paths", paths], ["hosts", hosts]] as const) {
    if (values.length > RULE_LIMITS.valuesPerCondition) {
      return `a listener rule condition matches at most ${RULE_LIMITS.valuesPerCondition} values; got ${values.length} ${kind}; split the routes or use wildcards`;
    }
  }
  if (paths.length + hosts.length > RULE_LIMITS.valuesPerRule) {
    return `a listener rule matches at most ${RULE_LIMITS.valuesPerRule} paths and hosts together; got ${paths.length + hosts.length}; split the service's routes or use wildcards`;
  }
  const wildcards = [...paths, ...hosts].join("").replace(/[^*?]/g, "").length;
  if (wildcards > RULE_LIMITS.wildcardsPerRule) {
    return `a listener rule allows at most ${RULE_LIMITS.wildcardsPerRule} wildcards (* or ?) across its conditions; got ${wildcards}; use fewer patterns`;
  }
  return undefined;
}

/** Host condition values: up to 128 characters of a-z A-Z 0-9 - _ . * ?, with a dot and an alphabetic last label. */
export function hostHeaderProblem(host: string): Problem {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) return `is a URL, not a host name; got ${show(host)}; give the host alone, e.g. ${show(host.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/[/:].*$/, ""))}`;
  if (host.length < 1 || host.length > 128) return `must be 1-128 characters; got ${host.length}`;
  if (!/^[A-Za-z0-9\-_.*?]+$/.test(host)) return `may contain only letters, digits, - _ . and the wildcards * ?; got ${show(host)}; e.g. "api.example.com"`;
  if (!host.includes(".")) return `must contain at least one "."; got ${show(host)}; e.g. "api.example.com"`;
  if (!/\.[A-Za-z*?]+$/.test(host)) return `may have only letters after the last "."; got ${show(host)}; e.g. "api.example.com"`;
  return undefined;
}

/** Path condition values: up to 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?, starting with "/". */
export function pathPatternProblem(path: string): Problem {
  if (!path.startsWith("/")) return `must start with "/"; got ${show(path)}; e.g. "/api/*"`;
  if (path.length > 128) return `must be at most 128 characters; got ${path.length}`;
  if (!/^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/.test(path)) return `may contain only letters, digits and _ - . $ / ~ " ' @ : + & * ?; got ${show(path)}`;
  return undefined;
}

/** Target group health checks (CreateTargetGroup). */
export interface TargetHealthCheck {
  readonly path: string;
  readonly matcher: string;
  readonly intervalSec: number;
  readonly timeoutSec: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** Every problem of a target group health check, keyed by field. */
export function targetHealthCheckProblems(hc: TargetHealthCheck): Record<string, string> {
  const out: Record<string, Problem> = {
    path: !hc.path.startsWith("/") ? `must start with "/"; got ${show(hc.path)}; e.g. "/health"` : hc.path.length > 1024 ? `must be at most 1024 characters; got ${hc.path.length}` : undefined,
    matcher: !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(hc.matcher) || hc.matcher.match(/\d{3}/g)!.some((c) => +c < 200 || +c > 499)
      ? `must be HTTP codes from 200 to 499 like "200" or "200-299"; got ${show(hc.matcher)}`
      : undefined,
    intervalSec: rangeProblem(hc.intervalSec, 5, 300, " seconds"),
    timeoutSec: rangeProblem(hc.timeoutSec, 2, 120, " seconds") ?? (hc.timeoutSec >= hc.intervalSec ? `must be shorter than intervalSec (${hc.intervalSec}); got ${hc.timeoutSec}` : undefined),
    healthyThreshold: rangeProblem(hc.healthyThreshold, 2, 10),
    unhealthyThreshold: rangeProblem(hc.unhealthyThreshold, 2, 10),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Target group deregistration delay. */
export function deregistrationDelayProblem(seconds: number): Problem {
  return rangeProblem(seconds, 0, 3600, " seconds");
}

/** A certificate must live in the load balancer's region (ACM certificates are regional). */
export function certificateRegionProblem(certificateArn: string, region: string): Problem {
  const m = /^arn:aws[\w-]*:acm:([\w-]+):\d{12}:certificate\/[\w-]+$/.exec(certificateArn);
  if (!m) return `must be an ACM certificate ARN; got ${show(certificateArn)}; e.g. arn:aws:acm:${region}:123456789012:certificate/<id>`;
  if (m[1] !== region) return `is in region ${m[1]}, but the load balancer is in ${region} (ACM certificates are regional); got ${show(certificateArn)}; request or import the certificate in ${region}`;
  return undefined;
}

// --- ECS --------------------------------------------------------------------------------

/** Container health check (HealthCheck in a container definition). */
export interface ContainerHealthCheckLimits {
  readonly command: readonly string[];
  readonly intervalSec: number;
  readonly timeoutSec: number;
  readonly retries: number;
  readonly startPeriodSec: number;
}

export function containerHealthCheckProblems(hc: ContainerHealthCheckLimits): Record<string, string> {
  const out: Record<string, Problem> = {
    command: hc.command.length < 2 || !["CMD", "CMD-SHELL"].includes(hc.command[0]) ? `must start with "CMD" or "CMD-SHELL" followed by the command; got ${show(hc.command)}` : undefined,
    intervalSec: rangeProblem(hc.intervalSec, 5, 300, " seconds"),
    timeoutSec: rangeProblem(hc.timeoutSec, 2, 60, " seconds"),
    retries: rangeProblem(hc.retries, 1, 10),
    startPeriodSec: rangeProblem(hc.startPeriodSec, 0, 300, " seconds"),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => e[1] !== undefined));
}

/** ECS service health check grace period (CreateService). */
export function gracePeriodProblem(seconds: number): Problem {
  return rangeProblem(seconds, 0, 2147483647, " seconds");
}

/** ECR repository names (CreateRepository): 2-256 characters, lowercase path segments. */
export function ecrRepositoryNameProblem(name: string): Problem {
  if (name.length < 2 || name.length > 256) return `must be 2-256 characters; got ${name.length} (${show(name)})`;
  if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) return `is not a valid ECR repository name (lowercase segments separated by /); got ${show(name)}; e.g. "fargate/api"`;
  return undefined;
}

/** Container user: a uid or uid:gid, never root (0). */
export function containerUserProblem(user: string): Problem {
  if (!/^[1-9]\d*(:\d+)?$/.test(user)) return `must be a non-root uid or uid:gid; got ${show(user)}; e.g. "1000"`;
  return undefined;
}

// --- CloudWatch Logs ----------------------------------------------------------------------

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export function logRetentionProblem(days: number): Problem {
  if ((LOG_RETENTION_DAYS as readonly number[]).includes(days)) return undefined;
  return `is not a retention CloudWatch Logs accepts; got ${days}; valid: ${LOG_RETENTION_DAYS.join(", ")}`;
}

// --- AWS WAF ------------------------------------------------------------------------------

/** Rate-based rule limit (RateBasedStatement.Limit): requests per client IP per 5 minutes. */
export function wafRateLimitProblem(limit: number): Problem {
  return rangeProblem(limit, 100, 2_000_000_000, " requests per 5 minutes");
}
