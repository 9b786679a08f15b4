import { compliant, nonCompliant, PolicyRule } from "../types";
import { isSet } from "../values";

export const snsEncryption: PolicyRule = {
  id: "SNS-ENCRYPTION",
  description: "SNS topics are encrypted with a customer-managed KMS key (alarm and approval messages name resources and their state).",
  severity: "error",
  controls: ["CKV_AWS_26", "SNS.1"],
  resourceTypes: ["aws_sns_topic"],
  check(topic) {
    const key = topic.config.kms_master_key_id;
    if (!isSet(key)) return nonCompliant("kms_master_key_id is not set (messages are stored unencrypted)");
    if (/alias\/aws\/sns$/.test(String(key))) {
      return nonCompliant(`kms_master_key_id is the AWS-managed ${key}, whose key policy nobody can change (CloudWatch alarms cannot publish to it); use a customer-managed key`);
    }
    return compliant();
  },
};
