import { Testing, TerraformStack } from "cdktf";
import { EnvironmentConfig, EnvironmentInput, environmentSchema } from "../environments/schema";
import { ALL_ACCOUNT_INPUTS, ConfigError, ENVIRONMENT_INPUTS, loadConfig } from "../environments";
import { AccountInput } from "../environments/accounts";
import { stateBackendInput } from "../environments/state-backend";

/** A valid environment input to start a test from: a deep copy of develop (in the nonprod account). */
export function baseInput(): EnvironmentInput {
  return structuredClone(ENVIRONMENT_INPUTS.find((e) => e.name === "develop")!);
}

/** Parses an input that must be valid, with a readable failure if it is not. */
export function parseValid(input: EnvironmentInput): EnvironmentConfig {
  const result = environmentSchema.safeParse(input);
  if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n"));
  return result.data;
}

/** Every problem loadConfig reports for these environments and accounts ([] when they load). */
export function configProblems(envs: readonly unknown[], accounts: readonly AccountInput[] = ALL_ACCOUNT_INPUTS): string[] {
  try {
    loadConfig(envs, stateBackendInput, [], accounts);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

/** Synthesized JSON of a stack, parsed. */
export function synthJson(stack: TerraformStack): { resource?: Record<string, Record<string, any>>; data?: Record<string, Record<string, any>>; output?: Record<string, any>; terraform?: any; provider?: any } {
  return JSON.parse(Testing.synth(stack));
}

/** All resources of one type in a synthesized stack: [name, config][]. */
export function resourcesOf(json: ReturnType<typeof synthJson>, type: string): [string, any][] {
  return Object.entries(json.resource?.[type] ?? {});
}
