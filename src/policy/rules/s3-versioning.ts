import { compliant, nonCompliant, PolicyRule } from "../types";
import { block, isTrue } from "../values";

/** Versioning keeps every prior object version (state history, recovery from overwrite/delete). */
export const s3Versioning: PolicyRule = {
  id: "S3-VERSIONING",
  description: "S3 buckets keep object versions so an overwrite or delete can be recovered.",
  severity: "error",
  controls: ["CKV_AWS_21", "S3.14"],
  resourceTypes: ["aws_s3_bucket"],
  check(bucket, ctx) {
    const configs = ctx.referencing(bucket, "aws_s3_bucket_versioning", "bucket");
    const statuses = configs.map((c) => block(c.config.versioning_configuration)?.status);
    if (statuses.includes("Enabled") || isTrue(block(bucket.config.versioning)?.enabled)) return compliant();
    if (!configs.length) return nonCompliant('no aws_s3_bucket_versioning references this bucket; add one with versioning_configuration.status "Enabled"');
    return nonCompliant(`versioning is not enabled; got status ${statuses.map((s) => JSON.stringify(s)).join(", ")}; set "Enabled"`);
  },
};
