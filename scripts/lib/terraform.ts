/**
 * Offline Terraform harness (rung 4 of the verification ladder; reused by the emulator suite).
 *
 * Everything here runs the real `terraform` binary with the real provider from a local
 * filesystem mirror and can never reach the network:
 *
 *   const tc = detectToolchain();                 // terraform on PATH + provider mirror
 *   if (!tc.ok) throw new Error(tc.reason);
 *   const ws = createWorkspace({ toolchain: tc });  // temp dir, CLI config, plugin cache, env
 *   try {
 *     const dir = prepareStack(ws, "cdktf.out/stacks/fargate-develop");  // copy + offline override
 *     const result = await checkStack(ws, dir);    // init, validate, plan -out, show -json
 *     // or, step by step: await ws.run(["init", "-input=false"], { cwd: dir })
 *   } finally {
 *     ws.dispose();
 *   }
 *
 * Mirror discovery: `TF_PLUGIN_MIRROR` if set (no fallback: a wrong value is reported, not
 * papered over), else a depth-limited search of a few conventional roots for a directory
 * that contains `registry.terraform.io`. No machine path is hard-coded in the repository.
 *
 * Terraform itself: `TERRAFORM_BINARY` if set, else `terraform` on PATH.
 *
 * Main entry points: `detectToolchain`, `createWorkspace` (+ `ws.run`), `prepareStack` /
 * `offlineOverride`, `checkStack` / `checkStacks` (with `attachProviders`, one provider
 * process per stack for its validate and plan: `ProviderServers`). The rest are the building blocks they use,
 * exported for callers that need a different sequence (e.g. apply/destroy against an emulator:
 * `prepareStack(ws, dir, { backend: false, awsProvider: { endpoints: [...] } })`).
 *
 * The environment of every terraform process is built from scratch (see `lockedDownEnv`):
 * its own CLI config, no checkpoint calls, fake AWS credentials, an isolated HOME and
 * HTTP(S)_PROXY pointing at a dead loopback port (NO_PROXY=127.0.0.1,localhost so a local
 * emulator stays reachable). Callers add or override variables with `env`.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The default registry host of provider sources without a host (`"aws"`, `"hashicorp/aws"`). */
export const DEFAULT_REGISTRY = "registry.terraform.io";
/** The provider every stack of this app uses. */
export const AWS_PROVIDER = `${DEFAULT_REGISTRY}/hashicorp/aws`;
/** Where HTTP(S) traffic is sent: a loopback port nothing listens on, so any attempt fails fast. */
export const DEAD_PROXY = "http://127.0.0.1:9";
/** Fake credentials: the provider needs some, they must never be real. */
export const FAKE_AWS_CREDENTIALS = { accessKey: "AKIAOFFLINEFAKEKEY00", secretKey: "offline-fake-secret-key-not-real" } as const;

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

/** Terraform's name for this machine's platform (`linux_amd64`, `darwin_arm64`, ...). */
export function terraformPlatform(): string {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };
  return `${process.platform === "win32" ? "windows" : process.platform}_${arch[process.arch] ?? process.arch}`;
}

export type Found<T> = ({ ok: true } & T) | { ok: false; reason: string };

export interface MirrorOptions {
  /** Provider that must be present, `host/namespace/type` (default: hashicorp/aws). */
  readonly provider?: string;
  /** Version that must be present (default: any). */
  readonly version?: string;
  /** Environment to read `TF_PLUGIN_MIRROR` and `HOME` from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Roots to search when `TF_PLUGIN_MIRROR` is not set (default: `defaultMirrorRoots()`). */
  readonly roots?: readonly string[];
  /** How deep below a root `registry.terraform.io` may sit (default 4). */
  readonly maxDepth?: number;
}

/** The conventional places a provider mirror lives, most specific first. */
export function defaultMirrorRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? os.homedir();
  const roots = [
    path.join(home, ".terraform.d"),
    path.join(home, ".local", "share"),
    env.XDG_DATA_HOME,
    "/opt",
    "/usr/local/share",
    "/usr/share",
  ];
  return [...new Set(roots.filter((r): r is string => !!r))];
}

/** Versions of `provider` (host/ns/type) present for this platform in a mirror root. */
export function mirrorVersions(mirror: string, provider: string = AWS_PROVIDER): string[] {
  const dir = path.join(mirror, ...provider.split("/"));
  let versions: string[];
  try {
    versions = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const type = provider.split("/").pop()!;
  return versions
    .filter((v) => {
      const platformDir = path.join(dir, v, terraformPlatform());
      try {
        return fs.readdirSync(platformDir).some((f) => f.startsWith(`terraform-provider-${type}`));
      } catch {
        // Packed layout: <host>/<ns>/<type>/terraform-provider-<type>_<v>_<platform>.zip
        return false;
      }
    })
    .sort();
}

const SKIP_DIRS = new Set(["node_modules", ".git", "proc", "sys", "dev", "man", "locale", "doc", "icons", "fonts"]);

function searchRegistryDirs(root: string, maxDepth: number): string[] {
  const found: string[] = [];
  let level = [root];
  for (let depth = 0; depth <= maxDepth && level.length && found.length === 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        if (!e.isDirectory() || SKIP_DIRS.has(e.name)) continue;
        if (e.name === DEFAULT_REGISTRY) found.push(dir);
        else next.push(path.join(dir, e.name));
      }
    }
    level = next;
  }
  return found;
}

