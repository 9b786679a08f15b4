import { compliant, nonCompliant, PolicyRule } from "../types";
import { isSet, isTrue } from "../values";

/** The audit trail is evidence: every region, tamper-evident log files, a customer key. */
export const cloudtrailIntegrity: PolicyRule = {
  id: "CLOUDTRAIL-INTEGRITY",
  description: "CloudTrail trails cover every region, validate their log files (digests prove nothing was changed) and encrypt them with a customer-managed KMS key.",
  severity: "error",
  controls: ["CKV_AWS_67", "CKV_AWS_36", "CKV_AWS_35", "CloudTrail.1", "CloudTrail.2", "CloudTrail.4"],
  resourceTypes: ["aws_cloudtrail"],
  check(trail) {
    const problems: string[] = [];
    if (!isTrue(trail.config.is_multi_region_trail)) problems.push("is_multi_region_trail is not true (activity in other regions goes unrecorded)");
    if (!isTrue(trail.config.enable_log_file_validation)) problems.push("enable_log_file_validation is not true (log files could be changed unnoticed)");
    if (!isSet(trail.config.kms_key_id)) problems.push("kms_key_id is not set (log files would use SSE-S3 only)");
    return problems.length ? nonCompliant(problems.join("; ")) : compliant();
  },
};
