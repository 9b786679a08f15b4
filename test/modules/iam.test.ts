import { TerraformStack, Testing } from "cdktf";
import { managedSecretKey, secretsManagerSecret, ServiceRoles, ServiceRolesProps, ssmParameterSecret } from "../../modules/iam";
import { Naming } from "../../lib/naming";
import { ACCOUNT, DATA_KEY, documentOf, inlinePolicies, newStack, policyOfRole, problemsOf, resourcesOf, synthJson } from "./fixtures";

const at = { region: "us-east-1", accountId: ACCOUNT };
const REPOSITORY_ARN = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate-develop/api`;
const LOG_GROUP_ARN = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/fargate/develop/ecs/api`;

const baseProps: ServiceRolesProps = {
  naming: new Naming("fargate", "develop"),
  accountId: ACCOUNT,
  region: "us-east-1",
  serviceName: "api",
  secrets: [ssmParameterSecret("API_SIGNING_KEY", "/fargate/develop/api/signing-key", at), secretsManagerSecret("STRIPE_KEY", "fargate/develop/api/stripe", at, "key")],
  secretsKmsKeyArn: DATA_KEY,
  logGroupArn: LOG_GROUP_ARN,
  ecrRepositoryArn: REPOSITORY_ARN,
};

function rolesStack(overrides: Partial<ServiceRolesProps> = {}): { stack: TerraformStack; roles: ServiceRoles } {
  const stack = newStack();
  return { stack, roles: new ServiceRoles(stack, "roles", { ...baseProps, ...overrides }) };
}
const synth = (overrides: Partial<ServiceRolesProps> = {}) => synthJson(rolesStack(overrides).stack);
const executionPolicy = (json: any) => policyOfRole(json, "fargate-develop-api-execution");

