/** The policy rules of issue 10 (accounts and the edge), each with a compliant and a failing fixture. */
import { TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Cloudtrail } from "@cdktf/provider-aws/lib/cloudtrail";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { keyPolicy, policyDocument } from "../../lib/iam-policy";
import { cloudtrailIntegrity, ecrRepository, iamConditionKeys, iamTrustMfa, secretsCmk, snsEncryption, wafPublicAlb } from "../../src/policy/rules";
import { CONDITION_KEY_ACTIONS } from "../../src/policy/rules/iam-condition-keys";
import { operatorTrust } from "../../modules/security";
import { findingAt, onlyFinding } from "./fixtures";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const OPERATOR = "arn:aws:iam::123456789012:user/alice";

/** A stack whose provider tags everything Environment=<env> (what rules read as stackTags). */
const inEnvironment = (environment: string, build: (s: TerraformStack) => void) => (s: TerraformStack) => {
  new AwsProvider(s, "aws", { region: "us-east-1", defaultTags: [{ tags: { Environment: environment } }] });
  build(s);
};

describe("SNS-ENCRYPTION", () => {
  test("passes a topic with a customer key", () => {
    expect(onlyFinding(snsEncryption, (s) => new SnsTopic(s, "topic", { name: "t", kmsMasterKeyId: KEY })).status).toBe("compliant");
  });
  test("fails a topic without a key, or with the AWS-managed one", () => {
    expect(onlyFinding(snsEncryption, (s) => new SnsTopic(s, "topic", { name: "t" })).message).toBe(
      "[SNS-ENCRYPTION] aws_sns_topic.topic: kms_master_key_id is not set (messages are stored unencrypted) (CKV_AWS_26, SNS.1)",
    );
    expect(onlyFinding(snsEncryption, (s) => new SnsTopic(s, "topic", { name: "t", kmsMasterKeyId: "alias/aws/sns" })).reason).toMatch(/AWS-managed alias\/aws\/sns/);
  });
});

describe("ECR-REPOSITORY", () => {
  test("passes an immutable, scanned, KMS-encrypted repository", () => {
    const f = onlyFinding(ecrRepository, (s) =>
      new EcrRepository(s, "repo", { name: "r", imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true }, encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: KEY }] }),
    );
    expect(f.status).toBe("compliant");
  });
  test("fails a mutable, unscanned repository with AWS-managed encryption, naming all three", () => {
    const f = onlyFinding(ecrRepository, (s) => new EcrRepository(s, "repo", { name: "r", encryptionConfiguration: [{ encryptionType: "KMS" }] }));
    expect(f.reason).toBe(
      'image_tag_mutability is "MUTABLE", not "IMMUTABLE" (a pushed tag could be moved to another image); image_scanning_configuration.scan_on_push is not true; encryption_configuration.kms_key is not set (the AWS-managed aws/ecr key would be used)',
    );
    expect(onlyFinding(ecrRepository, (s) => new EcrRepository(s, "repo", { name: "r", imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } })).reason).toBe(
      'encryption_configuration.encryption_type is "AES256", not "KMS"',
    );
  });
});

describe("CLOUDTRAIL-INTEGRITY", () => {
  test("passes a multi-region, validated, KMS-encrypted trail", () => {
    const f = onlyFinding(cloudtrailIntegrity, (s) => new Cloudtrail(s, "trail", { name: "t", s3BucketName: "b", isMultiRegionTrail: true, enableLogFileValidation: true, kmsKeyId: KEY }));
    expect(f.status).toBe("compliant");
  });
  test("fails a single-region trail without validation or a key", () => {
    expect(onlyFinding(cloudtrailIntegrity, (s) => new Cloudtrail(s, "trail", { name: "t", s3BucketName: "b" })).message).toBe(
      "[CLOUDTRAIL-INTEGRITY] aws_cloudtrail.trail: is_multi_region_trail is not true (activity in other regions goes unrecorded); enable_log_file_validation is not true (log files could be changed unnoticed); kms_key_id is not set (log files would use SSE-S3 only) (CKV_AWS_67, CKV_AWS_36, CKV_AWS_35, CloudTrail.1, CloudTrail.2, CloudTrail.4)",
    );
  });
});