/**
 * Finds the mirror root: the directory that contains `registry.terraform.io/<ns>/<type>/<v>/<platform>/`.
 * `TF_PLUGIN_MIRROR` wins when set (it may name the root or the `registry.terraform.io` dir itself).
 */
export function findProviderMirror(options: MirrorOptions = {}): Found<{ path: string; versions: string[]; source: string }> {
  const env = options.env ?? process.env;
  const provider = options.provider ?? AWS_PROVIDER;
  const want = options.version;
  const usable = (root: string) => {
    const versions = mirrorVersions(root, provider);
    return { versions, ok: want ? versions.includes(want) : versions.length > 0 };
  };
  const describe = `${provider}${want ? ` ${want}` : ""} for ${terraformPlatform()}`;

  const explicit = env.TF_PLUGIN_MIRROR;
  if (explicit) {
    const root = path.basename(path.resolve(explicit)) === DEFAULT_REGISTRY ? path.dirname(path.resolve(explicit)) : path.resolve(explicit);
    const u = usable(root);
    if (u.ok) return { ok: true, path: root, versions: u.versions, source: "TF_PLUGIN_MIRROR" };
    return {
      ok: false,
      reason:
        `TF_PLUGIN_MIRROR=${explicit} does not hold ${describe} ` +
        `(expected ${path.join(root, ...provider.split("/"), want ?? "<version>", terraformPlatform())}/terraform-provider-*` +
        `${u.versions.length ? `; versions there: ${u.versions.join(", ")}` : ""})`,
    };
  }

  const roots = options.roots ?? defaultMirrorRoots(env);
  const maxDepth = options.maxDepth ?? 4;
  const seenWithoutVersion: string[] = [];
  for (const root of roots) {
    for (const candidate of searchRegistryDirs(root, maxDepth)) {
      const u = usable(candidate);
      if (u.ok) return { ok: true, path: candidate, versions: u.versions, source: `search of ${root}` };
      if (u.versions.length) seenWithoutVersion.push(`${candidate} (has ${u.versions.join(", ")})`);
    }
  }
  return {
    ok: false,
    reason:
      `no filesystem mirror with ${describe} found under ${roots.join(", ")} (depth ${maxDepth})` +
      `${seenWithoutVersion.length ? `; mirrors with other versions: ${seenWithoutVersion.join("; ")}` : ""}. ` +
      `Set TF_PLUGIN_MIRROR to the directory that contains ${DEFAULT_REGISTRY}/.`,
  };
}

/** Finds `terraform` on PATH (or `TERRAFORM_BINARY` if set) and reads its version. */
export function findTerraform(env: NodeJS.ProcessEnv = process.env): Found<{ binary: string; version: string }> {
  const candidates = env.TERRAFORM_BINARY
    ? [env.TERRAFORM_BINARY]
    : (env.PATH ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, process.platform === "win32" ? "terraform.exe" : "terraform"));
  const binary = candidates.find((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
  if (!binary) {
    return { ok: false, reason: env.TERRAFORM_BINARY ? `TERRAFORM_BINARY=${env.TERRAFORM_BINARY} is not an executable file` : "terraform is not on PATH" };
  }
  const r = spawnSync(binary, ["version", "-json"], { encoding: "utf8", env: { PATH: env.PATH ?? "", CHECKPOINT_DISABLE: "1", HOME: os.tmpdir() }, timeout: 20_000 });
  try {
    return { ok: true, binary, version: JSON.parse(r.stdout).terraform_version as string };
  } catch {
    return { ok: false, reason: `${binary} version -json failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error ?? "")).trim()}` };
  }
}

/** What a workspace needs: a terraform binary and a mirror root. */
export interface Toolchain {
  readonly terraform: string;
  readonly terraformVersion: string;
  readonly mirror: string;
  readonly mirrorSource: string;
}

/** Terraform + mirror, or one line saying what is missing (both problems if both are). */
export function detectToolchain(options: MirrorOptions = {}): Found<Toolchain> {
  const tf = findTerraform(options.env);
  const mirror = findProviderMirror(options);
  if (tf.ok && mirror.ok) {
    return { ok: true, terraform: tf.binary, terraformVersion: tf.version, mirror: mirror.path, mirrorSource: mirror.source };
  }
  return { ok: false, reason: [tf.ok ? "" : tf.reason, mirror.ok ? "" : mirror.reason].filter(Boolean).join("; ") };
}

// ---------------------------------------------------------------------------------------------
// Workspace: CLI config, plugin cache, environment
// ---------------------------------------------------------------------------------------------

/** Providers (`host/ns/type`) present in a mirror root, for the CLI config's include list. */
export function mirrorProviders(mirror: string): string[] {
  const out: string[] = [];
  const list = (d: string) => {
    try {
      return fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  };
  for (const host of list(mirror)) for (const ns of list(path.join(mirror, host))) for (const type of list(path.join(mirror, host, ns))) out.push(`${host}/${ns}/${type}`);
  return out.sort();
}

export interface CliConfigOptions {
  /** Mirror root (the directory containing `registry.terraform.io`). */
  readonly mirror: string;
  /** Shared plugin cache: init links the provider from here instead of copying it per stack. */
  readonly pluginCacheDir: string;
  /** Providers served only from the mirror (default: every provider in the mirror). */
  readonly providers?: readonly string[];
  /** Extra HCL appended verbatim (e.g. a `host` block). */
  readonly extra?: string;
}

/** The CLI configuration text (HCL). */
export function cliConfig(options: CliConfigOptions): string {
  const providers = options.providers ?? mirrorProviders(options.mirror);
  const list = JSON.stringify(providers.length ? providers : [AWS_PROVIDER]);
  return [
    `# Written by scripts/lib/terraform.ts: providers come only from the local mirror.`,
    `disable_checkpoint = true`,
    `plugin_cache_dir   = ${JSON.stringify(options.pluginCacheDir)}`,
    `# Use the cache even though no stack has a lock file yet (the harness's lock files are throwaway).`,
    `plugin_cache_may_break_dependency_lock_file = true`,
    `provider_installation {`,
    `  filesystem_mirror {`,
    `    path    = ${JSON.stringify(options.mirror)}`,
    `    include = ${list}`,
    `  }`,
    `  direct {`,
    `    exclude = ${list}`,
    `  }`,
    `}`,
    options.extra ?? "",
    "",
  ].join("\n");
}

/** Writes the CLI configuration file; returns its path. */
export function writeCliConfig(file: string, options: CliConfigOptions): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, cliConfig(options));
  return file;
}

