import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Token } from "cdktf";
import { Naming } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import { policyDocument, serviceTrustPolicy } from "../../lib/iam-policy";

/**
 * One entry of a container's `secrets`: the variable the container sees, the `valueFrom` the
 * task definition carries, and the ARN the execution role must be allowed to read for it.
 * Build them with {@link ssmParameterSecret}, {@link secretsManagerSecret} or
 * {@link managedSecretKey} so the two ARNs always agree.
 */
export interface ContainerSecret {
  /** Environment variable name inside the container. */
  readonly name: string;
  /** What ECS resolves at task start (`secrets[].valueFrom`). */
  readonly valueFrom: string;
  /** The IAM resource ARN (pattern) that covers `valueFrom`; never `*`. */
  readonly resourceArn: string;
  /** Which API the execution role calls for it. */
  readonly source: "ssm" | "secretsmanager";
}

/** Where secrets live: region, account and partition of the environment. */
export interface SecretLocation {
  readonly region: string;
  readonly accountId: string;
  /** @default "aws" */
  readonly partition?: string;
}

/** An SSM Parameter Store parameter by name (`/<project>/<env>/...`). */
export function ssmParameterSecret(name: string, parameterName: string, at: SecretLocation): ContainerSecret {
  const arn = `arn:${at.partition ?? "aws"}:ssm:${at.region}:${at.accountId}:parameter${parameterName.startsWith("/") ? "" : "/"}${parameterName}`;
  return { name, valueFrom: arn, resourceArn: arn, source: "ssm" };
}

/**
 * A Secrets Manager secret by name. ECS accepts the partial ARN (no random suffix); IAM sees
 * the full ARN, whose 6-character suffix AWS appends, hence `-??????`.
 */
export function secretsManagerSecret(name: string, secretName: string, at: SecretLocation, jsonKey?: string): ContainerSecret {
  const partial = `arn:${at.partition ?? "aws"}:secretsmanager:${at.region}:${at.accountId}:secret:${secretName}`;
  return {
    name,
    valueFrom: jsonKey ? `${partial}:${jsonKey}::` : partial,
    resourceArn: `${partial}-??????`,
    source: "secretsmanager",
  };
}

/** One JSON key of a secret known by its full ARN (e.g. the RDS-managed master secret). */
export function managedSecretKey(name: string, secretArn: string, jsonKey: string): ContainerSecret {
  return { name, valueFrom: `${secretArn}:${jsonKey}::`, resourceArn: secretArn, source: "secretsmanager" };
}

/** What one service's two roles may do. */
export interface ServiceRolesSpec {
  /** Service name (kebab-case); part of the role names. */
  readonly serviceName: string;
  /** Every secret the task definition references; the execution role may read exactly these. */
  readonly secrets: readonly ContainerSecret[];
  /**
   * The task role may read parameters under `/<project>/<env>/<service>/`.
   * @default false
   */
  readonly readOwnParameters?: boolean;
  /**
   * The task role may write X-Ray segments (the daemon sidecar uses the task role).
   * @default false
   */
  readonly xraySidecar?: boolean;
  /**
   * The task role may open ECS Exec (SSM Session Manager) channels.
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
}

export interface IamProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /**
   * AWS partition of the ARNs.
   * @default "aws"
   */
  readonly partition?: string;
  /** KMS key that encrypts the secrets and parameters (`kms:Decrypt` for the execution role). */
  readonly secretsKmsKeyArn: string;
  /** One entry per service; each gets an execution role and a task role. */
  readonly services: readonly ServiceRolesSpec[];
}

