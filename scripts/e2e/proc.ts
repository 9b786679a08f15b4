/**
 * Small process helpers shared by the emulator/e2e/scan/local scripts: find the project
 * root, run a command with a time limit and capture its output, time a phase.
 */
import { spawn, SpawnOptions } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The repository root (the directory holding this project's package.json), from src or dist. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "ecs-fargate-platform") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root above ${__dirname}`);
    dir = parent;
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGTERM, then SIGKILL) after this long. @default 10 minutes */
  readonly timeoutMs?: number;
  /** Text written to stdin, which is then closed. */
  readonly input?: string;
  /** Also stream the output to this process's stdout/stderr. */
  readonly echo?: boolean;
}

/** Runs a command to completion; never throws for a non-zero exit (look at `code`). */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const spawnOptions: SpawnOptions = { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] };
    const child = spawn(command, args as string[], spawnOptions);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (options.echo) process.stdout.write(d);
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (options.echo) process.stderr.write(d);
    });
    const limit = options.timeoutMs ?? 10 * 60_000;
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${Math.round(limit / 1000)} s]`;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }, limit);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
    if (options.input !== undefined) child.stdin!.write(options.input);
    child.stdin!.end();
  });
}

/** Runs a command and throws with its output when it does not exit 0. */
export async function runChecked(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const tail = (s: string) => s.trim().split("\n").slice(-40).join("\n");
    throw new Error(`${command} ${args.join(" ")} exited ${result.code ?? result.signal}\n${tail(result.stdout)}\n${tail(result.stderr)}`.trim());
  }
  return result;
}

/** Wall-clock timings of named phases, printed as a table at the end of a run. */
export class Timings {
  private readonly rows: { name: string; ms: number; ok: boolean }[] = [];
  private readonly commands: { phase: string; label: string; ms: number }[] = [];
  /** The phase running now (commands are booked to it). */
  current = "";

  /** Books one command (e.g. `terraform plan` in a stack) to the running phase. */
  command(label: string, ms: number): void {
    this.commands.push({ phase: this.current, label, ms });
  }

  async phase<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.current = name;
    process.stdout.write(`\n== ${name}\n`);
    try {
      const value = await body();
      this.rows.push({ name, ms: Date.now() - started, ok: true });
      process.stdout.write(`   ${name}: ok in ${seconds(Date.now() - started)}\n`);
      return value;
    } catch (e) {
      this.rows.push({ name, ms: Date.now() - started, ok: false });
      throw e;
    }
  }

  /** Phases that finished and that failed (a failed phase ends the run). */
  counts(): { passed: number; failed: number } {
    return { passed: this.rows.filter((r) => r.ok).length, failed: this.rows.filter((r) => !r.ok).length };
  }

  /**
   * Where the commands' time went: per phase, the summed wall time of each command label
   * (commands that ran concurrently are each counted in full) and the slowest single runs.
   */
  commandTable(slowest = 8): string {
    const lines: string[] = [];
    for (const phase of [...new Set(this.commands.map((c) => c.phase))]) {
      const mine = this.commands.filter((c) => c.phase === phase);
      const byLabel = new Map<string, { n: number; ms: number }>();
      for (const c of mine) byLabel.set(c.label, { n: (byLabel.get(c.label)?.n ?? 0) + 1, ms: (byLabel.get(c.label)?.ms ?? 0) + c.ms });
      const parts = [...byLabel].sort((a, b) => b[1].ms - a[1].ms).map(([label, v]) => `${label} ${v.n}x ${seconds(v.ms)}`);
      lines.push(`  ${phase}: ${parts.join(", ")}`);
    }
    const top = [...this.commands].sort((a, b) => b.ms - a.ms).slice(0, slowest);
    lines.push(`  slowest: ${top.map((c) => `${c.label} ${seconds(c.ms)}`).join(", ")}`);
    return lines.join("\n");
  }

  /** The phases as data (for .tmp/e2e/report.json, which `npm run bench` reads). */
  report(): { phases: { name: string; ms: number; ok: boolean }[]; totalMs: number } {
    return { phases: this.rows.map((r) => ({ ...r })), totalMs: this.rows.reduce((sum, r) => sum + r.ms, 0) };
  }

  table(): string {
    const width = Math.max(...this.rows.map((r) => r.name.length), 5);
    const total = this.rows.reduce((sum, r) => sum + r.ms, 0);
    return [
      ...this.rows.map((r) => `  ${r.name.padEnd(width)}  ${seconds(r.ms).padStart(8)}  ${r.ok ? "ok" : "FAILED"}`),
      `  ${"total".padEnd(width)}  ${seconds(total).padStart(8)}`,
    ].join("\n");
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Where an e2e run leaves its figures, from the project root: `npm run bench` reports the e2e budget from it. */
export const E2E_REPORT = path.join(".tmp", "e2e", "report.json");

export interface E2eReport {
  readonly finishedAt: string;
  readonly ok: boolean;
  /** Wall time of scripts/e2e.js (`npm run test:e2e` adds the build and the shim probes before it). */
  readonly wallMs: number;
  readonly phases: { name: string; ms: number; ok: boolean }[];
  readonly loadAverage: number[];
}
