import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../environments";
import { buildStacks, synthesizeAtomically } from "../../src/app";
import { Artifacts, buildArtifacts, COST_TABLE_END, COST_TABLE_START, staleArtifacts, UPDATE_COMMAND, writeArtifacts } from "../../src/insight/artifacts";
import { estimateStacks } from "../../src/insight";
import { readStacks, TfStack } from "../../src/insight/terraform-json";

const ROOT = path.resolve(__dirname, "../..");

// One synth of the real app and one rendering of every SVG for the whole file.
let stacks: TfStack[];
let artifacts: Artifacts;
beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "insight-test-"));
  try {
    synthesizeAtomically(path.join(dir, "cdktf.out"), (app) => void buildStacks(app, loadConfig()));
    stacks = readStacks(path.join(dir, "cdktf.out"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  artifacts = await buildArtifacts(stacks);
});

describe("committed insight outputs", () => {
  test("the README cost table and docs/diagrams/*.svg match the synthesized stacks byte for byte", () => {
    expect(artifacts.diagrams.length).toBe(stacks.length);
    expect(staleArtifacts(ROOT, artifacts)).toEqual([]);
  });

  test("the staleness check fails on a changed table, a changed or missing picture and a leftover one", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "insight-stale-"));
    try {
      fs.writeFileSync(path.join(copy, "README.md"), `# x\n\n${COST_TABLE_START}\nold\n${COST_TABLE_END}\n`);
      expect(writeArtifacts(copy, artifacts)).toContain("README.md");
      expect(staleArtifacts(copy, artifacts)).toEqual([]);
      const [first, second] = artifacts.diagrams;
      fs.appendFileSync(path.join(copy, first.file), "<!-- edited by hand -->");
      fs.rmSync(path.join(copy, second.file));
      fs.writeFileSync(path.join(copy, "docs", "diagrams", "gone.svg"), "<svg/>");
      fs.writeFileSync(path.join(copy, "README.md"), fs.readFileSync(path.join(copy, "README.md"), "utf8").replace("| all stacks |", "| every stack |"));
      const stale = staleArtifacts(copy, artifacts);
      expect(stale).toEqual([
        `README.md: the cost table differs from the synthesized stacks; run \`${UPDATE_COMMAND}\` and commit the result`,
        expect.stringMatching(new RegExp(`^${first.file}: differs`)),
        expect.stringMatching(new RegExp(`^${second.file}: missing`)),
        expect.stringMatching(/^docs\/diagrams\/gone\.svg: no stack draws it any more/),
      ]);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test("every resource type the platform synthesizes is priced or known to have no charge", () => {
    const { estimates, warnings } = estimateStacks(stacks);
    expect(estimates.length).toBeGreaterThan(1);
    expect(estimates.flatMap((e) => e.notPriced)).toEqual([]);
    expect(warnings).toEqual([]);
    for (const e of estimates) expect(e.totalUsd).toBeGreaterThan(0);
  });

  test("the README table carries a row per stack and the write-up's $16.20 ALB figure", () => {
    for (const s of stacks) expect(artifacts.costTable).toContain(`| \`${s.name}\` |`);
    expect(artifacts.costTable).toMatch(/\| write-up setup: 1 ALB x 720 h, no LCUs \(us-east-1\) \| \$16\.20 \|.*\| \*\*\$16\.20\*\* \| 0 \|/);
  });
});
