/**
 * Entry points of the insight tools (cost estimate, architecture diagrams) over a synth
 * output. `src/cli.ts` calls `printSynthCosts` after every successful synth.
 */
import { usage as environmentUsage } from "../../environments/usage";
import { estimateStack, StackEstimate } from "./cost";
import { costSummaryLine } from "./cost-report";
import { readStacks, TfStack } from "./terraform-json";
import { usageLookup } from "./usage";

export interface Estimates {
  readonly estimates: StackEstimate[];
  /** Usage entries that match no stack (a typo would otherwise be silently ignored). */
  readonly warnings: string[];
}

/**
 * Estimates every stack with its environment's usage assumptions (`environments/usage.ts`,
 * looked up by the stack's label, e.g. `prod`). Throws UsageError or PriceError.
 */
export function estimateStacks(stacks: readonly TfStack[], usageByEnvironment: Readonly<Record<string, unknown>> = environmentUsage): Estimates {
  const lookup = usageLookup(usageByEnvironment);
  const labels = new Set(stacks.map((s) => s.label));
  const warnings = Object.keys(usageByEnvironment)
    .filter((label) => !labels.has(label))
    .sort()
    .map((label) => `usage assumptions for "${label}" (environments/usage.ts) match no synthesized stack; stacks: ${[...labels].sort().join(", ")}`);
  return { estimates: stacks.map((s) => estimateStack(s, lookup(s.label))), warnings };
}

/**
 * After a synth: one cost line per stack on `stdout`. A failing estimate never fails the
 * synth (its output is already in place); it prints one warning line on `stderr` instead.
 */
export function printSynthCosts(outdir: string, stdout: Pick<NodeJS.WritableStream, "write">, stderr: Pick<NodeJS.WritableStream, "write">): void {
  try {
    const { estimates, warnings } = estimateStacks(readStacks(outdir));
    for (const w of warnings) stderr.write(`warning: ${w}\n`);
    stdout.write(estimates.map(costSummaryLine).join("\n") + "\n");
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`warning: synth succeeded, but the cost estimate failed: ${message.replace(/\n\s*/g, "; ")}\n`);
  }
}
