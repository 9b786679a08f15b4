/**
 * The AWS accounts the environments run in, by name. Each account an environment names gets
 * one account stack, `<project>-account-<name>` (src/stacks/account-stack.ts), which owns what
 * exists once per account: the CloudTrail trail, the AWS Config recorder and rules, the audit
 * key and bucket, the S3 access-logs bucket, the deploy role and the GitHub OIDC provider.
 * Environment stacks never look these up: they use the names computed from this file, so
 * every plan still runs offline.
 *
 * Who assumes what (README "Accounts"):
 *   - an operator (a principal in `operators`, with MFA where `requireMfa`) assumes the deploy
 *     role `assumeRole.roleArn` in the account; every environment stack's provider does exactly
 *     that (`assume_role` with the session name and the optional external ID);
 *   - the same operator's backend assumes `<project>-tfstate-<account>` in the state account
 *     (environments/state-backend.ts) when the state lives elsewhere; that role reaches only
 *     the state keys of this account's stacks;
 *   - the account stack itself is applied through `bootstrapRole` (a role that exists before
 *     the platform, e.g. the OrganizationAccountAccessRole AWS Organizations creates), because
 *     the deploy role is one of the things it creates.
 *
 * Example account IDs: replace them (and the operator ARNs) with your own before deploying.
 */
import { z } from "zod";
import { assumeRoleSchema, AWS_REGIONS, EnvironmentInput, iamArnAccount, show } from "./schema";
import { logRetentionProblem } from "../lib/aws-limits";

/** Compliance tags whose frameworks require the audit trail to be kept at least a year. */
export const YEAR_RETENTION_COMPLIANCE = /SOC ?2|NIST|PCI|HIPAA|ISO ?27001/i;
/** Days the audit trail is kept where the Compliance tag names such a framework. */
export const MIN_REGULATED_AUDIT_DAYS = 365;

const principalArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:iam::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)$/,
    "must be the ARN of an IAM user, an IAM role or an account root (arn:aws:iam::<account>:user/<name>); wildcards are not principals",
  );

