import { policyStatements, statementLabel } from "../iam";
import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";

/**
 * A role an AWS service assumes on our behalf is limited to requests made for this account
 * (`aws:SourceAccount`), so another account cannot make the service act with our role
 * (the confused-deputy problem). `lib/iam-policy.ts` `serviceTrustPolicy` writes it.
 */
export const iamTrustSourceAccount: PolicyRule = {
  id: "IAM-TRUST-SOURCE-ACCOUNT",
  description: "Roles trusted by AWS service principals carry an aws:SourceAccount condition against the confused-deputy problem.",
  severity: "error",
  // No checkov or Security Hub control exists; AWS IAM guidance "The confused deputy problem".
  controls: [],
  resourceTypes: ["aws_iam_role"],
  check(role, ctx) {
    const { inspectable, statements, source } = policyStatements(role.config.assume_role_policy, ctx);
    if (!inspectable) return nonCompliant(`assume_role_policy is an expression the policy pack cannot read (${source}); build it with data.aws_iam_policy_document`);
    const serviceStatements = statements
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.effect === "Allow" && s.principals.some((p) => p.type === "Service"));
    if (!serviceStatements.length) return notApplicable();
    const missing = serviceStatements.filter(
      ({ s }) => !s.conditions.some((c) => /^aws:SourceAccount$/i.test(c.variable) && !/Not/i.test(c.test) && c.values.length > 0),
    );
    if (!missing.length) return compliant();
    return nonCompliant(
      `${missing.map(({ s, i }) => `${statementLabel(s, i)} (${s.principals.filter((p) => p.type === "Service").flatMap((p) => p.identifiers).join(", ")})`).join(", ")} in ${source} has no aws:SourceAccount condition`,
    );
  },
};
