import { Testing, TerraformStack } from "cdktf";
import { evaluateStack } from "../../src/policy/aspect";
import { Finding, PolicyRule, SynthesizedResource } from "../../src/policy/types";

/** A fresh stack in a test app, filled by `build`. */
export function stackWith(build: (stack: TerraformStack) => void): TerraformStack {
  const stack = new TerraformStack(Testing.app(), "test");
  build(stack);
  return stack;
}

/** The findings of one rule on a stack built from typed constructs. */
export function findingsOf(rule: PolicyRule, build: (stack: TerraformStack) => void): Finding[] {
  return evaluateStack(stackWith(build), [rule]);
}

/** `address -> status` of one rule, for compact assertions. */
export function statuses(rule: PolicyRule, build: (stack: TerraformStack) => void): Record<string, string> {
  return Object.fromEntries(findingsOf(rule, build).map((f) => [f.address, f.status]));
}

/** The single finding of a rule (fails the test when there is not exactly one). */
export function onlyFinding(rule: PolicyRule, build: (stack: TerraformStack) => void): Finding {
  const found = findingsOf(rule, build);
  if (found.length !== 1) throw new Error(`expected one ${rule.id} finding, got ${found.length}: ${JSON.stringify(found, null, 2)}`);
  return found[0];
}

/** A hand-written resource, for tests of the engine itself. */
export function resource(type: string, name: string, config: Record<string, any>, mode: "managed" | "data" = "managed"): SynthesizedResource {
  const address = mode === "managed" ? `${type}.${name}` : `data.${type}.${name}`;
  return { mode, type, name, address, config, path: `test/${name}` };
}

/** The finding of a rule on one address (fails the test when there is none). */
export function findingAt(rule: PolicyRule, build: (stack: TerraformStack) => void, address: string): Finding {
  const found = findingsOf(rule, build).find((f) => f.address === address);
  if (!found) throw new Error(`no ${rule.id} finding on ${address}`);
  return found;
}