export const accountSchema = z
  .object({
    /** Short name: part of the account stack's name and of its physical names. */
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be lowercase kebab-case starting with a letter").max(20),
    /** The 12-digit account ID (`allowed_account_ids` of every stack in the account). */
    id: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account ID"),
    /** Home region: the trail's home and the one region AWS Config records in. */
    region: z.enum(AWS_REGIONS),
    /** `prod` accounts run prod: MFA for humans, tagged Environment=prod for the policy pack. */
    tier: z.enum(["prod", "nonprod"]),
    /**
     * The deploy role: what every environment stack's provider assumes in this account. The
     * account stack creates it (its name is the ARN's last part), trusted by `operators`.
     */
    assumeRole: assumeRoleSchema,
    /**
     * What the account stack's own provider assumes: a role that exists before the platform.
     * @default - none: the caller's credentials must already be in this account
     */
    bootstrapRole: assumeRoleSchema.optional(),
    /** Human principals that may assume the deploy role and the account's state-access role. */
    operators: z.array(principalArn).min(1),
    /** The deploy role (and state-access role) trust only sessions with MFA (`aws:MultiFactorAuthPresent`). */
    requireMfa: z.boolean(),
    /** Create the GitHub Actions OIDC identity provider, for environments with `github`. @default false */
    githubOidc: z.boolean().default(false),
    /** Days the audit trail's log group and the audit bucket keep records. @default 365 */
    auditRetentionDays: z.number().int().default(MIN_REGULATED_AUDIT_DAYS),
    /**
     * The account's one CodeConnections connection to Bitbucket, shared by the pipelines of
     * every environment in the account. The account stack creates it (output
     * `source_connection_arn`, PENDING until an operator completes the OAuth handshake once);
     * its ARN goes here so environment stacks can name it without a lookup.
     * @default - none: the account's environments cannot have pipelines
     */
    sourceConnectionArn: z
      .string()
      .regex(/^arn:aws[\w-]*:(codestar-connections|codeconnections):[\w-]+:\d{12}:connection\/[\w-]+$/, "must be a CodeConnections connection ARN")
      .optional(),
    /** Owner, CostCenter, Compliance (+ any); `Environment` is the tier. */
    tags: z.record(z.string()),
    /** What an account may leave out; only the emulator account (environments/local.ts) does. */
    features: z
      .object({
        /** The multi-region CloudTrail trail. @default true */
        cloudTrail: z.boolean().default(true),
        /** The AWS Config recorder, delivery channel and managed rules. @default true */
        awsConfig: z.boolean().default(true),
        /** The access-logs bucket (and access logging of the audit bucket into it). @default true */
        s3AccessLogging: z.boolean().default(true),
        /** Create the Bitbucket connection (`sourceConnectionArn` then names it). @default true */
        sourceConnection: z.boolean().default(true),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((account, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    if (account.bootstrapRole) {
      const other = iamArnAccount(account.bootstrapRole.roleArn);
      if (other !== account.id) {
        issue(["bootstrapRole", "roleArn"], `is in account ${other}, not in this account (${account.id}); the account stack would be applied elsewhere; got ${show(account.bootstrapRole.roleArn)}; use a role of arn:aws:iam::${account.id}:role/...`);
      }
    }
    if (account.tier === "prod" && !account.requireMfa) {
      issue(["requireMfa"], `a prod account requires MFA for human principals (the deployment guide); got false; set true`);
    }
    const retention = logRetentionProblem(account.auditRetentionDays);
    if (retention) issue(["auditRetentionDays"], retention);
    const compliance = account.tags.Compliance ?? "";
    if (YEAR_RETENTION_COMPLIANCE.test(compliance) && account.auditRetentionDays < MIN_REGULATED_AUDIT_DAYS) {
      issue(["auditRetentionDays"], `the ${compliance} compliance tag needs the audit trail kept at least ${MIN_REGULATED_AUDIT_DAYS} days; got ${account.auditRetentionDays}; set ${MIN_REGULATED_AUDIT_DAYS} or more`);
    }
    if (account.sourceConnectionArn !== undefined) {
      const other = account.sourceConnectionArn.split(":")[4];
      if (other !== account.id) issue(["sourceConnectionArn"], `is in account ${other}, not in this account (${account.id}); every account's pipelines use the account's own connection; got ${show(account.sourceConnectionArn)}`);
    }
    for (const tag of ["Owner", "CostCenter", "Compliance"]) {
      if (!account.tags[tag]) issue(["tags", tag], `mandatory tag is missing; got ${show(account.tags[tag])}; every account needs Owner, CostCenter, Compliance (Environment is its tier)`);
    }
  });

export type AccountInput = z.input<typeof accountSchema>;
export type AccountConfig = z.output<typeof accountSchema>;

/** Days security records (audit trail, WAF request logs) are kept: a year under a regulated Compliance tag. */
export function securityLogRetentionDays(tags: Readonly<Record<string, string>>, otherwise: number): number {
  return YEAR_RETENTION_COMPLIANCE.test(tags.Compliance ?? "") ? Math.max(MIN_REGULATED_AUDIT_DAYS, otherwise) : otherwise;
}

/** The name of the deploy role the account stack creates: the last part of `assumeRole.roleArn`. */
export function deployRoleName(account: Pick<AccountConfig, "assumeRole">): string {
  return account.assumeRole.roleArn.replace(/^.*:role\/(?:.*\/)?/, "");
}

/** The role in the state account an account's backends assume: `<project>-tfstate-<account>`. */
export function stateAccessRoleName(project: string, accountName: string): string {
  return `${project}-tfstate-${accountName}`;
}

/** The state key of an account stack, next to the environments' keys in the shared bucket. */
export function accountStateKey(project: string, accountName: string): string {
  return `${project}/account-${accountName}/terraform.tfstate`;
}

/** Where the state lives, as environments and account stacks need it. */
export interface StateAccount {
  readonly project: string;
  readonly accountId: string;
}

/**
 * What an environment input takes from its account: the account ID, the role its provider
 * assumes and, when the state lives in another account, the role its backend assumes there.
 * Environment files only name the account; an unknown name is left for loadConfig to report.
 */
export function withAccount(input: EnvironmentInput, accounts: readonly AccountInput[], state: StateAccount): EnvironmentInput {
  const account = accounts.find((a) => a.name === input.account);
  if (!account) return input;
  const backendRole =
    account.id === state.accountId
      ? undefined
      : { roleArn: `arn:aws:iam::${state.accountId}:role/${stateAccessRoleName(state.project, account.name)}`, sessionName: account.assumeRole.sessionName };
  return {
    ...input,
    accountId: account.id,
    assumeRole: { ...account.assumeRole },
    stateBackend: { ...input.stateBackend, accountId: state.accountId, assumeRole: backendRole },
  };
}

/** The environments that run in an account (stable order: the order of `environments`). */
export function environmentsIn<E extends { readonly account: string }>(account: Pick<AccountConfig, "name">, environments: readonly E[]): E[] {
  return environments.filter((e) => e.account === account.name);
}

interface EnvironmentView {
  readonly name: string;
  readonly account: string;
  readonly accountId: string;
  readonly region: string;
  readonly assumeRole?: { readonly roleArn: string; readonly sessionName: string; readonly externalId?: string };
  readonly github?: unknown;
  readonly features: { readonly s3AccessLogging: boolean };
  readonly stateBackend: { readonly accountId: string; readonly assumeRole?: { readonly roleArn: string } };
}

/** The problem of an environment naming an account that has no account stack. */
export function unknownAccountProblem(label: string, named: string, accounts: readonly AccountConfig[], emulatorAccount?: string): string {
  const valid = accounts.filter((a) => a.name !== emulatorAccount).map((a) => show(a.name)).join(", ");
  return `${label}.account: names an account that has no account stack (environments/accounts.ts defines none by that name); got ${show(named)}; valid: ${valid}`;
}

/**
 * Problems between environments and their accounts, one line each, in the config format.
 * Environments naming an unknown account are skipped (unknownAccountProblem reports them).
 * `accounts` are the parsed ones; `emulatorAccount` is the name only the `local` environment may use.
 */
export function accountProblems(environments: readonly EnvironmentView[], accounts: readonly AccountConfig[], state: StateAccount, emulatorAccount?: string): string[] {
  const problems: string[] = [];
  const byName = new Map(accounts.map((a) => [a.name, a]));
  const valid = accounts.filter((a) => a.name !== emulatorAccount).map((a) => show(a.name)).join(", ");
  for (const env of environments) {
    const account = byName.get(env.account);
    if (!account) continue;
    if (env.account === emulatorAccount && env.name !== "local") {
      problems.push(`${env.name}.account: the emulator account is only for the local environment; got ${show(env.account)}; valid: ${valid}`);
    }
    const at = `${env.name}.account: account ${show(account.name)}`;
    if (env.accountId !== account.id) problems.push(`${env.name}.accountId: is not the ID of its account ${show(account.name)}; got ${show(env.accountId)}; valid: ${show(account.id)}`);
    if (env.region !== account.region) {
      problems.push(`${env.name}.region: its account ${show(account.name)} records AWS Config (and keeps its access-logs bucket) in ${account.region} only; got ${show(env.region)}; valid: ${show(account.region)}, or another account`);
    }
    if (env.name === "prod" && (account.tier !== "prod" || !account.requireMfa)) {
      problems.push(`${at} must be a prod account that requires MFA (the deployment guide: MFA for production); got tier ${show(account.tier)}, requireMfa ${account.requireMfa}; name a tier "prod" account with requireMfa true`);
    }
    if (env.assumeRole?.roleArn !== account.assumeRole.roleArn) {
      problems.push(`${env.name}.assumeRole.roleArn: is not the deploy role of its account ${show(account.name)}; got ${show(env.assumeRole?.roleArn)}; valid: ${show(account.assumeRole.roleArn)} (set it in environments/accounts.ts, not per environment)`);
    }
    if (env.github !== undefined && !account.githubOidc) {
      problems.push(`${env.name}.github: its account ${show(account.name)} has no GitHub OIDC provider; got a github setting with githubOidc false; set githubOidc true on the account or remove github`);
    }
    if (env.features.s3AccessLogging && !account.features.s3AccessLogging) {
      problems.push(`${env.name}.features.s3AccessLogging: its account ${show(account.name)} has no access-logs bucket (features.s3AccessLogging false); got true; turn it off here too`);
    }
    const wantRole = account.id === state.accountId ? undefined : `arn:aws:iam::${state.accountId}:role/${stateAccessRoleName(state.project, account.name)}`;
    if (env.stateBackend.assumeRole?.roleArn !== wantRole) {
      problems.push(
        `${env.name}.stateBackend.assumeRole: ${wantRole ? `the state lives in account ${state.accountId}, so the backend must assume that account's state-access role` : `the state lives in this account, so the backend assumes no role`}; got ${show(env.stateBackend.assumeRole?.roleArn)}; valid: ${show(wantRole)}`,
      );
    }
  }
  // Two account stacks in one account would each create a Config recorder (one per account and region).
  const used = accounts.filter((a) => environments.some((e) => e.account === a.name));
  for (const [i, a] of used.entries()) {
    const twin = used.slice(0, i).find((b) => b.id === a.id);
    if (twin) problems.push(`accounts.${a.name}.id: is also account ${show(twin.name)}; got ${show(a.id)}; one account stack per AWS account (AWS Config allows one recorder per account and region)`);
  }
  return problems;
}

const ORGANISATION_TAGS = { Owner: "platform-team", CostCenter: "engineering", Compliance: "NIST-SOC2" };

/**
 * Operators: example IAM users in the state account, which doubles as the identity account.
 * They reach prod with an MFA session (docs/accounts.md#deploy-prod-with-mfa). Replace with your own.
 */
const OPERATORS = ["arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/bob"];

/** The accounts `npm run synth` builds account stacks for (those its environments name). */
export const ACCOUNT_INPUTS: readonly AccountInput[] = [
  {
    name: "nonprod",
    id: "111111111111",
    region: "us-east-1",
    tier: "nonprod",
    assumeRole: { roleArn: "arn:aws:iam::111111111111:role/fargate-deploy", sessionName: "fargate-nonprod" },
    // Created by AWS Organizations in every member account; applies the account stack once.
    bootstrapRole: { roleArn: "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole", sessionName: "fargate-nonprod-bootstrap" },
    operators: OPERATORS,
    requireMfa: false,
    githubOidc: true,
    // Example: the ARN the account stack's output source_connection_arn prints (replace it).
    sourceConnectionArn: "arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-example-nonprod",
    auditRetentionDays: MIN_REGULATED_AUDIT_DAYS,
    tags: ORGANISATION_TAGS,
  },
  {
    name: "prod",
    id: "222222222222",
    region: "us-east-1",
    tier: "prod",
    // The external ID guards against a confused deputy if a third party ever runs deploys.
    assumeRole: { roleArn: "arn:aws:iam::222222222222:role/fargate-deploy", sessionName: "fargate-prod", externalId: "fargate-prod-deploy" },
    bootstrapRole: { roleArn: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", sessionName: "fargate-prod-bootstrap" },
    operators: OPERATORS,
    requireMfa: true,
    githubOidc: true,
    sourceConnectionArn: "arn:aws:codeconnections:us-east-1:222222222222:connection/4e5f6a7b-example-prod",
    auditRetentionDays: MIN_REGULATED_AUDIT_DAYS,
    tags: ORGANISATION_TAGS,
  },
];
