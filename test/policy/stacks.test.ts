import { Testing } from "cdktf";
import { loadConfig } from "../../environments";
import { buildStacks } from "../../src/app";
import { evaluateStack } from "../../src/policy/aspect";
import { errorsOf, warningsOf } from "../../src/policy/engine";

// Every stack the app builds today passes the policy pack with zero errors.
describe("policy pack on the current environment stacks", () => {
  const { stateBackend, environments } = buildStacks(Testing.app(), loadConfig());
  const stacks = [stateBackend, ...environments];

  test("builds the state-backend stack and every environment", () => {
    expect(stacks.length).toBeGreaterThanOrEqual(2);
  });

  test.each(stacks.map((s) => [s.node.id, s] as const))("%s has zero error findings", (_name, stack) => {
    const findings = evaluateStack(stack);
    expect(errorsOf(findings).map((f) => f.message)).toEqual([]);
    // Every rule that applies was evaluated (a rule that threw would show up as an error above).
    expect(findings.length).toBeGreaterThan(0);
    if (process.env.POLICY_DEBUG) console.log(warningsOf(findings).map((f) => f.message).join("\n"));
  });
});
