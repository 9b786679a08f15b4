import { iamGlobMatch, policyStatements } from "../iam";
import { compliant, nonCompliant, PolicyRule } from "../types";

/** A bucket policy statement denying every request made without TLS. */
export const s3TlsOnly: PolicyRule = {
  id: "S3-TLS-ONLY",
  description: "S3 bucket policies deny any request made without TLS (aws:SecureTransport false), so data never crosses the network in clear text.",
  severity: "error",
  controls: ["S3.5"],
  resourceTypes: ["aws_s3_bucket"],
  check(bucket, ctx) {
    const policies = ctx.referencing(bucket, "aws_s3_bucket_policy", "bucket");
    if (!policies.length) return nonCompliant("no aws_s3_bucket_policy references this bucket; add one denying s3:* when aws:SecureTransport is false");
    for (const policy of policies) {
      const { inspectable, statements } = policyStatements(policy.config.policy, ctx);
      if (!inspectable) return nonCompliant(`the policy of ${policy.address} is an expression the policy pack cannot read; build it with data.aws_iam_policy_document`);
      const denies = statements.some(
        (s) =>
          s.effect === "Deny" &&
          s.actions.some((a) => a === "*" || (iamGlobMatch(a, "s3:GetObject") && iamGlobMatch(a, "s3:PutObject"))) &&
          s.principals.some((p) => p.identifiers.includes("*")) &&
          s.resources.some((r) => r === "*" || r.endsWith("/*")) &&
          s.conditions.some((c) => /^Bool$/i.test(c.test) && /^aws:SecureTransport$/i.test(c.variable) && c.values.map((v) => v.toLowerCase()).includes("false")),
      );
      if (denies) return compliant();
    }
    return nonCompliant("the bucket policy has no statement denying s3:* to principal * on the bucket's objects when aws:SecureTransport is false");
  },
};
