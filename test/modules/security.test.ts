import { Testing } from "cdktf";
import { Construct } from "constructs";
import {
  AccountBaseline,
  AccountBaselineProps,
  CONFIG_MANAGED_RULES,
  DeployRole,
  DeployRoleProps,
  GithubDeployRole,
  GithubDeployRoleProps,
  MFA_MAX_AGE_SEC,
  POWER_USER_POLICY_ARN,
  Security,
  SecurityProps,
  StateAccessRole,
} from "../../modules/security";
import { Naming } from "../../lib/naming";
import { checkovSkips } from "../../lib/checkov";
import { documentOf, newStack, problemsOf, resourcesOf, synthJson } from "./fixtures";

const ACCOUNT = "111111111111";
const OPERATOR = "arn:aws:iam::123456789012:user/alice";
const baseProps: SecurityProps = { naming: new Naming("fargate", "prod"), accountId: "123456789012", region: "us-east-1" };

function synth(build: (scope: Construct) => void) {
  const text = Testing.synthScope(build);
  return { text, json: JSON.parse(text) };
}

/** Statements of policy documents and of key policies, in policy-document shape. */
const statements = (json: any) => [
  ...Object.values<any>(json.data?.aws_iam_policy_document ?? {}).flatMap((d) => d.statement),
  ...Object.values<any>(json.resource.aws_kms_key ?? {}).flatMap((k) => JSON.parse(k.policy).Statement.map(fromJson)),
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
const sid = (json: any, id: string) => statements(json).find((s) => s.sid === id);

describe("Security", () => {
  const { json } = synth((scope) => new Security(scope, "security", baseProps));

  test("creates rotating logs and data keys with aliases, and nothing account-wide", () => {
    const keys = resourcesOf(json, "aws_kms_key").map(([, k]) => k);
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.enable_key_rotation === true && k.deletion_window_in_days === 30)).toBe(true);
    expect(resourcesOf(json, "aws_kms_alias").map(([, a]) => a.name).sort()).toEqual(["alias/fargate-prod-data", "alias/fargate-prod-logs"]);
    for (const type of ["aws_cloudtrail", "aws_config_configuration_recorder", "aws_s3_bucket", "aws_iam_role"]) expect(resourcesOf(json, type)).toEqual([]);
  });

  test("grants CloudWatch Logs the logs key for this account's log groups; DescribeKey carries no encryption context, so it has its own statement", () => {
    expect(sid(json, "CloudWatchLogsUseKey")).toMatchObject({
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
      principals: [{ type: "Service", identifiers: ["logs.us-east-1.amazonaws.com"] }],
      condition: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: ["arn:aws:logs:us-east-1:123456789012:log-group:*"] }],
    });
    expect(sid(json, "CloudWatchLogsDescribeKey")).toMatchObject({ actions: ["kms:DescribeKey"], condition: undefined });
  });

  test("lets CloudWatch alarms of this account use the data key (encrypted alarm topic)", () => {
    expect(sid(json, "CloudWatchAlarmsPublishToEncryptedTopics")).toMatchObject({
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["123456789012"] }],
    });
  });
});

const deployRole: AccountBaselineProps["deployRole"] = { name: "fargate-deploy", operators: [OPERATOR], requireMfa: true, environmentStems: ["fargate-prod"] };
const accountProps: AccountBaselineProps = {
  naming: new Naming("fargate", "prod"),
  accountId: ACCOUNT,
  region: "us-east-1",
  cloudTrail: true,
  awsConfig: true,
  accessLogs: true,
  githubOidc: true,
  deployRole,
};

