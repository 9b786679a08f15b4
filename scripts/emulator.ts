/**
 * The AWS emulator: `.venv/bin/moto_server` on 127.0.0.1 and a free port.
 *
 * - `startEmulator()` starts it, waits until it answers and returns a handle whose `stop()`
 *   ends it. The process is ALWAYS stopped: on `stop()`, on normal exit, on an uncaught
 *   error and on SIGINT/SIGTERM/SIGHUP (then the script exits 130/143/129).
 * - `startDetached()` / `stopDetached()` are for `npm run local:up` / `local:down`: the
 *   emulator outlives the script; its pid and endpoint live in `.tmp/emulator.json`.
 *
 * The server only binds 127.0.0.1 and speaks TLS (moto -s, a self-signed certificate made at
 * start): the platform's bucket policies deny requests without aws:SecureTransport, and moto
 * enforces them on objects, so plain HTTP would make the S3 backend fail with 403 exactly
 * as it would in AWS. Clients skip certificate verification for this loopback address only
 * (provider and backend `insecure = true`). It runs with the dead-proxy environment of its
 * caller, so even moto itself cannot reach the internet.
 *
 * In front of moto runs the emulator-shim proxy (scripts/emulator-shims.ts, also TLS on
 * 127.0.0.1): it repairs the few moto gaps the provider trips on (each shim names its moto
 * bug and has a probe in test/e2e/emulator-shims.test.ts that fails once moto fixes it) and
 * forwards everything else unchanged. The endpoint handed out is the proxy's; `upstream`
 * is moto's own address.
 *
 * CLI: `node dist/scripts/emulator.js start|stop|status` (start = detached).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { projectRoot } from "./e2e/proc";
import { startShimProxy } from "./emulator-shims";
import { ensurePythonTools, venvBin } from "./python-tools";

export const EMULATOR_HOST = "127.0.0.1";
/** Environment variable the app reads at synth time to add the `local` stacks. */
export const EMULATOR_ENDPOINT_VAR = "PLATFORM_EMULATOR_ENDPOINT";

/** Environment of the moto process: AWS-managed IAM policies exist (policy attachments need them). */
export function emulatorEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    MOTO_IAM_LOAD_MANAGED_POLICIES: "true",
  };
}

