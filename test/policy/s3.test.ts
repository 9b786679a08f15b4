import { TerraformStack } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { policyDocument } from "../../lib/iam-policy";
import { s3Encryption, s3PublicAccessBlock, s3TlsOnly, s3Versioning } from "../../src/policy/rules";
import { onlyFinding, statuses } from "./fixtures";

interface BucketOptions {
  sse?: "kms" | "aes" | "none";
  versioning?: "Enabled" | "Suspended" | "none";
  publicAccessBlock?: "all" | "three" | "none";
  tlsPolicy?: boolean;
}

/** A bucket with its companion resources, compliant unless an option says otherwise. */
function bucket(options: BucketOptions = {}) {
  return (stack: TerraformStack) => {
    const key = new KmsKey(stack, "key", { enableKeyRotation: true });
    const b = new S3Bucket(stack, "bucket", { bucket: "example" });
    if ((options.sse ?? "kms") !== "none") {
      new S3BucketServerSideEncryptionConfigurationA(stack, "sse", {
        bucket: b.id,
        rule: [{ applyServerSideEncryptionByDefault: options.sse === "aes" ? { sseAlgorithm: "AES256" } : { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn } }],
      });
    }
    if ((options.versioning ?? "Enabled") !== "none") {
      new S3BucketVersioningA(stack, "versioning", { bucket: b.id, versioningConfiguration: { status: options.versioning ?? "Enabled" } });
    }
    if ((options.publicAccessBlock ?? "all") !== "none") {
      new S3BucketPublicAccessBlock(stack, "pab", {
        bucket: b.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: options.publicAccessBlock !== "three",
      });
    }
    if (options.tlsPolicy !== false) {
      new S3BucketPolicy(stack, "policy", {
        bucket: b.id,
        policy: policyDocument(stack, "policy-document", [
          {
            sid: "DenyInsecureTransport",
            effect: "Deny",
            actions: ["s3:*"],
            resources: [b.arn, `${b.arn}/*`],
            principals: [{ type: "*", identifiers: ["*"] }],
            condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
          },
        ]),
      });
    }
  };
}

const onBucket = (rule: Parameters<typeof onlyFinding>[0], options: BucketOptions) => onlyFinding(rule, bucket(options));

describe("S3 rules", () => {
  test("look at the resources referencing the bucket, not at any of that type in the stack", () => {
    const stack = (s: TerraformStack) => {
      bucket({})(s);
      new S3Bucket(s, "other", { bucket: "other" });
    };
    for (const rule of [s3Encryption, s3Versioning, s3PublicAccessBlock, s3TlsOnly]) {
      expect(statuses(rule, stack)).toEqual({ "aws_s3_bucket.bucket": "compliant", "aws_s3_bucket.other": "non-compliant" });
    }
  });
});

describe("S3-ENCRYPTION", () => {
  test("passes a bucket whose SSE configuration uses aws:kms with a key", () => {
    expect(onBucket(s3Encryption, {}).status).toBe("compliant");
  });
  test("fails a bucket with SSE-S3 (AES256)", () => {
    const f = onBucket(s3Encryption, { sse: "aes" });
    expect(f.status).toBe("non-compliant");
    expect(f.message).toMatch(/^\[S3-ENCRYPTION\] aws_s3_bucket\.bucket: .*AES256.* \(CKV_AWS_145, S3\.17\)$/);
  });
  test("fails a bucket without any SSE configuration", () => {
    expect(onBucket(s3Encryption, { sse: "none" }).reason).toMatch(/no aws_s3_bucket_server_side_encryption_configuration/);
  });
});

describe("S3-VERSIONING", () => {
  test("passes versioning Enabled", () => {
    expect(onBucket(s3Versioning, {}).status).toBe("compliant");
  });
  test("fails versioning Suspended", () => {
    expect(onBucket(s3Versioning, { versioning: "Suspended" })).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/Suspended/) });
  });
  test("fails a bucket without a versioning resource", () => {
    expect(onBucket(s3Versioning, { versioning: "none" }).status).toBe("non-compliant");
  });
});

describe("S3-PUBLIC-ACCESS-BLOCK", () => {
  test("passes all four flags", () => {
    expect(onBucket(s3PublicAccessBlock, {}).status).toBe("compliant");
  });
  test("fails when one flag is false", () => {
    expect(onBucket(s3PublicAccessBlock, { publicAccessBlock: "three" })).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/restrict_public_buckets/) });
  });
  test("fails without a public access block", () => {
    expect(onBucket(s3PublicAccessBlock, { publicAccessBlock: "none" }).status).toBe("non-compliant");
  });
});

describe("S3-TLS-ONLY", () => {
  test("passes a policy denying s3:* when aws:SecureTransport is false", () => {
    expect(onBucket(s3TlsOnly, {}).status).toBe("compliant");
  });
  test("fails without a bucket policy", () => {
    expect(onBucket(s3TlsOnly, { tlsPolicy: false }).status).toBe("non-compliant");
  });
  test("fails a bucket policy that only allows (no TLS deny)", () => {
    const f = onlyFinding(s3TlsOnly, (stack) => {
      const b = new S3Bucket(stack, "bucket", { bucket: "example" });
      new S3BucketPolicy(stack, "policy", {
        bucket: b.id,
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: `${b.arn}/*` }] }),
      });
    });
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/aws:SecureTransport/) });
  });
  test("reads a literal JSON policy too", () => {
    const f = onlyFinding(s3TlsOnly, (stack) => {
      const b = new S3Bucket(stack, "bucket", { bucket: "example" });
      new S3BucketPolicy(stack, "policy", {
        bucket: b.id,
        policy: JSON.stringify({
          Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [b.arn, `${b.arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
        }),
      });
    });
    expect(f.status).toBe("compliant");
  });
});
