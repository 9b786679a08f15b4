/**
 * `npm run scan` — rung 6 of the verification ladder: checkov (pinned in
 * requirements-tools.txt, run from .venv) on every synthesized stack and on every plan.
 *
 *   - `--framework terraform_json` on each `cdk.tf.json` (bootstrap + every environment);
 *   - `--framework terraform_plan` on each plan's JSON (`terraform show -json`), produced
 *     offline by the rung-4 harness (scripts/lib/terraform.ts: real provider from the local
 *     mirror, local backend override, fake credentials, no network).
 *
 * Skips are declared in code, per resource, with a reason (lib/checkov.ts `skipCheckov`),
 * and land in the synthesized JSON as `"//": { "checkov": ["checkov:skip=ID:reason"] }`.
 * checkov 3.3.30's terraform_json runner does not read inline skips (it scans every block
 * with an empty skip list) and a plan carries no comments, so this script applies the
 * declared skips itself, by resource address and check ID, to both result sets, and lists
 * each one with its reason. A declared skip that matches no failure is reported as stale.
 *
 * Prints passed/failed/skipped per stack and framework; exits 1 on any failed check, any
 * stale skip, a parsing error, or a missing tool.
 */
import * as fs from "fs";
import * as path from "path";
import { skipsInResourceJson } from "../lib/checkov";
import { EMULATOR_ENDPOINT_VAR } from "../src/emulator";
import { startEgressGuard } from "./e2e/egress-guard";
import { projectRoot, run, runChecked, seconds } from "./e2e/proc";
import { ensurePythonTools, venvBin } from "./python-tools";
import { checkStack, createWorkspace, detectToolchain, listStacks, mapLimit, prepareStack } from "./lib/terraform";

export type Framework = "terraform_json" | "terraform_plan";

/** One checkov result, reduced to what the report needs. */
export interface Finding {
  readonly checkId: string;
  readonly name: string;
  /** Resource address without index, e.g. `aws_s3_bucket.alb-logs_bucket_1234ABCD`. */
  readonly resource: string;
  readonly file: string;
  readonly guideline?: string;
}

export interface DeclaredSkip {
  readonly stack: string;
  readonly resource: string;
  readonly checkId: string;
  readonly reason: string;
}

export interface StackResult {
  readonly stack: string;
  readonly framework: Framework;
  readonly passed: number;
  readonly failed: Finding[];
  /** Skipped by a declared skip (with its reason) or by checkov itself. */
  readonly skipped: { finding: Finding; reason: string }[];
}

/** Resource and data source names of a synthesized stack -> their types. */
export interface TypeIndex {
  readonly resources: ReadonlyMap<string, string>;
  readonly data: ReadonlyMap<string, string>;
}

export function typeIndex(stackJson: any): TypeIndex {
  const index = (section: Record<string, Record<string, unknown>> | undefined) => {
    const m = new Map<string, string>();
    for (const [type, byName] of Object.entries(section ?? {})) for (const name of Object.keys(byName ?? {})) m.set(name, type);
    return m;
  };
  return { resources: index(stackJson?.resource), data: index(stackJson?.data) };
}

/**
 * The cdktf address of a checkov result: `aws_x.name[0]` and `module.m.aws_x.name["k"]`
 * become `aws_x.name`; the terraform_json runner's `resource.<name>` / `data.<name>` get
 * their type back from the stack (`aws_x.name`, `data.aws_y.name`).
 */
export function baseAddress(resource: string, types?: TypeIndex): string {
  const parts = resource.replace(/\[[^\]]*\]/g, "").split(".");
  if (parts.length === 2 && parts[0] === "resource" && types?.resources.has(parts[1])) return `${types.resources.get(parts[1])}.${parts[1]}`;
  if (parts.length === 2 && parts[0] === "data" && types?.data.has(parts[1])) return `data.${types.data.get(parts[1])}.${parts[1]}`;
  if (parts.length >= 3 && parts[parts.length - 3] === "data") return parts.slice(-3).join(".");
  return parts.slice(-2).join(".");
}

/** The skips declared in a synthesized stack (`"//".checkov` on resources). */
export function declaredSkips(stack: string, stackJson: any): DeclaredSkip[] {
  const out: DeclaredSkip[] = [];
  for (const [section, prefix] of [["resource", ""], ["data", "data."]] as const) {
    for (const [type, byName] of Object.entries<any>(stackJson?.[section] ?? {})) {
      for (const [name, body] of Object.entries<any>(byName ?? {})) {
        for (const [checkId, reason] of skipsInResourceJson(body)) out.push({ stack, resource: `${prefix}${type}.${name}`, checkId, reason });
      }
    }
  }
  return out;
}