/** Actions AWS only authorizes on `Resource: "*"` (they have no resource-level permissions). */
export const ACTIONS_REQUIRING_WILDCARD_RESOURCE: readonly string[] = [
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "xray:GetSamplingStatisticSummaries",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

/** The AWS managed policy every Fargate execution role needs (ECR pull, awslogs). */
export const TASK_EXECUTION_MANAGED_POLICY = "service-role/AmazonECSTaskExecutionRolePolicy";

/** The two roles of one service. */
export interface ServiceRoles {
  /** Used by the ECS agent: pulls the image, writes logs, resolves `secrets`. */
  readonly executionRole: IamRole;
  /** Used by the application: only what it declared. */
  readonly taskRole: IamRole;
}

/**
 * Per service, an execution role (AWS managed `AmazonECSTaskExecutionRolePolicy` plus reads
 * of exactly the secrets its task definition references) and a separate task role holding
 * only what the application declares. Both trust `ecs-tasks.amazonaws.com` from this account
 * only (`aws:SourceAccount`).
 */
export class Iam extends Construct {
  /** Roles by service name. */
  public readonly serviceRoles: Readonly<Record<string, ServiceRoles>>;

  constructor(scope: Construct, id: string, props: IamProps) {
    super(scope, id);
    validate(this, props);
    const { naming, accountId, region } = props;
    const partition = props.partition ?? "aws";
    const roles: Record<string, ServiceRoles> = {};

    for (const svc of props.services) {
      const svcScope = new Construct(this, svc.serviceName);
      const trust = serviceTrustPolicy(svcScope, "ecs-tasks-trust-policy", "ecs-tasks.amazonaws.com", accountId);

      const executionRole = new IamRole(svcScope, "execution-role", {
        name: naming.name("iamRole", `${svc.serviceName}-execution`),
        description: `ECS agent for ${svc.serviceName}: pull image, write logs, resolve its secrets`,
        assumeRolePolicy: trust,
      });
      // The managed policy keeps ECR pull and awslogs permissions complete (a hand-written
      // list missed ecr:BatchGetImage once: CannotPullContainerError).
      new IamRolePolicyAttachment(svcScope, "execution-managed-policy", {
        role: executionRole.name,
        policyArn: `arn:${partition}:iam::aws:policy/${TASK_EXECUTION_MANAGED_POLICY}`,
      });
      const ssmArns = unique(svc.secrets.filter((s) => s.source === "ssm").map((s) => s.resourceArn));
      const secretArns = unique(svc.secrets.filter((s) => s.source === "secretsmanager").map((s) => s.resourceArn));
      if (svc.secrets.length > 0) {
        const statements: DataAwsIamPolicyDocumentStatement[] = [];
        if (ssmArns.length) statements.push({ sid: "ReadTaskParameters", effect: "Allow", actions: ["ssm:GetParameters"], resources: ssmArns });
        if (secretArns.length) statements.push({ sid: "ReadTaskSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: secretArns });
        statements.push({ sid: "DecryptTaskSecrets", effect: "Allow", actions: ["kms:Decrypt"], resources: [props.secretsKmsKeyArn] });
        new IamRolePolicy(svcScope, "execution-secrets-policy", {
          name: "read-task-secrets",
          role: executionRole.id,
          policy: policyDocument(svcScope, "execution-secrets-policy-document", statements),
        });
      }

      const taskRole = new IamRole(svcScope, "task-role", {
        name: naming.name("iamRole", `${svc.serviceName}-task`),
        description: `Application role of ${svc.serviceName}: only what the service declares`,
        assumeRolePolicy: trust,
      });
      const taskStatements: DataAwsIamPolicyDocumentStatement[] = [];
      if (svc.readOwnParameters) {
        taskStatements.push({
          sid: "ReadOwnParameters",
          effect: "Allow",
          actions: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
          resources: [
            `arn:${partition}:ssm:${region}:${accountId}:parameter${naming.parameterPath}${svc.serviceName}`,
            `arn:${partition}:ssm:${region}:${accountId}:parameter${naming.parameterPath}${svc.serviceName}/*`,
          ],
        });
        taskStatements.push({ sid: "DecryptOwnParameters", effect: "Allow", actions: ["kms:Decrypt"], resources: [props.secretsKmsKeyArn] });
      }
      if (svc.xraySidecar) {
        taskStatements.push({
          sid: "WriteXRayTraces",
          effect: "Allow",
          actions: ACTIONS_REQUIRING_WILDCARD_RESOURCE.filter((a) => a.startsWith("xray:")),
          resources: ["*"], // X-Ray has no resource-level permissions for these actions
        });
      }
      if (svc.enableExecuteCommand) {
        taskStatements.push({
          sid: "EcsExecChannels",
          effect: "Allow",
          actions: ACTIONS_REQUIRING_WILDCARD_RESOURCE.filter((a) => a.startsWith("ssmmessages:")),
          resources: ["*"], // Session Manager channels have no resource-level permissions
        });
      }
      if (taskStatements.length) {
        new IamRolePolicy(svcScope, "task-policy", {
          name: "application",
          role: taskRole.id,
          policy: policyDocument(svcScope, "task-policy-document", taskStatements),
        });
      }
      roles[svc.serviceName] = { executionRole, taskRole };
    }
    this.serviceRoles = roles;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function validate(scope: Construct, props: IamProps): void {
  const seen = new Set<string>();
  for (const svc of props.services) {
    if (!/^[a-z][a-z0-9-]*$/.test(svc.serviceName)) {
      throw new ConstructPropsError(scope, `serviceName must be lowercase kebab-case; got "${svc.serviceName}"`);
    }
    // Names first: a NameError before anything is created.
    props.naming.name("iamRole", `${svc.serviceName}-execution`);
    props.naming.name("iamRole", `${svc.serviceName}-task`);
    if (seen.has(svc.serviceName)) {
      throw new ConstructPropsError(scope, `service "${svc.serviceName}" is listed twice; give each service once`);
    }
    seen.add(svc.serviceName);
    const names = new Set<string>();
    for (const secret of svc.secrets) {
      if (names.has(secret.name)) {
        throw new ConstructPropsError(scope, `service "${svc.serviceName}": secret ${secret.name} is listed twice; each variable once`);
      }
      names.add(secret.name);
      if (Token.isUnresolved(secret.resourceArn)) continue;
      if (secret.resourceArn === "*" || !secret.resourceArn.startsWith("arn:") || /\*/.test(secret.resourceArn)) {
        throw new ConstructPropsError(
          scope,
          `service "${svc.serviceName}": secret ${secret.name} must name an exact ARN (Secrets Manager may end in -??????); got "${secret.resourceArn}"`,
        );
      }
      const service = secret.resourceArn.split(":")[2];
      const expected = secret.source === "ssm" ? "ssm" : "secretsmanager";
      if (service !== expected) {
        throw new ConstructPropsError(scope, `service "${svc.serviceName}": secret ${secret.name} has source ${secret.source} but an ARN of ${service}; got "${secret.resourceArn}"`);
      }
    }
  }
  if (!Token.isUnresolved(props.secretsKmsKeyArn) && (props.secretsKmsKeyArn === "*" || !props.secretsKmsKeyArn.startsWith("arn:"))) {
    throw new ConstructPropsError(scope, `secretsKmsKeyArn must be a KMS key ARN; got "${props.secretsKmsKeyArn}"`);
  }
}
