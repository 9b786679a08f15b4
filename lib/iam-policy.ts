import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import {
  DataAwsIamPolicyDocument,
  DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";

/**
 * A policy document built by Terraform locally (`aws_iam_policy_document` makes no AWS call),
 * so statements are typed and references resolve, instead of hand-written JSON strings.
 * @returns the rendered JSON, for `policy` / `assume_role_policy` arguments
 */
export function policyDocument(scope: Construct, id: string, statements: DataAwsIamPolicyDocumentStatement[]): string {
  return new DataAwsIamPolicyDocument(scope, id, { statement: statements }).json;
}

/**
 * Trust policy for an AWS service principal, limited to this account with
 * `aws:SourceAccount` (stops the confused-deputy problem).
 */
export function serviceTrustPolicy(scope: Construct, id: string, service: string, accountId: string): string {
  return policyDocument(scope, id, [
    {
      sid: "TrustService",
      effect: "Allow",
      actions: ["sts:AssumeRole"],
      principals: [{ type: "Service", identifiers: [service] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
    },
  ]);
}

/**
 * Key-policy statement giving the account (and so its IAM policies) control of a KMS key.
 * In a key policy, `Resource: "*"` means the key itself.
 */
export function accountAdministersKey(accountId: string): DataAwsIamPolicyDocumentStatement {
  return {
    sid: "AccountAdministersKey",
    effect: "Allow",
    actions: ["kms:*"],
    resources: ["*"],
    principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${accountId}:root`] }],
  };
}

/**
 * A KMS key policy as JSON on the key itself (the same typed statements as policyDocument).
 * A key policy is a resource policy: rendered through `aws_iam_policy_document` it would be
 * read as an identity policy (where `Resource: "*"` means everything) by scanners, while here
 * it means the key. Key policies reference nothing, so plain JSON is exact.
 */
export function keyPolicy(statements: DataAwsIamPolicyDocumentStatement[]): string {
  const list = (v: string[] | undefined) => (v && v.length === 1 ? v[0] : v);
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((st) => ({
      ...(st.sid ? { Sid: st.sid } : {}),
      Effect: st.effect ?? "Allow",
      ...(st.principals
        ? {
            Principal: Object.fromEntries(
              (st.principals as { type: string; identifiers: string[] }[]).map((p) => [p.type, list(p.identifiers)]),
            ),
          }
        : {}),
      Action: list(st.actions),
      Resource: list(st.resources),
      ...(st.condition
        ? {
            Condition: (st.condition as { test: string; variable: string; values: string[] }[]).reduce<Record<string, Record<string, unknown>>>(
              (acc, c) => ({ ...acc, [c.test]: { ...acc[c.test], [c.variable]: list(c.values) } }),
              {},
            ),
          }
        : {}),
    })),
  });
}

export interface ServiceRoleProps {
  /** Physical role name (from Naming). */
  readonly name: string;
  readonly description: string;
  /** Service principal that assumes the role, e.g. `vpc-flow-logs.amazonaws.com`. */
  readonly service: string;
  /** Only this account's use of the service may assume it (`aws:SourceAccount`). */
  readonly accountId: string;
  /** Name of the inline policy. */
  readonly policyName: string;
  /** The inline policy's statements: scoped resources, never `*`. */
  readonly statements: DataAwsIamPolicyDocumentStatement[];
}

/**
 * A role an AWS service assumes, with its trust policy and one inline policy, created in
 * `scope` as `role`, `trust-policy`, `role-policy` and `role-policy-document`.
 */
export function serviceRole(scope: Construct, props: ServiceRoleProps): IamRole {
  const role = new IamRole(scope, "role", {
    name: props.name,
    description: props.description,
    assumeRolePolicy: serviceTrustPolicy(scope, "trust-policy", props.service, props.accountId),
  });
  new IamRolePolicy(scope, "role-policy", {
    name: props.policyName,
    role: role.id,
    policy: policyDocument(scope, "role-policy-document", props.statements),
  });
  return role;
}
