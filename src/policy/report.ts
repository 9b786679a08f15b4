/**
 * `npm run policy:report`: builds every stack (no synth, nothing written) and prints, per
 * stack, each rule's outcome on each resource, with suppression reasons. Exits 1 when any
 * stack has an error finding, like synth would. `--all` also lists not-applicable rows without
 * a reason; `--rules` prints the rule catalogue instead.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { loadConfig } from "../../environments";
import { buildStacks } from "../app";
import { evaluateStack } from "./aspect";
import { errorsOf, warningsOf } from "./engine";
import { ALL_RULES } from "./rules";
import { Finding, PolicyRule } from "./types";

const STATUS_ORDER: Record<Finding["status"], number> = {
  "non-compliant": 0,
  "stale-suppression": 1,
  suppressed: 2,
  compliant: 3,
  "not-applicable": 4,
};

export interface ReportOptions {
  /** Also list not-applicable rows that carry no reason. @default false */
  readonly all?: boolean;
}

function statusLabel(f: Finding): string {
  if (f.status === "non-compliant") return f.severity === "error" ? "FAIL (error)" : "WARN";
  if (f.status === "stale-suppression") return "STALE SUPPRESSION";
  return f.status;
}

/** The findings of one stack as a fixed-width table with a summary line. */
export function formatStackReport(stackName: string, findings: readonly Finding[], options: ReportOptions = {}): string {
  const rows = findings
    .filter((f) => options.all || f.status !== "not-applicable" || f.reason)
    .slice()
    .sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.ruleId.localeCompare(b.ruleId) || a.address.localeCompare(b.address))
    .map((f) => [f.ruleId, f.address, statusLabel(f), f.status === "compliant" ? "" : f.suppressionReason ?? f.reason ?? ""]);
  const header = ["RULE", "RESOURCE", "STATUS", "REASON / SUPPRESSION REASON"];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ").trimEnd();
  const count = (s: Finding["status"]) => findings.filter((f) => f.status === s).length;
  const summary =
    `${errorsOf(findings).length} error(s), ${warningsOf(findings).length} warning(s), ` +
    `${count("suppressed")} suppressed, ${count("compliant")} compliant, ${count("not-applicable")} not applicable`;
  return [`== ${stackName}: ${summary}`, line(header), ...rows.map(line)].join("\n");
}

/** Report of every stack of an app built by `build`. */
export function policyReport(stacks: readonly TerraformStack[], options: ReportOptions = {}): { text: string; errors: number } {
  let errors = 0;
  const parts = stacks.map((stack) => {
    const findings = evaluateStack(stack);
    errors += errorsOf(findings).length;
    return formatStackReport(stack.node.id, findings, options);
  });
  return { text: parts.join("\n\n"), errors };
}

/** The rule catalogue: ID, severity, public controls and the one-line reason of each rule. */
export function formatRules(rules: readonly PolicyRule[] = ALL_RULES): string {
  const width = Math.max(...rules.map((r) => r.id.length));
  return rules
    .map((r) => `${r.id.padEnd(width)}  ${r.severity.padEnd(7)}  ${(r.controls.join(", ") || "no public control").padEnd(48)}  ${r.description}`)
    .join("\n");
}

function main(): void {
  if (process.argv.includes("--rules")) {
    process.stdout.write(`${formatRules()}\n`);
    return;
  }
  // App creates its outdir; nothing is synthesized into it.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-report-"));
  try {
    const app = new App({ outdir, skipValidation: true });
    const { stateBackend, environments } = buildStacks(app, loadConfig());
    const { text, errors } = policyReport([stateBackend, ...environments], { all: process.argv.includes("--all") });
    process.stdout.write(`${text}\n`);
    if (errors) process.exitCode = 1;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
