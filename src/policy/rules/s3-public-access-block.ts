import { compliant, nonCompliant, PolicyRule } from "../types";
import { isTrue } from "../values";

const FLAGS = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"] as const;

/** All four public-access-block flags on every bucket, whatever the account-level setting. */
export const s3PublicAccessBlock: PolicyRule = {
  id: "S3-PUBLIC-ACCESS-BLOCK",
  description: "S3 buckets have a public access block with all four flags, so no ACL or policy can make them public.",
  severity: "error",
  controls: ["CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "S3.8"],
  resourceTypes: ["aws_s3_bucket"],
  check(bucket, ctx) {
    const blocks = ctx.referencing(bucket, "aws_s3_bucket_public_access_block", "bucket");
    if (!blocks.length) return nonCompliant("no aws_s3_bucket_public_access_block references this bucket; add one with all four flags true");
    const missing = FLAGS.filter((flag) => !blocks.some((b) => isTrue(b.config[flag])));
    if (!missing.length) return compliant();
    return nonCompliant(`public access block leaves ${missing.join(", ")} unset or false; set all four flags true`);
  },
};
