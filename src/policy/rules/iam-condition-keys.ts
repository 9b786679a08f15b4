import { iamGlobMatch, policyAttributes, policyStatements, statementLabel } from "../iam";
import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";

/** A service condition key and the actions whose requests carry it. */
export interface ConditionKeySpec {
  /** The key (case-insensitive), or a pattern for a key family. */
  readonly key: string | RegExp;
  /** Actions (or `service:*`) that support the key, per AWS's service authorization reference. */
  readonly actions: readonly string[];
}

const KMS_CONTEXT_ACTIONS = [
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyPair",
  "kms:GenerateDataKeyPairWithoutPlaintext",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
];
const DYNAMODB_ITEM_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PartiQLDelete",
  "dynamodb:PartiQLInsert",
  "dynamodb:PartiQLSelect",
  "dynamodb:PartiQLUpdate",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
];
const POLICY_ATTACH_ACTIONS = ["iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:DetachGroupPolicy", "iam:DetachRolePolicy", "iam:DetachUserPolicy"];

/**
 * Service-specific condition keys the platform uses, each with the actions that carry it
 * (AWS service authorization reference, "Actions defined by <service>", column "Condition
 * keys"). A key on an action that never carries it makes that part of the statement dead: an
 * Allow never allows it, a Deny never denies it. Global keys (`aws:*`) are in every request's
 * context and are not listed. Add a key here before using it, with the actions the reference lists.
 */
export const CONDITION_KEY_ACTIONS: readonly ConditionKeySpec[] = [
  { key: /^kms:EncryptionContext:/i, actions: KMS_CONTEXT_ACTIONS },
  { key: "kms:EncryptionContextKeys", actions: KMS_CONTEXT_ACTIONS },
  // Every operation on a key (not CreateKey, ListKeys, ... which have none).
  { key: "kms:ViaService", actions: ["kms:*"] },
  { key: "kms:CallerAccount", actions: ["kms:*"] },
  { key: "kms:GrantIsForAWSResource", actions: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"] },
  { key: "sts:ExternalId", actions: ["sts:AssumeRole"] },
  { key: "sts:SourceIdentity", actions: ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"] },
  // OIDC claims (`<issuer host>:aud`, `:sub`, ...) exist only in web-identity federation requests.
  { key: /^[a-z0-9-]+(\.[a-z0-9-]+)+(\/[\w./-]*)?:[\w-]+$/i, actions: ["sts:AssumeRoleWithWebIdentity"] },
  { key: /^saml:/i, actions: ["sts:AssumeRoleWithSAML"] },
  { key: "iam:PassedToService", actions: ["iam:PassRole"] },
  { key: "iam:AssociatedResourceArn", actions: ["iam:PassRole"] },
  { key: "iam:PolicyARN", actions: POLICY_ATTACH_ACTIONS },
  { key: "iam:AWSServiceName", actions: ["iam:CreateServiceLinkedRole"] },
  { key: "dynamodb:LeadingKeys", actions: DYNAMODB_ITEM_ACTIONS },
  { key: "s3:prefix", actions: ["s3:ListBucket", "s3:ListBucketVersions"] },
  { key: "s3:x-amz-server-side-encryption", actions: ["s3:PutObject"] },
  { key: "s3:x-amz-server-side-encryption-aws-kms-key-id", actions: ["s3:PutObject"] },
  { key: "ecs:CreateAction", actions: ["ecs:TagResource"] },
  {
    key: "ecs:cluster",
    actions: ["ecs:CreateService", "ecs:DeleteService", "ecs:DescribeServices", "ecs:UpdateService", "ecs:RunTask", "ecs:StartTask", "ecs:StopTask", "ecs:DescribeTasks", "ecs:ListTasks", "ecs:TagResource", "ecs:UntagResource"],
  },
  { key: "cloudwatch:namespace", actions: ["cloudwatch:PutMetricData"] },
  { key: "sns:Protocol", actions: ["sns:Subscribe"] },
  { key: "sns:Endpoint", actions: ["sns:Subscribe"] },
  { key: "codestar-connections:FullRepositoryId", actions: ["codestar-connections:UseConnection", "codeconnections:UseConnection"] },
];

function specFor(variable: string): ConditionKeySpec | undefined {
  return CONDITION_KEY_ACTIONS.find(({ key }) => (typeof key === "string" ? key.toLowerCase() === variable.toLowerCase() : key.test(variable)));
}

/** True when some action the pattern covers supports the key (both sides may be wildcards). */
function carries(actionPattern: string, supported: readonly string[]): boolean {
  return supported.some((s) => iamGlobMatch(actionPattern, s) || iamGlobMatch(s, actionPattern));
}

export const iamConditionKeys: PolicyRule = {
  id: "IAM-CONDITION-KEYS",
  description: "Every service condition key of a policy statement is one its actions' requests carry (a key an action never carries leaves that part of the grant dead).",
  severity: "error",
  // No checkov or Security Hub control; IAM Access Analyzer policy validation reports the same ("condition key not supported").
  controls: [],
  resourceTypes: [
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_kms_key",
    "aws_s3_bucket_policy",
    "aws_sns_topic_policy",
    "aws_cloudwatch_log_resource_policy",
    "aws_ecr_repository_policy",
    "aws_secretsmanager_secret_policy",
  ],
  check(resource, ctx) {
    const policies = policyAttributes(resource);
    if (!policies.length) return notApplicable();
    const found: string[] = [];
    let conditions = 0;
    for (const policy of policies) {
      const { inspectable, statements, source } = policyStatements(policy.value, ctx);
      if (!inspectable) {
        found.push(`${policy.label} is an expression the policy pack cannot read (${source}); build it with data.aws_iam_policy_document`);
        continue;
      }
      statements.forEach((s, i) => {
        for (const c of s.conditions) {
          conditions++;
          if (/^aws:/i.test(c.variable)) continue;
          const spec = specFor(c.variable);
          const where = `${statementLabel(s, i)} of ${s.source ?? source}`;
          if (!spec) {
            found.push(`${where}: condition key ${c.variable} is not in CONDITION_KEY_ACTIONS (src/policy/rules/iam-condition-keys.ts); add it with the actions AWS's service authorization reference lists for it`);
            continue;
          }
          const dead = s.actions.filter((a) => !carries(a, spec.actions));
          if (dead.length) {
            found.push(`${where}: no ${dead.join(", ")} request carries ${c.variable}, so ${s.effect === "Deny" ? "the deny never applies to" : "the statement never allows"} ${dead.length === 1 ? "it" : "them"}; move ${dead.length === 1 ? "it" : "them"} to a statement without that condition`);
          }
        }
      });
    }
    if (found.length) return nonCompliant(found.join("; "));
    return conditions ? compliant() : notApplicable("no conditions");
  },
};
