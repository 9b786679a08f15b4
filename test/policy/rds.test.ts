import { DbInstance, DbInstanceConfig } from "@cdktf/provider-aws/lib/db-instance";
import { rdsDeletionProtection, rdsEncryption, rdsManagedPassword, rdsMultiAz, rdsNotPublic } from "../../src/policy/rules";
import { onlyFinding } from "./fixtures";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const db = (config: Partial<DbInstanceConfig> = {}) => (s: any) =>
  new DbInstance(s, "db", {
    identifier: "app",
    engine: "postgres",
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    username: "app",
    storageEncrypted: true,
    kmsKeyId: KEY,
    publiclyAccessible: false,
    manageMasterUserPassword: true,
    masterUserSecretKmsKeyId: KEY,
    multiAz: true,
    deletionProtection: true,
    ...config,
  });

describe("RDS-ENCRYPTION", () => {
  test("passes storage encrypted with a customer key", () => {
    expect(onlyFinding(rdsEncryption, db()).status).toBe("compliant");
  });
  test("fails unencrypted storage or the AWS-managed key", () => {
    expect(onlyFinding(rdsEncryption, db({ storageEncrypted: false })).status).toBe("non-compliant");
    expect(onlyFinding(rdsEncryption, db({ kmsKeyId: undefined })).message).toMatch(/^\[RDS-ENCRYPTION\] aws_db_instance\.db: kms_key_id is not set.* \(CKV_AWS_16, RDS\.3\)$/);
  });
});

describe("RDS-NOT-PUBLIC", () => {
  test("passes a private instance", () => {
    expect(onlyFinding(rdsNotPublic, db()).status).toBe("compliant");
  });
  test("fails a publicly accessible instance", () => {
    expect(onlyFinding(rdsNotPublic, db({ publiclyAccessible: true })).status).toBe("non-compliant");
  });
});

describe("RDS-MANAGED-PASSWORD", () => {
  test("passes an RDS-managed master password", () => {
    expect(onlyFinding(rdsManagedPassword, db()).status).toBe("compliant");
  });
  test("fails a password in config (it would land in state)", () => {
    expect(onlyFinding(rdsManagedPassword, db({ manageMasterUserPassword: undefined, password: "hunter22hunter22" })).reason).toBe(
      "manage_master_user_password is not true; password is set (it would be stored in Terraform state)",
    );
  });
});

describe("RDS-MULTI-AZ (warning)", () => {
  test("passes Multi-AZ", () => {
    expect(onlyFinding(rdsMultiAz, db()).status).toBe("compliant");
  });
  test("warns on a single-AZ instance", () => {
    expect(onlyFinding(rdsMultiAz, db({ multiAz: false }))).toMatchObject({ status: "non-compliant", severity: "warning" });
  });
});

describe("RDS-DELETION-PROTECTION (warning)", () => {
  test("passes deletion protection", () => {
    expect(onlyFinding(rdsDeletionProtection, db()).status).toBe("compliant");
  });
  test("warns without deletion protection", () => {
    expect(onlyFinding(rdsDeletionProtection, db({ deletionProtection: false }))).toMatchObject({ status: "non-compliant", severity: "warning" });
  });
});
