import { Testing } from "cdktf";
import { Construct } from "constructs";
import { CONFIG_MANAGED_RULES, Security, SecurityProps } from "../../modules/security";
import { Naming } from "../../lib/naming";
import { resourcesOf } from "../helpers";

const baseProps: SecurityProps = { naming: new Naming("fargate", "prod"), accountId: "123456789012", region: "us-east-1" };

function synth(props: Partial<SecurityProps> = {}) {
  const text = Testing.synthScope((scope: Construct) => {
    new Security(scope, "security", { ...baseProps, ...props });
  });
  return { text, json: JSON.parse(text) };
}

/** Statements of policy documents and of key policies, in policy-document shape. */
const statements = (json: any) => [
  ...Object.values<any>(json.data?.aws_iam_policy_document ?? {}).flatMap((d) => d.statement),
  ...Object.values<any>(json.resource.aws_kms_key).flatMap((k) => JSON.parse(k.policy).Statement.map(fromJson)),
];
const asList = (v: unknown) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
function fromJson(st: any) {
  return {
    sid: st.Sid,
    effect: st.Effect,
    actions: asList(st.Action),
    resources: asList(st.Resource),
    principals: st.Principal && Object.entries(st.Principal).map(([type, ids]) => ({ type, identifiers: asList(ids) })),
    condition:
      st.Condition &&
      Object.entries<any>(st.Condition).flatMap(([test, vars]) => Object.entries(vars).map(([variable, values]) => ({ test, variable, values: asList(values) }))),
  };
}

describe("Security", () => {
  test("creates rotating logs and data keys with aliases by default, and nothing account-wide", () => {
    const { json } = synth();
    const keys = resourcesOf(json, "aws_kms_key").map(([, k]) => k);
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.enable_key_rotation === true && k.deletion_window_in_days === 30)).toBe(true);
    expect(resourcesOf(json, "aws_kms_alias").map(([, a]) => a.name).sort()).toEqual(["alias/fargate-prod-data", "alias/fargate-prod-logs"]);
    expect(resourcesOf(json, "aws_cloudtrail")).toEqual([]);
    expect(resourcesOf(json, "aws_config_configuration_recorder")).toEqual([]);
    expect(resourcesOf(json, "aws_s3_bucket")).toEqual([]);
  });

  test("grants CloudWatch Logs use of the logs key only for this account's log groups", () => {
    const grant = statements(synth().json).find((s) => s.sid === "CloudWatchLogsUseKey");
    expect(grant.principals).toEqual([{ type: "Service", identifiers: ["logs.us-east-1.amazonaws.com"] }]);
    expect(grant.condition).toEqual([{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: ["arn:aws:logs:us-east-1:123456789012:log-group:*"] }]);
  });

  test("lets CloudWatch alarms of this account use the data key (encrypted alarm topic)", () => {
    const grant = statements(synth().json).find((s) => s.sid === "CloudWatchAlarmsPublishToEncryptedTopics");
    expect(grant).toMatchObject({
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["123456789012"] }],
    });
  });

  const baseline = { cloudTrail: true, awsConfig: true, logRetentionDays: 90 };

  test("account baseline: a multi-region trail with log validation, KMS and CloudWatch Logs", () => {
    const { text, json } = synth({ accountBaseline: baseline, accessLogs: true });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudtrail" }, {
      name: "fargate-prod-audit-trail",
      is_multi_region_trail: true,
      include_global_service_events: true,
      enable_log_file_validation: true,
      enable_logging: true,
      kms_key_id: expect.stringContaining("aws_kms_key.security_audit-key"),
      cloud_watch_logs_group_arn: expect.stringContaining("aws_cloudwatch_log_group"),
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_log_group" }, { name: "/fargate/prod/cloudtrail", retention_in_days: 90 });
    const write = statements(json).find((s) => s.sid === "CloudTrailWrite");
    expect(write.condition).toEqual([{ test: "StringEquals", variable: "aws:SourceArn", values: ["arn:aws:cloudtrail:us-east-1:123456789012:trail/fargate-prod-audit-trail"] }]);
    expect(write.resources).toEqual(["arn:aws:s3:::fargate-prod-audit-123456789012/cloudtrail/AWSLogs/123456789012/*"]);
    const keyGrant = statements(json).find((s) => s.sid === "CloudTrailEncryptLogs");
    expect(keyGrant.condition).toContainEqual({ test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: ["arn:aws:cloudtrail:*:123456789012:trail/*"] });
  });

  test("account baseline: AWS Config records everything to the encrypted audit bucket and evaluates managed rules", () => {
    const { text, json } = synth({ accountBaseline: baseline });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_config_configuration_recorder" }, { recording_group: { all_supported: true, include_global_resource_types: true } });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_config_delivery_channel" }, { s3_key_prefix: "config", s3_kms_key_arn: expect.stringContaining("audit-key") });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_config_configuration_recorder_status" }, { is_enabled: true });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_iam_role_policy_attachment" }, { policy_arn: "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole" });
    const rules = resourcesOf(json, "aws_config_config_rule").map(([, r]) => r.source.source_identifier);
    expect(rules.sort()).toEqual(Object.values(CONFIG_MANAGED_RULES).sort());
    const trust = statements(json).filter((s) => s.principals?.[0]?.identifiers?.includes("config.amazonaws.com") && s.actions.includes("sts:AssumeRole"));
    expect(trust[0].condition).toEqual([{ test: "StringEquals", variable: "aws:SourceAccount", values: ["123456789012"] }]);
  });

  test("the audit bucket is KMS-encrypted and logs access to the access-logs bucket, which uses SSE-S3", () => {
    const { json } = synth({ accountBaseline: baseline, accessLogs: true });
    const buckets = resourcesOf(json, "aws_s3_bucket").map(([, b]) => b.bucket).sort();
    expect(buckets).toEqual(["fargate-prod-access-logs-123456789012", "fargate-prod-audit-123456789012"]);
    const sse = resourcesOf(json, "aws_s3_bucket_server_side_encryption_configuration").map(([, c]) => c.rule[0].apply_server_side_encryption_by_default.sse_algorithm).sort();
    expect(sse).toEqual(["AES256", "aws:kms"]);
    const [[, logging]] = resourcesOf(json, "aws_s3_bucket_logging");
    expect(logging.target_bucket).toContain("aws_s3_bucket.security_access-logs_bucket");
  });

  test("features switched off leave the trail or the recorder out", () => {
    const trailOnly = synth({ accountBaseline: { ...baseline, awsConfig: false } }).json;
    expect(resourcesOf(trailOnly, "aws_cloudtrail")).toHaveLength(1);
    expect(resourcesOf(trailOnly, "aws_config_configuration_recorder")).toEqual([]);
    const none = synth({ accountBaseline: { ...baseline, cloudTrail: false, awsConfig: false } }).json;
    expect(resourcesOf(none, "aws_kms_key")).toHaveLength(2);
    expect(resourcesOf(none, "aws_s3_bucket")).toEqual([]);
  });
});
