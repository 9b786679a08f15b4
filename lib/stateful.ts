/**
 * Resource types whose destruction loses data or identity that cannot be recreated: the
 * plan review refuses their destroy/replace without an acknowledgement, and the destroy
 * guard (src/stacks/destroy-guard.ts) puts `prevent_destroy` on them where the environment
 * asks for it.
 */
export const STATEFUL_TYPES: Readonly<Record<string, string>> = {
  aws_db_instance: "the database",
  aws_rds_cluster: "the database cluster",
  aws_db_snapshot: "a database snapshot",
  aws_s3_bucket: "a bucket and its objects",
  aws_kms_key: "a key (data encrypted with it becomes unreadable)",
  aws_dynamodb_table: "a table (the state lock table among them)",
  aws_ecr_repository: "an image repository (every released image)",
  aws_cloudwatch_log_group: "a log group and its logs",
  aws_secretsmanager_secret: "a secret",
  aws_efs_file_system: "a file system",
  aws_backup_vault: "a backup vault",
};

/**
 * The subset the destroy guard protects: what cannot be rebuilt from code. Log groups and
 * secrets are left out on purpose (a renamed service must be able to retire its log group;
 * secret values live outside the platform), and buckets that force-destroy are reproducible
 * (pipeline artifacts).
 */
export const GUARDED_TYPES: readonly string[] = ["aws_db_instance", "aws_rds_cluster", "aws_s3_bucket", "aws_kms_key", "aws_dynamodb_table", "aws_ecr_repository", "aws_efs_file_system", "aws_backup_vault"];
