import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ALL_ACCOUNT_INPUTS, ENVIRONMENT_INPUTS, loadConfig, LOCAL_INPUT } from "../../environments";
import { ACCOUNT_INPUTS, AccountInput, withAccount } from "../../environments/accounts";
import { EnvironmentInput } from "../../environments/schema";
import { stateBackendInput } from "../../environments/state-backend";
import { buildStacks } from "../../src/app";
import { runSynth } from "../../src/cli";
import { configProblems } from "../helpers";

/** The shipped environments resolved against `accounts` (what environments/index.ts does). */
function inputsWith(accounts: readonly AccountInput[], change: (envs: EnvironmentInput[]) => void = () => undefined): EnvironmentInput[] {
  const envs = ENVIRONMENT_INPUTS.map((e) => withAccount(structuredClone(e), accounts, stateBackendInput));
  change(envs);
  return envs;
}

/** The shipped accounts with a change to one of them. */
function accountsWith(name: string, change: (a: AccountInput) => void): AccountInput[] {
  return ALL_ACCOUNT_INPUTS.map((a) => {
    const copy = structuredClone(a);
    if (copy.name === name) change(copy);
    return copy;
  });
}

const problemsOf = configProblems;

const env = (envs: EnvironmentInput[], name: string) => envs.find((e) => e.name === name)!;

describe("accounts", () => {
  const config = loadConfig();

  test("non-prod and prod run in two different accounts; the state stays in a third", () => {
    const accountOf = Object.fromEntries(config.environments.map((e) => [e.name, [e.account, e.accountId]]));
    expect(accountOf).toEqual({ develop: ["nonprod", "111111111111"], test: ["nonprod", "111111111111"], qa: ["nonprod", "111111111111"], prod: ["prod", "222222222222"] });
    expect(config.accounts.map((a) => a.name)).toEqual(["nonprod", "prod"]);
    expect(new Set(config.environments.map((e) => e.stateBackend.accountId))).toEqual(new Set([config.stateBackend.accountId]));
    expect(config.stateBackend.accountId).toBe("123456789012");
  });

  test("each environment assumes its account's deploy role, and its backend the account's state-access role", () => {
    for (const e of config.environments) {
      const account = config.accounts.find((a) => a.name === e.account)!;
      expect(e.assumeRole).toEqual(account.assumeRole);
      expect(e.stateBackend.assumeRole).toEqual({ roleArn: `arn:aws:iam::123456789012:role/fargate-tfstate-${account.name}`, sessionName: account.assumeRole.sessionName });
    }
  });

  test("the emulator environment stays in moto's one account, where the state lives too: no backend role", () => {
    const local = loadConfig([LOCAL_INPUT]);
    expect(local.accounts.map((a) => [a.name, a.id])).toEqual([["local", "123456789012"]]);
    expect(local.environments[0].stateBackend.assumeRole).toBeUndefined();
    expect(local.environments[0].assumeRole?.roleArn).toBe("arn:aws:iam::123456789012:role/fargate-deploy");
  });

  test("prod's account requires MFA and is the only prod-tier account", () => {
    expect(ACCOUNT_INPUTS.map((a) => [a.name, a.tier, a.requireMfa])).toEqual([
      ["nonprod", "nonprod", false],
      ["prod", "prod", true],
    ]);
  });
});

