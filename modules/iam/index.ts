import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Token } from "cdktf";
import { Naming } from "../../lib/naming";
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
export interface ServiceRolesProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /**
   * AWS partition of the ARNs.
   * @default "aws"
   */
  readonly partition?: string;
  /** Service name (kebab-case): part of the role names. */
  readonly serviceName: string;
  /** Every secret the task definition references; the execution role may read exactly these. */
  readonly secrets: readonly ContainerSecret[];
  /** KMS key the secrets (and parameters) are encrypted with. */
  readonly secretsKmsKeyArn: string;
  /**
   * Secret and parameter ARNs the execution role keeps reading although the config no longer
   * references them: a revision still in use (running, or started by a scale-out) may need
   * them until the rollout of the new config is done. From environments/execution-grants.json.
   * @default []
   */
  readonly retainedSecretArns?: readonly string[];
  /** Log group the containers write to (awslogs runs as the execution role). */
  readonly logGroupArn: string;
  /**
   * ECR repository the image comes from.
   * @default - an image outside the platform's ECR: no repository read
   */
  readonly ecrRepositoryArn?: string;
  /**
   * The task role may read parameters under `/<project>/<env>/<service>/`.
   * @default false
   */
  readonly readOwnParameters?: boolean;
  /**
   * The task role may write X-Ray traces (sidecar).
   * @default false
   */
  readonly xraySidecar?: boolean;
  /**
   * The task role may open ECS Exec channels.
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * The application connects to the database as its own user with IAM authentication: the
   * task role may `rds-db:connect` as exactly this user of exactly this instance.
   * @default - not a database client
   */
  readonly databaseUser?: { readonly dbiResourceId: string; readonly userName: string };
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

/** What the ECS agent calls to pull an image from ECR (besides the account-wide login). */
export const EXECUTION_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"] as const;

/** The two roles of one service. */
interface ServiceRolesType {
  /** Used by the ECS agent: pulls the image, writes logs, resolves `secrets`. */
  readonly executionRole: IamRole;
  /** Used by the application: only what it declared; absent when it declared nothing. */
  readonly taskRole?: IamRole;
}

/**
 * One service's two roles. The execution role (used by the ECS agent) may pull from exactly
 * the service's repository, write to exactly its log group and read exactly the secrets its
 * task definition references; the task role holds only what the application declares. Both
 * trust `ecs-tasks.amazonaws.com` from this account only (`aws:SourceAccount`).
 *
 * The execution policy is written out, not the AWS managed AmazonECSTaskExecutionRolePolicy:
 * that one grants ECR pulls and log writes on "*". The list below is what the ECS agent calls
 * (ECS "Amazon ECS task execution IAM role"); dropping ecr:BatchGetImage once caused
 * CannotPullContainerError, which test/modules/iam.test.ts pins.
 */
export class ServiceRoles extends Construct implements ServiceRolesType {
  public readonly executionRole: IamRole;
  /** Absent when the application declares no AWS permission: its tasks then get no credentials at all. */
  public readonly taskRole?: IamRole;

