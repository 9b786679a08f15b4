import { accountRepositories, promotionDestinations, promotionSources } from "../environments/delivery";
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { LoadedConfig } from "../environments";
import { EXECUTION_GRANTS } from "../environments/execution-grants";
import { PlatformStack, platformStackName } from "./stacks/platform-stack";
import { StateBackendStack } from "./stacks/state-backend-stack";
import { AccountStack, accountStackName, AccountStackProps, stateAccessRoleSpecs, stateLocation } from "./stacks/account-stack";
import { applyPolicyPack } from "./policy/aspect";
import { ConstructValidationError } from "../lib/errors";

/** The bootstrap stack's name: `<project>-state`. */
export function stateBackendStackName(project: string): string {
  return `${project}-state`;
}

export interface BuiltStacks {
  stateBackend: StateBackendStack;
  /** One per account the environments run in (`<project>-account-<name>`). */
  accounts: AccountStack[];
  environments: PlatformStack[];
}

/** The account stacks of `config`: one per account, scoped to the environments it hosts. */
export function buildAccountStacks(app: App, config: LoadedConfig, providerOverrides?: AccountStackProps["providerOverrides"]): AccountStack[] {
  return config.accounts.map(
    (account) =>
      new AccountStack(app, accountStackName(config.stateBackend.project, account.name), {
        account,
        project: config.stateBackend.project,
        state: stateLocation(config.stateBackend, account),
        environmentStems: config.environments.filter((e) => e.account === account.name).map((e) => `${e.project}-${e.name}`),
        repositories: accountRepositories(account, config.environments),
        replicateTo: promotionDestinations(account, config.environments),
        acceptReplicationFrom: promotionSources(account, config.environments),
        sourceConnection: config.environments.some((e) => e.account === account.name && e.features.cicd && e.cicd.releases !== "delivered"),
        providerOverrides,
      }),
  );
}

/**
 * Builds the production stacks into `app` (no I/O besides what App itself does): the state
 * bootstrap and one PlatformStack per environment. The policy pack runs over everything in
 * the app, including stacks added after this call (the emulator's, src/emulator).
 */
export function buildStacks(app: App, config: LoadedConfig): BuiltStacks {
  const stateBackend = new StateBackendStack(app, stateBackendStackName(config.stateBackend.project), { config: config.stateBackend, accessRoles: stateAccessRoleSpecs(config) });
  // Bootstrap order: state, accounts, environments (README "Accounts").
  const accounts = buildAccountStacks(app, config);
  const environments = config.environments.map((env) => new PlatformStack(app, platformStackName(env), { config: env, retainedSecretArns: EXECUTION_GRANTS[env.name] }));
  applyPolicyPack(app); // errors fail synth, warnings are reported (src/policy)
  return { stateBackend, accounts, environments };
}

/**
 * Synthesizes into a staging directory and swaps it into place only when every stack
 * synthesized, so a failure never leaves a half-written `cdktf.out`.
 */
export function synthesizeAtomically(outdir: string, build: (app: App) => void): void {
  const target = path.resolve(outdir);
  const staging = `${target}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    const app = new App({ outdir: staging, stackTraces: false });
    build(app);
    // Every construct's validation, across every stack, before anything is written: one
    // report with every problem (cdktf itself stops at the first stack that has one).
    const problems = app.node.findAll().flatMap((c) => c.node.validate().map((message) => `${c.node.path}: ${message}`));
    if (problems.length) throw new ConstructValidationError(problems);
    app.synth();
    const previous = `${target}.previous-${process.pid}`;
    if (fs.existsSync(target)) fs.renameSync(target, previous);
    fs.renameSync(staging, target);
    fs.rmSync(previous, { recursive: true, force: true });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
