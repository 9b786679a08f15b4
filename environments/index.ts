/**
 * Loads and validates every environment before anything is synthesized. All problems of all
 * environments are collected and reported together, one line each:
 * `<env>.<path>: <what is wrong>; got <value>; <what would be valid>`.
 */
import { deliveryProblems, pipelinePlan } from "./delivery";
import { ZodIssue } from "zod";
import { EnvironmentConfig, EnvironmentInput, environmentSchema, show } from "./schema";
import { stateBackendInput, StateBackendConfig, stateBackendSchema } from "./state-backend";
import { EnvironmentDelta, resolveEnvironment } from "./catalogue";
import { SERVICE_CATALOGUE } from "./services";
import { SHARED } from "./shared";
import { develop } from "./develop";
import { test } from "./test";
import { qa } from "./qa";
import { prod } from "./prod";
import { local, LOCAL_ACCOUNT_INPUT } from "./local";
import { ACCOUNT_INPUTS, AccountConfig, accountProblems, AccountInput, accountSchema, unknownAccountProblem, withAccount } from "./accounts";

/** Every environment file the app synthesizes, in promotion order. */
export const ENVIRONMENT_DELTAS: readonly EnvironmentDelta[] = [develop, test, qa, prod];
/** The emulator environment (never part of `npm run synth`; see local.ts). */
export const LOCAL_DELTA: EnvironmentDelta = local;

/** Every account an environment may name: the real ones and the emulator's (local.ts). */
export const ALL_ACCOUNT_INPUTS: readonly AccountInput[] = [...ACCOUNT_INPUTS, LOCAL_ACCOUNT_INPUT];

/** shared.ts + the environment file + the catalogue services it names + what its account says. */
export function resolve(delta: EnvironmentDelta): { input: EnvironmentInput; problems: readonly string[] } {
  const r = resolveEnvironment(delta, SHARED, SERVICE_CATALOGUE);
  return { ...r, input: withAccount(r.input, ALL_ACCOUNT_INPUTS, stateBackendInput) };
}

const resolved = ENVIRONMENT_DELTAS.map(resolve);
/** The full inputs of every synthesized environment (what the schema validates). */
export const ENVIRONMENT_INPUTS: readonly EnvironmentInput[] = resolved.map((r) => r.input);
/** The full input of the emulator environment. */
export const LOCAL_INPUT: EnvironmentInput = resolve(local).input;