function toFinding(r: any, types?: TypeIndex): Finding {
  return { checkId: r.check_id, name: r.check_name, resource: baseAddress(String(r.resource ?? ""), types), file: String(r.file_path ?? ""), guideline: r.guideline ?? undefined };
}

/** checkov prints one report object per framework (a list when there are several). */
function reports(json: unknown): any[] {
  return Array.isArray(json) ? json : [json];
}

/**
 * Splits checkov's results per stack and applies the declared skips.
 * `stackOf` maps a result's file path to its stack name.
 */
export function summarize(
  framework: Framework,
  checkovJson: unknown,
  stacks: readonly string[],
  skips: readonly DeclaredSkip[],
  stackOf: (file: string) => string | undefined,
  types: ReadonlyMap<string, TypeIndex> = new Map(),
): { results: StackResult[]; used: Set<DeclaredSkip> } {
  const by = new Map<string, StackResult>(stacks.map((s) => [s, { stack: s, framework, passed: 0, failed: [], skipped: [] }]));
  const used = new Set<DeclaredSkip>();
  for (const report of reports(checkovJson)) {
    const results = report?.results ?? {};
    for (const r of results.passed_checks ?? []) {
      const s = by.get(stackOf(r.file_path) ?? "");
      if (s) (s as { passed: number }).passed++;
    }
    for (const r of results.skipped_checks ?? []) {
      const s = by.get(stackOf(r.file_path) ?? "");
      if (s) s.skipped.push({ finding: toFinding(r, types.get(s.stack)), reason: r.check_result?.suppress_comment ?? "skipped by checkov" });
    }
    for (const r of results.failed_checks ?? []) {
      const stack = stackOf(r.file_path) ?? "";
      const s = by.get(stack);
      if (!s) continue;
      const f = toFinding(r, types.get(stack));
      const skip = skips.find((k) => k.stack === stack && k.resource === f.resource && k.checkId === f.checkId);
      if (skip) {
        used.add(skip);
        s.skipped.push({ finding: f, reason: skip.reason });
      } else s.failed.push(f);
    }
  }
  return { results: [...by.values()], used };
}

