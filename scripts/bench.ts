/**
 * Measures the budgets of DESIGN.md ("Budgets") on this machine and prints medians next to
 * the targets:
 *
 *   synth of the whole app (`node dist/main.js`, child process): wall < 1.5 s, peak RSS < 200 MB
 *   synth of prod with 40 services (scripts/bench-scale.ts):     wall < 2.5 s, peak RSS < 200 MB
 *   resources per added public service (41 vs 40 services):    at most 24
 *   unit tests (jest without test/terraform):                  wall < 15 s
 *   rung 4 (jest test/terraform, REQUIRE_TERRAFORM=1):         one run
 *   typecheck (tsc -p tsconfig.test.json, incremental):         one run, as npm test runs it
 *   npm test (REQUIRE_TERRAFORM=1):                              < 60 s, one run, measured; with
 *                                                                --skip-npm-test only an upper bound
 *                                                                (typecheck + unit + rung 4, which
 *                                                                jest runs side by side)
 *
 *   npm run test:e2e:                                            < 300 s; with --e2e one run, measured
 *                                                                (10+ minutes); else the figures the
 *                                                                last run left in .tmp/e2e/report.json
 *
 *   npm run bench [-- --runs 5] [--skip-terraform] [--skip-unit] [--skip-npm-test] [--e2e] [--strict]
 *
 * Needs `npm run build` first (the npm script does it). Exit 1 when a measured command fails,
 * or with --strict when a figure is over its budget. The machine is shared: the load average
 * at start is printed with the figures.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { E2E_REPORT, E2eReport } from "./e2e/proc";

const ROOT = path.resolve(__dirname, "..", "..");
const JEST = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

interface Args {
  runs: number;
  terraform: boolean;
  unit: boolean;
  npmTest: boolean;
  strict: boolean;
  e2e: boolean;
}

const USAGE = "usage: bench [--runs N] [--skip-terraform] [--skip-unit] [--skip-npm-test] [--e2e] [--strict]";

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 5, terraform: true, unit: true, npmTest: true, strict: false, e2e: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runs" || a === "-n") {
      args.runs = Number(argv[++i]);
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs needs a positive integer\n${USAGE}`);
    } else if (a.startsWith("--runs=")) {
      args.runs = Number(a.slice("--runs=".length));
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs needs a positive integer\n${USAGE}`);
    } else if (a === "--skip-terraform") args.terraform = false;
    else if (a === "--skip-unit") args.unit = false;
    else if (a === "--npm-test") args.npmTest = true; // the default now; kept for old command lines
    else if (a === "--skip-npm-test") args.npmTest = false;
    else if (a === "--strict") args.strict = true;
    else if (a === "--e2e") args.e2e = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

interface Measurement {
  wallMs: number;
  /** Peak resident set size in KiB, when measured. */
  peakRssKb?: number;
  /** User + system CPU of the command and its (waited-for) descendants, when GNU time is present. */
  cpuMs?: number;
  exitCode: number;
  output: string;
}

const TIME_FORMAT = "BENCH-TIME %M %U %S";
const TIME_LINE = /^BENCH-TIME (\d+) ([\d.]+) ([\d.]+)$/m;

/** GNU time (`-f` with %M = peak RSS in KiB, %U/%S = CPU seconds) if it works here; else undefined. */
function gnuTime(): string | undefined {
  for (const candidate of ["/usr/bin/time"]) {
    if (!fs.existsSync(candidate)) continue;
    const r = spawnSync(candidate, ["-f", TIME_FORMAT, process.execPath, "-e", "0"], { encoding: "utf8" });
    if (r.status === 0 && TIME_LINE.test(r.stderr)) return candidate;
  }
  return undefined;
}

/** VmHWM (peak RSS, KiB) of a live process, from /proc. */
function vmHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a command; measures wall time, CPU time (GNU time) and, with `rss`, peak RSS (GNU
 * time if present, else by polling /proc/<pid>/status VmHWM every 5 ms).
 */
