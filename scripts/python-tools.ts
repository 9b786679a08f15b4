/**
 * `npm run tools:install`: creates the git-ignored `.venv` with `python3 -m venv` and
 * pip-installs `requirements-tools.txt` (moto[server] and checkov, pinned) into it.
 *
 * Idempotent: the venv records the hash of the requirements file and of the Python it was
 * built with; when both match and the tools are there, nothing is done. Anything else
 * (first run, changed pins, another Python, a half-finished install) rebuilds the venv
 * from scratch, so the tools never drift from the pins.
 *
 * The e2e, scan and local scripts call `ensurePythonTools()` and run only the venv's
 * binaries (`venvBin`), so results never depend on what a machine has installed globally.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { projectRoot, run } from "./e2e/proc";

export const REQUIREMENTS_FILE = "requirements-tools.txt";
export const VENV_DIR = ".venv";
/** The binaries the scripts need; a venv without them is rebuilt. */
export const REQUIRED_TOOLS = ["moto_server", "checkov"] as const;
export type Tool = (typeof REQUIRED_TOOLS)[number];

const MARKER = ".tools-hash";
const LOCK_DIR = path.join(".tmp", "tools-install.lock");

/** Path of a binary inside the project's venv. */
export function venvBin(tool: Tool | "python" | "pip", root = projectRoot()): string {
  return path.join(root, VENV_DIR, "bin", tool);
}

/**
 * What the venv must have been built from: the requirement lines (comments and blank lines
 * do not count, so documenting a pin does not force a reinstall) and the interpreter.
 */
export function toolsHash(requirements: string, pythonVersion: string): string {
  const lines = requirements
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
  return createHash("sha256").update(lines.join("\n")).update("\0").update(pythonVersion.trim()).digest("hex");
}

/** Why the venv has to be (re)built, or undefined when it is up to date. */
export function staleReason(root: string, wantHash: string): string | undefined {
  const venv = path.join(root, VENV_DIR);
  if (!fs.existsSync(venv)) return "no .venv yet";
  const marker = path.join(venv, MARKER);
  if (!fs.existsSync(marker)) return ".venv was not built by this script (or its install did not finish)";
  if (fs.readFileSync(marker, "utf8").trim() !== wantHash) return `${REQUIREMENTS_FILE} or the Python version changed`;
  const missing = REQUIRED_TOOLS.filter((t) => !fs.existsSync(venvBin(t, root)));
  if (missing.length) return `.venv lacks ${missing.join(", ")}`;
  return undefined;
}

function python(): string {
  return process.env.PYTHON ?? "python3";
}

async function withInstallLock<T>(root: string, body: () => Promise<T>): Promise<T> {
  const lock = path.join(root, LOCK_DIR);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch {
      // Another script is installing; take over only if its process is gone.
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
      } catch {
        /* being written */
      }
      if (Number.isInteger(holder) && !alive(holder)) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another tools install holds ${lock} for over 10 minutes`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await body();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** pip on this image warns about every package missing from its local file indexes. */
function pipNoise(line: string): boolean {
  return /^WARNING: Location 'file:/.test(line) || line.trim() === "";
}

export interface EnsureResult {
  readonly installed: boolean;
  readonly reason?: string;
  readonly ms: number;
}

/**
 * Makes sure `.venv` holds exactly the pinned tools; installs when it does not.
 * Throws (with pip's output) when Python or pip fails: a missing tool is an error, never a skip.
 */
export async function ensurePythonTools(options: { root?: string; log?: (line: string) => void } = {}): Promise<EnsureResult> {
  const root = options.root ?? projectRoot();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = Date.now();
  const requirements = fs.readFileSync(path.join(root, REQUIREMENTS_FILE), "utf8");
  const version = await run(python(), ["--version"]).catch(() => undefined);
  if (!version || version.code !== 0) throw new Error(`${python()} is not runnable: the e2e and scan tools need Python 3 with the venv module`);
  const want = toolsHash(requirements, version.stdout + version.stderr);

  const before = staleReason(root, want);
  if (!before) return { installed: false, ms: Date.now() - started };

  return withInstallLock(root, async () => {
    const reason = staleReason(root, want); // another process may have just finished
    if (!reason) return { installed: false, ms: Date.now() - started };
    log(`tools: (re)building ${VENV_DIR}: ${reason}`);
    const venv = path.join(root, VENV_DIR);
    fs.rmSync(venv, { recursive: true, force: true });
    const created = await run(python(), ["-m", "venv", venv]);
    if (created.code !== 0) throw new Error(`python3 -m venv failed (install the python3-venv package?):\n${created.stderr}`);
    const pip = await run(
      venvBin("pip", root),
      ["install", "--no-input", "--disable-pip-version-check", "--progress-bar", "off", "-q", "-r", path.join(root, REQUIREMENTS_FILE)],
      { cwd: root, timeoutMs: 15 * 60_000 },
    );
    const output = (pip.stdout + pip.stderr).split("\n").filter((l) => !pipNoise(l));
    if (pip.code !== 0) throw new Error(`pip install -r ${REQUIREMENTS_FILE} failed:\n${output.slice(-40).join("\n")}`);
    const missing = REQUIRED_TOOLS.filter((t) => !fs.existsSync(venvBin(t, root)));
    if (missing.length) throw new Error(`pip finished but ${missing.join(", ")} is missing from ${VENV_DIR}/bin`);
    fs.writeFileSync(path.join(venv, MARKER), `${want}\n`);
    const ms = Date.now() - started;
    log(`tools: installed ${requirements.split("\n").filter((l) => /^[a-z]/i.test(l)).join(", ")} in ${(ms / 1000).toFixed(0)} s`);
    return { installed: true, reason, ms };
  });
}

if (require.main === module) {
  ensurePythonTools()
    .then((r) => {
      if (!r.installed) process.stdout.write(`tools: ${VENV_DIR} is up to date with ${REQUIREMENTS_FILE}\n`);
    })
    .catch((e: Error) => {
      process.stderr.write(`tools:install failed: ${e.message}\n`);
      process.exitCode = 1;
    });
}
