import { formatRules, formatStackReport } from "../../src/policy/report";
import { ALL_RULES } from "../../src/policy/rules";
import { Finding } from "../../src/policy/types";

const finding = (f: Partial<Finding>): Finding => ({ ruleId: "X-Y", severity: "error", controls: [], address: "aws_x.a", path: "s/a", status: "compliant", ...f });

describe("formatStackReport", () => {
  test("lists rule, resource, status and suppression reason, failures first, with a summary", () => {
    const text = formatStackReport("fargate-prod", [
      finding({ ruleId: "KMS-ROTATION", address: "aws_kms_key.k", status: "compliant" }),
      finding({ ruleId: "S3-VERSIONING", address: "aws_s3_bucket.b", status: "suppressed", suppressionReason: "scratch bucket, rebuilt nightly" }),
      finding({ ruleId: "LOGS-KMS", address: "aws_cloudwatch_log_group.l", status: "non-compliant", reason: "kms_key_id is not set" }),
      finding({ ruleId: "RDS-MULTI-AZ", address: "aws_db_instance.d", severity: "warning", status: "non-compliant", reason: "multi_az is not true" }),
      finding({ ruleId: "ALB-TLS-POLICY", address: "aws_lb_listener.http", status: "not-applicable" }),
    ]);
    const lines = text.split("\n");
    expect(lines[0]).toBe("== fargate-prod: 1 error(s), 1 warning(s), 1 suppressed, 1 compliant, 1 not applicable");
    expect(lines[1]).toMatch(/^RULE\s+RESOURCE\s+STATUS\s+REASON \/ SUPPRESSION REASON$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/))).toEqual([
      ["LOGS-KMS", "aws_cloudwatch_log_group.l", "FAIL (error)", "kms_key_id is not set"],
      ["RDS-MULTI-AZ", "aws_db_instance.d", "WARN", "multi_az is not true"],
      ["S3-VERSIONING", "aws_s3_bucket.b", "suppressed", "scratch bucket, rebuilt nightly"],
      ["KMS-ROTATION", "aws_kms_key.k"],
    ].map((row) => (row.length === 2 ? [...row, "compliant"] : row)));
  });
});

describe("formatRules", () => {
  test("lists every rule with its severity and controls", () => {
    const text = formatRules();
    expect(text.split("\n")).toHaveLength(ALL_RULES.length);
    expect(text).toMatch(/^S3-ENCRYPTION\s+error\s+CKV_AWS_145, S3\.17\s+S3 buckets encrypt/m);
    expect(text).toMatch(/^ECS-READONLY-ROOT\s+warning\s+CKV_AWS_336, ECS\.5/m);
  });
});