describe("SECRETS-CMK", () => {
  const db = (extra: object) => (s: TerraformStack) => new DbInstance(s, "db", { instanceClass: "db.t4g.micro", engine: "postgres", ...extra });
  test("passes a secret and a managed master secret with customer keys; not applicable without a managed secret", () => {
    expect(onlyFinding(secretsCmk, (s) => new SecretsmanagerSecret(s, "secret", { name: "s", kmsKeyId: KEY })).status).toBe("compliant");
    expect(onlyFinding(secretsCmk, db({ manageMasterUserPassword: true, masterUserSecretKmsKeyId: KEY })).status).toBe("compliant");
    expect(onlyFinding(secretsCmk, db({ password: "from-elsewhere" })).status).toBe("not-applicable");
  });
  test("fails a secret on the default key, and a managed master secret without a key", () => {
    expect(onlyFinding(secretsCmk, (s) => new SecretsmanagerSecret(s, "secret", { name: "s" })).reason).toBe("kms_key_id is not set (the AWS-managed aws/secretsmanager key would be used)");
    expect(onlyFinding(secretsCmk, (s) => new SecretsmanagerSecret(s, "secret", { name: "s", kmsKeyId: "alias/aws/secretsmanager" })).status).toBe("non-compliant");
    expect(onlyFinding(secretsCmk, db({ manageMasterUserPassword: true })).reason).toMatch(/^master_user_secret_kms_key_id is not set/);
  });
});

describe("WAF-PUBLIC-ALB", () => {
  const alb = (s: TerraformStack, internal = false) => new Lb(s, "alb", { name: "a", internal, loadBalancerType: "application", subnets: ["s1", "s2"] });
  test("passes a prod ALB with a web ACL association", () => {
    const f = onlyFinding(wafPublicAlb, inEnvironment("prod", (s) => new Wafv2WebAclAssociation(s, "waf", { resourceArn: alb(s).arn, webAclArn: "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y" })));
    expect(f.status).toBe("compliant");
  });
  test("fails a prod internet-facing ALB without one", () => {
    expect(onlyFinding(wafPublicAlb, inEnvironment("prod", (s) => alb(s))).message).toBe(
      "[WAF-PUBLIC-ALB] aws_lb.alb: no aws_wafv2_web_acl_association has this load balancer as its resource_arn (CKV2_AWS_28, ELB.16)",
    );
  });
  test("does not apply outside prod, or to internal load balancers", () => {
    expect(onlyFinding(wafPublicAlb, inEnvironment("develop", (s) => alb(s))).status).toBe("not-applicable");
    expect(onlyFinding(wafPublicAlb, inEnvironment("prod", (s) => alb(s, true))).status).toBe("not-applicable");
  });
});

describe("IAM-TRUST-MFA", () => {
  const role = (statement: DataAwsIamPolicyDocumentStatement, tags?: Record<string, string>) => (s: TerraformStack) =>
    new IamRole(s, "role", { assumeRolePolicy: policyDocument(s, "trust", [statement]), tags });
  test("passes a prod role that operators assume only with MFA (the deploy role's trust)", () => {
    expect(onlyFinding(iamTrustMfa, inEnvironment("prod", role(operatorTrust([OPERATOR], true)))).status).toBe("compliant");
  });
  test("fails a prod role humans assume without MFA, read from the stack's tags or the role's own", () => {
    expect(onlyFinding(iamTrustMfa, inEnvironment("prod", role(operatorTrust([OPERATOR], false)))).message).toBe(
      `[IAM-TRUST-MFA] aws_iam_role.role: statement "Operators" (${OPERATOR}) in data.aws_iam_policy_document.trust lets IAM principals assume the role without MFA; add Bool aws:MultiFactorAuthPresent = true (no public control)`,
    );
    expect(onlyFinding(iamTrustMfa, inEnvironment("shared", role(operatorTrust([OPERATOR], false), { Environment: "prod" }))).status).toBe("non-compliant");
  });
  test("BoolIfExists does not count: it matches exactly the callers with long-term keys and no MFA", () => {
    const ifExists: DataAwsIamPolicyDocumentStatement = { ...operatorTrust([OPERATOR], false), condition: [{ test: "BoolIfExists", variable: "aws:MultiFactorAuthPresent", values: ["true"] }] };
    expect(onlyFinding(iamTrustMfa, inEnvironment("prod", role(ifExists))).status).toBe("non-compliant");
  });
  test("does not apply outside prod, or to roles trusted only by services or OIDC", () => {
    expect(onlyFinding(iamTrustMfa, inEnvironment("develop", role(operatorTrust([OPERATOR], false)))).status).toBe("not-applicable");
    const oidc: DataAwsIamPolicyDocumentStatement = { effect: "Allow", actions: ["sts:AssumeRoleWithWebIdentity"], principals: [{ type: "Federated", identifiers: ["arn:aws:iam::1:oidc-provider/x"] }] };
    expect(onlyFinding(iamTrustMfa, inEnvironment("prod", role(oidc))).status).toBe("not-applicable");
  });
});

