/**
 * `npm run insight:update` — regenerates the committed insight outputs exactly as
 * test/insight/artifacts.test.ts checks them: synthesizes the app into a temporary directory (the production
 * stacks), then rewrites the README cost table (between the cost-table markers) and
 * docs/diagrams/<env>.svg. Run it after any change to environments, modules or prices.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../environments";
import { buildStacks, synthesizeAtomically } from "../../src/app";
import { buildArtifacts, writeArtifacts } from "../../src/insight/artifacts";
import { readStacks } from "../../src/insight/terraform-json";

async function main(): Promise<void> {
  const root = process.cwd();
  const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "insight-")), "cdktf.out");
  try {
    synthesizeAtomically(outdir, (app) => void buildStacks(app, loadConfig()));
    const written = writeArtifacts(root, await buildArtifacts(readStacks(outdir)));
    process.stdout.write(written.map((f) => `wrote ${f}\n`).join(""));
  } finally {
    fs.rmSync(path.dirname(outdir), { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
