import { isDisabled, ResourceIndex } from "./context";
import { Finding, PolicyRule, RuleResult, Suppression, SynthesizedResource } from "./types";

/** The line reported at synth: `[RULE-ID] <address>: <what is wrong> (<controls>)`. */
export function findingMessage(rule: Pick<PolicyRule, "id" | "controls">, address: string, what: string): string {
  const controls = rule.controls.length ? rule.controls.join(", ") : "no public control";
  return `[${rule.id}] ${address}: ${what} (${controls})`;
}

/** Throws when a suppression has no written reason (the reason is what reviewers read). */
export function assertSuppressionReason(ruleId: string, address: string, reason: unknown): void {
  if (typeof reason !== "string" || !reason.trim()) {
    throw new Error(`policy suppression of ${ruleId || "<no rule id>"} on ${address} needs a written reason; got ${JSON.stringify(reason)}`);
  }
}

/**
 * Runs every rule against every resource of its types. Pure: the same inputs give the same
 * findings, with no construct tree needed, so tests and the report use it directly.
 *
 * - A non-compliant result with a matching suppression becomes `suppressed` (with its reason).
 * - A suppression for a rule that does not fire on its resource (compliant, not applicable,
 *   or an unknown rule) becomes a `stale-suppression` warning: remove it.
 */
export function evaluate(
  resources: readonly SynthesizedResource[],
  rules: readonly PolicyRule[],
  suppressions: readonly Suppression[] = [],
  /** The stack's provider default_tags (PolicyContext.stackTags). */
  stackTags: Readonly<Record<string, string>> = {},
): Finding[] {
  const ctx = new ResourceIndex(resources, stackTags);
  const findings: Finding[] = [];
  const used = new Set<Suppression>();
  const suppressionFor = (address: string, ruleId: string) => suppressions.find((s) => s.address === address && s.ruleId === ruleId);
  suppressions.forEach((s) => assertSuppressionReason(s.ruleId, s.address, s.reason));

  for (const resource of resources) {
    if (resource.mode !== "managed" || isDisabled(resource)) continue;
    for (const rule of rules) {
      if (!rule.resourceTypes.includes(resource.type)) continue;
      const result = runRule(rule, resource, ctx);
      const base = { ruleId: rule.id, severity: rule.severity, controls: rule.controls, address: resource.address, path: resource.path };
      if (result.status !== "non-compliant") {
        findings.push({ ...base, status: result.status, reason: result.reason });
        continue;
      }
      const reason = withDisabledHint(result.reason ?? "non-compliant", disabledReferences(resources, resource, ctx));
      const suppression = suppressionFor(resource.address, rule.id);
      if (suppression) {
        used.add(suppression);
        findings.push({ ...base, status: "suppressed", reason, suppressionReason: suppression.reason });
      } else {
        findings.push({ ...base, status: "non-compliant", reason, message: findingMessage(rule, resource.address, reason) });
      }
    }
  }

  for (const s of suppressions) {
    if (used.has(s)) continue;
    const rule = rules.find((r) => r.id === s.ruleId);
    const resource = resources.find((r) => r.address === s.address);
    const outcome = findings.find((f) => f.address === s.address && f.ruleId === s.ruleId)?.status;
    const why = !rule ? "no rule has this ID" : outcome ? `the rule is ${outcome} here` : `the rule does not apply to ${resource?.type ?? "this resource"}`;
    findings.push({
      ruleId: s.ruleId,
      severity: "warning",
      controls: rule?.controls ?? [],
      address: s.address,
      path: resource?.path ?? "",
      status: "stale-suppression",
      suppressionReason: s.reason,
      message: findingMessage({ id: s.ruleId, controls: rule?.controls ?? [] }, s.address, `stale suppression: ${why}; remove it (its reason was "${s.reason}")`),
    });
  }
  return findings;
}

/** Addresses of `count = 0` resources that reference `resource`: a likely cause of a failure. */
function disabledReferences(resources: readonly SynthesizedResource[], resource: SynthesizedResource, ctx: ResourceIndex): string[] {
  return resources.filter((r) => r !== resource && isDisabled(r) && ctx.mentions(r.config, resource)).map((r) => r.address);
}

function withDisabledHint(reason: string, disabled: readonly string[]): string {
  if (!disabled.length) return reason;
  const one = disabled.length === 1;
  return `${reason} (${disabled.join(", ")} ${one ? "references it but has" : "reference it but have"} count = 0: not created; if that is intended, suppress the rule on this resource with the reason)`;
}

function runRule(rule: PolicyRule, resource: SynthesizedResource, ctx: ResourceIndex): RuleResult {
  try {
    return rule.check(resource, ctx);
  } catch (error) {
    // A crashing rule must not pass silently: it fails like a violation, with the cause.
    const message = error instanceof Error ? error.message : String(error);
    return { status: "non-compliant", reason: `rule could not evaluate this resource: ${message}` };
  }
}

/** Findings that fail synthesis. */
export function errorsOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.status === "non-compliant" && f.severity === "error");
}

/** Findings reported as warnings (non-compliant warning rules and stale suppressions). */
export function warningsOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => (f.status === "non-compliant" && f.severity === "warning") || f.status === "stale-suppression");
}
