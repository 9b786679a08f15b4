import { Construct } from "constructs";
import { Token } from "cdktf";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { nameProblem } from "../../lib/naming";
import { policyDocument } from "../../lib/iam-policy";

/** Oldest MFA sign-in (seconds) a prod session may carry: one working day. */
export const MFA_MAX_AGE_SEC = 43_200;

/** AWS's managed policy for everything but IAM, Organizations and Account management. */
export const POWER_USER_POLICY_ARN = "arn:aws:iam::aws:policy/PowerUserAccess";

/** IAM actions Terraform needs to manage an environment's roles and their policies. */
const ROLE_ACTIONS = [
  "iam:CreateRole",
  "iam:DeleteRole",
  "iam:GetRole",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
  "iam:UpdateAssumeRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:ListRoleTags",
  "iam:PutRolePolicy",
  "iam:GetRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:ListRolePolicies",
  "iam:ListAttachedRolePolicies",
  "iam:ListInstanceProfilesForRole",
];

export interface DeployRoleProps {
  /** Role name (1-64 characters). */
  readonly name: string;
  readonly accountId: string;
  /** Human principals (IAM users, roles, account roots) that may assume the role. */
  readonly operators: readonly string[];
  /**
   * Trust only sessions signed in with MFA (`aws:MultiFactorAuthPresent`, at most
   * MFA_MAX_AGE_SEC old): required for prod.
   */
  readonly requireMfa: boolean;
  /**
   * Callers must present this external ID (`sts:ExternalId`).
   * @default - none
   */
  readonly externalId?: string;
  /**
   * Name prefixes (`<project>-<env>-`) of the environments this role deploys: its IAM writes
   * and `iam:PassRole` reach only roles under them. Empty: no IAM writes at all.
   */
  readonly managedNamePrefixes: readonly string[];
  /**
   * The account's trail, which the role may never stop, change or delete.
   * @default - no trail
   */
  readonly protectedTrailArn?: string;
  /**
   * The audit and access-logs buckets, whose records and settings the role may never change.
   * @default []
   */
  readonly protectedBucketArns?: readonly string[];
  /**
   * The audit key, which the role may never disable, delete or re-police.
   * @default []
   */
  readonly protectedKeyArns?: readonly string[];
  /**
   * Longest session, in seconds (an environment apply must fit in one).
   * @default 3600
   */
  readonly maxSessionDurationSec?: number;
}

/**
 * The role an environment stack's provider assumes: trusted by the operators (with MFA where
 * required, and the external ID where set), allowed what Terraform needs to build an
 * environment (AWS's PowerUserAccess for every service but IAM, plus IAM on the environment's
 * own role names), and denied, explicitly, anything that would change the account's audit
 * trail, Config recorder, audit and access-log records or audit key. The account stack
 * itself is applied with the bootstrap role, so the deploy role never needs those rights.
 */
export class DeployRole extends Construct {
  public readonly role: IamRole;
  /** The PowerUserAccess attachment (the stack records the policy-pack suppression and its reason). */
  public readonly powerUser: IamRolePolicyAttachment;

  constructor(scope: Construct, id: string, props: DeployRoleProps) {
    super(scope, id);
    validate(this, props);
    const { accountId } = props;

    this.role = new IamRole(this, "role", {
      name: props.name,
      description: `Deploys the environments of account ${accountId}${props.requireMfa ? " (operators with MFA only)" : ""}`,
      maxSessionDuration: props.maxSessionDurationSec ?? 3600,
      assumeRolePolicy: policyDocument(this, "trust-policy", [operatorTrust(props.operators, props.requireMfa, props.externalId)]),
    });

    // Every service Terraform creates for an environment except IAM (AWS maintains the list).
    this.powerUser = new IamRolePolicyAttachment(this, "power-user", { role: this.role.name, policyArn: POWER_USER_POLICY_ARN });

    new IamRolePolicy(this, "policy", {
      name: "environment-iam-and-audit-guard",
      role: this.role.id,
      policy: policyDocument(this, "policy-document", [...environmentIam(accountId, props.managedNamePrefixes), ...auditGuard(props)]),
    });
  }
}

/**
 * The trust statement of a role humans assume: the operators, with a recent MFA sign-in
 * where `requireMfa` (`Bool aws:MultiFactorAuthPresent true`: the key is absent for long-term
 * keys, so only MFA sessions match), and the external ID where given.
 */
