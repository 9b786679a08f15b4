import { compliant, nonCompliant, PolicyRule } from "../types";
import { isSet } from "../values";

export const logsKms: PolicyRule = {
  id: "LOGS-KMS",
  description: "CloudWatch log groups are encrypted with a customer-managed KMS key (logs carry request data and errors).",
  severity: "error",
  controls: ["CKV_AWS_158"],
  resourceTypes: ["aws_cloudwatch_log_group"],
  check(group) {
    return isSet(group.config.kms_key_id) ? compliant() : nonCompliant("kms_key_id is not set");
  },
};
