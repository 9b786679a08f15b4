/**
 * `npm run plan:review -- <plan.json> [--ack <address> ...] [--format json]`
 *
 *   terraform plan -out tfplan && terraform show -json tfplan > plan.json
 *   npm run plan:review -- plan.json
 *
 * Prints the plan grouped by risk (src/plan-review.ts). Exit 2 when a stateful resource
 * would be destroyed or replaced and its address is not acknowledged with --ack; exit 1 on
 * unreadable input; else 0.
 */
import * as fs from "fs";
import { formatReview, reviewExitCode, reviewPlan } from "../src/plan-review";

function main(argv: readonly string[]): number {
  const ack: string[] = [];
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--ack") ack.push(argv[++i] ?? "");
    else if (argv[i] === "--format" && argv[i + 1] === "json") (json = true), i++;
    else if (!file) file = argv[i];
  }
  if (!file) {
    process.stderr.write("usage: npm run plan:review -- <terraform show -json output> [--ack <address> ...] [--format json]\n");
    return 1;
  }
  let plan: unknown;
  try {
    plan = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    process.stderr.write(`plan:review: cannot read ${file} as the JSON of \`terraform show -json <plan>\`: ${(e as Error).message}\n`);
    return 1;
  }
  if (!plan || typeof plan !== "object" || !("format_version" in plan)) {
    process.stderr.write(`plan:review: ${file} is not \`terraform show -json\` output (no format_version)\n`);
    return 1;
  }
  const review = reviewPlan(plan as never, ack);
  process.stdout.write(json ? `${JSON.stringify(review, undefined, 2)}\n` : formatReview(review));
  return reviewExitCode(review);
}

process.exitCode = main(process.argv.slice(2));
