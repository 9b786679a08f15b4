import { compliant, nonCompliant, PolicyRule } from "../types";
import { strings } from "../values";

/** AWS-managed policies that grant (nearly) everything: the managed-policy form of Action "*". */
export const ADMIN_MANAGED_POLICIES = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

export const iamNoAdminPolicy: PolicyRule = {
  id: "IAM-NO-ADMIN-POLICY",
  description: "No role, user or group gets an AWS-managed administrator policy (AdministratorAccess, PowerUserAccess, IAMFullAccess); grant named actions instead.",
  severity: "error",
  controls: ["CKV_AWS_274", "IAM.1"],
  resourceTypes: ["aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment", "aws_iam_role"],
  check(resource) {
    const arns = resource.type === "aws_iam_role" ? strings(resource.config.managed_policy_arns) : strings(resource.config.policy_arn);
    const admin = arns.filter((arn) => ADMIN_MANAGED_POLICIES.some((name) => new RegExp(`^arn:aws[a-z-]*:iam::aws:policy/${name}$`).test(arn)));
    return admin.length ? nonCompliant(`attaches ${admin.join(", ")}`) : compliant();
  },
};