/**
 * Puts this platform's builds of `providers` from the mirror into the plugin cache, so
 * that concurrent `init`s only link to it (none of them writes the cache). A hard link when
 * the cache is on the mirror's file system (no 700 MB copy per workspace, and the provider
 * binary stays the inode already in the page cache); else a copy-on-write clone or a copy.
 */
export function warmPluginCache(mirror: string, pluginCacheDir: string, providers: readonly string[] = mirrorProviders(mirror)): void {
  const platform = terraformPlatform();
  for (const provider of providers) {
    for (const version of mirrorVersions(mirror, provider)) {
      const from = path.join(mirror, ...provider.split("/"), version, platform);
      const to = path.join(pluginCacheDir, ...provider.split("/"), version, platform);
      fs.mkdirSync(to, { recursive: true });
      for (const f of fs.readdirSync(from)) {
        const source = path.join(from, f);
        const target = path.join(to, f);
        fs.rmSync(target, { force: true });
        try {
          fs.linkSync(source, target);
        } catch {
          // Another file system (EXDEV), or links not permitted: copy.
          fs.copyFileSync(source, target, fs.constants.COPYFILE_FICLONE);
          fs.chmodSync(target, fs.statSync(source).mode & 0o777);
        }
      }
    }
  }
}

/** Variables passed through from the parent environment (everything else is dropped). */
const PASS_THROUGH = ["PATH", "LANG", "LC_ALL", "TZ", "TF_LOG", "TF_LOG_PATH", "TF_LOG_PROVIDER", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/**
 * The environment of every terraform process, built from scratch: own CLI config, isolated
 * HOME (no ~/.aws, no ~/.terraformrc), fake credentials, no checkpoint, dead proxy.
 * `extra` is applied last; a value of `undefined` removes a variable.
 */
export function lockedDownEnv(home: string, cliConfigFile: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {};
  for (const k of PASS_THROUGH) if (process.env[k] !== undefined) env[k] = process.env[k];
  Object.assign(env, {
    HOME: home,
    TMPDIR: os.tmpdir(),
    TF_CLI_CONFIG_FILE: cliConfigFile,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    TF_REGISTRY_DISCOVERY_RETRY: "0",
    TF_REGISTRY_CLIENT_TIMEOUT: "2",
    // Go's collector at 4x the default heap growth: terraform and the aws provider (which
    // builds its whole schema at every start) spend ~20% less CPU (measured: plan of
    // fargate-prod 10.1 -> 7.9 CPU-s, peak RSS 325 -> 560 MB). A GOGC in the caller's
    // environment wins.
    GOGC: process.env.GOGC ?? "400",
    AWS_ACCESS_KEY_ID: FAKE_AWS_CREDENTIALS.accessKey,
    AWS_SECRET_ACCESS_KEY: FAKE_AWS_CREDENTIALS.secretKey,
    AWS_CONFIG_FILE: path.join(home, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY,
    https_proxy: DEAD_PROXY,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  });
  Object.assign(env, extra);
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The outcome of one terraform command. */
export interface TerraformResult {
  /** `terraform <args>` as run, for messages. */
  readonly command: string;
  readonly cwd: string;
  /** Process exit code; -1 when it was killed (timeout) or could not start. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Set when the command was killed after `timeoutMs`. */
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Directory to run in (a stack directory). */
  readonly cwd: string;
  /** Extra variables on top of the workspace environment (`undefined` removes one). */
  readonly env?: Record<string, string | undefined>;
  /** Kill the command after this long (default 300 000 ms). */
  readonly timeoutMs?: number;
}

export interface TerraformWorkspace {
  /** Temp root (under os.tmpdir()); removed by `dispose()`. */
  readonly dir: string;
  readonly toolchain: Toolchain;
  readonly cliConfigFile: string;
  readonly pluginCacheDir: string;
  /** The environment every `run` starts from. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs `terraform <args>`; never throws for a non-zero exit (see `assertOk`). */
  run(args: readonly string[], options: RunOptions): Promise<TerraformResult>;
  /** Removes the temp root (idempotent). */
  dispose(): void;
}

export interface WorkspaceOptions {
  /**
   * Keep the workspace (CLI config, plugin cache, home) in this directory instead of a
   * temporary one, so stack directories initialised with it keep working after the run.
   * @default - a new temporary directory, removed by dispose()
   */
  readonly dir?: string;
  /** Terraform + mirror (default: `detectToolchain()`, throwing if unavailable). */
  readonly toolchain?: Toolchain;
  /** Extra environment for every command (e.g. emulator endpoints); `undefined` removes one. */
  readonly env?: Record<string, string | undefined>;
  /** Extra CLI config HCL appended to the generated file. */
  readonly cliConfigExtra?: string;
  /** Providers served from the mirror (default: all providers in the mirror). */
  readonly providers?: readonly string[];
  /** Temp dir name prefix (default "tf-offline-"). */
  readonly prefix?: string;
}

/**
 * Creates a temp workspace under os.tmpdir(): CLI config, a plugin cache holding the
 * mirror's providers (copied once per workspace; every `init` links to it), isolated HOME.
 */
export function createWorkspace(options: WorkspaceOptions = {}): TerraformWorkspace {
  let toolchain = options.toolchain;
  if (!toolchain) {
    const found = detectToolchain();
    if (!found.ok) throw new Error(`Offline Terraform is unavailable: ${found.reason}`);
    toolchain = found;
  }
  const tc = toolchain;
  // A fixed directory outlives the run (the local environment: `terraform output` in its
  // stack directory still finds the plugins its .terraform links to); else a temporary one.
  const dir = options.dir ? (fs.mkdirSync(options.dir, { recursive: true }), options.dir) : fs.mkdtempSync(path.join(os.tmpdir(), options.prefix ?? "tf-offline-"));
  const home = path.join(dir, "home");
  const pluginCacheDir = path.join(dir, "plugin-cache");
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(pluginCacheDir, { recursive: true });
  const cliConfigFile = writeCliConfig(path.join(dir, "terraform.tfrc"), {
    mirror: tc.mirror,
    pluginCacheDir,
    providers: options.providers,
    extra: options.cliConfigExtra,
  });
  try {
    warmPluginCache(tc.mirror, pluginCacheDir, options.providers);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot copy providers from ${tc.mirror} into the plugin cache ${pluginCacheDir}: ${(e as Error).message}`);
  }
  const env = lockedDownEnv(home, cliConfigFile, options.env);
  let disposed = false;
  return {
    dir,
    toolchain: tc,
    cliConfigFile,
    pluginCacheDir,
    env,
    run: (args, runOptions) => runTerraform(tc.terraform, args, { ...runOptions, env: { ...env, ...runOptions.env } }),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a terraform binary with exactly `options.env` (no inheritance) and collects its output. */
export function runTerraform(binary: string, args: readonly string[], options: RunOptions): Promise<TerraformResult> {
  const started = Date.now();
  const command = `terraform ${args.join(" ")}`;
  const env = Object.fromEntries(Object.entries(options.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const child = spawn(binary, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    }, options.timeoutMs ?? 300_000);
    const finish = (exitCode: number, extraErr = "") => {
      clearTimeout(timer);
      resolve({
        command,
        cwd: options.cwd,
        exitCode,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + extraErr,
        durationMs: Date.now() - started,
        timedOut,
      });
    };
    child.on("error", (e) => finish(-1, `\ncould not start ${binary}: ${e.message}`));
    child.on("close", (code, signal) => finish(code ?? -1, signal ? `\nkilled by ${signal}${timedOut ? ` after ${options.timeoutMs ?? 300_000} ms timeout` : ""}` : ""));
  });
}

/** The last `lines` non-empty lines of a text, indented, for error messages. */
function tail(text: string, lines = 40): string {
  const all = text.split("\n").filter((l) => l.trim() !== "");
  const shown = all.slice(-lines);
  return (all.length > shown.length ? `    ... (${all.length - shown.length} lines above)\n` : "") + shown.map((l) => `    ${l}`).join("\n");
}

/** A readable, multi-line description of a failed command. */
export function describeFailure(result: TerraformResult): string {
  const why = result.timedOut ? "timed out" : `exited ${result.exitCode}`;
  const parts = [`\`${result.command}\` ${why} in ${result.cwd} after ${(result.durationMs / 1000).toFixed(1)} s`];
  if (result.stderr.trim()) parts.push(`  stderr:\n${tail(result.stderr)}`);
  if (result.stdout.trim()) parts.push(`  stdout:\n${tail(result.stdout, 20)}`);
  return parts.join("\n");
}

export class TerraformCommandError extends Error {
  constructor(public readonly result: TerraformResult) {
    super(describeFailure(result));
    this.name = "TerraformCommandError";
  }
}

/** Returns the result when it exited 0, else throws a TerraformCommandError with the output tail. */
export function assertOk(result: TerraformResult): TerraformResult {
  if (result.exitCode !== 0) throw new TerraformCommandError(result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Stack preparation: offline override
// ---------------------------------------------------------------------------------------------

/** The parts of a synthesized `cdk.tf.json` this harness reads. */
export interface StackJson {
  readonly terraform?: { backend?: Record<string, unknown>; required_providers?: Record<string, { source?: string; version?: string }> };
  readonly provider?: Record<string, Array<Record<string, unknown>> | Record<string, unknown>>;
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

export function readStackJson(stackDir: string): StackJson {
  const file = path.join(stackDir, "cdk.tf.json");
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as StackJson;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

export interface OverrideOptions {
  /**
   * Backend that replaces the synthesized one: default local `terraform.tfstate`; `false`
   * keeps the synthesized backend (e.g. a real S3 backend against an emulator).
   */
  readonly backend?: Record<string, unknown> | false;
  /** Settings merged into every `aws` provider block after the offline defaults (e.g. `endpoints`). */
  readonly awsProvider?: Record<string, unknown>;
  /** Top-level keys merged (shallowly per key) into the override, last. */
  readonly extra?: Record<string, unknown>;
}

/**
 * Override content that makes a stack plan offline: local backend, and for every `aws`
 * provider block of the stack (same alias, same region) fake credentials and the skip flags
 * that stop the provider calling STS, IMDS or the region list.
 */
export function offlineOverride(stack: StackJson, options: OverrideOptions = {}): Record<string, unknown> {
  const raw = stack.provider?.aws;
  const blocks = (Array.isArray(raw) ? raw : raw ? [raw] : [{}]) as Array<Record<string, unknown>>;
  const aws = blocks.map((b) => ({
    ...(b.alias ? { alias: b.alias } : {}),
    region: typeof b.region === "string" && b.region ? b.region : "us-east-1",
    access_key: FAKE_AWS_CREDENTIALS.accessKey,
    secret_key: FAKE_AWS_CREDENTIALS.secretKey,
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    // The account cannot be known without STS; the real guard stays in cdk.tf.json.
    allowed_account_ids: null,
    // Offline there is no STS to assume the configured role with: an empty role_arn makes the
    // provider skip assume_role (5.x warns "Missing required argument"). The synthesized
    // assume_role stays in cdk.tf.json and is asserted by the stack tests.
    ...(b.assume_role ? { assume_role: [{ role_arn: "" }] } : {}),
    ...options.awsProvider,
  }));
  const override: Record<string, unknown> = { provider: { aws } };
  const backend = options.backend ?? { local: { path: "terraform.tfstate" } };
  if (backend !== false) override.terraform = { backend };
  for (const [k, v] of Object.entries(options.extra ?? {})) {
    const cur = override[k];
    override[k] = cur && typeof cur === "object" && v && typeof v === "object" && !Array.isArray(v) ? { ...cur, ...v } : v;
  }
  return override;
}

/** File name of the override (Terraform merges any `*_override.tf.json` over the main file). */
export const OVERRIDE_FILE = "offline_override.tf.json";

export interface PrepareOptions extends OverrideOptions {
  /** Directory name inside the workspace (default: the source directory's name). */
  readonly name?: string;
  /** Write this override verbatim instead of `offlineOverride(...)`. */
  readonly override?: Record<string, unknown>;
}

/**
 * Copies a synthesized stack directory (cdk.tf.json + assets) into `<workspace>/stacks/<name>`
 * and writes the offline override next to it; the source is never modified. Returns the copy.
 */
export function prepareStack(ws: Pick<TerraformWorkspace, "dir">, sourceStackDir: string, options: PrepareOptions = {}): string {
  const name = options.name ?? path.basename(path.resolve(sourceStackDir));
  const target = path.join(ws.dir, "stacks", name);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.cpSync(sourceStackDir, target, {
    recursive: true,
    filter: (src) => !/[\\/](\.terraform|terraform\.tfstate[^\\/]*|\.terraform\.lock\.hcl)$/.test(src),
  });
  const override = options.override ?? offlineOverride(readStackJson(target), options);
  fs.writeFileSync(path.join(target, OVERRIDE_FILE), JSON.stringify(override, null, 2));
  return target;
}

// ---------------------------------------------------------------------------------------------
// The offline check: init, validate, plan, show
// ---------------------------------------------------------------------------------------------

/** Resource instances the synthesized JSON declares; `dynamic` lists resources whose count is not a literal. */
export function configuredResources(stack: StackJson): { count: number; addresses: string[]; dynamic: string[] } {
  const addresses: string[] = [];
  const dynamic: string[] = [];
  let count = 0;
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, body] of Object.entries(byName ?? {})) {
      const address = `${type}.${name}`;
      addresses.push(address);
      if (body && "for_each" in body) dynamic.push(address);
      else if (body && "count" in body) {
        if (typeof body.count === "number") count += body.count;
        else dynamic.push(address);
      } else count += 1;
    }
  }
  return { count, addresses: addresses.sort(), dynamic };
}

export interface PlanSummary {
  /** Managed resource instances per action (`create`, `update`, `delete`, `replace`, `no-op`, ...). */
  readonly actions: Readonly<Record<string, number>>;
  readonly creates: number;
  /** Config addresses (`type.name`, no index) with at least one planned create. */
  readonly createdAddresses: readonly string[];
  /** Managed changes whose action is not create (unexpected against empty state). */
  readonly nonCreates: readonly string[];
  /** Data sources read at apply time (unknown inputs), informative. */
  readonly deferredReads: number;
  readonly errored: boolean;
}

/**
 * Summarizes the machine-readable UI stream of `terraform plan -json` (one JSON object per
 * line): the same planned changes as `show -json`, without a second provider start.
 */
export function summarizePlanStream(stdout: string): PlanSummary {
  const actions: Record<string, number> = {};
  const created = new Set<string>();
  const nonCreates: string[] = [];
  let deferredReads = 0;
  let errored = false;
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    let message: any;
    try {
      message = JSON.parse(line);
    } catch {
      continue;
    }
    if (message.type === "diagnostic" && message.diagnostic?.severity === "error") errored = true;
    if (message.type !== "planned_change") continue;
    const { resource, action } = message.change ?? {};
    if (!resource) continue;
    if (String(resource.addr).startsWith("data.")) {
      if (action === "read") deferredReads++;
      continue;
    }
    actions[action] = (actions[action] ?? 0) + 1;
    if (action === "create") created.add(`${resource.module ? `${resource.module}.` : ""}${resource.resource_type}.${resource.resource_name}`);
    else nonCreates.push(`${resource.addr}: ${action}`);
  }
  return { actions, creates: actions.create ?? 0, createdAddresses: [...created].sort(), nonCreates, deferredReads, errored };
}

/** The diagnostics of a `-json` UI stream, formatted one per entry (empty when none). */
export function streamDiagnostics(stdout: string): string {
  const diags: Diagnostic[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const message = JSON.parse(line);
      if (message.type === "diagnostic" && message.diagnostic) diags.push(message.diagnostic);
    } catch {
      // not a JSON line
    }
  }
  return formatDiagnostics(diags);
}

/** Summarizes `terraform show -json <planfile>`. */
export function summarizePlan(plan: any): PlanSummary {
  const actions: Record<string, number> = {};
  const created = new Set<string>();
  const nonCreates: string[] = [];
  let deferredReads = 0;
  for (const rc of (plan?.resource_changes ?? []) as any[]) {
    const acts: string[] = rc.change?.actions ?? [];
    if (rc.mode !== "managed") {
      if (acts.includes("read")) deferredReads++;
      continue;
    }
    const key = acts.length === 2 ? "replace" : acts[0] ?? "unknown";
    actions[key] = (actions[key] ?? 0) + 1;
    if (key === "create") created.add(`${rc.module_address ? `${rc.module_address}.` : ""}${rc.type}.${rc.name}`);
    else nonCreates.push(`${rc.address}: ${acts.join("+")}`);
  }
  return {
    actions,
    creates: actions.create ?? 0,
    createdAddresses: [...created].sort(),
    nonCreates,
    deferredReads,
    errored: plan?.errored === true,
  };
}

interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number } };
  address?: string;
}

