import { iamGlobMatch, policyStatements, Statement, statementLabel } from "../iam";
import { isProd } from "../prod";
import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";

/**
 * `Bool aws:MultiFactorAuthPresent true` or a `NumericLessThan aws:MultiFactorAuthAge` bound.
 * Both keys are absent for long-term access keys, so only MFA sessions match; the IfExists
 * forms would match exactly those key-only callers and do not count.
 */
function requiresMfa(s: Statement): boolean {
  return s.conditions.some(
    (c) =>
      (/^Bool$/i.test(c.test) && /^aws:MultiFactorAuthPresent$/i.test(c.variable) && c.values.length > 0 && c.values.every((v) => v === "true")) ||
      (/^NumericLessThan(Equals)?$/i.test(c.test) && /^aws:MultiFactorAuthAge$/i.test(c.variable) && c.values.length > 0),
  );
}

/**
 * The deployment guide requires MFA for production. In prod, a role IAM principals may assume
 * (users, roles, account roots: people, or whoever holds their keys) trusts only MFA sessions.
 * Machines use service principals or OIDC federation, which this rule does not apply to.
 */
export const iamTrustMfa: PolicyRule = {
  id: "IAM-TRUST-MFA",
  description: "In prod, every trust-policy statement that lets IAM principals (users, roles, accounts) assume a role requires MFA (aws:MultiFactorAuthPresent).",
  severity: "error",
  // No checkov or Security Hub control checks trust policies for MFA; AWS IAM guide "Configuring MFA-protected API access".
  controls: [],
  resourceTypes: ["aws_iam_role"],
  check(role, ctx) {
    if (!isProd(role, ctx)) return notApplicable("MFA for humans is required in prod");
    const { inspectable, statements, source } = policyStatements(role.config.assume_role_policy, ctx);
    if (!inspectable) return nonCompliant(`assume_role_policy is an expression the policy pack cannot read (${source}); build it with data.aws_iam_policy_document`);
    const human = statements
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.effect === "Allow" && s.actions.some((a) => iamGlobMatch(a, "sts:AssumeRole")) && s.principals.some((p) => p.type === "AWS" || p.type === "*"));
    if (!human.length) return notApplicable("trusted only by service principals or federated identities");
    const missing = human.filter(({ s }) => !requiresMfa(s));
    if (!missing.length) return compliant();
    return nonCompliant(
      `${missing.map(({ s, i }) => `${statementLabel(s, i)} (${s.principals.flatMap((p) => p.identifiers).join(", ")})`).join(", ")} in ${source} lets IAM principals assume the role without MFA; add Bool aws:MultiFactorAuthPresent = true`,
    );
  },
};
