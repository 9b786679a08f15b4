import { Aspects, Testing, TerraformStack } from "cdktf";
import { loadConfig } from "../../environments";
import { buildStacks } from "../../src/app";
import { PolicyAspect, evaluateStack } from "../../src/policy/aspect";
import { errorsOf } from "../../src/policy/engine";

// Every stack the app builds today passes the policy pack with zero errors (warnings are
// allowed: they are the per-environment cost levers, e.g. single-AZ RDS outside prod).
describe("policy pack on the current environment stacks", () => {
  const app = Testing.app();
  const { stateBackend, environments } = buildStacks(app, loadConfig());
  // Every stack buildStacks made (the emulator's local stacks too, when it builds them).
  const stacks = app.node.children.filter((c): c is TerraformStack => TerraformStack.isStack(c));

  test("builds the state-backend stack and every environment, each with the policy aspect", () => {
    expect(stacks).toEqual(expect.arrayContaining([stateBackend, ...environments]));
    for (const stack of stacks) expect(Aspects.of(stack).all.some((a) => a instanceof PolicyAspect)).toBe(true);
  });

  test.each(stacks.map((s) => [s.node.id, s] as const))("%s has zero error findings", (_name, stack) => {
    const findings = evaluateStack(stack);
    expect(errorsOf(findings).map((f) => f.message)).toEqual([]);
    expect(findings.filter((f) => f.status === "compliant").length).toBeGreaterThan(0);
  });
});