function formatDiagnostics(diags: readonly Diagnostic[]): string {
  return diags
    .map((d) => {
      const where = d.range ? ` (${d.range.filename}:${d.range.start.line})` : d.address ? ` (${d.address})` : "";
      const detail = d.detail ? `\n      ${d.detail.replace(/\n/g, "\n      ")}` : "";
      return `    ${d.severity}: ${d.summary}${where}${detail}`;
    })
    .join("\n");
}

export interface ValidateSummary {
  readonly valid: boolean;
  readonly errors: number;
  readonly warnings: number;
  /** The diagnostics, formatted one per entry. */
  readonly text: string;
}

/** Runs `terraform validate -json` (after init) and parses its diagnostics. */
export async function validate(ws: TerraformWorkspace, stackDir: string, env?: Record<string, string | undefined>): Promise<{ result: TerraformResult; summary: ValidateSummary }> {
  const result = await ws.run(["validate", "-json", "-no-color"], { cwd: stackDir, env });
  try {
    const v = JSON.parse(result.stdout);
    const diags: Diagnostic[] = v.diagnostics ?? [];
    return { result, summary: { valid: v.valid === true && result.exitCode === 0, errors: v.error_count ?? 0, warnings: v.warning_count ?? 0, text: formatDiagnostics(diags) } };
  } catch {
    return { result, summary: { valid: false, errors: 1, warnings: 0, text: describeFailure(result) } };
  }
}

