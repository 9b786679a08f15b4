import { policyStatements } from "../iam";
import { compliant, nonCompliant, notApplicable, PolicyContext, PolicyRule, SynthesizedResource } from "../types";
import { block, blocks, isSet } from "../values";

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

/** Log-delivery service principals that can only write to SSE-S3 buckets (AWS documents SSE-KMS as unsupported). */
export const SSE_S3_ONLY_WRITERS: Readonly<Record<string, string>> = {
  "logging.s3.amazonaws.com": "S3 server access log delivery",
  "logdelivery.elasticloadbalancing.amazonaws.com": "ELB access log delivery",
};

/**
 * Why a bucket may only use SSE-S3: it is the destination of ALB access logs (an aws_lb's
 * access_logs.bucket) or of S3 server access logs (an aws_s3_bucket_logging target, or a
 * bucket policy granting a log-delivery service PutObject). Undefined when it is not.
 */
export function sseS3OnlyWriter(bucket: SynthesizedResource, ctx: PolicyContext): string | undefined {
  const isThisBucket = (value: unknown) => ctx.mentions(value, bucket) || (isSet(bucket.config.bucket) && value === bucket.config.bucket);
  const lbs = [...ctx.ofType("aws_lb"), ...ctx.ofType("aws_alb")];
  const lb = lbs.find((l) => blocks(l.config.access_logs).some((a) => isThisBucket(a.bucket)));
  if (lb) return `ELB access log delivery (${lb.address} access_logs)`;
  const logging = ctx.ofType("aws_s3_bucket_logging").find((l) => isThisBucket(l.config.target_bucket));
  if (logging) return `S3 server access log delivery (${logging.address})`;
  for (const policy of ctx.referencing(bucket, "aws_s3_bucket_policy", "bucket")) {
    for (const s of policyStatements(policy.config.policy, ctx).statements) {
      if (s.effect !== "Allow") continue;
      const writer = s.principals.filter((p) => p.type === "Service").flatMap((p) => p.identifiers).find((id) => id in SSE_S3_ONLY_WRITERS);
      if (writer) return `${SSE_S3_ONLY_WRITERS[writer]} (${writer} in ${policy.address})`;
    }
  }
  return undefined;
}

/** Objects are encrypted by default with a customer-managed KMS key (separate SSE resource, provider v4+). */
export const s3Encryption: PolicyRule = {
  id: "S3-ENCRYPTION",
  description:
    "S3 buckets encrypt objects by default with a KMS key we control (key policy, rotation, audit in CloudTrail); SSE-S3 only for log-delivery buckets whose writer cannot use KMS.",
  severity: "error",
  controls: ["CKV_AWS_145", "S3.17"],
  resourceTypes: ["aws_s3_bucket"],
  check(bucket, ctx) {
    const rules = [
      ...ctx.referencing(bucket, "aws_s3_bucket_server_side_encryption_configuration", "bucket").flatMap((c) => blocks(c.config.rule)),
      // Deprecated inline block, still accepted by provider 5.x.
      ...blocks(block(bucket.config.server_side_encryption_configuration)?.rule),
    ];
    if (!rules.length) return nonCompliant("no aws_s3_bucket_server_side_encryption_configuration references this bucket; add one with sse_algorithm aws:kms and kms_master_key_id");
    const byDefault = rules.map((r) => block(r.apply_server_side_encryption_by_default)).filter(Boolean);
    if (byDefault.some((d) => KMS_ALGORITHMS.includes(d.sse_algorithm) && isSet(d.kms_master_key_id))) return compliant();
    const writer = byDefault.some((d) => d.sse_algorithm === "AES256") ? sseS3OnlyWriter(bucket, ctx) : undefined;
    if (writer) return notApplicable(`SSE-S3 (AES256) is required: the bucket receives ${writer}, which does not support SSE-KMS`);
    const got = byDefault.map((d) => `sse_algorithm ${JSON.stringify(d.sse_algorithm)}${isSet(d.kms_master_key_id) ? "" : " without kms_master_key_id"}`).join(", ");
    return nonCompliant(`default encryption is not KMS with a customer key; got ${got || "no apply_server_side_encryption_by_default"}; use sse_algorithm aws:kms with kms_master_key_id`);
  },
};