/** Thrown when one or more configs are invalid; `problems` holds one line per problem. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid environment configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** `services[1].cpu` reads as `services.worker.cpu`: services are known by name, not position. */
function formatPath(path: readonly (string | number)[], input: unknown): string {
  return path
    .map((p, i) => {
      if (i === 1 && path[0] === "services" && typeof p === "number") {
        const name = (valueAt(input, ["services", p, "name"]) as unknown);
        if (typeof name === "string" && name) return `.${name}`;
      }
      return typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`;
    })
    .join("");
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((value, key) => (value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined), input);
}

/**
 * One line per issue. Messages given inline in the schema (e.g. a regex's) do not carry the
 * received value, so it is added here from the input.
 */
function formatIssues(label: string, issues: readonly ZodIssue[], input: unknown): string[] {
  return issues.map((i) => {
    const message = i.message.includes("; got ") ? i.message : `${i.message}; got ${show(valueAt(input, i.path))}`;
    return i.path.length ? `${label}.${formatPath(i.path, input)}: ${message}` : `${label}: ${message}`;
  });
}

function labelOf(input: unknown, index: number): string {
  const name = (input as { name?: unknown } | null)?.name;
  return typeof name === "string" && name ? name : `environments[${index}]`;
}

export interface LoadedConfig {
  readonly stateBackend: StateBackendConfig;
  readonly environments: readonly EnvironmentConfig[];
  /** The accounts the environments run in (one account stack each), in the order they are defined. */
  readonly accounts: readonly AccountConfig[];
}

/** Fields withAccount fills from the account: not reported again when the account is unknown. */
const FROM_ACCOUNT = ["accountId", "stateBackend.accountId"];

/** Parses every account; problems are reported as `accounts.<name>.<path>`. */
function loadAccounts(inputs: readonly unknown[]): { accounts: AccountConfig[]; problems: string[] } {
  const accounts: AccountConfig[] = [];
  const problems: string[] = [];
  inputs.forEach((input, index) => {
    const name = (input as { name?: unknown } | null)?.name;
    const label = `accounts.${typeof name === "string" && name ? name : `[${index}]`}`;
    const result = accountSchema.safeParse(input);
    if (!result.success) problems.push(...formatIssues(label, result.error.issues, input));
    else if (accounts.some((a) => a.name === result.data.name)) problems.push(`${label}.name: is defined twice; got ${show(result.data.name)}; account names are unique`);
    else accounts.push(result.data);
  });
  return { accounts, problems };
}

/**
 * Validates the state backend and every environment; throws one ConfigError listing every
 * problem (never only the first).
 */
export function loadConfig(
  inputs: readonly unknown[] = ENVIRONMENT_INPUTS,
  backendInput: unknown = stateBackendInput,
  /** Problems found while resolving environment files against the catalogue. */
  resolveProblems: readonly string[] = inputs === ENVIRONMENT_INPUTS ? resolved.flatMap((r) => r.problems) : [],
  /** Every account an environment may name (environments/accounts.ts, plus the emulator's). */
  accountInputs: readonly unknown[] = ALL_ACCOUNT_INPUTS,
): LoadedConfig {
  const problems: string[] = [...resolveProblems];
  const environments: EnvironmentConfig[] = [];
  const seen = new Map<string, number>();

  const backend = stateBackendSchema.safeParse(backendInput);
  if (!backend.success) problems.push(...formatIssues("state-backend", backend.error.issues, backendInput));
  const loadedAccounts = loadAccounts(accountInputs);
  problems.push(...loadedAccounts.problems);
  const accountNames = new Set(loadedAccounts.accounts.map((a) => a.name));

  inputs.forEach((input, index) => {
    const label = labelOf(input, index);
    const named = (input as { account?: unknown } | null)?.account;
    const unknownAccount = typeof named === "string" && !accountNames.has(named) && !loadedAccounts.problems.some((p) => p.startsWith(`accounts.${named}.`));
    if (unknownAccount) problems.push(unknownAccountProblem(label, named, loadedAccounts.accounts, LOCAL_ACCOUNT_INPUT.name));
    const result = environmentSchema.safeParse(input);
    if (!result.success) {
      // An unknown account leaves the fields it would fill empty: one problem, said once above.
      const issues = unknownAccount ? result.error.issues.filter((i) => !FROM_ACCOUNT.includes(i.path.join("."))) : result.error.issues;
      problems.push(...formatIssues(label, issues, input));
      return;
    }
    const env = result.data;
    if (seen.has(env.name)) {
      problems.push(`${label}.name: is used by environments[${seen.get(env.name)}] too; got "${env.name}"; each environment appears once`);
    }
    seen.set(env.name, index);
    environments.push(env);
  });

  if (backend.success) {
    const b = backend.data;
    for (const env of environments) {
      // Environments share the bootstrap's bucket and table; each keeps its own state key.
      const want = { bucket: b.bucketName, lockTable: b.lockTableName, region: b.region, kmsKeyAlias: b.kmsKeyAlias, accountId: b.accountId };
      for (const [field, value] of Object.entries(want)) {
        const got = env.stateBackend[field as keyof typeof want];
        if (got !== value) {
          problems.push(`${env.name}.stateBackend.${field}: does not match the state-backend stack; got "${got}"; valid: "${value}" (environments/state-backend.ts)`);
        }
      }
    }
  }

  // Account-wide things live in one account stack per account; environments only name it.
  const stateAccount = { project: backend.success ? backend.data.project : "", accountId: backend.success ? backend.data.accountId : "" };
  if (backend.success) problems.push(...accountProblems(environments, loadedAccounts.accounts, stateAccount, LOCAL_ACCOUNT_INPUT.name));
  problems.push(...deliveryProblems(environments, loadedAccounts.accounts));
  const accounts = loadedAccounts.accounts.filter((a) => environments.some((e) => e.account === a.name));

  if (problems.length) throw new ConfigError(problems);
  const withDelivery = environments.map((env) => ({
    ...env,
    delivery: { pipeline: pipelinePlan(env, environments), connectionArn: loadedAccounts.accounts.find((a) => a.name === env.account)?.sourceConnectionArn },
  }));
  return { stateBackend: backend.data!, environments: withDelivery, accounts };
}