export type StepName = "init" | "validate" | "plan" | "show";

export interface StackCheck {
  /** Stack directory name. */
  readonly stack: string;
  readonly ok: boolean;
  /** Resource instances declared in cdk.tf.json. */
  readonly expected: number;
  readonly validate?: ValidateSummary;
  readonly plan?: PlanSummary;
  /** Wall time per step (ms) and in total. */
  readonly timings: Partial<Record<StepName | "total", number>>;
  /** Every problem found, one paragraph each (empty when ok). */
  readonly problems: readonly string[];
}

export interface CheckOptions {
  /** Per-command timeout (default 300 000 ms). */
  readonly timeoutMs?: number;
  /** Keep the plan JSON on the result (large; default false). */
  readonly keepPlanJson?: boolean;
  /**
   * Start the stack's providers once, after `init`, and attach `validate` and `plan` to them
   * (see `ProviderServers`) instead of letting each command start its own: one provider start
   * per stack instead of five (default false).
   */
  readonly attachProviders?: boolean;
}

/**
 * The rung-4 check of one prepared stack directory (see `prepareStack`): `init`, `validate`,
 * `plan -json -out` (+ `show -json` with keepPlanJson); then: validate reports zero errors, the plan did not error, and
 * it creates exactly the resources cdk.tf.json declares (every address, nothing else) and
 * changes nothing else. Never throws for a Terraform failure: it is in `problems`.
 */
