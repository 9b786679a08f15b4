/**
 * Rung 4: real Terraform, offline. Every synthesized stack must pass `terraform validate`
 * and `terraform plan` with the real hashicorp/aws provider from the local mirror, and the
 * plan must create exactly the resources cdk.tf.json declares. A deliberately broken stack
 * must fail validate, so we know the check can fail.
 *
 * Each stack's validate and plan attach to one provider process started after its init
 * (`attachProviders`: the binary init installed from the mirror, in the stack directory):
 * one provider start per stack instead of five, a quarter of the rung's CPU. The broken stack
 * goes the same way, so the attached path is the one shown to fail.
 *
 * Needs `terraform` on PATH and the provider mirror (found at run time, or TF_PLUGIN_MIRROR).
 * Without them the suite is SKIPPED with a warning, unless REQUIRE_TERRAFORM=1 (CI), which
 * turns the skip into a failure.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../environments";
import { buildStacks, synthesizeAtomically } from "../../src/app";
import { StackCheck, checkStacks, configuredResources, createWorkspace, detectToolchain, formatCheckLine, listStacks, readStackJson, TerraformWorkspace } from "../../scripts/lib/terraform";

const REQUIRED = process.env.REQUIRE_TERRAFORM === "1";
const toolchain = detectToolchain();
/** Time for all stacks, two at a time, on a 2-core machine (measured ~27 s alone, ~50 CPU-s). */
const SUITE_TIMEOUT_MS = 300_000;

if (!toolchain.ok) {
  if (REQUIRED) {
    test("rung 4 (offline terraform): terraform and the provider mirror are required (REQUIRE_TERRAFORM=1)", () => {
      throw new Error(`REQUIRE_TERRAFORM=1 but offline Terraform is unavailable: ${toolchain.reason}`);
    });
  } else {
    const banner = "!".repeat(100);
    console.warn(
      `${banner}\n!! RUNG 4 SKIPPED: offline Terraform validate/plan did NOT run.\n!! ${toolchain.reason}\n` +
        `!! Install terraform and the hashicorp/aws provider mirror (or set TF_PLUGIN_MIRROR); REQUIRE_TERRAFORM=1 makes this a failure.\n${banner}`,
    );
    test.skip(`rung 4 (offline terraform) SKIPPED: ${toolchain.reason}`, () => undefined);
  }
} else {
  describe(`rung 4: terraform ${toolchain.terraformVersion} validate + plan, offline (mirror ${toolchain.mirror})`, () => {
    // Synthesize now (not in beforeAll) so that there is one test per stack the app really has.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "tf-rung4-"));
    const outdir = path.join(root, "cdktf.out");
    try {
      synthesizeAtomically(outdir, (app) => buildStacks(app, loadConfig()));
    } catch (e) {
      fs.rmSync(root, { recursive: true, force: true });
      throw e;
    }
    const stackDirs = listStacks(outdir);
    const stackNames = stackDirs.map((d) => path.basename(d));

    // A copy of the smallest stack with an argument the provider does not have.
    const BROKEN = "broken-config";
    const smallest = [...stackDirs].sort((a, b) => size(a) - size(b))[0];
    const brokenDir = path.join(root, "broken", BROKEN);
    const brokenJson = structuredClone(readStackJson(smallest)) as any;
    const [firstType, byName] = Object.entries(brokenJson.resource ?? {})[0] as [string, Record<string, any>];
    const firstName = Object.keys(byName)[0];
    byName[firstName].no_such_argument_rung4 = "deliberately invalid";
    fs.mkdirSync(brokenDir, { recursive: true });
    fs.writeFileSync(path.join(brokenDir, "cdk.tf.json"), JSON.stringify(brokenJson, null, 2));

    let ws: TerraformWorkspace | undefined;
    const results = new Map<string, StackCheck>();

    beforeAll(async () => {
      ws = createWorkspace({ toolchain, prefix: "tf-rung4-ws-" });
      // The broken stack joins the pool: it fills the slot the odd stack count leaves free.
      const all = await checkStacks(ws, [...stackDirs, brokenDir], { concurrency: 2, attachProviders: true });
      for (const r of all) results.set(r.stack, r);
      const lines = all.map((r) => `${formatCheckLine(r)}${r.stack === BROKEN ? "   <- deliberately broken, must fail" : ""}`);
      console.log(`rung 4 (offline terraform), ${stackDirs.length} stack(s), 2 at a time:\n${lines.join("\n")}`);
    }, SUITE_TIMEOUT_MS);

    afterAll(() => {
      ws?.dispose();
      fs.rmSync(root, { recursive: true, force: true });
    });

    test("the app synthesizes at least the state stack and one environment", () => {
      expect(stackNames.length).toBeGreaterThanOrEqual(2);
    });

    test.each(stackNames)("%s: validate and plan succeed; the plan adds every resource in cdk.tf.json, nothing else", (name) => {
      const r = results.get(name);
      expect(r).toBeDefined();
      // Problems first: on failure this prints Terraform's own error text.
      expect(r!.problems).toEqual([]);
      expect(r!.validate).toMatchObject({ valid: true, errors: 0 });
      const declared = configuredResources(readStackJson(path.join(outdir, "stacks", name)));
      expect(r!.expected).toBe(declared.count);
      expect(r!.expected).toBeGreaterThan(0);
      expect(r!.plan).toMatchObject({ errored: false, nonCreates: [], createdAddresses: declared.addresses });
      // Exact instance count whenever every count is literal (for_each instances are only known to Terraform).
      if (declared.dynamic.length === 0) expect(r!.plan!.creates).toBe(declared.count);
      expect(r!.ok).toBe(true);
    });

    test(`a broken configuration (${firstType}.${firstName} with an unknown argument) fails validate, so the check can fail`, () => {
      const r = results.get(BROKEN);
      expect(r).toBeDefined();
      expect(r!.ok).toBe(false);
      expect(r!.validate).toMatchObject({ valid: false });
      expect(r!.validate!.errors).toBeGreaterThan(0);
      expect(r!.validate!.text).toMatch(/^ *error: /m);
      expect(r!.validate!.text).toContain("no_such_argument_rung4");
      // It stopped at validate: no plan was attempted.
      expect(r!.timings.plan).toBeUndefined();
      expect(r!.problems.join("\n")).toMatch(/validate found \d+ error/);
    });
  });
}

function size(stackDir: string): number {
  return configuredResources(readStackJson(stackDir)).count;
}
