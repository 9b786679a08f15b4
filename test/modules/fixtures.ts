// Brings cdktf's jest matcher types (toHaveResourceWithProperties, ...) into the type check.
import type {} from "cdktf/lib/testing/adapters/jest";
import { TerraformStack, Testing } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Naming } from "../../lib/naming";
import { Alb, AlbHealthCheck, AlbProps } from "../../modules/alb";
import { Ecs, EcsProps } from "../../modules/ecs";
import { Cicd, CicdProps } from "../../modules/cicd";

/**
 * Shared builders for the module tests: the environment-level constructs (Alb, Ecs, Cicd)
 * that the per-service constructs attach to, with valid props, and readers for the
 * synthesized JSON.
 */

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const CERT_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001`;
export const DATA_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/data`;
export const LOGS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/logs`;
/** Port of the ALB's blue/green test listener in tests that route a CodeDeploy service. */
export const TEST_LISTENER_PORT = 8443;
/** A valid ALB target-group health check. */
export const HEALTH_CHECK: AlbHealthCheck = { path: "/health", matcher: "200", intervalSec: 30, timeoutSec: 5, healthyThreshold: 3, unhealthyThreshold: 3 };

/**
 * A stack in its own app, with the AWS provider a stack (never a module) declares, so the
 * stack's own validation passes: `Testing.synth(stack, true)` and {@link problemsOf} then
 * report only the modules' problems.
 */
export function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: REGION });
  return stack;
}

/**
 * Every `node.addValidation` problem under `scope` as `<construct path>: <message>`, the way
 * src/app.ts reports them (`Testing.synthScope` runs none of them).
 */
export function problemsOf(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap((c) => c.node.validate().map((message) => `${c.node.path}: ${message}`));
}

/** The stack's Terraform JSON as text (validations not run; use {@link problemsOf} for those). */
export function synthText(stack: TerraformStack): string {
  return Testing.synth(stack);
}

/** The stack's Terraform JSON, parsed. */
export function synthJson(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack));
}

/** All resources of one type: [logical ID, config][]. */
export function resourcesOf(json: any, type: string): [string, any][] {
  return Object.entries(json.resource?.[type] ?? {});
}

/** The `aws_iam_policy_document` a `${data.aws_iam_policy_document.<id>.json}` reference points at. */
export function documentOf(json: any, reference: string): { statement: any[] } {
  const id = /^\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}$/.exec(reference)?.[1];
  const doc = id && json.data?.aws_iam_policy_document?.[id];
  if (!doc) throw new Error(`not a reference to a synthesized policy document: ${reference}`);
  return doc;
}

/** One inline role policy, resolved: the role's physical name, the policy name and its statements. */
export interface InlinePolicy {
  readonly role: string;
  readonly name: string;
  readonly statements: any[];
}

/** Every `aws_iam_role_policy` with its role's name and its document's statements. */
export function inlinePolicies(json: any): InlinePolicy[] {
  return resourcesOf(json, "aws_iam_role_policy").map(([, p]) => {
    const roleId = /^\$\{aws_iam_role\.([^.}]+)\.id\}$/.exec(p.role)?.[1];
    const role = roleId && json.resource.aws_iam_role[roleId];
    if (!role) throw new Error(`role policy ${p.name} does not reference a role of this stack: ${p.role}`);
    return { role: role.name, name: p.name, statements: documentOf(json, p.policy).statement };
  });
}

/** The inline policy of the role with this physical name (exactly one expected). */
export function policyOfRole(json: any, roleName: string): InlinePolicy {
  const found = inlinePolicies(json).filter((p) => p.role === roleName);
  if (found.length !== 1) throw new Error(`expected one inline policy on ${roleName}; got ${found.length}`);
  return found[0];
}

/** Every statement of the stack's inline role policies, with the physical name of the role it is on. */
export function grants(json: any): any[] {
  return inlinePolicies(json).flatMap((p) => p.statements.map((s) => ({ role: p.role, ...s })));
}

// --- Environment-level constructs with valid props -------------------------------------

export function albProps(overrides: Partial<AlbProps> = {}): AlbProps {
  return {
    naming: new Naming("fargate", "prod"),
    accountId: ACCOUNT,
    region: REGION,
    vpcId: "vpc-123",
    publicSubnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-alb",
    certificate: { arn: CERT_ARN },
    deletionProtection: true,
    ...overrides,
  };
}

export function makeAlb(scope: Construct, overrides: Partial<AlbProps> = {}): Alb {
  return new Alb(scope, "alb", albProps(overrides));
}

export function ecsProps(overrides: Partial<EcsProps> = {}): EcsProps {
  return {
    naming: new Naming("fargate", "test"),
    fargateSpotPercent: 30,
    ...overrides,
  };
}

export function makeEcs(scope: Construct, overrides: Partial<EcsProps> = {}): Ecs {
  return new Ecs(scope, "ecs", ecsProps(overrides));
}

/** The account's Bitbucket connection (the account stack creates it). */
export const CONNECTION_ARN = `arn:aws:codeconnections:us-east-1:${ACCOUNT}:connection/0a1b2c3d-fixture`;

export function cicdProps(overrides: Partial<CicdProps> = {}): CicdProps {
  return {
    naming: new Naming("fargate", "develop"),
    accountId: ACCOUNT,
    region: REGION,
    dataKmsKeyArn: DATA_KEY,
    logsKmsKeyArn: LOGS_KEY,
    logRetentionDays: 7,
    connectionArn: CONNECTION_ARN,
    pipeline: { kind: "build", targets: [(overrides.naming ?? new Naming("fargate", "develop")).environment], tagsRelease: false, manualApproval: false, branchPattern: "feature/*", trigger: "push", releaseBranch: "feature/integration" },
    ...overrides,
  };
}

export function makeCicd(scope: Construct, overrides: Partial<CicdProps> = {}): Cicd {
  return new Cicd(scope, "cicd", cicdProps(overrides));
}