export async function checkStack(ws: TerraformWorkspace, stackDir: string, options: CheckOptions = {}): Promise<StackCheck & { planJson?: unknown }> {
  const servers = options.attachProviders ? new ProviderServers(ws, stackDir) : undefined;
  try {
    return await runCheck(ws, stackDir, options, servers);
  } finally {
    servers?.stop();
  }
}

async function runCheck(ws: TerraformWorkspace, stackDir: string, options: CheckOptions, servers: ProviderServers | undefined): Promise<StackCheck & { planJson?: unknown }> {
  const stack = path.basename(stackDir);
  const timings: Partial<Record<StepName | "total", number>> = {};
  const problems: string[] = [];
  const started = Date.now();
  const configured = configuredResources(readStackJson(stackDir));
  const timeoutMs = options.timeoutMs;
  const done = (extra: Partial<StackCheck> & { planJson?: unknown } = {}) => {
    timings.total = Date.now() - started;
    return { stack, ok: problems.length === 0, expected: configured.count, timings, problems, ...extra };
  };
  let env: Record<string, string> | undefined;
  const step = async (name: StepName, args: string[]) => {
    const r = await ws.run(args, { cwd: stackDir, timeoutMs, env });
    timings[name] = r.durationMs;
    if (r.exitCode !== 0) problems.push(`${name} failed: ${describeFailure(r)}`);
    return r;
  };

  if ((await step("init", ["init", "-input=false", "-no-color"])).exitCode !== 0) return done();
  if (servers) {
    try {
      env = await servers.start();
    } catch (e) {
      problems.push((e as Error).message);
      return done();
    }
  }

  const v = await validate(ws, stackDir, env);
  timings.validate = v.result.durationMs;
  if (!v.summary.valid || v.summary.errors > 0) {
    problems.push(`validate found ${v.summary.errors} error(s) in ${stackDir}:\n${v.summary.text}`);
    return done({ validate: v.summary });
  }

  const planFile = "offline.tfplan";
  const planRun = await step("plan", ["plan", "-json", "-input=false", "-no-color", "-lock=false", `-out=${planFile}`]);
  if (planRun.exitCode !== 0) {
    const diagnostics = streamDiagnostics(planRun.stdout);
    if (diagnostics) problems.push(`plan diagnostics:\n${diagnostics}`);
    return done({ validate: v.summary });
  }

  // The plan's own JSON stream carries every planned change; `show -json` (a second provider
  // start, ~3 s per stack) runs only when the caller wants the full plan document.
  let planJson: any;
  let plan: PlanSummary;
  if (options.keepPlanJson) {
    const show = await step("show", ["show", "-json", "-no-color", planFile]);
    if (show.exitCode !== 0) return done({ validate: v.summary });
    try {
      planJson = JSON.parse(show.stdout);
    } catch (e) {
      problems.push(`show -json printed no JSON (${(e as Error).message}): ${describeFailure(show)}`);
      return done({ validate: v.summary });
    }
    plan = summarizePlan(planJson);
  } else {
    plan = summarizePlanStream(planRun.stdout);
  }
  if (plan.errored) problems.push(`plan reports errored=true`);
  if (plan.nonCreates.length) problems.push(`plan against empty state has non-create changes:\n    ${plan.nonCreates.join("\n    ")}`);
  const missing = configured.addresses.filter((a) => !plan.createdAddresses.includes(a));
  const unexpected = plan.createdAddresses.filter((a) => !configured.addresses.includes(a));
  if (missing.length) problems.push(`resources in cdk.tf.json that the plan does not create:\n    ${missing.join("\n    ")}`);
  if (unexpected.length) problems.push(`plan creates resources not in cdk.tf.json:\n    ${unexpected.join("\n    ")}`);
  if (configured.dynamic.length === 0 && plan.creates !== configured.count) {
    problems.push(`plan creates ${plan.creates} resource instance(s); cdk.tf.json declares ${configured.count}`);
  }
  return done({ validate: v.summary, plan, ...(options.keepPlanJson ? { planJson } : {}) });
}

