import { Testing } from "cdktf";
import { Construct } from "constructs";
import { SecureBucket, SecureBucketProps } from "../../lib/secure-bucket";
import { resourcesOf } from "../helpers";

function synth(props: Partial<SecureBucketProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new SecureBucket(scope, "bucket", { bucketName: "fargate-prod-audit", kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k", ...props });
  });
}

describe("SecureBucket", () => {
  test("versions, encrypts with the customer key, blocks public access and disables ACLs by default", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket" }, { bucket: "fargate-prod-audit", force_destroy: false });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_versioning" }, { versioning_configuration: { status: "Enabled" } });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" }, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: "arn:aws:kms:us-east-1:123456789012:key/k" }, bucket_key_enabled: true }],
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_ownership_controls" }, { rule: { object_ownership: "BucketOwnerEnforced" } });
    expect(resourcesOf(JSON.parse(text), "aws_s3_bucket_logging")).toEqual([]);
  });

  test("sends object events to EventBridge, so detective controls can subscribe", () => {
    expect(synth()).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_notification" }, { bucket: expect.stringContaining("aws_s3_bucket.bucket_"), eventbridge: true });
  });

  test("denies non-TLS requests and appends extra statements", () => {
    const json = JSON.parse(synth({ policyStatements: [{ sid: "AllowDelivery", effect: "Allow", actions: ["s3:PutObject"], resources: ["arn:aws:s3:::fargate-prod-audit/*"], principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }] }] }));
    const [doc] = Object.values<any>(json.data.aws_iam_policy_document);
    expect(doc.statement.map((s: any) => s.sid)).toEqual(["DenyInsecureTransport", "AllowDelivery"]);
    expect(doc.statement[0].condition).toEqual([{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }]);
  });

  test("uses SSE-S3 only with a stated reason, and logs access when asked", () => {
    const text = synth({ kmsKeyArn: undefined, sseS3Reason: "ALB log delivery supports SSE-S3 only", accessLogsBucket: "fargate-prod-access-logs", expirationDays: 30 });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" }, { rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }] });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_logging" }, { target_bucket: "fargate-prod-access-logs", target_prefix: "fargate-prod-audit/" });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_lifecycle_configuration" }, { rule: [expect.objectContaining({ expiration: [{ days: 30 }] })] });
  });

  test("throws without a KMS key or a reason for SSE-S3", () => {
    expect(() => synth({ kmsKeyArn: undefined })).toThrow('bucket: bucket "fargate-prod-audit" has no kmsKeyArn; give one, or sseS3Reason saying why the writer cannot use SSE-KMS');
  });

  test("throws on a bucket name S3 refuses", () => {
    expect(() => synth({ bucketName: "Fargate_Audit" })).toThrow('s3Bucket name "Fargate_Audit" may only contain lowercase letters');
  });

  test("throws on a non-positive expiration", () => {
    expect(() => synth({ expirationDays: 0 })).toThrow("expirationDays must be at least 1; got 0");
  });
});
