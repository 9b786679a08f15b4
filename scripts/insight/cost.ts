/**
 * `npm run cost` — the monthly estimate of every synthesized stack (src/insight): one line per
 * priced resource dimension, totals per stack and per concern, what is not priced.
 *
 *   npm run cost                          # synthesizes, then reports on cdktf.out
 *   npm run cost -- --format json         # the same as JSON, for tooling
 *   npm run cost -- --diff <other cdktf.out>   # what this synth adds per month over another
 *   node dist/scripts/insight/cost.js --dir <cdktf.out>   # report on any synth output
 */
import { estimateStacks } from "../../src/insight";
import { diffEstimates, formatDiff, formatReport, reportJson } from "../../src/insight/cost-report";
import { readStacks } from "../../src/insight/terraform-json";

interface Args {
  dir: string;
  format: "text" | "json";
  diff?: string;
}

const USAGE = "usage: cost [--dir <cdktf.out>] [--format text|json] [--diff <other cdktf.out>]";

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { dir: "cdktf.out", format: "text" };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--help" || flag === "-h") throw new Error(USAGE);
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value; ${USAGE}`);
    if (flag === "--dir") args.dir = value;
    else if (flag === "--diff") args.diff = value;
    else if (flag === "--format" && (value === "text" || value === "json")) args.format = value;
    else throw new Error(`unknown option ${flag} ${value}; ${USAGE}`);
    i++;
  }
  return args;
}

function main(): number {
  try {
    const args = parseArgs(process.argv.slice(2));
    const after = estimateStacks(readStacks(args.dir));
    for (const w of after.warnings) process.stderr.write(`warning: ${w}\n`);
    if (args.diff) {
      const diffs = diffEstimates(estimateStacks(readStacks(args.diff)).estimates, after.estimates);
      process.stdout.write(args.format === "json" ? JSON.stringify({ currency: "USD", diffs }, null, 2) + "\n" : formatDiff(diffs));
    } else {
      process.stdout.write(args.format === "json" ? reportJson(after.estimates) : formatReport(after.estimates));
    }
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

process.exitCode = main();
