import { Testing } from "cdktf";
import { Construct } from "constructs";
import { Iam, IamProps, managedSecretKey, secretsManagerSecret, ssmParameterSecret } from "../../modules/iam";
import { Naming } from "../../lib/naming";
import { resourcesOf } from "../helpers";

const at = { region: "us-east-1", accountId: "123456789012" };
const DATA_KEY = "arn:aws:kms:us-east-1:123456789012:key/data";

const baseProps: IamProps = {
  naming: new Naming("fargate", "develop"),
  accountId: "123456789012",
  region: "us-east-1",
  secretsKmsKeyArn: DATA_KEY,
  services: [
    {
      serviceName: "api",
      secrets: [
        ssmParameterSecret("API_SIGNING_KEY", "/fargate/develop/api/signing-key", at),
        secretsManagerSecret("STRIPE_KEY", "fargate/develop/api/stripe", at, "key"),
      ],
    },
  ],
};

function synth(overrides: Partial<IamProps> = {}): any {
  return JSON.parse(
    Testing.synthScope((scope: Construct) => {
      new Iam(scope, "iam", { ...baseProps, ...overrides });
    }),
  );
}

/** The policy-document data source whose construct path ends with `suffix` (`api/task-policy-document`). */
function doc(json: any, suffix: string): any {
  const key = suffix.replace(/\//g, "_");
  const entry = Object.entries<any>(json.data.aws_iam_policy_document).find(([name]) => name.includes(`_${key}_`))?.[1];
  if (!entry) throw new Error(`no policy document ${suffix}`);
  return entry;
}

describe("Iam", () => {
  test("creates an execution role and a separate task role per service", () => {
    const text = Testing.synthScope((scope: Construct) => {
      new Iam(scope, "iam", baseProps);
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_iam_role" }, { name: "fargate-develop-api-execution" });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_iam_role" }, { name: "fargate-develop-api-task" });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_iam_role_policy_attachment" },
      { policy_arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" },
    );
  });

  test("trusts ecs-tasks.amazonaws.com from this account only", () => {
    const trust = doc(synth(), "api/ecs-tasks-trust-policy");
    expect(trust.statement).toEqual([
      expect.objectContaining({
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["123456789012"] }],
      }),
    ]);
  });

  test("lets the execution role read exactly the referenced secrets and decrypt with the data key", () => {
    const policy = doc(synth(), "api/execution-secrets-policy-document");
    expect(policy.statement).toEqual([
      { sid: "ReadTaskParameters", effect: "Allow", actions: ["ssm:GetParameters"], resources: ["arn:aws:ssm:us-east-1:123456789012:parameter/fargate/develop/api/signing-key"] },
      {
        sid: "ReadTaskSecrets",
        effect: "Allow",
        actions: ["secretsmanager:GetSecretValue"],
        resources: ["arn:aws:secretsmanager:us-east-1:123456789012:secret:fargate/develop/api/stripe-??????"],
      },
      { sid: "DecryptTaskSecrets", effect: "Allow", actions: ["kms:Decrypt"], resources: [DATA_KEY] },
    ]);
  });

  test("covers the RDS-managed master secret by its exact ARN", () => {
    const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf";
    const json = synth({
      services: [{ serviceName: "worker", secrets: [managedSecretKey("DB_USERNAME", secretArn, "username"), managedSecretKey("DB_PASSWORD", secretArn, "password")] }],
    });
    const statements = doc(json, "worker/execution-secrets-policy-document").statement;
    expect(statements[0]).toEqual({ sid: "ReadTaskSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: [secretArn] });
  });

  test("gives the task role nothing when the service declares nothing", () => {
    const json = synth({ services: [{ serviceName: "worker", secrets: [] }] });
    expect(resourcesOf(json, "aws_iam_role_policy")).toEqual([]);
    expect(resourcesOf(json, "aws_iam_role")).toHaveLength(2);
  });

  test("grants only what the application declares: own parameters, X-Ray, ECS Exec", () => {
    const json = synth({ services: [{ serviceName: "api", secrets: [], readOwnParameters: true, xraySidecar: true, enableExecuteCommand: true }] });
    const statements = doc(json, "api/task-policy-document").statement;
    expect(statements.map((s: any) => s.sid)).toEqual(["ReadOwnParameters", "DecryptOwnParameters", "WriteXRayTraces", "EcsExecChannels"]);
    expect(statements[0].resources).toEqual([
      "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/develop/api",
      "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/develop/api/*",
    ]);
    expect(statements[2].actions).toEqual(expect.arrayContaining(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]));
    expect(statements[3].actions).toEqual(expect.arrayContaining(["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"]));
  });

  test("throws when a secret ARN is a wildcard", () => {
    expect(() => synth({ services: [{ serviceName: "api", secrets: [{ name: "X", valueFrom: "*", resourceArn: "*", source: "ssm" }] }] })).toThrow(
      /iam: service "api": secret X must name an exact ARN \(Secrets Manager may end in -\?\?\?\?\?\?\); got "\*"/,
    );
    expect(() =>
      synth({ services: [{ serviceName: "api", secrets: [{ name: "X", valueFrom: "x", resourceArn: "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/*", source: "ssm" }] }] }),
    ).toThrow(/must name an exact ARN/);
  });

  test("throws when a secret's source and ARN disagree", () => {
    const wrong = { ...ssmParameterSecret("X", "/fargate/develop/x", at), source: "secretsmanager" as const };
    expect(() => synth({ services: [{ serviceName: "api", secrets: [wrong] }] })).toThrow(/secret X has source secretsmanager but an ARN of ssm/);
  });

  test("throws when a service or a secret is listed twice", () => {
    expect(() => synth({ services: [{ serviceName: "api", secrets: [] }, { serviceName: "api", secrets: [] }] })).toThrow(/service "api" is listed twice/);
    const s = ssmParameterSecret("X", "/fargate/develop/x", at);
    expect(() => synth({ services: [{ serviceName: "api", secrets: [s, s] }] })).toThrow(/secret X is listed twice/);
  });

  test("throws when the service name is not kebab-case or the KMS key is not an ARN", () => {
    expect(() => synth({ services: [{ serviceName: "Api_1", secrets: [] }] })).toThrow(/serviceName must be lowercase kebab-case; got "Api_1"/);
    expect(() => synth({ secretsKmsKeyArn: "*" })).toThrow(/secretsKmsKeyArn must be a KMS key ARN; got "\*"/);
  });

  test("throws a NameError when a role name would exceed 64 characters", () => {
    expect(() => synth({ services: [{ serviceName: "a-very-long-service-name-that-keeps-going-on", secrets: [] }] })).toThrow(/iamRole name .* the AWS limit is 64/);
  });
});

describe("secret references", () => {
  test("SSM parameters use the parameter ARN for both valueFrom and IAM", () => {
    expect(ssmParameterSecret("A", "/p/e/a", at)).toEqual({ name: "A", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/p/e/a", resourceArn: "arn:aws:ssm:us-east-1:123456789012:parameter/p/e/a", source: "ssm" });
  });

  test("Secrets Manager secrets use the partial ARN (+ json key) and the -?????? suffix for IAM", () => {
    expect(secretsManagerSecret("B", "p/e/b", at, "password")).toEqual({
      name: "B",
      valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/e/b:password::",
      resourceArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/e/b-??????",
      source: "secretsmanager",
    });
  });
});
