/**
 * Before account stacks (issue 10), every environment stack held an S3 access-logs bucket and
 * prod held the account's audit trail, AWS Config recorder and audit key. They belong to the
 * account stack now. Addresses cannot move between states, so an environment applied after
 * the upgrade would destroy them; these `removed` blocks (Terraform >= 1.7) make it forget
 * them instead, leaving them in AWS for the account stack to import (docs/accounts.md#upgrading).
 * A stack that never had them plans no change from these blocks.
 */
import { TerraformStack } from "cdktf";

/** The access-logs bucket every environment stack had (`security/access-logs`). */
export const FORMER_ACCESS_LOGS_ADDRESSES: readonly string[] = [
  "aws_s3_bucket.security_access-logs_bucket_DD5E348D",
  "aws_s3_bucket_lifecycle_configuration.security_access-logs_lifecycle_309229CB",
  "aws_s3_bucket_ownership_controls.security_access-logs_ownership_2367B5B4",
  "aws_s3_bucket_policy.security_access-logs_policy_57A929E0",
  "aws_s3_bucket_public_access_block.security_access-logs_public-access-block_B2BF598D",
  "aws_s3_bucket_server_side_encryption_configuration.security_access-logs_encryption_D19E8D87",
  "aws_s3_bucket_versioning.security_access-logs_versioning_A8274906",
];

/** The audit baseline the environment that owned the account had (`security/audit`, `security/audit-key`). */
export const FORMER_AUDIT_ADDRESSES: readonly string[] = [
  "aws_cloudtrail.security_audit_cloudtrail_C4291645",
  "aws_cloudwatch_log_group.security_audit_cloudtrail_log-group_7729A988",
  "aws_config_config_rule.security_audit_config_rule-cloudtrail-enabled_370853B4",
  "aws_config_config_rule.security_audit_config_rule-ecs-no-privileged_2BD992F5",
  "aws_config_config_rule.security_audit_config_rule-kms-rotation_874DE95A",
  "aws_config_config_rule.security_audit_config_rule-rds-not-public_3FEAA4FB",
  "aws_config_config_rule.security_audit_config_rule-rds-storage-encrypted_C6BFFE48",
  "aws_config_config_rule.security_audit_config_rule-s3-public-read-prohibited_4B308423",
  "aws_config_config_rule.security_audit_config_rule-s3-ssl-only_3E612C82",
  "aws_config_config_rule.security_audit_config_rule-vpc-default-sg-closed_8116F666",
  "aws_config_config_rule.security_audit_config_rule-vpc-flow-logs_7DE7AE52",
  "aws_config_configuration_recorder.security_audit_config_recorder_603E5747",
  "aws_config_configuration_recorder_status.security_audit_config_recorder-status_8D22108C",
  "aws_config_delivery_channel.security_audit_config_delivery-channel_CC39DD8A",
  "aws_iam_role.security_audit_cloudtrail_role_98BA50B6",
  "aws_iam_role.security_audit_config_role_62157721",
  "aws_iam_role_policy.security_audit_cloudtrail_role-policy_48FD0B23",
  "aws_iam_role_policy.security_audit_config_delivery-policy_9AD1C0F0",
  "aws_iam_role_policy_attachment.security_audit_config_managed-policy_226F812C",
  "aws_kms_alias.security_audit-key_alias_822536ED",
  "aws_kms_key.security_audit-key_233B25A8",
  "aws_s3_bucket.security_audit_bucket_D71E7B6D",
  "aws_s3_bucket_lifecycle_configuration.security_audit_bucket_lifecycle_40BF9E79",
  "aws_s3_bucket_logging.security_audit_bucket_access-logging_52408816",
  "aws_s3_bucket_ownership_controls.security_audit_bucket_ownership_4780B3C5",
  "aws_s3_bucket_policy.security_audit_bucket_policy_AEF171B0",
  "aws_s3_bucket_public_access_block.security_audit_bucket_public-access-block_1520102C",
  "aws_s3_bucket_server_side_encryption_configuration.security_audit_bucket_encryption_45FEB37E",
  "aws_s3_bucket_versioning.security_audit_bucket_versioning_0ED8FC4D",
];

/**
 * Adds the `removed { destroy = false }` blocks for what an environment stack used to own.
 * Every environment gets all of them: which one owned the baseline was config that no longer
 * exists, and a block for an address the state never had is a no-op.
 */
export function forgetAccountResources(stack: TerraformStack): void {
  const addresses = [...FORMER_ACCESS_LOGS_ADDRESSES, ...FORMER_AUDIT_ADDRESSES];
  stack.addOverride(
    "removed",
    addresses.map((from) => ({ from, lifecycle: { destroy: false } })),
  );
}