function measure(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; rss?: boolean; time?: string } = {}): Promise<Measurement> {
  const time = options.time;
  const [file, argv] = time ? [time, ["-f", TIME_FORMAT, cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => errChunks.push(d));
    let polled: number | undefined;
    const poller =
      options.rss && !time && child.pid
        ? setInterval(() => {
            const v = vmHwm(child.pid!);
            if (v !== undefined) polled = Math.max(polled ?? 0, v);
          }, 5)
        : undefined;
    child.on("error", (e) => errChunks.push(Buffer.from(`\n${e.message}`)));
    child.on("close", (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (poller) clearInterval(poller);
      let stderr = Buffer.concat(errChunks).toString("utf8");
      let peakRssKb = options.rss ? polled : undefined;
      let cpuMs: number | undefined;
      const m = time ? TIME_LINE.exec(stderr) : null;
      if (m) {
        if (options.rss) peakRssKb = Number(m[1]);
        cpuMs = (Number(m[2]) + Number(m[3])) * 1000;
        stderr = stderr.replace(TIME_LINE, "");
      }
      resolve({ wallMs, peakRssKb, cpuMs, exitCode: code ?? -1, output: `${Buffer.concat(chunks).toString("utf8")}${stderr}` });
    });
  });
}

/** `; cpu 3.10 s` (median CPU of the runs), or "" without GNU time. */
function cpuNote(ms: readonly Measurement[]): string {
  const cpu = ms.map((m) => m.cpuMs).filter((x): x is number => x !== undefined);
  return cpu.length ? `; cpu ${sec(median(cpu))}` : "";
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The 1, 5 and 15 minute load averages, `0.52 0.61 0.70`. */
function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(" ");
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

interface Row {
  label: string;
  figure: string;
  spread: string;
  target: string;
  over?: boolean;
}

function printRows(rows: readonly Row[]): void {
  const w = (k: keyof Row) => Math.max(...rows.map((r) => String(r[k] ?? "").length));
  for (const r of rows) {
    const verdict = r.over === undefined ? "" : r.over ? "OVER BUDGET" : "ok";
    process.stdout.write(`  ${r.label.padEnd(w("label"))}  ${r.figure.padStart(w("figure"))}  ${r.spread.padEnd(w("spread"))}  ${r.target.padEnd(w("target"))}  ${verdict}\n`);
  }
}

function failureText(what: string, m: Measurement): string {
  const lines = m.output.trim().split("\n");
  return `${what} exited ${m.exitCode}; last output:\n    ${lines.slice(-25).join("\n    ")}\n`;
}

/**
 * The e2e budget: `npm run test:e2e` measured (--e2e), or else the last run's own report
 * (its script wall, to which the build and the shim probes add ~25 s), with its age.
 */
async function e2eRows(args: Args, time: string | undefined, failures: string[]): Promise<Row[]> {
  const target = "target < 300 s";
  if (args.e2e) {
    const before = loadAverage();
    const m = await measure("npm", ["run", "test:e2e", "--silent"], { time });
    if (m.exitCode !== 0) failures.push(failureText("npm run test:e2e", m));
    return [
      { label: `npm run test:e2e${m.exitCode ? " [FAILED]" : ""}`, figure: sec(m.wallMs), spread: `1 run${cpuNote([m])}; load average ${before} before, ${loadAverage()} after`, target, over: m.wallMs >= 300_000 },
      ...phaseRows(readE2eReport()),
    ];
  }
  const report = readE2eReport();
  if (!report) return [{ label: "npm run test:e2e", figure: "-", spread: `no ${E2E_REPORT} yet: run npm run test:e2e, or bench --e2e`, target }];
  const ageH = (Date.now() - Date.parse(report.finishedAt)) / 3_600_000;
  return [
    {
      label: `test:e2e, last run (scripts/e2e.js)${report.ok ? "" : " [FAILED]"}`,
      figure: sec(report.wallMs),
      spread: `${ageH.toFixed(1)} h ago; load average ${report.loadAverage.map((l) => l.toFixed(2)).join(" ")} at its end; build + shim probes not included`,
      target,
      over: report.wallMs >= 300_000,
    },
    ...phaseRows(report),
  ];
}

function phaseRows(report: E2eReport | undefined): Row[] {
  return (report?.phases ?? []).map((p) => ({ label: `  e2e phase ${p.name}`, figure: sec(p.ms), spread: "", target: "" }));
}

function readE2eReport(): E2eReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, E2E_REPORT), "utf8")) as E2eReport;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (!fs.existsSync(path.join(ROOT, "dist", "main.js"))) {
    process.stderr.write(`bench: ${path.join(ROOT, "dist", "main.js")} is missing; run \`npm run build\` (or \`npm run bench\`)\n`);
    return 2;
  }

  const time = gnuTime();
  const load = loadAverage();
  process.stdout.write(
    `bench: ${args.runs} run(s) per figure; node ${process.version}; ${os.cpus().length} CPU(s); load average at start ${load}; ` +
      `peak RSS via ${time ? `${time} -f %M` : "polling /proc/<pid>/status VmHWM"}; ` +
      `wall figures are contended when the load average exceeds the CPU count (cpu = user+sys of the command tree${time ? "" : ", needs GNU time"})\n`,
  );
  const rows: Row[] = [];
  const failures: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  try {
    // --- synth ------------------------------------------------------------------------------
    const synth: Measurement[] = [];
    let stacks: number | undefined;
    // One unmeasured warm-up run: the first read of node_modules from disk is not what a developer sees.
    for (let i = 0; i <= args.runs; i++) {
      const outdir = path.join(tmp, `cdktf.out-${i}`);
      const m = await measure(process.execPath, [path.join(ROOT, "dist", "main.js")], { env: { CDKTF_OUTDIR: outdir }, rss: true, time });
      if (m.exitCode === 0) stacks = fs.readdirSync(path.join(outdir, "stacks")).length;
      fs.rmSync(outdir, { recursive: true, force: true });
      if (m.exitCode !== 0) {
        failures.push(failureText("synth (node dist/main.js)", m));
        break;
      }
      if (i > 0) synth.push(m);
    }
    if (synth.length) {
      const walls = synth.map((m) => m.wallMs);
      const rss = synth.map((m) => m.peakRssKb).filter((x): x is number => x !== undefined);
      rows.push({
        label: `synth, whole app (node dist/main.js${stacks ? `, ${stacks} stacks` : ""})`,
        figure: sec(median(walls)),
        spread: `min ${sec(Math.min(...walls))}, max ${sec(Math.max(...walls))}${cpuNote(synth)}`,
        target: "target < 1.5 s",
        over: median(walls) >= 1500,
      });
      if (rss.length) {
        rows.push({
          label: "synth peak RSS",
          figure: mb(median(rss)),
          spread: `min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}`,
          target: "target < 200 MB",
          over: median(rss) / 1024 >= 200,
        });
      }
    }

    // --- scale: an environment with 40 services, and the cost of one more ----------------------
    const scale = path.join(ROOT, "dist", "scripts", "bench-scale.js");
    const scaleRuns: Measurement[] = [];
    const counts: number[] = [];
    for (let i = 0; i <= args.runs; i++) {
      const out = path.join(tmp, `scale-${i}`);
      const m = await measure(process.execPath, [scale, "--services", "40", "--out", out], { rss: true, time });
      fs.rmSync(out, { recursive: true, force: true });
      if (m.exitCode !== 0) {
        failures.push(failureText("synth of prod with 40 services (bench-scale)", m));
        break;
      }
      if (i > 0) scaleRuns.push(m);
    }
    if (scaleRuns.length) {
      const walls = scaleRuns.map((m) => m.wallMs);
      const rss = scaleRuns.map((m) => m.peakRssKb).filter((x): x is number => x !== undefined);
      rows.push({ label: "synth, prod with 40 services", figure: sec(median(walls)), spread: `min ${sec(Math.min(...walls))}, max ${sec(Math.max(...walls))}${cpuNote(scaleRuns)}`, target: "target < 2.5 s", over: median(walls) >= 2500 });
      if (rss.length) rows.push({ label: "synth peak RSS, 40 services", figure: mb(median(rss)), spread: `min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}`, target: "target < 200 MB", over: median(rss) / 1024 >= 200 });
    }
    for (const n of [40, 41]) {
      const out = path.join(tmp, `count-${n}`);
      const m = await measure(process.execPath, [scale, "--services", String(n), "--out", out]);
      fs.rmSync(out, { recursive: true, force: true });
      if (m.exitCode !== 0) failures.push(failureText(`bench-scale --services ${n}`, m));
      else counts.push(JSON.parse(/\{"services".*\}/.exec(m.output)![0]).resources);
    }
    if (counts.length === 2) {
      rows.push({ label: "resources per added public service (41 vs 40)", figure: String(counts[1] - counts[0]), spread: `${counts[0]} -> ${counts[1]} resources`, target: "target <= 24", over: counts[1] - counts[0] > 24 });
    }

    // --- unit tests ---------------------------------------------------------------------------
    let unitMedian: number | undefined;
    if (args.unit) {
      const walls: number[] = [];
      const unitRuns: Measurement[] = [];
      let failed = 0;
      for (let i = 0; i < args.runs; i++) {
        const m = await measure(process.execPath, [JEST, "--silent", "--testPathIgnorePatterns", "test/terraform"], { time });
        unitRuns.push(m);
        // A failing test still costs the time it took: keep the figure, report the failure once.
        if (m.exitCode !== 0 && failed++ === 0) failures.push(failureText("unit tests (jest --testPathIgnorePatterns test/terraform)", m));
        walls.push(m.wallMs);
      }
      if (walls.length) {
        unitMedian = median(walls);
        rows.push({
          label: `unit tests (jest, without test/terraform)${failed ? ` [${failed}/${walls.length} runs FAILED]` : ""}`,
          figure: sec(unitMedian),
          spread: `min ${sec(Math.min(...walls))}, max ${sec(Math.max(...walls))}${cpuNote(unitRuns)}`,
          target: "target < 15 s",
          over: unitMedian >= 15_000,
        });
      }
    }

    // --- rung 4 -------------------------------------------------------------------------------
    let terraformMs: number | undefined;
    if (args.terraform) {
      const m = await measure(process.execPath, [JEST, "--silent", "test/terraform"], { env: { REQUIRE_TERRAFORM: "1" }, time });
      if (m.exitCode !== 0) failures.push(failureText("rung 4 (REQUIRE_TERRAFORM=1 jest test/terraform)", m));
      terraformMs = m.wallMs;
      rows.push({
        label: `rung 4: offline terraform (jest test/terraform)${m.exitCode ? " [FAILED]" : ""}`,
        figure: sec(m.wallMs),
        spread: `1 run${cpuNote([m])}`,
        target: "(part of npm test)",
      });
    }

    // --- typecheck ------------------------------------------------------------------------------
    // As npm test runs it: incremental, against the tsbuildinfo the last typecheck left.
    const tc = await measure(process.execPath, [TSC, "-p", "tsconfig.test.json"], { time });
    if (tc.exitCode !== 0) failures.push(failureText("typecheck (tsc -p tsconfig.test.json)", tc));
    rows.push({ label: `typecheck (tsc -p tsconfig.test.json, incremental)${tc.exitCode ? " [FAILED]" : ""}`, figure: sec(tc.wallMs), spread: `1 run${cpuNote([tc])}`, target: "(part of npm test)" });

    // --- npm test -----------------------------------------------------------------------------
    if (args.npmTest) {
      const before = loadAverage();
      const m = await measure("npm", ["test", "--silent"], { env: { REQUIRE_TERRAFORM: "1" }, time });
      if (m.exitCode !== 0) failures.push(failureText("npm test", m));
      rows.push({
        label: `npm test (REQUIRE_TERRAFORM=1)${m.exitCode ? " [FAILED]" : ""}`,
        figure: sec(m.wallMs),
        spread: `1 run${cpuNote([m])}; load average ${before} before, ${loadAverage()} after`,
        target: "target < 60 s",
        over: m.wallMs >= 60_000,
      });
    } else if (unitMedian !== undefined && terraformMs !== undefined) {
      // jest runs rung 4 in one worker while the other runs the unit tests: the sum overstates.
      const bound = tc.wallMs + unitMedian + terraformMs;
      rows.push({
        label: "npm test, upper bound (typecheck + unit + rung 4, not measured)",
        figure: sec(bound),
        spread: "jest runs unit and rung 4 side by side; drop --skip-npm-test to measure",
        target: "target < 60 s",
      });
    }
    // --- e2e -----------------------------------------------------------------------------------
    rows.push(...(await e2eRows(args, time, failures)));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  printRows(rows);
  for (const f of failures) process.stderr.write(`\nFAILED: ${f}`);
  const over = rows.filter((r) => r.over);
  if (over.length) process.stdout.write(`\n${over.length} figure(s) over budget: ${over.map((r) => r.label).join("; ")}\n`);
  return failures.length ? 1 : args.strict && over.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