/** Stack directories (`<outdir>/stacks/*` holding a cdk.tf.json), sorted by name. */
export function listStacks(outdir: string): string[] {
  const stacksDir = path.join(outdir, "stacks");
  let names: string[];
  try {
    names = fs.readdirSync(stacksDir);
  } catch (e) {
    throw new Error(`no synthesized stacks in ${stacksDir}: ${(e as Error).message}`);
  }
  return names
    .filter((n) => fs.existsSync(path.join(stacksDir, n, "cdk.tf.json")))
    .sort()
    .map((n) => path.join(stacksDir, n));
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface CheckAllOptions extends CheckOptions, OverrideOptions {
  /** Stacks checked at once (default 2: init/validate/plan are CPU-bound). */
  readonly concurrency?: number;
  /** Called as each stack finishes (progress output). */
  readonly onResult?: (result: StackCheck) => void;
}

/**
 * Prepares and checks every synthesized stack directory, `concurrency` at a time, biggest
 * first (so the pairs finish together); results are returned in the input order.
 */
export async function checkStacks(ws: TerraformWorkspace, stackDirs: readonly string[], options: CheckAllOptions = {}): Promise<StackCheck[]> {
  const sizes = stackDirs.map((d) => configuredResources(readStackJson(d)).count);
  const order = stackDirs.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a]);
  const results = new Array<StackCheck>(stackDirs.length);
  await mapLimit(order, options.concurrency ?? 2, async (i) => {
    let r: StackCheck;
    try {
      r = await checkStack(ws, prepareStack(ws, stackDirs[i], options), options);
    } catch (e) {
      r = { stack: path.basename(stackDirs[i]), ok: false, expected: sizes[i], timings: {}, problems: [(e as Error).message] };
    }
    results[i] = r;
    options.onResult?.(r);
  });
  return results;
}

