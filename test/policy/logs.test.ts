import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { logsKms, logsRetention } from "../../src/policy/rules";
import { onlyFinding } from "./fixtures";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

describe("LOGS-KMS", () => {
  test("passes a log group with kms_key_id", () => {
    expect(onlyFinding(logsKms, (s) => new CloudwatchLogGroup(s, "logs", { name: "x", kmsKeyId: KEY, retentionInDays: 7 })).status).toBe("compliant");
  });
  test("fails a log group without kms_key_id", () => {
    expect(onlyFinding(logsKms, (s) => new CloudwatchLogGroup(s, "logs", { name: "x", retentionInDays: 7 })).message).toMatch(/^\[LOGS-KMS\] aws_cloudwatch_log_group\.logs: kms_key_id is not set \(CKV_AWS_158\)$/);
  });
});

describe("LOGS-RETENTION", () => {
  test("passes a log group with a retention", () => {
    expect(onlyFinding(logsRetention, (s) => new CloudwatchLogGroup(s, "logs", { name: "x", kmsKeyId: KEY, retentionInDays: 30 })).status).toBe("compliant");
  });
  test("fails a log group kept forever (no retention, or 0)", () => {
    expect(onlyFinding(logsRetention, (s) => new CloudwatchLogGroup(s, "logs", { name: "x", kmsKeyId: KEY })).status).toBe("non-compliant");
    expect(onlyFinding(logsRetention, (s) => new CloudwatchLogGroup(s, "logs", { name: "x", kmsKeyId: KEY, retentionInDays: 0 })).status).toBe("non-compliant");
  });
});