describe("AccountBaseline", () => {
  const account = synth((scope) => new AccountBaseline(scope, "account", accountProps));
  const { text, json } = account;

  test("a multi-region trail with log-file validation, the audit key and a CloudWatch log group kept 365 days", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudtrail" }, {
      name: "fargate-prod-audit-trail",
      is_multi_region_trail: true,
      include_global_service_events: true,
      enable_log_file_validation: true,
      enable_logging: true,
      kms_key_id: expect.stringContaining("aws_kms_key.account_audit-key"),
      cloud_watch_logs_group_arn: expect.stringContaining("aws_cloudwatch_log_group"),
      sns_topic_name: expect.stringContaining("aws_sns_topic.account_audit_cloudtrail_notifications"),
    });
    // Log-file notifications: encrypted with the audit key, published only by this trail.
    expect(resourcesOf(json, "aws_sns_topic")[0][1].kms_master_key_id).toContain("account_audit-key");
    expect(sid(json, "CloudTrailPublishes").condition).toEqual([{ test: "StringEquals", variable: "aws:SourceArn", values: [`arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/fargate-prod-audit-trail`] }]);
    expect(sid(json, "CloudTrailPublishEncryptedNotifications").actions).toEqual(["kms:GenerateDataKey*", "kms:Decrypt"]);
    const [[, group]] = resourcesOf(json, "aws_cloudwatch_log_group");
    expect(group).toMatchObject({ name: "/fargate/prod/cloudtrail", retention_in_days: 365, kms_key_id: expect.stringContaining("account_audit-key") });
    const write = sid(json, "CloudTrailWrite");
    expect(write.condition).toEqual([{ test: "StringEquals", variable: "aws:SourceArn", values: [`arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/fargate-prod-audit-trail`] }]);
    expect(write.resources).toEqual([`arn:aws:s3:::fargate-prod-audit-${ACCOUNT}/cloudtrail/AWSLogs/${ACCOUNT}/*`]);
  });

  test("the audit key lets CloudTrail encrypt for this trail and CloudWatch Logs only for the trail's group", () => {
    expect(sid(json, "CloudTrailEncryptLogs").condition).toEqual([
      { test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: [`arn:aws:cloudtrail:*:${ACCOUNT}:trail/*`] },
      { test: "StringEquals", variable: "aws:SourceArn", values: [`arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/fargate-prod-audit-trail`] },
    ]);
    expect(sid(json, "CloudWatchLogsUseKey").condition).toEqual([
      { test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/fargate/prod/cloudtrail`] },
    ]);
  });

  test("a year of retention passes checkov's retention check without a skip; a shorter, unregulated retention declares one", () => {
    const withTrail = (days: number) => {
      const stack = newStack();
      return new AccountBaseline(stack, "account", { ...accountProps, auditRetentionDays: days }).audit!.trailLogGroup!;
    };
    expect(checkovSkips(withTrail(365)).size).toBe(0);
    expect([...checkovSkips(withTrail(90)).keys()]).toEqual(["CKV_AWS_338"]);
  });

  test("AWS Config records everything to the encrypted audit bucket and evaluates the managed rules", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_config_configuration_recorder" }, { recording_group: { all_supported: true, include_global_resource_types: true } });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_config_delivery_channel" }, { s3_key_prefix: "config", s3_kms_key_arn: expect.stringContaining("audit-key") });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_config_configuration_recorder_status" }, { is_enabled: true });
    expect(resourcesOf(json, "aws_config_config_rule").map(([, r]) => r.source.source_identifier).sort()).toEqual(Object.values(CONFIG_MANAGED_RULES).sort());
  });

  test("the audit bucket is KMS-encrypted and logs access to the account's access-logs bucket (SSE-S3, the only kind log delivery writes)", () => {
    expect(resourcesOf(json, "aws_s3_bucket").map(([, b]) => b.bucket).sort()).toEqual([`fargate-prod-access-logs-${ACCOUNT}`, `fargate-prod-audit-${ACCOUNT}`]);
    const sse = resourcesOf(json, "aws_s3_bucket_server_side_encryption_configuration").map(([, c]) => c.rule[0].apply_server_side_encryption_by_default.sse_algorithm).sort();
    expect(sse).toEqual(["AES256", "aws:kms"]);
    const [[, logging]] = resourcesOf(json, "aws_s3_bucket_logging");
    expect(logging.target_bucket).toContain("aws_s3_bucket.account_access-logs_bucket");
  });

  test("the GitHub OIDC provider for the STS audience, without thumbprints", () => {
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_iam_openid_connect_provider" }, { url: "https://token.actions.githubusercontent.com", client_id_list: ["sts.amazonaws.com"] });
    expect(resourcesOf(json, "aws_iam_openid_connect_provider")[0][1]).not.toHaveProperty("thumbprint_list");
  });

  test("features switched off leave the trail, the recorder, the logs bucket or the OIDC provider out", () => {
    const off = synth((scope) => new AccountBaseline(scope, "account", { ...accountProps, awsConfig: false, accessLogs: false, githubOidc: false })).json;
    expect(resourcesOf(off, "aws_cloudtrail")).toHaveLength(1);
    expect(resourcesOf(off, "aws_config_configuration_recorder")).toEqual([]);
    expect(resourcesOf(off, "aws_iam_openid_connect_provider")).toEqual([]);
    expect(resourcesOf(off, "aws_s3_bucket").map(([, b]) => b.bucket)).toEqual([`fargate-prod-audit-${ACCOUNT}`]);
    const none = synth((scope) => new AccountBaseline(scope, "account", { ...accountProps, cloudTrail: false, awsConfig: false })).json;
    expect(resourcesOf(none, "aws_kms_key")).toEqual([]);
    expect(resourcesOf(none, "aws_iam_role").map(([, r]) => r.name)).toEqual(["fargate-deploy"]);
  });
});

describe("DeployRole", () => {
  const roleProps: DeployRoleProps = {
    name: "fargate-deploy",
    accountId: ACCOUNT,
    operators: [OPERATOR],
    requireMfa: true,
    externalId: "fargate-prod-deploy",
    managedNamePrefixes: ["fargate-prod-"],
    protectedTrailArn: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`,
    protectedBucketArns: ["arn:aws:s3:::audit"],
    protectedKeyArns: [`arn:aws:kms:us-east-1:${ACCOUNT}:key/audit`],
  };
  const build = (props: Partial<DeployRoleProps> = {}) => {
    const stack = newStack();
    const role = new DeployRole(stack, "deploy-role", { ...roleProps, ...props });
    return { stack, role, json: synthJson(stack) };
  };
  const trustOf = (json: any) => documentOf(json, resourcesOf(json, "aws_iam_role")[0][1].assume_role_policy).statement;
  const policyOf = (json: any) => documentOf(json, resourcesOf(json, "aws_iam_role_policy")[0][1].policy).statement;

  test("prod: the operators may assume it only with a recent MFA sign-in and the external ID", () => {
    expect(trustOf(build().json)).toEqual([
      {
        sid: "OperatorsWithMfa",
        effect: "Allow",
        actions: ["sts:AssumeRole"],
        principals: [{ type: "AWS", identifiers: [OPERATOR] }],
        condition: [
          { test: "Bool", variable: "aws:MultiFactorAuthPresent", values: ["true"] },
          { test: "NumericLessThan", variable: "aws:MultiFactorAuthAge", values: [String(MFA_MAX_AGE_SEC)] },
          { test: "StringEquals", variable: "sts:ExternalId", values: ["fargate-prod-deploy"] },
        ],
      },
    ]);
  });

  test("non-prod: the operators may assume it without MFA", () => {
    const [statement] = trustOf(build({ requireMfa: false, externalId: undefined }).json);
    expect(statement).toMatchObject({ sid: "Operators", principals: [{ type: "AWS", identifiers: [OPERATOR] }] });
    expect(statement.condition).toBeUndefined();
  });

  test("IAM only on the environments' own role names; AWS service-role policies only; everything else through PowerUserAccess", () => {
    const { json } = build();
    const policy = policyOf(json);
    const byId = Object.fromEntries(policy.map((s: any) => [s.sid, s]));
    expect(byId.ManageEnvironmentRoles.resources).toEqual([`arn:aws:iam::${ACCOUNT}:role/fargate-prod-*`]);
    expect(byId.PassEnvironmentRoles).toMatchObject({ actions: ["iam:PassRole"], resources: [`arn:aws:iam::${ACCOUNT}:role/fargate-prod-*`] });
    expect(byId.AttachServiceRolePolicies.condition).toEqual([{ test: "ArnLike", variable: "iam:PolicyARN", values: ["arn:aws:iam::aws:policy/service-role/*"] }]);
    expect(resourcesOf(json, "aws_iam_role_policy_attachment").map(([, a]) => a.policy_arn)).toEqual([POWER_USER_POLICY_ARN]);
  });

  test("denies any change to the audit trail, the recorder, the audit records and the audit key", () => {
    const denies = policyOf(build().json).filter((s: any) => s.effect === "Deny");
    expect(Object.fromEntries(denies.map((s: any) => [s.sid, s.resources]))).toEqual({
      ProtectAuditTrail: [roleProps.protectedTrailArn],
      ProtectConfigRecorder: ["*"],
      ProtectAuditRecords: ["arn:aws:s3:::audit", "arn:aws:s3:::audit/*"],
      ProtectAuditKey: roleProps.protectedKeyArns,
    });
    expect(denies.find((s: any) => s.sid === "ProtectAuditTrail").actions).toContain("cloudtrail:StopLogging");
  });

  test("throws when the role could rewrite itself, trusts nobody or a wildcard, or its session limit is out of range", () => {
    const { stack } = build({ name: "fargate-prod-deploy", operators: [], maxSessionDurationSec: 60 });
    expect(problemsOf(stack)).toEqual([
      "test/deploy-role: operators: a deploy role needs at least one operator principal; got none",
      'test/deploy-role: name: "fargate-prod-deploy" starts with the managed prefix "fargate-prod-", so the role could rewrite its own policies; choose a name outside every environment\'s prefix',
      "test/deploy-role: maxSessionDurationSec must be a whole number from 3600 to 43200; got 60",
    ]);
    expect(problemsOf(build({ operators: ["*"] }).stack)).toEqual(['test/deploy-role: operators: "*" is not an IAM user, role or account-root ARN; wildcards are never principals']);
  });
});

describe("GithubDeployRole", () => {
  const ghProps: GithubDeployRoleProps = {
    naming: new Naming("fargate", "prod"),
    accountId: ACCOUNT,
    region: "us-east-1",
    oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
    subject: "repo:example-org/apps:environment:prod",
    repositoryArns: [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate-prod/api`],
    serviceArns: [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/fargate-prod-cluster/fargate-prod-api`],
    taskDefinitionFamilies: ["fargate-prod-api"],
    taskRoleArns: [`arn:aws:iam::${ACCOUNT}:role/fargate-prod-api-execution`],
  };
  const build = (props: Partial<GithubDeployRoleProps> = {}) => {
    const stack = newStack();
    new GithubDeployRole(stack, "github", { ...ghProps, ...props });
    return { stack, json: synthJson(stack) };
  };

  test("trusts only the STS audience and the one repository's environment", () => {
    const { json } = build();
    const [trust] = documentOf(json, resourcesOf(json, "aws_iam_role")[0][1].assume_role_policy).statement;
    expect(trust).toEqual({
      sid: "GithubActionsOidc",
      effect: "Allow",
      actions: ["sts:AssumeRoleWithWebIdentity"],
      principals: [{ type: "Federated", identifiers: [ghProps.oidcProviderArn] }],
      condition: [
        { test: "StringEquals", variable: "token.actions.githubusercontent.com:aud", values: ["sts.amazonaws.com"] },
        { test: "StringEquals", variable: "token.actions.githubusercontent.com:sub", values: ["repo:example-org/apps:environment:prod"] },
      ],
    });
    expect(resourcesOf(json, "aws_iam_role")[0][1].name).toBe("fargate-prod-github-deploy");
  });

  test("a branch pattern stays inside the repository (StringLike)", () => {
    const { json } = build({ subject: "repo:example-org/apps:ref:refs/heads/release/*" });
    const [trust] = documentOf(json, resourcesOf(json, "aws_iam_role")[0][1].assume_role_policy).statement;
    expect(trust.condition[1]).toEqual({ test: "StringLike", variable: "token.actions.githubusercontent.com:sub", values: ["repo:example-org/apps:ref:refs/heads/release/*"] });
  });

  test("may push to its repositories and release its services, nothing else", () => {
    const { json } = build();
    const policy = documentOf(json, resourcesOf(json, "aws_iam_role_policy")[0][1].policy).statement;
    expect(Object.fromEntries(policy.map((s: any) => [s.sid, s.resources]))).toEqual({
      EcrLogin: ["*"],
      PushOwnImages: ghProps.repositoryArns,
      RegisterRevisions: ["*"],
      TagNewRevisions: [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/fargate-prod-api:*`],
      ReleaseOwnServices: ghProps.serviceArns,
      PassOwnTaskRoles: ghProps.taskRoleArns,
    });
    expect(policy.find((s: any) => s.sid === "PassOwnTaskRoles").condition).toEqual([{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }]);
    expect(policy.flatMap((s: any) => s.actions).filter((a: string) => !/^(ecr|ecs|iam:PassRole)/.test(a))).toEqual([]);
  });

  test("throws when the subject is wildcarded to the whole organisation or malformed", () => {
    expect(problemsOf(build({ subject: "repo:example-org/*" }).stack)).toEqual([
      'test/github: subject "repo:example-org/*" trusts every repository of "example-org" (wildcarded to the whole organisation); name one repository',
    ]);
    expect(problemsOf(build({ subject: "example-org/apps" }).stack)).toEqual([
      'test/github: subject must be repo:<owner>/<repo>:ref:refs/heads/<branch> or repo:<owner>/<repo>:environment:<name>; got "example-org/apps"',
    ]);
  });
});

describe("StateAccessRole", () => {
  const stack = newStack();
  new StateAccessRole(stack, "state-access", {
    name: "fargate-tfstate-prod",
    region: "us-east-1",
    operators: [OPERATOR],
    requireMfa: true,
    bucketName: "state-bucket",
    lockTableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/lock",
    kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/state",
    keyPrefixes: ["fargate/account-prod/", "fargate/prod/"],
    tier: "prod",
  });
  const json = synthJson(stack);
  const [[, role]] = resourcesOf(json, "aws_iam_role");

  test("reaches only its account's state objects and lock items, and the key only through S3 and DynamoDB", () => {
    const policy = documentOf(json, resourcesOf(json, "aws_iam_role_policy")[0][1].policy).statement;
    const byId = Object.fromEntries(policy.map((s: any) => [s.sid, s]));
    expect(byId.ReadWriteOwnState.resources).toEqual(["arn:aws:s3:::state-bucket/fargate/account-prod/*", "arn:aws:s3:::state-bucket/fargate/prod/*"]);
    expect(byId.LockOwnState.condition).toEqual([{ test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: ["state-bucket/fargate/account-prod/*", "state-bucket/fargate/prod/*"] }]);
    expect(byId.UseStateKeyThroughS3AndDynamodb.condition).toEqual([{ test: "StringEquals", variable: "kms:ViaService", values: ["s3.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com"] }]);
  });

  test("is tagged with its account's tier and trusts the operators with MFA", () => {
    expect(role.tags).toEqual({ Environment: "prod" });
    expect(documentOf(json, role.assume_role_policy).statement[0].sid).toBe("OperatorsWithMfa");
  });
});