describe("bad account input is refused before anything is written", () => {
  test("an environment whose account has no account stack", () => {
    const envs = inputsWith(ALL_ACCOUNT_INPUTS, (all) => {
      const d = env(all, "develop");
      d.account = "sandbox";
      delete (d as Partial<EnvironmentInput>).accountId;
    });
    expect(problemsOf(envs)).toEqual([
      'develop.account: names an account that has no account stack (environments/accounts.ts defines none by that name); got "sandbox"; valid: "nonprod", "prod"',
    ]);
  });

  test("a role ARN in another account than the environment", () => {
    const accounts = accountsWith("nonprod", (a) => (a.assumeRole.roleArn = "arn:aws:iam::222222222222:role/fargate-deploy"));
    expect(problemsOf(inputsWith(accounts), accounts)).toEqual(
      ["develop", "test", "qa"].map(
        (name) =>
          `${name}.assumeRole.roleArn: is in account 222222222222, not in this environment's account 111111111111; the provider would act in another account; got "arn:aws:iam::222222222222:role/fargate-deploy"; use the deploy role arn:aws:iam::111111111111:role/... of account "nonprod"`,
      ),
    );
    const bootstrap = accountsWith("prod", (a) => (a.bootstrapRole!.roleArn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"));
    expect(problemsOf(inputsWith(bootstrap), bootstrap)).toEqual([
      'accounts.prod.bootstrapRole.roleArn: is in account 111111111111, not in this account (222222222222); the account stack would be applied elsewhere; got "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"; use a role of arn:aws:iam::222222222222:role/...',
    ]);
  });

  test("an OIDC subject wildcarded to a whole organisation", () => {
    const envs = inputsWith(ALL_ACCOUNT_INPUTS, (all) => (env(all, "prod").github = { repository: "example-org/*", environment: "prod" }));
    expect(problemsOf(envs)).toEqual([
      'prod.github.repository: a wildcard would trust every repository of "example-org" (a subject wildcarded to the whole organisation); got "example-org/*"; name one repository "owner/repo"',
    ]);
  });

  test("prod without MFA", () => {
    const noMfa = accountsWith("prod", (a) => (a.requireMfa = false));
    expect(problemsOf(inputsWith(noMfa), noMfa)).toEqual(["accounts.prod.requireMfa: a prod account requires MFA for human principals (the deployment guide); got false; set true"]);
    // prod moved into the non-prod account (no MFA there) is refused as well.
    const moved = inputsWith(ALL_ACCOUNT_INPUTS, (all) => Object.assign(env(all, "prod"), withAccount({ ...env(all, "prod"), account: "nonprod" }, ALL_ACCOUNT_INPUTS, stateBackendInput)));
    expect(problemsOf(moved)).toEqual([
      'prod.account: account "nonprod" must be a prod account that requires MFA (the deployment guide: MFA for production); got tier "nonprod", requireMfa false; name a tier "prod" account with requireMfa true',
    ]);
  });

  test("all of them at once, and cdktf.out is left untouched", () => {
    const noMfa = accountsWith("prod", (a) => (a.requireMfa = false));
    const envs = inputsWith(noMfa, (all) => {
      env(all, "develop").account = "sandbox";
      env(all, "qa").assumeRole!.roleArn = "arn:aws:iam::222222222222:role/fargate-deploy";
      env(all, "prod").github = { repository: "example-org/*", environment: "prod" };
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "accounts-synth-"));
    const outdir = path.join(dir, "cdktf.out");
    let stderr = "";
    const code = runSynth({ outdir, stderr: { write: (t: string) => ((stderr += t), true) }, load: () => loadConfig(envs, stateBackendInput, [], noMfa), build: (app, c) => void buildStacks(app, c) });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^ {2}develop\.account: names an account that has no account stack/m);
    expect(stderr).toMatch(/^ {2}qa\.assumeRole\.roleArn: is in account 222222222222/m);
    expect(stderr).toMatch(/^ {2}prod\.github\.repository: a wildcard would trust every repository/m);
    expect(stderr).toMatch(/^ {2}accounts\.prod\.requireMfa: a prod account requires MFA/m);
    expect(stderr).toContain(`Nothing was written to ${outdir}.`);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("regulated audit trails are kept a year; unregulated ones may be shorter", () => {
    const short = accountsWith("nonprod", (a) => (a.auditRetentionDays = 90));
    expect(problemsOf(inputsWith(short), short)).toEqual([
      "accounts.nonprod.auditRetentionDays: the NIST-SOC2 compliance tag needs the audit trail kept at least 365 days; got 90; set 365 or more",
    ]);
    const unregulated = accountsWith("nonprod", (a) => {
      a.auditRetentionDays = 90;
      a.tags = { ...a.tags, Compliance: "internal" };
    });
    expect(problemsOf(inputsWith(unregulated), unregulated)).toEqual([]);
  });

  test("two account stacks in one AWS account are refused (one Config recorder per account and region)", () => {
    const nonprod = ALL_ACCOUNT_INPUTS.find((a) => a.name === "nonprod")!;
    const twins = [...ALL_ACCOUNT_INPUTS, { ...structuredClone(nonprod), name: "nonprod-two" }];
    const envs = inputsWith(twins, (all) => Object.assign(env(all, "qa"), withAccount({ ...env(all, "qa"), account: "nonprod-two" }, twins, stateBackendInput)));
    expect(problemsOf(envs, twins)).toEqual(['accounts.nonprod-two.id: is also account "nonprod"; got "111111111111"; one account stack per AWS account (AWS Config allows one recorder per account and region)']);
  });

  test("the environment's region must be its account's, GitHub needs the account's OIDC provider, access logs its logs bucket", () => {
    const envs = inputsWith(ALL_ACCOUNT_INPUTS, (all) => {
      const d = env(all, "develop");
      d.features = { ...d.features, s3AccessLogging: true };
    });
    const accounts = accountsWith("nonprod", (a) => {
      a.region = "eu-west-1";
      a.githubOidc = false;
      a.features = { s3AccessLogging: false };
    });
    const problems = problemsOf(envs, accounts);
    expect(problems).toContain('develop.region: its account "nonprod" records AWS Config (and keeps its access-logs bucket) in eu-west-1 only; got "us-east-1"; valid: "eu-west-1", or another account');
    expect(problems).toContain('develop.github: its account "nonprod" has no GitHub OIDC provider; got a github setting with githubOidc false; set githubOidc true on the account or remove github');
    expect(problems).toContain('develop.features.s3AccessLogging: its account "nonprod" has no access-logs bucket (features.s3AccessLogging false); got true; turn it off here too');
  });

  test("an environment's own copy of its account's roles must match the account", () => {
    const envs = inputsWith(ALL_ACCOUNT_INPUTS, (all) => {
      env(all, "test").assumeRole!.roleArn = "arn:aws:iam::111111111111:role/other";
      env(all, "test").stateBackend.assumeRole = undefined;
    });
    expect(problemsOf(envs)).toEqual([
      'test.assumeRole.roleArn: is not the deploy role of its account "nonprod"; got "arn:aws:iam::111111111111:role/other"; valid: "arn:aws:iam::111111111111:role/fargate-deploy" (set it in environments/accounts.ts, not per environment)',
      'test.stateBackend.assumeRole: the state lives in account 123456789012, so the backend must assume that account\'s state-access role; got nothing; valid: "arn:aws:iam::123456789012:role/fargate-tfstate-nonprod"',
    ]);
  });

  test("the edge: a certificate of another account, prod without WAF, an unusable rate limit", () => {
    const envs = inputsWith(ALL_ACCOUNT_INPUTS, (all) => {
      env(all, "develop").alb!.certificate = { arn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001" };
      env(all, "prod").alb!.waf = { enabled: false };
      env(all, "qa").alb!.waf = { enabled: true, rateLimitPer5Min: 50 };
    });
    expect(problemsOf(envs)).toEqual([
      expect.stringMatching(/^develop\.alb\.certificate\.arn: is in account 123456789012; a load balancer can only use certificates of its own account 111111111111; got "arn:aws:acm:.*"; import or request it in account 111111111111, or give \{ domain, hostedZoneId \}$/),
      "qa.alb.waf.rateLimitPer5Min: must be a whole number from 100 to 2000000000 requests per 5 minutes; got 50",
      "prod.alb.waf.enabled: prod's internet-facing load balancer must sit behind AWS WAF; got false; remove it or set true",
    ]);
  });

  test("a GitHub setting names one repository and exactly one of branch or environment", () => {
    const envs = inputsWith(ALL_ACCOUNT_INPUTS, (all) => {
      env(all, "develop").github = { repository: "example-org", branch: "main", environment: "dev" };
    });
    expect(problemsOf(envs)).toEqual([
      'develop.github.repository: must be one GitHub repository "owner/repo"; got "example-org"',
      'develop.github: give either branch or environment (what the token\'s sub is pinned to), not both or neither; got {"branch":"main","environment":"dev"}',
    ]);
  });
});