export function operatorTrust(operators: readonly string[], requireMfa: boolean, externalId?: string): DataAwsIamPolicyDocumentStatement {
  const conditions = [
    ...(requireMfa
      ? [
          { test: "Bool", variable: "aws:MultiFactorAuthPresent", values: ["true"] },
          { test: "NumericLessThan", variable: "aws:MultiFactorAuthAge", values: [String(MFA_MAX_AGE_SEC)] },
        ]
      : []),
    ...(externalId ? [{ test: "StringEquals", variable: "sts:ExternalId", values: [externalId] }] : []),
  ];
  return {
    sid: requireMfa ? "OperatorsWithMfa" : "Operators",
    effect: "Allow",
    actions: ["sts:AssumeRole"],
    principals: [{ type: "AWS", identifiers: [...operators] }],
    condition: conditions.length ? conditions : undefined,
  };
}

/** IAM on the environments' own role names only: nothing else in the account, never itself. */
function environmentIam(accountId: string, prefixes: readonly string[]): DataAwsIamPolicyDocumentStatement[] {
  if (!prefixes.length) return [];
  const roles = prefixes.map((p) => `arn:aws:iam::${accountId}:role/${p}*`);
  return [
    { sid: "ManageEnvironmentRoles", effect: "Allow", actions: ROLE_ACTIONS, resources: roles },
    { sid: "PassEnvironmentRoles", effect: "Allow", actions: ["iam:PassRole"], resources: roles },
    {
      // Environment roles use AWS service-role policies (RDS monitoring); nothing broader.
      sid: "AttachServiceRolePolicies",
      effect: "Allow",
      actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
      resources: roles,
      condition: [{ test: "ArnLike", variable: "iam:PolicyARN", values: ["arn:aws:iam::aws:policy/service-role/*"] }],
    },
  ];
}

/** Explicit denies: an environment deploy can never weaken the account's audit record. */
function auditGuard(props: DeployRoleProps): DataAwsIamPolicyDocumentStatement[] {
  const buckets = props.protectedBucketArns ?? [];
  const keys = props.protectedKeyArns ?? [];
  return [
    ...(props.protectedTrailArn
      ? [
          {
            sid: "ProtectAuditTrail",
            effect: "Deny",
            actions: ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors", "cloudtrail:RemoveTags"],
            resources: [props.protectedTrailArn],
          },
        ]
      : []),
    {
      // Config recorders and delivery channels have no ARN: the deny covers them all.
      sid: "ProtectConfigRecorder",
      effect: "Deny",
      actions: ["config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:PutConfigurationRecorder", "config:DeleteDeliveryChannel", "config:PutDeliveryChannel"],
      resources: ["*"],
    },
    ...(buckets.length
      ? [
          {
            sid: "ProtectAuditRecords",
            effect: "Deny",
            actions: [
              "s3:DeleteBucket",
              "s3:PutBucketPolicy",
              "s3:DeleteBucketPolicy",
              "s3:PutLifecycleConfiguration",
              "s3:PutBucketVersioning",
              "s3:PutEncryptionConfiguration",
              "s3:PutBucketLogging",
              "s3:PutBucketPublicAccessBlock",
              "s3:PutBucketOwnershipControls",
              "s3:PutObject",
              "s3:DeleteObject",
              "s3:DeleteObjectVersion",
            ],
            resources: buckets.flatMap((b) => [b, `${b}/*`]),
          },
        ]
      : []),
    ...(keys.length
      ? [
          {
            sid: "ProtectAuditKey",
            effect: "Deny",
            actions: ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:UpdateKeyDescription"],
            resources: [...keys],
          },
        ]
      : []),
  ];
}

function validate(scope: Construct, props: DeployRoleProps): void {
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      const nameIssue = nameProblem("iamRole", props.name);
      if (nameIssue) problems.push(`name: ${nameIssue}`);
      if (!props.operators.length) problems.push(`operators: a deploy role needs at least one operator principal; got none`);
      for (const p of props.operators) {
        if (!Token.isUnresolved(p) && !/^arn:aws[\w-]*:iam::\d{12}:(root|user\/.+|role\/.+)$/.test(p)) {
          problems.push(`operators: ${JSON.stringify(p)} is not an IAM user, role or account-root ARN; wildcards are never principals`);
        }
      }
      const own = props.managedNamePrefixes.find((prefix) => props.name.startsWith(prefix));
      if (own) problems.push(`name: ${JSON.stringify(props.name)} starts with the managed prefix ${JSON.stringify(own)}, so the role could rewrite its own policies; choose a name outside every environment's prefix`);
      const max = props.maxSessionDurationSec ?? 3600;
      if (!Number.isInteger(max) || max < 3600 || max > 43_200) problems.push(`maxSessionDurationSec must be a whole number from 3600 to 43200; got ${max}`);
      return problems;
    },
  });
}
