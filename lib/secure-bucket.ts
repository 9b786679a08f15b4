import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { checkedName } from "./naming";
import { policyDocument } from "./iam-policy";
import { ConstructPropsError } from "./errors";
import { skipCheckov } from "./checkov";

export interface SecureBucketProps {
  /** Physical bucket name (checked against the S3 naming rules). */
  readonly bucketName: string;
  /**
   * Customer-managed KMS key for SSE-KMS. Omit only where the writer cannot use KMS
   * (ALB access logs and S3 server access logs support SSE-S3 only); then `sseS3Reason`
   * must say why.
   * @default - SSE-S3 (requires sseS3Reason)
   */
  readonly kmsKeyArn?: string;
  /** Why this bucket uses SSE-S3 instead of a customer key. */
  readonly sseS3Reason?: string;
  /**
   * Days after which current objects expire.
   * @default - never
   */
  readonly expirationDays?: number;
  /**
   * Days noncurrent versions are kept.
   * @default 90
   */
  readonly noncurrentVersionDays?: number;
  /**
   * Bucket (name) that receives this bucket's server access logs.
   * @default - no access logging
   */
  readonly accessLogsBucket?: string;
  /**
   * Make this the sink of S3 server access logs of the given account's buckets: grants
   * `logging.s3.amazonaws.com` PutObject (limited to that account) and uses SSE-S3, the only
   * encryption access-log delivery supports.
   * @default - not a log sink
   */
  readonly accessLogSinkForAccount?: string;
  /** Statements added to the bucket policy next to the TLS-only deny. @default [] */
  readonly policyStatements?: DataAwsIamPolicyDocumentStatement[];
  /**
   * Empty the bucket on destroy (only for buckets whose content is disposable).
   * @default false
   */
  readonly forceDestroy?: boolean;
}

/**
 * An S3 bucket with the hardening every platform bucket needs: versioning, encryption
 * (SSE-KMS with a customer key unless the writer cannot use one), all public access
 * blocked, ACLs disabled (bucket owner enforced), a policy denying non-TLS requests,
 * lifecycle for old versions and incomplete uploads, object events to EventBridge, and
 * optional access logging.
 */
export class SecureBucket extends Construct {
  public readonly bucket: S3Bucket;
  public readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    checkedName("s3Bucket", props.bucketName, this.node.path);
    const sink = props.accessLogSinkForAccount;
    const sseS3Reason = props.sseS3Reason ?? (sink ? "S3 server access log delivery supports only SSE-S3 on the target bucket" : undefined);
    if (sink && props.kmsKeyArn) {
      throw new ConstructPropsError(this, `bucket "${props.bucketName}" is an access-log sink, which S3 can only write with SSE-S3; drop kmsKeyArn`);
    }
    if (!props.kmsKeyArn && !sseS3Reason) {
      throw new ConstructPropsError(this, `bucket "${props.bucketName}" has no kmsKeyArn; give one, or sseS3Reason saying why the writer cannot use SSE-KMS`);
    }
    if (props.expirationDays !== undefined && props.expirationDays < 1) {
      throw new ConstructPropsError(this, `expirationDays must be at least 1; got ${props.expirationDays}`);
    }

    this.bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName, forceDestroy: props.forceDestroy ?? false });
    const bucket = this.bucket.id;

    new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [
        props.kmsKeyArn
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    });
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [
        {
          id: "retention",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: props.expirationDays ? [{ days: props.expirationDays }] : undefined,
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionDays ?? 90 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    // Object-level events go to EventBridge (free until a rule matches): detective controls
    // (deletions in audit, state or log buckets) subscribe without touching the bucket.
    new S3BucketNotification(this, "notifications", { bucket, eventbridge: true });
    if (props.accessLogsBucket) {
      new S3BucketLoggingA(this, "access-logging", { bucket, targetBucket: props.accessLogsBucket, targetPrefix: `${props.bucketName}/` });
    }
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket,
      policy: policyDocument(this, "policy-document", [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          principals: [{ type: "*", identifiers: ["*"] }],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
        ...(sink
          ? [
              {
                sid: "S3ServerAccessLogDelivery",
                effect: "Allow",
                actions: ["s3:PutObject"],
                resources: [`${this.bucket.arn}/*`],
                principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
                condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [sink] }],
              },
            ]
          : []),
        ...(props.policyStatements ?? []),
      ]),
      // A policy put while the block is being set can be refused as "public".
      dependsOn: [publicAccessBlock],
    });

    // checkov: deliberate choices shared by every platform bucket, declared once here.
    if (!props.kmsKeyArn) skipCheckov(this.bucket, "CKV_AWS_145", `SSE-S3 because ${sseS3Reason}`);
    skipCheckov(this.bucket, "CKV_AWS_144", "single-region platform: versioning and noncurrent-version retention protect objects; a cross-region copy needs a second-region bucket and key");
  }
}
