/**
 * Rung 4 from the command line: synthesizes the app into a temp dir, then for every stack
 * runs `terraform init`, `validate`, `plan -out` and `show -json` with the real provider
 * from the local mirror, offline, two stacks at a time, and checks that each plan creates
 * exactly the resources in cdk.tf.json with no errors. Each stack's validate and plan attach
 * to one provider process started after its init (`attachProviders`, scripts/lib/terraform.ts);
 * `--fresh-providers` lets every terraform command start its own instead, as a plain
 * `terraform plan` would.
 *
 *   npm run check:terraform [-- --concurrency 2] [--stack fargate-develop ...] [--keep] [--fresh-providers]
 *
 * Exit codes: 0 all stacks pass; 1 a stack failed or synthesis failed; 2 Terraform or the
 * provider mirror is missing (see TF_PLUGIN_MIRROR), or bad arguments.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../environments";
import { buildStacks, synthesizeAtomically } from "../src/app";
import { checkStacks, createWorkspace, detectToolchain, formatCheckLine, listStacks } from "./lib/terraform";

interface Args {
  concurrency: number;
  stacks: string[];
  keep: boolean;
  freshProviders: boolean;
}

const USAGE = "usage: terraform-check [--concurrency N] [--stack NAME]... [--keep] [--fresh-providers]";

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { concurrency: 2, stacks: [], keep: false, freshProviders: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--concurrency" || a === "-j") {
      args.concurrency = Number(value());
      if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new Error(`--concurrency must be a positive integer\n${USAGE}`);
    } else if (a === "--stack") args.stacks.push(value());
    else if (a === "--keep") args.keep = true;
    else if (a === "--fresh-providers") args.freshProviders = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }

  const toolchain = detectToolchain();
  if (!toolchain.ok) {
    process.stderr.write(`terraform-check: offline Terraform is unavailable: ${toolchain.reason}\n`);
    return 2;
  }
  process.stdout.write(`terraform ${toolchain.terraformVersion} (${toolchain.terraform}); provider mirror ${toolchain.mirror} (${toolchain.mirrorSource})\n`);

  const started = Date.now();
  const synthRoot = fs.mkdtempSync(path.join(os.tmpdir(), "tf-check-synth-"));
  const ws = createWorkspace({ toolchain, prefix: "tf-check-" });
  const cleanup = () => {
    ws.dispose();
    fs.rmSync(synthRoot, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  let failed = false;
  try {
    const outdir = path.join(synthRoot, "cdktf.out");
    try {
      synthesizeAtomically(outdir, (app) => buildStacks(app, loadConfig()));
    } catch (e) {
      process.stderr.write(`synthesis failed: ${(e as Error).message}\n`);
      return 1;
    }
    const synthMs = Date.now() - started;
    let stackDirs = listStacks(outdir);
    if (args.stacks.length) {
      const names = stackDirs.map((d) => path.basename(d));
      const unknown = args.stacks.filter((s) => !names.includes(s));
      if (unknown.length) {
        process.stderr.write(`unknown stack(s): ${unknown.join(", ")}; synthesized: ${names.join(", ")}\n`);
        return 2;
      }
      stackDirs = stackDirs.filter((d) => args.stacks.includes(path.basename(d)));
    }
    process.stdout.write(
      `synthesized ${listStacks(outdir).length} stack(s) in ${(synthMs / 1000).toFixed(1)}s; checking ${stackDirs.length}, ${args.concurrency} at a time\n`,
    );

    const results = await checkStacks(ws, stackDirs, {
      concurrency: args.concurrency,
      attachProviders: !args.freshProviders,
      onResult: (r) => process.stdout.write(`${formatCheckLine(r)}\n`),
    });
    for (const r of results.filter((x) => !x.ok)) {
      process.stderr.write(`\n${r.stack}:\n  ${r.problems.join("\n  ")}\n`);
    }
    const bad = results.filter((r) => !r.ok).length;
    const adds = results.reduce((n, r) => n + (r.plan?.creates ?? 0), 0);
    failed = bad > 0 || results.length === 0;
    process.stdout.write(
      `${failed ? "FAIL" : "ok  "} total: ${results.length - bad}/${results.length} stack(s) passed, ${adds} resource(s) to add, ` +
        `${((Date.now() - started) / 1000).toFixed(1)}s wall\n`,
    );
    return failed ? 1 : 0;
  } finally {
    if (args.keep) process.stdout.write(`kept ${synthRoot} and ${ws.dir}\n`);
    else cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`terraform-check: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
