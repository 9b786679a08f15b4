import { Construct } from "constructs";
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
