import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { AccountConfig, accountStateKey, deployRoleName, stateAccessRoleName } from "../../environments/accounts";
import { StateBackendConfig } from "../../environments/state-backend";
import type { LoadedConfig } from "../../environments";
import { Naming } from "../../lib/naming";
import { AccountBaseline } from "../../modules/security";
import { suppressRule } from "../policy/suppressions";
import { providerAccess, s3BackendConfig, StateLocation } from "./access";
import { StateAccessRoleSpec } from "./state-backend-stack";
import { stateKey } from "./platform-stack";

export interface AccountStackProps {
  /** The account (environments/accounts.ts). */
  readonly account: AccountConfig;
  /** Project name: the first part of every physical name. */
  readonly project: string;
  /** Where this stack's state lives (the state account; its backend role when that is another account). */
  readonly state: StateLocation;
  /** Name stems (`<project>-<env>`) of the environments in the account: the deploy role's IAM scope. */
  readonly environmentStems: readonly string[];
  /**
   * Extra provider arguments, for the emulator only (endpoints, skip flags).
   * @default - none: real AWS
   */
  readonly providerOverrides?: Partial<AwsProviderConfig>;
}

/** The account stack's name: `<project>-account-<account>`. Stable: it is the cdktf deploy target. */
export function accountStackName(project: string, accountName: string): string {
  return `${project}-account-${accountName}`;
}

/** How an account's stacks reach the state: the shared bucket, table and key, and the backend role if needed. */
export function stateLocation(backend: StateBackendConfig, account: Pick<AccountConfig, "name" | "id" | "assumeRole">): StateLocation {
  return {
    bucket: backend.bucketName,
    lockTable: backend.lockTableName,
    region: backend.region,
    kmsKeyAlias: backend.kmsKeyAlias,
    accountId: backend.accountId,
    assumeRole:
      account.id === backend.accountId
        ? undefined
        : { roleArn: `arn:aws:iam::${backend.accountId}:role/${stateAccessRoleName(backend.project, account.name)}`, sessionName: account.assumeRole.sessionName },
  };
}

/** The backend role of every account other than the state account, each reaching only its stacks' state keys. */
export function stateAccessRoleSpecs(config: LoadedConfig): StateAccessRoleSpec[] {
  const b = config.stateBackend;
  const folder = (key: string) => key.replace(/[^/]+$/, "");
  return config.accounts
    .filter((a) => a.id !== b.accountId)
    .map((a) => ({
      name: stateAccessRoleName(b.project, a.name),
      operators: a.operators,
      requireMfa: a.requireMfa,
      tier: a.tier,
      keyPrefixes: [folder(accountStateKey(b.project, a.name)), ...config.environments.filter((e) => e.account === a.name).map((e) => folder(stateKey(e)))],
    }));
}

/**
 * One AWS account's own resources, beside the state bootstrap and before any environment:
 * the audit key, the access-logs bucket, the multi-region CloudTrail trail, AWS Config, the
 * deploy role environment stacks assume and the GitHub OIDC provider (AccountBaseline).
 * Applied through the account's bootstrap role; its state sits next to the environments' in
 * the state account. Environment stacks never reference it: they compute the names.
 */
export class AccountStack extends TerraformStack {
  public readonly naming: Naming;
  public readonly baseline: AccountBaseline;

  constructor(scope: Construct, id: string, props: AccountStackProps) {
    super(scope, id);
    const a = props.account;
    this.naming = new Naming(props.project, a.name);

    new AwsProvider(this, "aws", {
      region: a.region,
      ...providerAccess(a.id, a.bootstrapRole),
      defaultTags: [{ tags: { ...a.tags, Environment: a.tier, Account: a.name, Project: props.project, ManagedBy: "cdktf", Stack: id } }],
      ...props.providerOverrides,
    });
    new S3Backend(this, s3BackendConfig(props.state, accountStateKey(props.project, a.name)));

    this.baseline = new AccountBaseline(this, "account", {
      naming: this.naming,
      accountId: a.id,
      region: a.region,
      cloudTrail: a.features.cloudTrail,
      awsConfig: a.features.awsConfig,
      accessLogs: a.features.s3AccessLogging,
      auditRetentionDays: a.auditRetentionDays,
      githubOidc: a.githubOidc,
      deployRole: {
        name: deployRoleName(a),
        operators: a.operators,
        requireMfa: a.requireMfa,
        externalId: a.assumeRole.externalId,
        environmentStems: props.environmentStems,
      },
    });
    suppressRule(
      this.baseline.deployRole.powerUser,
      "IAM-NO-ADMIN-POLICY",
      "the deploy role runs Terraform for whole environments (VPC, ECS, RDS, ALB, WAF, ...); AWS's PowerUserAccess excludes IAM, Organizations and Account, its IAM rights are limited to the environments' own role names, it is denied any change to the audit trail, recorder, records and key, and only the operators (prod: with MFA) can assume it",
    );

    const b = this.baseline;
    new TerraformOutput(this, "deploy_role_arn", { value: b.deployRole.role.arn, description: "What environment providers assume (assumeRole.roleArn)" });
    if (b.accessLogsBucket) new TerraformOutput(this, "access_logs_bucket", { value: b.accessLogsBucket.bucket.bucket, description: "Sink of every bucket's server access logs in the account" });
    if (b.audit) new TerraformOutput(this, "audit_bucket", { value: b.audit.bucket.bucket.bucket });
    if (b.audit?.trail) new TerraformOutput(this, "trail_arn", { value: b.audit.trail.arn });
    if (b.audit?.configRecorder) new TerraformOutput(this, "config_recorder_name", { value: b.audit.configRecorder.name });
    if (b.githubOidcProvider) new TerraformOutput(this, "github_oidc_provider_arn", { value: b.githubOidcProvider.arn });
  }
}
