import { iamGlobMatch, policyStatements, Statement, statementLabel } from "../iam";
import { compliant, nonCompliant, notApplicable, PolicyRule, SynthesizedResource } from "../types";
import { blocks } from "../values";
import { RESOURCE_WILDCARD_ACTIONS, SELF_SCOPED_POLICY_TYPES } from "./iam-wildcard-allowlist";

/** The policy attributes of each resource type the rule reads. */
function policiesOf(resource: SynthesizedResource): { label: string; value: unknown }[] {
  if (resource.type === "aws_iam_role") {
    return blocks(resource.config.inline_policy)
      .filter((p) => p.policy !== undefined)
      .map((p, i) => ({ label: `inline_policy ${p.name ?? `#${i + 1}`}`, value: p.policy }));
  }
  return resource.config.policy === undefined ? [] : [{ label: "policy", value: resource.config.policy }];
}

/** True when an action pattern of the statement is covered by one allowlist entry. */
function allowlisted(action: string): boolean {
  return RESOURCE_WILDCARD_ACTIONS.some(({ action: allowed }) => {
    if (!action.includes("*") && !action.includes("?")) return iamGlobMatch(allowed, action);
    if (action.toLowerCase() === allowed.toLowerCase()) return true;
    // `ssmmessages:Open*` is inside `ssmmessages:*`.
    return allowed.endsWith("*") && action.toLowerCase().startsWith(allowed.slice(0, -1).toLowerCase());
  });
}

function problems(s: Statement, resourceIsSelf: boolean): string[] {
  if (s.effect !== "Allow") return [];
  const out: string[] = [];
  if (s.actions.includes("*")) out.push('allows Action "*"');
  if (s.notActions.length) out.push("allows NotAction (every action but a few)");
  if (!resourceIsSelf && (s.resources.includes("*") || s.notResources.length)) {
    const notAllowed = s.actions.filter((a) => a !== "*" && !allowlisted(a));
    if (s.notResources.length) out.push("allows NotResource (every resource but a few)");
    else if (notAllowed.length || s.notActions.length) out.push(`allows ${notAllowed.join(", ") || "its actions"} on Resource "*"`);
  }
  return out;
}

export const iamNoWildcard: PolicyRule = {
  id: "IAM-NO-WILDCARD",
  description: 'IAM policies grant named actions on named resources: no Allow with Action "*", and Resource "*" only for actions AWS authorizes on nothing else (see iam-wildcard-allowlist.ts).',
  severity: "error",
  controls: ["CKV_AWS_1", "CKV_AWS_49", "CKV_AWS_355", "CKV_AWS_356", "IAM.1", "IAM.21"],
  resourceTypes: ["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_role", "aws_kms_key"],
  check(resource, ctx) {
    const policies = policiesOf(resource);
    if (!policies.length) return notApplicable();
    const resourceIsSelf = resource.type in SELF_SCOPED_POLICY_TYPES;
    const found: string[] = [];
    for (const policy of policies) {
      const { inspectable, statements, source } = policyStatements(policy.value, ctx);
      if (!inspectable) {
        found.push(`${policy.label} is an expression the policy pack cannot read (${source}); build it with data.aws_iam_policy_document`);
        continue;
      }
      statements.forEach((s, i) => problems(s, resourceIsSelf).forEach((p) => found.push(`${statementLabel(s, i)} of ${s.source ?? source} ${p}`)));
    }
    return found.length ? nonCompliant(found.join("; ")) : compliant();
  },
};
