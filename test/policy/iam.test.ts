import { Fn, TerraformStack } from "cdktf";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { policyDocument, serviceTrustPolicy } from "../../lib/iam-policy";
import { iamNoAdminPolicy, iamNoWildcard, iamTrustSourceAccount } from "../../src/policy/rules";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { RESOURCE_WILDCARD_ACTIONS } from "../../src/policy/rules/iam-wildcard-allowlist";
import { findingAt, onlyFinding } from "./fixtures";

const ACCOUNT = "123456789012";

describe("IAM-TRUST-SOURCE-ACCOUNT", () => {
  test("passes a service trust policy with aws:SourceAccount (serviceTrustPolicy)", () => {
    const f = onlyFinding(iamTrustSourceAccount, (s) => new IamRole(s, "role", { assumeRolePolicy: serviceTrustPolicy(s, "trust", "ecs-tasks.amazonaws.com", ACCOUNT) }));
    expect(f.status).toBe("compliant");
  });

  test("fails a service trust policy without the condition", () => {
    const f = onlyFinding(iamTrustSourceAccount, (s) =>
      new IamRole(s, "role", {
        assumeRolePolicy: policyDocument(s, "trust", [{ sid: "Trust", effect: "Allow", actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }] }]),
      }),
    );
    expect(f.message).toBe(
      '[IAM-TRUST-SOURCE-ACCOUNT] aws_iam_role.role: statement "Trust" (ecs-tasks.amazonaws.com) in data.aws_iam_policy_document.trust has no aws:SourceAccount condition (no public control)',
    );
  });

  test("reads a JSON trust policy too", () => {
    const trust = (condition?: object) =>
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "codebuild.amazonaws.com" }, ...(condition ? { Condition: condition } : {}) }] });
    expect(onlyFinding(iamTrustSourceAccount, (s) => new IamRole(s, "role", { assumeRolePolicy: trust() })).status).toBe("non-compliant");
    expect(onlyFinding(iamTrustSourceAccount, (s) => new IamRole(s, "role", { assumeRolePolicy: trust({ StringEquals: { "aws:SourceAccount": ACCOUNT } }) })).status).toBe("compliant");
  });

  test("does not apply to roles trusted only by AWS account principals", () => {
    const f = onlyFinding(iamTrustSourceAccount, (s) =>
      new IamRole(s, "role", {
        assumeRolePolicy: policyDocument(s, "trust", [{ effect: "Allow", actions: ["sts:AssumeRole"], principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${ACCOUNT}:root`] }] }]),
      }),
    );
    expect(f.status).toBe("not-applicable");
  });

  test("fails an assume_role_policy it cannot read", () => {
    const f = onlyFinding(iamTrustSourceAccount, (s) => new IamRole(s, "role", { assumeRolePolicy: Fn.file("trust.json") }));
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/cannot read/) });
  });
});

describe("IAM-NO-WILDCARD", () => {
  const rolePolicy = (statements: DataAwsIamPolicyDocumentStatement[]) => (s: TerraformStack) =>
    new IamRolePolicy(s, "policy", { role: "role", policy: policyDocument(s, "document", statements) });
  const POLICY = "aws_iam_role_policy.policy";

  test("passes named actions on named resources", () => {
    const f = findingAt(iamNoWildcard, rolePolicy([{ effect: "Allow", actions: ["logs:PutLogEvents"], resources: ["arn:aws:logs:us-east-1:123456789012:log-group:x:*"] }]), POLICY);
    expect(f.status).toBe("compliant");
  });

  test('fails Action "*"', () => {
    const f = findingAt(iamNoWildcard, rolePolicy([{ sid: "Admin", effect: "Allow", actions: ["*"], resources: ["*"] }]), POLICY);
    expect(f.message).toMatch(/^\[IAM-NO-WILDCARD\] aws_iam_role_policy\.policy: statement "Admin" of data\.aws_iam_policy_document\.document allows Action "\*"/);
    expect(f.message).toMatch(/\(CKV_AWS_1, CKV_AWS_49, CKV_AWS_355, CKV_AWS_356, IAM\.1, IAM\.21\)$/);
  });

  test('fails a restrictable action on Resource "*"', () => {
    const f = findingAt(iamNoWildcard, rolePolicy([{ effect: "Allow", actions: ["s3:GetObject", "ecr:GetAuthorizationToken"], resources: ["*"] }]), POLICY);
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/allows s3:GetObject on Resource "\*"/) });
    expect(f.reason).not.toMatch(/ecr:GetAuthorizationToken/);
  });

  test('passes allowlisted actions on Resource "*" (ECR login, X-Ray, ECS Exec channels, metrics)', () => {
    const f = findingAt(
      iamNoWildcard,
      rolePolicy([
        { effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
        { effect: "Allow", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSampling*"], resources: ["*"] },
        { effect: "Allow", actions: ["ssmmessages:CreateControlChannel", "ssmmessages:Open*"], resources: ["*"] },
        { effect: "Allow", actions: ["cloudwatch:PutMetricData"], resources: ["*"], condition: [{ test: "StringEquals", variable: "cloudwatch:namespace", values: ["App"] }] },
      ]),
      POLICY,
    );
    expect(f.status).toBe("compliant");
  });

  test("keeps every allowlist entry with a reason", () => {
    for (const entry of RESOURCE_WILDCARD_ACTIONS) expect(entry.reason.length).toBeGreaterThan(10);
  });

  test("Deny statements may use wildcards", () => {
    const f = findingAt(iamNoWildcard, rolePolicy([{ effect: "Deny", actions: ["*"], resources: ["*"], condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }] }]), POLICY);
    expect(f.status).toBe("compliant");
  });

  test('KMS key policies may use Resource "*" (it means the key), but not Action "*"', () => {
    const keyWith = (actions: string[]) => (s: TerraformStack) =>
      new KmsKey(s, "key", {
        enableKeyRotation: true,
        policy: policyDocument(s, "key-policy", [{ effect: "Allow", actions, resources: ["*"], principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${ACCOUNT}:root`] }] }]),
      });
    expect(onlyFinding(iamNoWildcard, keyWith(["kms:*"])).status).toBe("compliant");
    expect(onlyFinding(iamNoWildcard, keyWith(["*"])).status).toBe("non-compliant");
  });

  test("reads JSON and Fn.jsonencode policies and inline role policies", () => {
    const admin = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
    const found = (build: (s: TerraformStack) => void, address: string) => findingAt(iamNoWildcard, build, address).status;
    expect(found((s) => new IamPolicy(s, "json", { policy: JSON.stringify(admin) }), "aws_iam_policy.json")).toBe("non-compliant");
    expect(found((s) => new IamPolicy(s, "encoded", { policy: Fn.jsonencode(admin) }), "aws_iam_policy.encoded")).toBe("non-compliant");
    expect(
      found(
        (s) => new IamRole(s, "role", { assumeRolePolicy: serviceTrustPolicy(s, "trust", "ecs-tasks.amazonaws.com", ACCOUNT), inlinePolicy: [{ name: "admin", policy: JSON.stringify(admin) }] }),
        "aws_iam_role.role",
      ),
    ).toBe("non-compliant");
  });

  test("follows source_policy_documents of a policy document", () => {
    const f = findingAt(
      iamNoWildcard,
      (s) => {
        const base = new DataAwsIamPolicyDocument(s, "base", { statement: [{ effect: "Allow", actions: ["s3:*"], resources: ["*"] }] });
        const doc = new DataAwsIamPolicyDocument(s, "combined", { sourcePolicyDocuments: [base.json], statement: [{ effect: "Allow", actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:us-east-1:123456789012:q"] }] });
        new IamRolePolicy(s, "policy", { role: "role", policy: doc.json });
      },
      POLICY,
    );
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/data\.aws_iam_policy_document\.base allows s3:\* on Resource/) });
  });

  test("fails a policy it cannot read", () => {
    const f = findingAt(iamNoWildcard, (s) => new IamRolePolicy(s, "policy", { role: "role", policy: Fn.file("policy.json") }), POLICY);
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/cannot read/) });
  });
});

describe("IAM-NO-ADMIN-POLICY", () => {
  const attach = (policyArn: string) => (s: TerraformStack) => new IamRolePolicyAttachment(s, "attachment", { role: "role", policyArn });
  test("passes a narrow AWS-managed policy", () => {
    expect(onlyFinding(iamNoAdminPolicy, attach("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")).status).toBe("compliant");
  });
  test("fails AdministratorAccess", () => {
    expect(onlyFinding(iamNoAdminPolicy, attach("arn:aws:iam::aws:policy/AdministratorAccess")).message).toBe(
      "[IAM-NO-ADMIN-POLICY] aws_iam_role_policy_attachment.attachment: attaches arn:aws:iam::aws:policy/AdministratorAccess (CKV_AWS_274, IAM.1)",
    );
  });
});
