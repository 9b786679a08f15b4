import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, loadConfig } from "../environments";
import { buildStacks } from "../src/app";
import { runSynth } from "../src/cli";
import { baseInput } from "./helpers";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "platform-synth-"));
}

function capture(): { write: (text: string) => boolean; text: () => string } {
  let buffer = "";
  return { write: (t: string) => ((buffer += t), true), text: () => buffer };
}

describe("synth entry point", () => {
  test("writes the bootstrap stack, the two account stacks and the four environment stacks", () => {
    const dir = tempDir();
    const outdir = path.join(dir, "cdktf.out");
    expect(runSynth({ outdir, build: (app, config) => void buildStacks(app, config) })).toBe(0);
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["fargate-account-nonprod", "fargate-account-prod", "fargate-develop", "fargate-prod", "fargate-qa", "fargate-state", "fargate-test"]);
    expect(fs.readdirSync(dir)).toEqual(["cdktf.out"]); // no staging directory left behind
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("bad config: reports every problem, exits 1 and leaves the previous output untouched", () => {
    const dir = tempDir();
    const outdir = path.join(dir, "cdktf.out");
    fs.mkdirSync(outdir);
    fs.writeFileSync(path.join(outdir, "marker"), "previous synth");
    const bad = baseInput();
    bad.accountId = "123";
    bad.scaling.fargateSpotPercent = 150;
    const stderr = capture();

    const code = runSynth({ outdir, stderr, load: () => loadConfig([bad]), build: (app, config) => void buildStacks(app, config) });

    expect(code).toBe(1);
    expect(stderr.text()).toContain('develop.accountId: must be a 12-digit AWS account ID; got "123"');
    expect(stderr.text()).toContain("develop.scaling.fargateSpotPercent: must be a share between 0 and 100; got 150");
    expect(stderr.text()).toContain(`Nothing was written to ${outdir}.`);
    expect(stderr.text()).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(outdir)).toEqual(["marker"]);
    expect(fs.readdirSync(dir)).toEqual(["cdktf.out"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a failure in a later stack leaves no half-written output", () => {
    const dir = tempDir();
    const outdir = path.join(dir, "cdktf.out");
    const stderr = capture();
    const code = runSynth({
      outdir,
      stderr,
      build: (app, config) => {
        buildStacks(app, config);
        // an error annotation in the last stack aborts synth after earlier stacks were written
        const stacks = app.node.children;
        const last = stacks[stacks.length - 1];
        require("cdktf").Annotations.of(last).addError("deliberate failure");
      },
    });
    expect(code).toBe(1);
    expect(stderr.text()).toContain("deliberate failure");
    expect(fs.existsSync(outdir)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("loadConfig throws ConfigError, not a zod error", () => {
    const bad = baseInput();
    bad.availabilityZones = [];
    expect(() => loadConfig([bad])).toThrow(ConfigError);
  });

  test("bad construct props in several stacks: every problem at once, with its construct path, nothing written", () => {
    const dir = tempDir();
    const outdir = path.join(dir, "cdktf.out");
    const stderr = capture();
    const code = runSynth({
      outdir,
      stderr,
      build: (app, config) => {
        const built = buildStacks(app, config);
        // Validation owned by the constructs (a construct used without the schema).
        built.environments[0].node.addValidation({ validate: () => ["first problem"] });
        built.environments[3].services.api.node.addValidation({ validate: () => ["second problem", "third problem"] });
      },
    });
    expect(code).toBe(1);
    expect(stderr.text()).toContain("Invalid construct props (3 problems):");
    expect(stderr.text()).toContain("fargate-develop: first problem");
    expect(stderr.text()).toContain("fargate-prod/services/api: second problem");
    expect(stderr.text()).toContain("fargate-prod/services/api: third problem");
    expect(stderr.text()).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(outdir)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
