import { Construct } from "constructs";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { StateBackendConfig } from "../../environments/state-backend";
import { accountAdministersKey, keyPolicy } from "../../lib/iam-policy";
import { SecureBucket } from "../../lib/secure-bucket";
import { guardStatefulResources } from "./destroy-guard";
import { StateAccessRole, StateAccessRoleProps } from "../../modules/security";

/** One account's way into the state account: a backend role reaching only its stacks' state. */
export type StateAccessRoleSpec = Pick<StateAccessRoleProps, "name" | "operators" | "requireMfa" | "keyPrefixes" | "tier">;

export interface StateBackendStackProps {
  readonly config: StateBackendConfig;
  /** Extra provider settings (the emulator harness points endpoints at 127.0.0.1). */
  readonly providerOverrides?: Partial<import("@cdktf/provider-aws/lib/provider").AwsProviderConfig>;
  /**
   * Log every access to the state bucket into a sink bucket. Only the emulator bootstrap
   * turns it off (moto rejects PutBucketLogging without the legacy log-delivery ACL).
   * @default true
   */
  readonly accessLogging?: boolean;
  /**
   * `prevent_destroy` on the state bucket, lock table and key: losing them loses every
   * environment's state. Only the emulator bootstrap (torn down after each e2e run) turns it off.
   * @default true
   */
  readonly destroyGuard?: boolean;
  /**
   * Roles the S3 backends of stacks in other accounts assume here, one per account, each
   * reaching only that account's state keys (src/stacks/state-access.ts computes them).
   * @default [] (every stack lives in the state account)
   */
  readonly accessRoles?: readonly StateAccessRoleSpec[];
}

/**
 * Bootstrap: the S3 bucket, DynamoDB lock table and KMS key that hold every environment's
 * state. Its own state is local: it cannot be stored in the bucket it creates.
 */
export class StateBackendStack extends TerraformStack {
  public readonly stateBucket: SecureBucket;
  /** Sink of the state bucket's server access logs (absent when accessLogging is off). */
  public readonly accessLogsBucket?: SecureBucket;
  public readonly bucket: S3Bucket;
  public readonly lockTable: DynamodbTable;
  public readonly key: KmsKey;
  /** The backend role of each other account, by role name. */
  public readonly accessRoles: Readonly<Record<string, StateAccessRole>>;

  constructor(scope: Construct, id: string, props: StateBackendStackProps) {
    super(scope, id);
    const c = props.config;

    // Outside cdktf.out: every synth replaces that directory, and this file is the only record
    // of the bootstrap (relative to cdktf.out/stacks/<id>/, i.e. the project root).
    new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    new AwsProvider(this, "aws", {
      region: c.region,
      allowedAccountIds: [c.accountId],
      defaultTags: [{ tags: { ...c.tags, Project: c.project, ManagedBy: "cdktf", Stack: id } }],
      ...props.providerOverrides,
    });

    this.key = new KmsKey(this, "state-key", {
      description: "Terraform state encryption (bucket objects and lock table)",
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: keyPolicy([accountAdministersKey(c.accountId)]),
    });
    new KmsAlias(this, "state-key-alias", { name: c.kmsKeyAlias, targetKeyId: this.key.keyId });

    // State is the only record of what exists: the bucket is never emptied on destroy, and
    // old versions stay for the rollback window.
    // Who read or wrote state is audit evidence: the state bucket logs access to its own sink.
    if (props.accessLogging ?? true) {
      this.accessLogsBucket = new SecureBucket(this, "state-access-logs", {
        bucketName: `${c.bucketName}-logs`,
        accessLogSinkForAccount: c.accountId,
        expirationDays: 365,
      });
    }
    this.stateBucket = new SecureBucket(this, "state-bucket", {
      bucketName: c.bucketName,
      kmsKeyArn: this.key.arn,
      noncurrentVersionDays: c.noncurrentVersionRetentionDays,
      accessLogsBucket: this.accessLogsBucket?.bucket.bucket,
    });
    this.bucket = this.stateBucket.bucket;

    // Terraform's S3 backend requires exactly this key schema: hash key "LockID", type S.
    this.lockTable = new DynamodbTable(this, "lock-table", {
      name: c.lockTableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: this.key.arn },
      deletionProtectionEnabled: true,
    });

    if (props.destroyGuard ?? true) guardStatefulResources(this);

    this.accessRoles = this.createAccessRoles(c, props.accessRoles ?? []);

    new TerraformOutput(this, "state_bucket_name", { value: this.bucket.bucket, description: "S3 bucket holding every environment's state" });
    new TerraformOutput(this, "lock_table_name", { value: this.lockTable.name, description: "DynamoDB lock table (hash key LockID)" });
    new TerraformOutput(this, "state_kms_key_arn", { value: this.key.arn, description: "KMS key encrypting the state" });
    new TerraformOutput(this, "state_kms_key_alias", { value: c.kmsKeyAlias, description: "Alias environments pass as kms_key_id" });
  }

  /** One backend role per other account (issue 10): its operators reach only its stacks' state. */
  private createAccessRoles(c: StateBackendConfig, specs: readonly StateAccessRoleSpec[]): Record<string, StateAccessRole> {
    const roles = Object.fromEntries(
      specs.map((spec) => [spec.name, new StateAccessRole(this, spec.name, { ...spec, region: c.region, bucketName: c.bucketName, lockTableArn: this.lockTable.arn, kmsKeyArn: this.key.arn })]),
    );
    if (specs.length) {
      new TerraformOutput(this, "state_access_role_arns", { value: Object.fromEntries(Object.entries(roles).map(([name, r]) => [name, r.role.arn])), description: "Backend role per account (stateBackend.assumeRole)" });
    }
    return roles;
  }
}
