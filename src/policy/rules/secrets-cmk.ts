import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isSet, isTrue } from "../values";

const AWS_MANAGED = /alias\/aws\/secretsmanager$/;

/**
 * Secrets (including RDS-managed master passwords) are encrypted with a customer key, so who
 * may decrypt them is written in one key policy instead of AWS's default key, which every
 * principal of the account with secretsmanager permissions can use.
 */
export const secretsCmk: PolicyRule = {
  id: "SECRETS-CMK",
  description: "Secrets Manager secrets, and the master secrets RDS manages, are encrypted with a customer-managed KMS key.",
  severity: "error",
  controls: ["CKV_AWS_149", "SecretsManager.3"],
  resourceTypes: ["aws_secretsmanager_secret", "aws_db_instance"],
  check(resource) {
    if (resource.type === "aws_db_instance") {
      if (!isTrue(resource.config.manage_master_user_password)) return notApplicable("RDS does not manage a master secret for this instance");
      return isSet(resource.config.master_user_secret_kms_key_id) ? compliant() : nonCompliant("master_user_secret_kms_key_id is not set (the managed master secret would use aws/secretsmanager)");
    }
    const key = resource.config.kms_key_id;
    if (!isSet(key)) return nonCompliant("kms_key_id is not set (the AWS-managed aws/secretsmanager key would be used)");
    if (AWS_MANAGED.test(String(key))) return nonCompliant(`kms_key_id is the AWS-managed ${key}; use a customer-managed key`);
    return compliant();
  },
};