// ---------------------------------------------------------------------------------------------
// Shared provider processes (TF_REATTACH_PROVIDERS)
// ---------------------------------------------------------------------------------------------

/**
 * The providers of one initialized stack directory, started once, in the plugin's debug
 * mode, for that stack's `validate` and `plan` to attach to through `TF_REATTACH_PROVIDERS`
 * instead of starting (and stopping) their own: every start of the aws provider builds its
 * whole schema (~1 CPU-s), and validate starts it twice, plan three times. The commands make
 * the same gRPC calls to the same binary, the one `init` installed from the mirror into the
 * stack's `.terraform`, running in the stack directory with the workspace environment, as
 * terraform would start it. Only that stack's commands use it, one at a time; `stop()` ends it.
 */
export class ProviderServers {
  private readonly children: ReturnType<typeof spawn>[] = [];

  constructor(
    private readonly ws: Pick<TerraformWorkspace, "env">,
    private readonly stackDir: string,
    private readonly options: { readonly startTimeoutMs?: number } = {},
  ) {}

  /**
   * Starts every provider installed in the stack; resolves to the environment the stack's
   * commands attach with. Throws when a provider does not come up (the check then fails,
   * with the reason).
   */
  async start(): Promise<Record<string, string>> {
    const installed = installedProviders(this.stackDir);
    if (!installed.length) throw new Error(`no provider installed in ${path.join(this.stackDir, ".terraform", "providers")} after init`);
    const reattach: Record<string, unknown> = {};
    for (const p of installed) reattach[p.address] = await this.startOne(p.address, p.binary);
    return { TF_REATTACH_PROVIDERS: JSON.stringify(reattach) };
  }

  private startOne(address: string, binary: string): Promise<unknown> {
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const child = spawn(binary, ["-debug"], { cwd: this.stackDir, env: { ...this.ws.env }, stdio: ["ignore", "pipe", "pipe"] });
      this.children.push(child);
      let out = "";
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`cannot start ${binary} -debug for ${this.stackDir}: ${why}${out.trim() ? `\n${tail(out, 10)}` : ""}`));
      };
      const timer = setTimeout(() => fail(`no TF_REATTACH_PROVIDERS line after ${timeoutMs} ms`), timeoutMs);
      // Drained for as long as it runs (a full pipe would block the provider).
      child.stderr!.on("data", (d: Buffer) => {
        if (!settled) out += d.toString("utf8");
      });
      child.stdout!.on("data", (d: Buffer) => {
        if (settled) return;
        out += d.toString("utf8");
        const m = /TF_REATTACH_PROVIDERS='(\{.*\})'/.exec(out);
        if (!m) return;
        let entry: unknown;
        try {
          entry = (JSON.parse(m[1]) as Record<string, unknown>)[address];
        } catch (e) {
          return fail(`unreadable reattach line (${(e as Error).message})`);
        }
        if (!entry) return fail(`the reattach line does not name ${address}`);
        settled = true;
        clearTimeout(timer);
        resolve(entry);
      });
      child.on("error", (e) => fail(e.message));
      child.on("exit", (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
    });
  }

  /** Stops the provider processes (idempotent). */
  stop(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    this.children.length = 0;
  }
}

/**
 * The provider binaries `init` installed into a stack's `.terraform/providers`
 * (`<host>/<ns>/<type>/<version>/<platform>/terraform-provider-<type>*`), real paths.
 */
export function installedProviders(stackDir: string): Array<{ address: string; version: string; binary: string }> {
  const root = path.join(stackDir, ".terraform", "providers");
  const list = (d: string) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  };
  const out: Array<{ address: string; version: string; binary: string }> = [];
  const platform = terraformPlatform();
  for (const host of list(root))
    for (const ns of list(path.join(root, host)))
      for (const type of list(path.join(root, host, ns)))
        for (const version of list(path.join(root, host, ns, type))) {
          const dir = path.join(root, host, ns, type, version, platform);
          const file = list(dir).find((f) => f.startsWith(`terraform-provider-${type}`));
          if (file) out.push({ address: `${host}/${ns}/${type}`, version, binary: fs.realpathSync(path.join(dir, file)) });
        }
  return out;
}

/** One line per stack: `fargate-develop  ok  38/38 to add  init 0.6s validate 2.7s ...`. */
export function formatCheckLine(r: StackCheck): string {
  const s = (ms?: number) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`);
  const t = r.timings;
  const adds = r.plan ? `${r.plan.creates}/${r.expected} to add` : `?/${r.expected} to add`;
  const warn = r.validate?.warnings ? ` ${r.validate.warnings} warning(s)` : "";
  return `${r.ok ? "ok  " : "FAIL"} ${r.stack.padEnd(20)} ${adds.padEnd(14)} init ${s(t.init)} validate ${s(t.validate)} plan ${s(t.plan)} show ${s(t.show)} total ${s(t.total)}${warn}`;
}