async function checkov(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<unknown> {
  const r = await run(venvBin("checkov"), [...args, "--output", "json", "--compact", "--skip-download", "--soft-fail"], { env, cwd, timeoutMs: 15 * 60_000 });
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`checkov ${args.join(" ")} printed no JSON (exit ${r.code}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const root = projectRoot();
  const work = path.join(root, ".tmp", "scan");
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, "plans"), { recursive: true });
  const outdir = path.join(work, "cdktf.out");

  await ensurePythonTools();
  const toolchain = detectToolchain();
  if (!toolchain.ok) throw new Error(`scan needs Terraform and the provider mirror for the plans: ${toolchain.reason}`);
  const guard = await startEgressGuard();
  const ws = createWorkspace({ toolchain, prefix: "tf-scan-", env: guard.env() });
  try {
    // The app's stacks exactly as `npm run synth` writes them (never the emulator ones).
    const synthEnv: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir };
    delete synthEnv[EMULATOR_ENDPOINT_VAR];
    await runChecked(process.execPath, [path.join(root, "dist", "main.js")], { cwd: root, env: synthEnv });
    const dirs = listStacks(outdir);
    const stacks = dirs.map((d) => path.basename(d));
    process.stdout.write(`scan: ${stacks.length} stacks: ${stacks.join(", ")}\n`);

    const planStarted = Date.now();
    const plans = await mapLimit(dirs, 2, async (dir) => {
      // The harness's offline override puts fake keys in the provider block; they would land in
      // the plan JSON and fail CKV_AWS_41 (hard-coded keys) although the code has none. Here
      // they come from the environment the harness sets (AWS_ACCESS_KEY_ID/SECRET) instead.
      const checked = await checkStack(ws, prepareStack(ws, dir, { awsProvider: { access_key: null, secret_key: null } }), { keepPlanJson: true });
      if (!checked.planJson) throw new Error(`no plan for ${path.basename(dir)}:\n${checked.problems.join("\n")}`);
      const file = path.join(work, "plans", `${path.basename(dir)}.json`);
      fs.writeFileSync(file, JSON.stringify(checked.planJson));
      return file;
    });
    process.stdout.write(`scan: ${plans.length} plans (terraform show -json, offline) in ${seconds(Date.now() - planStarted)}\n`);

    // checkov offline: no PyPI update check, no platform mapping download; the guard refuses
    // anything else and the report lists it.
    const checkovEnv = { ...process.env, ...guard.env(), CKV_SKIP_PACKAGE_UPDATE_CHECK: "true", BC_SKIP_MAPPING: "TRUE", LOG_LEVEL: "WARNING" };
    const scanStarted = Date.now();
    const [jsonOut, planOut] = await Promise.all([
      checkov(["--directory", path.join(outdir, "stacks"), "--framework", "terraform_json"], checkovEnv, work),
      checkov(["--framework", "terraform_plan", ...plans.flatMap((p) => ["--file", p])], checkovEnv, work),
    ]);
    process.stdout.write(`scan: checkov ${fs.readFileSync(path.join(root, "requirements-tools.txt"), "utf8").match(/checkov==(\S+)/)?.[1]} in ${seconds(Date.now() - scanStarted)}\n\n`);

    const stackJson = new Map(dirs.map((d) => [path.basename(d), JSON.parse(fs.readFileSync(path.join(d, "cdk.tf.json"), "utf8"))]));
    const types = new Map([...stackJson].map(([s, json]) => [s, typeIndex(json)]));
    const skips = [...stackJson].flatMap(([s, json]) => declaredSkips(s, json));
    const stackOfJson = (file: string) => stacks.find((s) => file.split(/[\\/]/).includes(s));
    const stackOfPlan = (file: string) => stacks.find((s) => path.basename(file) === `${s}.json`);
    const j = summarize("terraform_json", jsonOut, stacks, skips, stackOfJson, types);
    const p = summarize("terraform_plan", planOut, stacks, skips, stackOfPlan, types);

    const parsingErrors = [...reports(jsonOut), ...reports(planOut)].flatMap((r) => r?.results?.parsing_errors ?? []);
    const results = [...j.results, ...p.results];
    const width = Math.max(...stacks.map((s) => s.length));
    process.stdout.write(`${"stack".padEnd(width)}  ${"framework".padEnd(14)}  passed  failed  skipped\n`);
    for (const s of stacks) {
      for (const r of results.filter((x) => x.stack === s)) {
        process.stdout.write(`${s.padEnd(width)}  ${r.framework.padEnd(14)}  ${String(r.passed).padStart(6)}  ${String(r.failed.length).padStart(6)}  ${String(r.skipped.length).padStart(7)}\n`);
      }
    }
    const total = (f: (r: StackResult) => number) => results.reduce((n, r) => n + f(r), 0);
    process.stdout.write(`${"total".padEnd(width)}  ${"".padEnd(14)}  ${String(total((r) => r.passed)).padStart(6)}  ${String(total((r) => r.failed.length)).padStart(6)}  ${String(total((r) => r.skipped.length)).padStart(7)}\n`);

    const failed = results.flatMap((r) => r.failed.map((f) => ({ ...f, stack: r.stack, framework: r.framework })));
    if (failed.length) {
      process.stdout.write(`\nFailed checks (fix the module, or skip on that one resource with skipCheckov and a reason):\n`);
      const seen = new Set<string>();
      for (const f of failed.sort((a, b) => a.checkId.localeCompare(b.checkId) || a.resource.localeCompare(b.resource))) {
        const key = `${f.checkId} ${f.resource}`;
        const where = failed.filter((x) => `${x.checkId} ${x.resource}` === key).map((x) => `${x.stack}/${x.framework === "terraform_json" ? "json" : "plan"}`);
        if (seen.has(key)) continue;
        seen.add(key);
        process.stdout.write(`  ${f.checkId} ${f.name}\n      ${f.resource}  [${[...new Set(where)].join(", ")}]\n`);
      }
    }
    const skippedList = results.flatMap((r) => r.skipped.map((s) => `${s.finding.checkId} on ${r.stack}:${s.finding.resource} (${r.framework}): ${s.reason}`));
    if (skippedList.length) process.stdout.write(`\nSkips (declared in code, each with its reason):\n  ${[...new Set(skippedList)].join("\n  ")}\n`);
    const stale = skips.filter((k) => !j.used.has(k) && !p.used.has(k));
    if (stale.length) process.stdout.write(`\nStale skips (the check passes or does not apply; remove them):\n  ${stale.map((k) => `${k.checkId} on ${k.stack}:${k.resource}`).join("\n  ")}\n`);
    if (parsingErrors.length) process.stdout.write(`\ncheckov could not parse:\n  ${parsingErrors.join("\n  ")}\n`);
    if (guard.attempts.length) process.stdout.write(`\nnetwork attempts refused by the egress guard:\n  ${guard.attempts.join("\n  ")}\n`);

    const ok = failed.length === 0 && stale.length === 0 && parsingErrors.length === 0;
    process.stdout.write(`\nscan: ${ok ? "passed" : "FAILED"}: ${failed.length} failed, ${stale.length} stale skip(s), ${parsingErrors.length} parsing error(s) in ${seconds(Date.now() - started)}\n`);
    process.stdout.write(`scan: ${total((r) => r.passed)} passed, ${total((r) => r.failed.length)} failed, ${total((r) => r.skipped.length)} skipped\n`);
    return ok ? 0 : 1;
  } finally {
    ws.dispose();
    await guard.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`scan failed: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
