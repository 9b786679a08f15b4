import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { dynamodbCmk, dynamodbPitr, kmsRotation } from "../../src/policy/rules";
import { onlyFinding } from "./fixtures";

const table = (extra: Partial<ConstructorParameters<typeof DynamodbTable>[2]>) => (stack: any) => {
  const key = new KmsKey(stack, "key", { enableKeyRotation: true });
  new DynamodbTable(stack, "table", {
    name: "locks",
    hashKey: "LockID",
    attribute: [{ name: "LockID", type: "S" }],
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
    ...extra,
  });
};

describe("DYNAMODB-PITR", () => {
  test("passes a table with point-in-time recovery", () => {
    expect(onlyFinding(dynamodbPitr, table({})).status).toBe("compliant");
  });
  test("fails a table without point-in-time recovery", () => {
    expect(onlyFinding(dynamodbPitr, table({ pointInTimeRecovery: undefined })).status).toBe("non-compliant");
    expect(onlyFinding(dynamodbPitr, table({ pointInTimeRecovery: { enabled: false } })).message).toMatch(/^\[DYNAMODB-PITR\] aws_dynamodb_table\.table: .*\(CKV_AWS_28, DynamoDB\.2\)$/);
  });
});

describe("DYNAMODB-CMK", () => {
  test("passes SSE with a customer-managed key", () => {
    expect(onlyFinding(dynamodbCmk, table({})).status).toBe("compliant");
  });
  test("fails the AWS-owned key (no server_side_encryption)", () => {
    expect(onlyFinding(dynamodbCmk, table({ serverSideEncryption: undefined })).status).toBe("non-compliant");
  });
  test("fails SSE enabled without kms_key_arn (AWS-managed aws/dynamodb key)", () => {
    expect(onlyFinding(dynamodbCmk, table({ serverSideEncryption: { enabled: true } })).reason).toMatch(/kms_key_arn/);
  });
});

describe("KMS-ROTATION", () => {
  test("passes a symmetric key with rotation", () => {
    expect(onlyFinding(kmsRotation, (s) => new KmsKey(s, "key", { enableKeyRotation: true })).status).toBe("compliant");
  });
  test("fails a symmetric key without rotation", () => {
    expect(onlyFinding(kmsRotation, (s) => new KmsKey(s, "key", {})).status).toBe("non-compliant");
  });
  test("does not apply to asymmetric keys (AWS cannot rotate them)", () => {
    expect(onlyFinding(kmsRotation, (s) => new KmsKey(s, "key", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" })).status).toBe("not-applicable");
  });
});
