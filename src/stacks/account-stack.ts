import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { AccountConfig, accountStateKey, deployRoleName, stateAccessRoleName } from "../../environments/accounts";
import { StateBackendConfig } from "../../environments/state-backend";
import type { LoadedConfig } from "../../environments";
import { Naming } from "../../lib/naming";
import { AccountBaseline, managedKey } from "../../modules/security";
import { ImageRegistry } from "../../modules/cicd/registry";
import { guardStatefulResources } from "./destroy-guard";
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
  /** Config names of the images the account's environments deliver (one shared repository each). */
  readonly repositories?: readonly string[];
  /** Accounts that promote this account's releases (replication targets). @default [] */
  readonly replicateTo?: readonly { readonly accountId: string; readonly region: string }[];
  /** Create the account's Bitbucket connection (some environment here runs a pipeline). @default false */
  readonly sourceConnection?: boolean;
  /** Accounts whose releases replicate into this one. @default [] */
  readonly acceptReplicationFrom?: readonly string[];
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
  /** Repositories and the Bitbucket connection (absent when the account delivers nothing). */
  public readonly registry?: ImageRegistry;

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

    // One repository per delivered image for all of the account's environments (build once, promote the digest).
    const repositories = props.repositories ?? [];
    const sourceConnection = (props.sourceConnection ?? false) && a.features.sourceConnection;
    if (repositories.length > 0 || sourceConnection) {
      const key = managedKey(this, {
        naming: this.naming,
        accountId: a.id,
        id: "registry-key",
        purpose: "registry",
        description: `${this.naming.stem}: ECR repositories of the account's releases`,
        grants: [],
      });
      this.registry = new ImageRegistry(this, "registry", {
        naming: this.naming,
        accountId: a.id,
        region: a.region,
        repositories,
        kmsKeyArn: key.key.arn,
        replicateTo: props.replicateTo,
        acceptReplicationFrom: props.acceptReplicationFrom,
        sourceConnection,
        // The emulator's account is thrown away by local:down, images and all.
        forceDelete: props.providerOverrides !== undefined,
      });
      if (this.registry.connection) new TerraformOutput(this, "source_connection_arn", { value: this.registry.connection.arn, description: "Complete the Bitbucket handshake once, then set accounts.<name>.sourceConnectionArn to this" });
      new TerraformOutput(this, "image_repository_urls", { value: Object.fromEntries(Object.entries(this.registry.repositories).map(([name, r]) => [name, r.repositoryUrl])) });
    }
    // What code cannot rebuild (audit bucket, keys, release images) in a prod account.
    if (a.tier === "prod") guardStatefulResources(this);

    const b = this.baseline;
    new TerraformOutput(this, "deploy_role_arn", { value: b.deployRole.role.arn, description: "What environment providers assume (assumeRole.roleArn)" });
    if (b.accessLogsBucket) new TerraformOutput(this, "access_logs_bucket", { value: b.accessLogsBucket.bucket.bucket, description: "Sink of every bucket's server access logs in the account" });
    if (b.audit) new TerraformOutput(this, "audit_bucket", { value: b.audit.bucket.bucket.bucket });
    if (b.audit?.trail) new TerraformOutput(this, "trail_arn", { value: b.audit.trail.arn });
    if (b.audit?.configRecorder) new TerraformOutput(this, "config_recorder_name", { value: b.audit.configRecorder.name });
    if (b.githubOidcProvider) new TerraformOutput(this, "github_oidc_provider_arn", { value: b.githubOidcProvider.arn });
  }
}