describe("IAM-CONDITION-KEYS", () => {
  const rolePolicy = (statements: DataAwsIamPolicyDocumentStatement[]) => (s: TerraformStack) =>
    new IamRolePolicy(s, "policy", { role: "r", policy: policyDocument(s, "document", statements) });
  const POLICY = "aws_iam_role_policy.policy";

  test("passes keys their actions carry (PassRole + iam:PassedToService, item writes + dynamodb:LeadingKeys)", () => {
    const f = findingAt(
      iamConditionKeys,
      rolePolicy([
        { effect: "Allow", actions: ["iam:PassRole"], resources: ["arn:aws:iam::1:role/r"], condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }] },
        { effect: "Allow", actions: ["dynamodb:GetItem", "dynamodb:PutItem"], resources: ["t"], condition: [{ test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: ["b/k/*"] }] },
        { effect: "Allow", actions: ["s3:GetObject"], resources: ["o"], condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["1"] }] },
      ]),
      POLICY,
    );
    expect(f.status).toBe("compliant");
  });

  test("fails a key policy whose encryption-context condition covers DescribeKey (no DescribeKey request carries a context)", () => {
    const f = onlyFinding(iamConditionKeys, (s) =>
      new KmsKey(s, "key", {
        enableKeyRotation: true,
        policy: keyPolicy([
          {
            sid: "Logs",
            effect: "Allow",
            actions: ["kms:Decrypt*", "kms:Describe*"],
            resources: ["*"],
            principals: [{ type: "Service", identifiers: ["logs.us-east-1.amazonaws.com"] }],
            condition: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: ["arn:aws:logs:us-east-1:1:log-group:*"] }],
          },
        ]),
      }),
    );
    expect(f.message).toBe(
      '[IAM-CONDITION-KEYS] aws_kms_key.key: statement "Logs" of inline JSON: no kms:Describe* request carries kms:EncryptionContext:aws:logs:arn, so the statement never allows it; move it to a statement without that condition (no public control)',
    );
  });

  test("fails a key of another service, a Deny that never applies, and a key the table does not know", () => {
    const f = findingAt(
      iamConditionKeys,
      rolePolicy([
        { sid: "Wrong", effect: "Allow", actions: ["s3:GetObject"], resources: ["o"], condition: [{ test: "StringEquals", variable: "kms:ViaService", values: ["s3.us-east-1.amazonaws.com"] }] },
        { sid: "DeadDeny", effect: "Deny", actions: ["s3:DeleteObject"], resources: ["o"], condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["x"] }] },
        { sid: "Unknown", effect: "Allow", actions: ["ec2:RunInstances"], resources: ["*"], condition: [{ test: "StringEquals", variable: "ec2:InstanceType", values: ["t3.micro"] }] },
      ]),
      POLICY,
    );
    expect(f.reason).toContain('statement "Wrong" of data.aws_iam_policy_document.document: no s3:GetObject request carries kms:ViaService, so the statement never allows it');
    expect(f.reason).toContain('statement "DeadDeny" of data.aws_iam_policy_document.document: no s3:DeleteObject request carries iam:PassedToService, so the deny never applies to it');
    expect(f.reason).toContain('statement "Unknown" of data.aws_iam_policy_document.document: condition key ec2:InstanceType is not in CONDITION_KEY_ACTIONS');
  });

  test("OIDC claims apply to AssumeRoleWithWebIdentity only", () => {
    const trust = (action: string) => (s: TerraformStack) =>
      new IamRole(s, "role", {
        assumeRolePolicy: policyDocument(s, "trust", [
          { effect: "Allow", actions: [action], principals: [{ type: "Federated", identifiers: ["p"] }], condition: [{ test: "StringEquals", variable: "token.actions.githubusercontent.com:sub", values: ["repo:o/r:environment:prod"] }] },
        ]),
      });
    expect(onlyFinding(iamConditionKeys, trust("sts:AssumeRoleWithWebIdentity")).status).toBe("compliant");
    expect(onlyFinding(iamConditionKeys, trust("sts:AssumeRole")).status).toBe("non-compliant");
  });

  test("every entry of the table names actions of its own service", () => {
    expect(CONDITION_KEY_ACTIONS.length).toBeGreaterThan(10);
    for (const { key, actions } of CONDITION_KEY_ACTIONS) {
      expect(actions.length).toBeGreaterThan(0);
      if (typeof key === "string") expect(actions.every((a) => a.split(":")[0] === key.split(":")[0] || (key.startsWith("codestar-connections") && a.startsWith("codeconnections")))).toBe(true);
    }
  });
});
