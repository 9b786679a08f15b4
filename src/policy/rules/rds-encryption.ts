import { compliant, nonCompliant, PolicyRule } from "../types";
import { isSet, isTrue } from "../values";

export const rdsEncryption: PolicyRule = {
  id: "RDS-ENCRYPTION",
  description: "RDS storage (and its snapshots and replicas) is encrypted with a customer-managed KMS key.",
  severity: "error",
  controls: ["CKV_AWS_16", "RDS.3"],
  resourceTypes: ["aws_db_instance"],
  check(db) {
    const problems: string[] = [];
    if (!isTrue(db.config.storage_encrypted)) problems.push("storage_encrypted is not true");
    if (!isSet(db.config.kms_key_id)) problems.push("kms_key_id is not set (the AWS-managed aws/rds key would be used)");
    return problems.length ? nonCompliant(problems.join("; ")) : compliant();
  },
};
