import { Testing } from "cdktf";
import { stateBackendInput, stateBackendSchema } from "../../environments/state-backend";
import { StateBackendStack } from "../../src/stacks/state-backend-stack";
import { resourcesOf } from "../helpers";

function synth() {
  const app = Testing.app();
  const stack = new StateBackendStack(app, "fargate-state", { config: stateBackendSchema.parse(stateBackendInput) });
  return { text: Testing.synth(stack), json: JSON.parse(Testing.synth(stack)) };
}

describe("StateBackendStack", () => {
  const { text, json } = synth();

  test("keeps its own state local, at the project root where a new synth cannot delete it", () => {
    // relative to cdktf.out/stacks/fargate-state/, the directory terraform runs in
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.fargate-state.tfstate" } });
  });

  test("logs every access to the state bucket in its own SSE-S3 sink", () => {
    const logging = resourcesOf(json, "aws_s3_bucket_logging").map(([, l]) => l);
    expect(logging).toHaveLength(1);
    expect(logging[0].target_bucket).toContain("aws_s3_bucket.state-access-logs_bucket");
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket" }, { bucket: "fargate-tfstate-123456789012-us-east-1-logs" });
  });

  test("access logging can be switched off (emulator bootstrap only)", () => {
    const stack = new StateBackendStack(Testing.app(), "fargate-local-state", { config: stateBackendSchema.parse(stateBackendInput), accessLogging: false });
    const out = JSON.parse(Testing.synth(stack));
    expect(resourcesOf(out, "aws_s3_bucket_logging")).toEqual([]);
    expect(resourcesOf(out, "aws_s3_bucket")).toHaveLength(1);
  });

  test("the key policy is plain JSON on the key: the account administers it", () => {
    const [[, key]] = resourcesOf(json, "aws_kms_key");
    expect(JSON.parse(key.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" }],
    });
  });

  test("creates the lock table Terraform requires: hash key exactly LockID of type S", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_dynamodb_table" }, {
      name: "fargate-tfstate-lock",
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: expect.objectContaining({ enabled: true, kms_key_arn: expect.stringContaining("aws_kms_key.state-key") }),
    });
  });

  test("names the bucket from account and region", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket" }, { bucket: "fargate-tfstate-123456789012-us-east-1", force_destroy: false });
  });

  test("versions, encrypts with the customer key, blocks public access and enforces bucket-owner ownership", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_versioning" }, { versioning_configuration: { status: "Enabled" } });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" }, {
      rule: [expect.objectContaining({ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: expect.stringContaining("aws_kms_key.state-key") } })],
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_ownership_controls" }, { rule: { object_ownership: "BucketOwnerEnforced" } });
  });

  test("denies every request that is not TLS", () => {
    const docs = Object.values<any>(json.data.aws_iam_policy_document);
    const deny = docs.flatMap((d) => d.statement).find((s: any) => s.effect === "Deny");
    expect(deny).toMatchObject({
      actions: ["s3:*"],
      condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      principals: [{ type: "*", identifiers: ["*"] }],
    });
    expect(deny.resources).toHaveLength(2);
  });

  test("rotates the KMS key and gives it the configured alias", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_kms_key" }, { enable_key_rotation: true });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_kms_alias" }, { name: "alias/fargate-tfstate" });
  });

  test("outputs the names environment stacks use", () => {
    expect(Object.keys(json.output).sort()).toEqual(["lock_table_name", "state_bucket_name", "state_kms_key_alias", "state_kms_key_arn"]);
  });

  test("expires old state versions only after the rollback window", () => {
    const [[, lifecycle]] = resourcesOf(json, "aws_s3_bucket_lifecycle_configuration");
    expect(lifecycle.rule[0].noncurrent_version_expiration).toEqual([{ noncurrent_days: 90 }]);
  });
});
