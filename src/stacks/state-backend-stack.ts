import { Construct } from "constructs";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { StateBackendConfig } from "../../environments/state-backend";
import { policyDocument } from "../iam-policy";

export interface StateBackendStackProps {
  readonly config: StateBackendConfig;
  /** Extra provider settings (the emulator harness points endpoints at 127.0.0.1). */
  readonly providerOverrides?: Partial<import("@cdktf/provider-aws/lib/provider").AwsProviderConfig>;
}

/**
 * Bootstrap: the S3 bucket, DynamoDB lock table and KMS key that hold every environment's
 * state. Its own state is local: it cannot be stored in the bucket it creates.
 */
export class StateBackendStack extends TerraformStack {
  public readonly bucket: S3Bucket;
  public readonly lockTable: DynamodbTable;
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: StateBackendStackProps) {
    super(scope, id);
    const c = props.config;

    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
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
      policy: policyDocument(this, "state-key-policy", [
        {
          sid: "AccountAdministersKey",
          effect: "Allow",
          actions: ["kms:*"],
          resources: ["*"],
          principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${c.accountId}:root`] }],
        },
      ]),
    });
    new KmsAlias(this, "state-key-alias", { name: c.kmsKeyAlias, targetKeyId: this.key.keyId });

    this.bucket = new S3Bucket(this, "state-bucket", {
      bucket: c.bucketName,
      // State is the only record of what exists: never empty the bucket on destroy.
      forceDestroy: false,
    });
    new S3BucketVersioningA(this, "state-bucket-versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "state-bucket-encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn }, bucketKeyEnabled: true }],
    });
    new S3BucketPublicAccessBlock(this, "state-bucket-public-access-block", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "state-bucket-ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketLifecycleConfiguration(this, "state-bucket-lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: c.noncurrentVersionRetentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    new S3BucketPolicy(this, "state-bucket-policy", {
      bucket: this.bucket.id,
      policy: policyDocument(this, "state-bucket-policy-document", [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          principals: [{ type: "*", identifiers: ["*"] }],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ]),
    });

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

    new TerraformOutput(this, "state_bucket_name", { value: this.bucket.bucket, description: "S3 bucket holding every environment's state" });
    new TerraformOutput(this, "lock_table_name", { value: this.lockTable.name, description: "DynamoDB lock table (hash key LockID)" });
    new TerraformOutput(this, "state_kms_key_arn", { value: this.key.arn, description: "KMS key encrypting the state" });
    new TerraformOutput(this, "state_kms_key_alias", { value: c.kmsKeyAlias, description: "Alias environments pass as kms_key_id" });
  }
}