describe("ServiceRoles", () => {
  test("creates only the execution role by default, with no AWS managed policy", () => {
    const { stack, roles } = rolesStack();
    const json = synthJson(stack);
    expect(JSON.stringify(json)).toHaveResourceWithProperties({ tfResourceType: "aws_iam_role" }, { name: "fargate-develop-api-execution" });
    // An application that declares no AWS permission gets no task role, so no credentials at all.
    expect(resourcesOf(json, "aws_iam_role").map(([, r]) => r.name)).toEqual(["fargate-develop-api-execution"]);
    expect(roles.taskRole).toBeUndefined();
    // The managed AmazonECSTaskExecutionRolePolicy grants ECR pulls and log writes on "*".
    expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toEqual([]);
    expect(JSON.stringify(json)).not.toContain("AmazonECSTaskExecutionRolePolicy");
    expect(inlinePolicies(json).map((p) => [p.role, p.name])).toEqual([["fargate-develop-api-execution", "pull-log-read-secrets"]]);
  });

  test("creates a separate task role when the application declares a permission", () => {
    const { stack, roles } = rolesStack({ readOwnParameters: true });
    const json = synthJson(stack);
    expect(resourcesOf(json, "aws_iam_role").map(([, r]) => r.name).sort()).toEqual(["fargate-develop-api-execution", "fargate-develop-api-task"]);
    expect(roles.taskRole).toBeDefined();
    expect(resourcesOf(json, "aws_iam_role_policy_attachment")).toEqual([]);
  });

  test("both roles trust ecs-tasks.amazonaws.com from this account only", () => {
    const json = synth({ xraySidecar: true });
    const roles = resourcesOf(json, "aws_iam_role").map(([, r]) => r);
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      expect(documentOf(json, role.assume_role_policy).statement).toEqual([
        expect.objectContaining({
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }],
        }),
      ]);
    }
  });

  test("lets the execution role pull its own image, write its own logs, read exactly the referenced secrets and decrypt with the data key", () => {
    expect(executionPolicy(synth()).statements).toEqual([
      { sid: "EcrLogin", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      { sid: "PullOwnImage", effect: "Allow", actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resources: [REPOSITORY_ARN] },
      { sid: "WriteOwnLogs", effect: "Allow", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [LOG_GROUP_ARN, `${LOG_GROUP_ARN}:*`] },
      { sid: "ReadTaskParameters", effect: "Allow", actions: ["ssm:GetParameters"], resources: [`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/fargate/develop/api/signing-key`] },
      { sid: "ReadTaskSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: [`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:fargate/develop/api/stripe-??????`] },
      { sid: "DecryptTaskSecrets", effect: "Allow", actions: ["kms:Decrypt"], resources: [DATA_KEY] },
    ]);
  });

  test("reads no repository for an image outside the platform's ECR, and no secret when there is none", () => {
    const statements = executionPolicy(synth({ ecrRepositoryArn: undefined, secrets: [] })).statements;
    expect(statements).toEqual([{ sid: "WriteOwnLogs", effect: "Allow", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [LOG_GROUP_ARN, `${LOG_GROUP_ARN}:*`] }]);
  });

  test("covers the RDS-managed master secret by its exact ARN, once for all its keys", () => {
    const secretArn = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:rds!db-1234-AbCdEf`;
    const statements = executionPolicy(synth({ secrets: [managedSecretKey("DB_USERNAME", secretArn, "username"), managedSecretKey("DB_PASSWORD", secretArn, "password")] })).statements;
    expect(statements.find((s) => s.sid === "ReadTaskSecrets")).toEqual({ sid: "ReadTaskSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: [secretArn] });
    expect(statements.find((s) => s.sid === "ReadTaskParameters")).toBeUndefined();
  });

  test("grants the task role only what the application declares: own parameters, X-Ray, ECS Exec", () => {
    const json = synth({ secrets: [], readOwnParameters: true, xraySidecar: true, enableExecuteCommand: true });
    const { name, statements } = policyOfRole(json, "fargate-develop-api-task");
    expect(name).toBe("application");
    expect(statements.map((s: any) => s.sid)).toEqual(["ReadOwnParameters", "DecryptOwnParameters", "WriteXRayTraces", "EcsExecChannels"]);
    expect(statements[0].resources).toEqual([`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/fargate/develop/api`, `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/fargate/develop/api/*`]);
    expect(statements[1]).toMatchObject({ actions: ["kms:Decrypt"], resources: [DATA_KEY] });
    expect(statements[2].actions).toEqual(expect.arrayContaining(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]));
    expect(statements[3].actions).toEqual(expect.arrayContaining(["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"]));
    expect(statements[3].actions.every((a: string) => a.startsWith("ssmmessages:"))).toBe(true);
  });

  test("builds ARNs in the given partition", () => {
    const json = synth({ secrets: [], readOwnParameters: true, partition: "aws-us-gov" });
    expect(policyOfRole(json, "fargate-develop-api-task").statements[0].resources[0]).toBe(`arn:aws-us-gov:ssm:us-east-1:${ACCOUNT}:parameter/fargate/develop/api`);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(rolesStack().stack)).toEqual([]);
  });

  test.each<[string, Partial<ServiceRolesProps>, RegExp]>([
    ["a secret ARN is a wildcard", { secrets: [{ name: "X", valueFrom: "*", resourceArn: "*", source: "ssm" }] }, /^secret X must name an exact ARN \(Secrets Manager may end in -\?\?\?\?\?\?\); got "\*"$/],
    ["a secret ARN has a wildcard", { secrets: [{ name: "X", valueFrom: "x", resourceArn: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/fargate/*`, source: "ssm" }] }, /^secret X must name an exact ARN/],
    ["a secret's source and ARN disagree", { secrets: [{ ...ssmParameterSecret("X", "/fargate/develop/x", at), source: "secretsmanager" }] }, /^secret X has source secretsmanager but an ARN of ssm/],
    ["a secret is listed twice", { secrets: [ssmParameterSecret("X", "/fargate/develop/x", at), ssmParameterSecret("X", "/fargate/develop/x", at)] }, /^secret X is listed twice; got it 2 times/],
    ["the KMS key is not an ARN", { secretsKmsKeyArn: "*" }, /^secretsKmsKeyArn must be a KMS key ARN; got "\*"$/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack, roles } = rolesStack(overrides);
    expect(roles.node.validate()).toEqual([expect.stringMatching(message)]);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed with the following errors:\n {2}\[test\/roles\] secret/);
  });

  test("throws a NameError when a role name would exceed 64 characters", () => {
    expect(() => rolesStack({ serviceName: "a-very-long-service-name-that-keeps-going-on" })).toThrow(/iamRole name .* the AWS limit is 64/);
  });
});

describe("secret references", () => {
  test("SSM parameters use the parameter ARN for both valueFrom and IAM", () => {
    expect(ssmParameterSecret("A", "/p/e/a", at)).toEqual({ name: "A", valueFrom: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/p/e/a`, resourceArn: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/p/e/a`, source: "ssm" });
    expect(ssmParameterSecret("A", "p/e/a", at).resourceArn).toBe(`arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/p/e/a`);
  });

  test("Secrets Manager secrets use the partial ARN (+ json key) and the -?????? suffix for IAM", () => {
    expect(secretsManagerSecret("B", "p/e/b", at, "password")).toEqual({
      name: "B",
      valueFrom: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:p/e/b:password::`,
      resourceArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:p/e/b-??????`,
      source: "secretsmanager",
    });
  });
});