/** A port nobody listens on right now (the OS picks it; there is a small race, retried by the caller). */
export function freePort(host = EMULATOR_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** GET on the emulator; resolves with status and body, rejects on connection errors. */
export function emulatorGet(endpoint: string, urlPath: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${endpoint}${urlPath}`, { timeout: timeoutMs, agent: false, rejectUnauthorized: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** POST on the emulator (moto-api reset and friends). */
export function emulatorPost(endpoint: string, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${endpoint}${urlPath}`, { method: "POST", timeout: 5000, agent: false, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** Waits until moto answers its own API, or the process dies, or the time is up. */
export async function waitForEmulator(endpoint: string, isAlive: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`moto_server exited before it answered on ${endpoint}`);
    try {
      const res = await emulatorGet(endpoint, "/moto-api/data.json", 1000);
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs / 1000} s (last: ${last})`);
}

export interface Emulator {
  /** The address clients use: the shim proxy in front of moto. */
  readonly endpoint: string;
  readonly port: number;
  /** moto_server's own address (no shims). */
  readonly upstream: string;
  /** moto_server's pid. */
  readonly pid: number;
  readonly logFile: string;
  /** Stops the proxy and the server (SIGTERM, SIGKILL after 3 s); safe to call twice. */
  stop(): Promise<void>;
}

/** Appends shim lines to the emulator log (moto writes the same file). */
function logTo(file: string): (line: string) => void {
  return (line) => {
    try {
      fs.appendFileSync(file, `${line}\n`);
    } catch {
      /* the log is best effort */
    }
  };
}

const running = new Set<ChildProcess>();
let handlersInstalled = false;

/** Kills every emulator this process started; synchronous so it works inside 'exit'. */
function killAll(): void {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  running.clear();
}

/**
 * Kills (SIGKILL) every descendant of this process (terraform runs started through the
 * harness, which does not hand out its child processes, and their provider plugins), so an
 * interrupted run leaves nothing behind. The tree is read first: once terraform exits, its
 * plugins are re-parented and could no longer be found. Linux /proc only; elsewhere a
 * terminal's Ctrl-C reaches the whole process group anyway. SIGKILL, not SIGTERM: a
 * terraform asked to stop gracefully starts provider plugins to finish its work, which then
 * outlive it; everything it worked on (emulator, workspace) is thrown away anyway.
 */
function stopDescendants(): void {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return;
  }
  for (const pid of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const tree: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      tree.push(child);
      walk(child);
    }
  };
  walk(process.pid);
  for (const pid of tree) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAll);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping the emulator and the running terraform commands\n`);
      killAll();
      stopDescendants();
      process.exit(code);
    });
  }
  process.on("uncaughtException", (e) => {
    killAll();
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}

export interface StartOptions {
  readonly root?: string;
  /** Environment for moto (the caller's dead-proxy env). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Where moto's output goes. @default .tmp/emulator-<port>.log */
  readonly logFile?: string;
}

/** Starts moto_server on 127.0.0.1 and a free port, waits for it and registers the cleanup. */
export async function startEmulator(options: StartOptions = {}): Promise<Emulator> {
  const root = options.root ?? projectRoot();
  const bin = venvBin("moto_server", root);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run npm run tools:install`);
  installHandlers();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const upstream = `https://${EMULATOR_HOST}:${port}`;
    const logFile = options.logFile ?? path.join(root, ".tmp", `emulator-${port}.log`);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    // Append mode (after truncating): the shim proxy appends its lines to the same file.
    fs.writeFileSync(logFile, "");
    const out = fs.openSync(logFile, "a");
    const child = spawn(bin, ["-H", EMULATOR_HOST, "-p", String(port), "-s"], {
      cwd: root,
      env: emulatorEnv(options.env),
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    running.add(child);
    let exited = false;
    child.on("exit", () => {
      exited = true;
      running.delete(child);
    });
    const stop = async (): Promise<void> => {
      if (exited) return;
      child.kill("SIGTERM");
      const gone = await Promise.race([
        new Promise<boolean>((r) => child.once("exit", () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (!gone) child.kill("SIGKILL");
      running.delete(child);
    };
    try {
      await waitForEmulator(upstream, () => !exited);
      const proxy = await startShimProxy({ upstream, log: logTo(logFile) });
      const stopBoth = async () => {
        await proxy.close();
        await stop();
      };
      return { endpoint: proxy.endpoint, port: proxy.port, upstream, pid: child.pid!, logFile, stop: stopBoth };
    } catch (e) {
      lastError = e as Error;
      await stop();
    }
  }
  throw lastError ?? new Error("moto_server did not start");
}

// ---------------------------------------------------------------------------------------
// Detached emulator for local:up / local:down
// ---------------------------------------------------------------------------------------

export interface DetachedState {
  /** moto_server's pid. */
  readonly pid: number;
  /** The shim proxy's address (what the local stacks use). */
  readonly endpoint: string;
  readonly logFile: string;
  /** The shim proxy process (node dist/scripts/emulator-shims.js). */
  readonly shimPid?: number;
  /** moto_server's own address. */
  readonly upstream?: string;
}

export function stateFile(root = projectRoot()): string {
  return path.join(root, ".tmp", "emulator.json");
}

export function readDetached(root = projectRoot()): DetachedState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile(root), "utf8")) as DetachedState;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The running detached emulator, if its process is alive and answers HTTP at all. (Not
 * data.json: moto 5.2.3 answers it with 500 once some resources exist.)
 */
export async function detachedStatus(root = projectRoot()): Promise<DetachedState | undefined> {
  const state = readDetached(root);
  if (!state || !processAlive(state.pid) || !state.shimPid || !processAlive(state.shimPid)) return undefined;
  try {
    const res = await emulatorGet(state.endpoint, "/moto-api/", 5000);
    return res.status > 0 ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Starts (or reuses) a background emulator that outlives this script. */
export async function startDetached(options: StartOptions = {}): Promise<DetachedState> {
  const root = options.root ?? projectRoot();
  const existing = await detachedStatus(root);
  if (existing) return existing;
  await stopDetached(root); // half of an earlier one (moto without its proxy, or the reverse)
  const bin = venvBin("moto_server", root);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run npm run tools:install`);
  const port = await freePort();
  const upstream = `https://${EMULATOR_HOST}:${port}`;
  const logFile = path.join(root, ".tmp", "emulator.log");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, "");
  const out = fs.openSync(logFile, "a"); // append mode: the shim proxy writes here too
  const child = spawn(bin, ["-H", EMULATOR_HOST, "-p", String(port), "-s"], {
    cwd: root,
    env: emulatorEnv(options.env),
    stdio: ["ignore", out, out],
    detached: true,
  });
  fs.closeSync(out);
  child.unref();
  const kill = (pid: number | undefined) => {
    try {
      if (pid) process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  };
  let shimPid: number | undefined;
  try {
    await waitForEmulator(upstream, () => processAlive(child.pid!));
    // The proxy must outlive this script too: its own detached node process.
    const proxyPort = await freePort();
    const shimLog = fs.openSync(logFile, "a");
    const shim = spawn(process.execPath, [path.join(__dirname, "emulator-shims.js"), "--upstream", upstream, "--port", String(proxyPort), "--log", logFile], {
      cwd: root,
      env: options.env ?? process.env,
      stdio: ["ignore", "ignore", shimLog],
      detached: true,
    });
    fs.closeSync(shimLog);
    shim.unref();
    shimPid = shim.pid;
    const endpoint = `https://${EMULATOR_HOST}:${proxyPort}`;
    await waitForEmulator(endpoint, () => processAlive(shim.pid!) && processAlive(child.pid!));
    const state: DetachedState = { pid: child.pid!, endpoint, logFile, shimPid, upstream };
    fs.writeFileSync(stateFile(root), `${JSON.stringify(state, null, 2)}\n`);
    return state;
  } catch (e) {
    kill(shimPid);
    kill(child.pid);
    throw e;
  }
}

/** Stops the background emulator (by the pid it recorded); true if one was running. */
/**
 * Whether `pid` is still the process the state file recorded (its command line names
 * `marker`), so a stale state file never makes us signal a process that reused the pid.
 * Where /proc is missing, being alive has to do.
 */
function stillOurs(pid: number, marker: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return !fs.existsSync("/proc/self");
  }
}

export async function stopDetached(root = projectRoot()): Promise<boolean> {
  const state = readDetached(root);
  fs.rmSync(stateFile(root), { force: true });
  const pids = [
    state?.shimPid !== undefined && stillOurs(state.shimPid, "emulator-shims") ? state.shimPid : undefined,
    state && stillOurs(state.pid, "moto_server") ? state.pid : undefined,
  ].filter((p): p is number => p !== undefined);
  for (const pid of pids) {
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 30 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (processAlive(pid)) process.kill(pid, "SIGKILL");
  }
  return state !== undefined && pids.includes(state.pid);
}

async function cli(command: string | undefined): Promise<number> {
  switch (command) {
    case "start": {
      await ensurePythonTools();
      const state = await startDetached();
      process.stdout.write(`emulator: moto_server pid ${state.pid} (${state.upstream}), shim proxy pid ${state.shimPid} on ${state.endpoint} (log ${path.relative(process.cwd(), state.logFile)})\n`);
      return 0;
    }
    case "stop":
      process.stdout.write((await stopDetached()) ? "emulator: stopped\n" : "emulator: was not running\n");
      return 0;
    case "status": {
      const state = await detachedStatus();
      process.stdout.write(state ? `emulator: running, pid ${state.pid}, ${state.endpoint}\n` : "emulator: not running\n");
      return state ? 0 : 3;
    }
    default:
      process.stderr.write("usage: node dist/scripts/emulator.js start|stop|status\n");
      return 2;
  }
}

if (require.main === module) {
  cli(process.argv[2]).then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`emulator: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