  constructor(scope: Construct, id: string, props: ServiceRolesProps) {
    super(scope, id);
    validate(this, props);
    const { naming, accountId, region, serviceName } = props;
    const partition = props.partition ?? "aws";
    const trust = serviceTrustPolicy(this, "ecs-tasks-trust-policy", "ecs-tasks.amazonaws.com", accountId);

    this.executionRole = new IamRole(this, "execution-role", {
      name: naming.name("iamRole", `${serviceName}-execution`),
      description: `ECS agent for ${serviceName}: pull image, write logs, resolve its secrets`,
      assumeRolePolicy: trust,
    });
    const retained = props.retainedSecretArns ?? [];
    const ssmArns = unique([...props.secrets.filter((s) => s.source === "ssm").map((s) => s.resourceArn), ...retained.filter((a) => a.split(":")[2] === "ssm")]);
    const secretArns = unique([...props.secrets.filter((s) => s.source === "secretsmanager").map((s) => s.resourceArn), ...retained.filter((a) => a.split(":")[2] === "secretsmanager")]);
    const statements: DataAwsIamPolicyDocumentStatement[] = [];
    if (props.ecrRepositoryArn) {
      statements.push(
        // The registry login token is account-wide: AWS authorizes it only on "*".
        { sid: "EcrLogin", effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
        { sid: "PullOwnImage", effect: "Allow", actions: [...EXECUTION_PULL_ACTIONS], resources: [props.ecrRepositoryArn] },
      );
    }
    statements.push({ sid: "WriteOwnLogs", effect: "Allow", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [props.logGroupArn, `${props.logGroupArn}:*`] });
    if (ssmArns.length) statements.push({ sid: "ReadTaskParameters", effect: "Allow", actions: ["ssm:GetParameters"], resources: ssmArns });
    if (secretArns.length) statements.push({ sid: "ReadTaskSecrets", effect: "Allow", actions: ["secretsmanager:GetSecretValue"], resources: secretArns });
    if (ssmArns.length + secretArns.length) statements.push({ sid: "DecryptTaskSecrets", effect: "Allow", actions: ["kms:Decrypt"], resources: [props.secretsKmsKeyArn] });
    new IamRolePolicy(this, "execution-policy", {
      name: "pull-log-read-secrets",
      role: this.executionRole.id,
      policy: policyDocument(this, "execution-policy-document", statements),
    });

    const taskStatements: DataAwsIamPolicyDocumentStatement[] = [];
    if (props.readOwnParameters) {
      taskStatements.push({
        sid: "ReadOwnParameters",
        effect: "Allow",
        actions: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
        resources: [
          `arn:${partition}:ssm:${region}:${accountId}:parameter${naming.parameterPath}${serviceName}`,
          `arn:${partition}:ssm:${region}:${accountId}:parameter${naming.parameterPath}${serviceName}/*`,
        ],
      });
      taskStatements.push({ sid: "DecryptOwnParameters", effect: "Allow", actions: ["kms:Decrypt"], resources: [props.secretsKmsKeyArn] });
    }
    if (props.xraySidecar) {
      taskStatements.push({
        sid: "WriteXRayTraces",
        effect: "Allow",
        actions: ACTIONS_REQUIRING_WILDCARD_RESOURCE.filter((a) => a.startsWith("xray:")),
        resources: ["*"], // X-Ray has no resource-level permissions for these actions
      });
    }
    if (props.enableExecuteCommand) {
      taskStatements.push({
        sid: "EcsExecChannels",
        effect: "Allow",
        actions: ACTIONS_REQUIRING_WILDCARD_RESOURCE.filter((a) => a.startsWith("ssmmessages:")),
        resources: ["*"], // Session Manager channels have no resource-level permissions
      });
    }
    if (props.databaseUser) {
      const { dbiResourceId, userName } = props.databaseUser;
      taskStatements.push({
        sid: "ConnectAsOwnDatabaseUser",
        effect: "Allow",
        actions: ["rds-db:connect"],
        resources: [`arn:${partition}:rds-db:${region}:${accountId}:dbuser:${dbiResourceId}/${userName}`],
      });
    }
    if (taskStatements.length) {
      this.taskRole = new IamRole(this, "task-role", {
        name: naming.name("iamRole", `${serviceName}-task`),
        description: `Application role of ${serviceName}: only what the service declares`,
        assumeRolePolicy: trust,
      });
      new IamRolePolicy(this, "task-policy", {
        name: "application",
        role: this.taskRole.id,
        policy: policyDocument(this, "task-policy-document", taskStatements),
      });
    }
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Problems AWS (or a working task) would refuse, reported all at once at synth. */
function validate(scope: Construct, props: ServiceRolesProps): void {
  // Names first: a NameError before anything is created.
  props.naming.name("iamRole", `${props.serviceName}-execution`);
  props.naming.name("iamRole", `${props.serviceName}-task`);
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      const names = new Set<string>();
      for (const secret of props.secrets) {
        if (names.has(secret.name)) problems.push(`secret ${secret.name} is listed twice; got it ${props.secrets.filter((s) => s.name === secret.name).length} times; list each variable once`);
        names.add(secret.name);
        if (Token.isUnresolved(secret.resourceArn)) continue;
        if (secret.resourceArn === "*" || !secret.resourceArn.startsWith("arn:") || /\*/.test(secret.resourceArn)) {
          problems.push(`secret ${secret.name} must name an exact ARN (Secrets Manager may end in -??????); got "${secret.resourceArn}"`);
          continue;
        }
        const service = secret.resourceArn.split(":")[2];
        const expected = secret.source === "ssm" ? "ssm" : "secretsmanager";
        if (service !== expected) problems.push(`secret ${secret.name} has source ${secret.source} but an ARN of ${service}; got "${secret.resourceArn}"; use an ARN of ${expected}`);
      }
      const dbUser = props.databaseUser?.userName;
      if (dbUser !== undefined && !Token.isUnresolved(dbUser) && !/^[a-z_][a-z0-9_]{0,62}$/.test(dbUser)) {
        problems.push(`databaseUser.userName must be one PostgreSQL user name (lowercase letters, digits, _; at most 63); got "${dbUser}"; a wildcard would let the task connect as any user`);
      }
      if (!Token.isUnresolved(props.secretsKmsKeyArn) && (props.secretsKmsKeyArn === "*" || !props.secretsKmsKeyArn.startsWith("arn:"))) {
        problems.push(`secretsKmsKeyArn must be a KMS key ARN; got "${props.secretsKmsKeyArn}"`);
      }
      return [...new Set(problems)];
    },
  });
}
