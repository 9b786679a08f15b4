/**
 * `npm run test:e2e` — rung 5 of the verification ladder: the synthesized JSON, the real
 * Terraform and the real hashicorp/aws provider, applied against moto_server on 127.0.0.1.
 *
 * One run shows, with a timing per phase:
 *   1. the bootstrap stack applies to the emulator: state bucket versioned + KMS-encrypted,
 *      lock table keyed `LockID` (S);
 *   2. the `local` stack initialises its REAL S3 backend (the synthesized backend block;
 *      the emulator endpoints are part of the local stack's synthesized backend, nothing is
 *      swapped for a local backend) against that bucket and table, and applies. It starts
 *      as soon as the bucket and table exist, while the bootstrap apply still sits in the
 *      provider's ~55 s S3 lifecycle-consistency wait;
 *   3. a second plan reports no changes (emulator-caused diffs: scripts/e2e/emulator-diffs.ts);
 *   4. while one apply holds the lock (waiting for approval), concurrent plan and apply
 *      fail with Terraform's lock error; the lock is released and the state is unchanged.
 *      The lock-table preflight catches a table keyed `id` with a clear message;
 *   5. spot checks through the AWS SDK (scripts/e2e/spot-checks.ts);
 *   6. destroy, then the bootstrap teardown; the emulator holds nothing of ours afterwards.
 * Every terraform/moto process gets HTTP(S)_PROXY = a recording guard on 127.0.0.1
 * (NO_PROXY = loopback only); the run fails if anything tried to leave the machine.
 *
 * Nothing here reads or writes cdktf.out: the run synthesizes into .tmp/e2e/.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CreateTableCommand, DeleteTableCommand, ScanCommand, UpdateTableCommand } from "@aws-sdk/client-dynamodb";
import { DeleteObjectsCommand, GetBucketEncryptionCommand, GetBucketVersioningCommand, HeadObjectCommand, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { LOCAL_INPUT, loadConfig } from "../environments";
import { localStateBackendStackName } from "../src/emulator";
import { EMULATOR_ENDPOINT_VAR, providerEndpointKeys } from "../src/emulator";
import { platformStackName, stateKey } from "../src/stacks/platform-stack";
import { emulatorGet, Emulator, startEmulator } from "./emulator";
import { emulatorClients, EmulatorClients } from "./e2e/aws";
import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import { DescribeClustersCommand, DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { DescribeNatGatewaysCommand } from "@aws-sdk/client-ec2";
import { GetResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { classifyDiffs, EMULATOR_DIFFS, PlannedChange } from "./e2e/emulator-diffs";
import { EgressGuard, startEgressGuard } from "./e2e/egress-guard";
import { assertLockTable, LockTableError } from "./e2e/lock-table";
import { E2eReport, projectRoot, runChecked, seconds, Timings } from "./e2e/proc";
import { spotChecks, stateResources } from "./e2e/spot-checks";
import { ensurePythonTools } from "./python-tools";
import { assertOk, createWorkspace, detectToolchain, ProviderServers, TerraformResult, TerraformWorkspace } from "./lib/terraform";
import * as https from "https";
import { CloudWatchClient, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CodeDeployClient } from "@aws-sdk/client-codedeploy";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { EnvironmentConfig } from "../environments/schema";
import { EMULATOR_CREDENTIALS, parseEmulatorEndpoint } from "../src/emulator";
import { cli, cliExit, Day2Io, Day2Step, executionSecretGrants, inputAfter, runStep, running, stackOutputs } from "./e2e/day2";
import { AccountIo, checkAccountStack, destroyAccountStack, startAccountStack } from "./e2e/account";
import { accountStackName } from "../src/stacks/account-stack";
import { deployRoleName } from "../environments/accounts";

const TF_TIMEOUT = 8 * 60_000;

class E2eFailure extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new E2eFailure(message);
}

function say(line: string): void {
  process.stdout.write(`   ${line}\n`);
}

/** Every string in a JSON document that looks like a URL. */
function urlsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) out.push(value);
  } else if (Array.isArray(value)) value.forEach((v) => urlsIn(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => urlsIn(v, out));
  return out;
}

/**
 * Terraform walks at most 10 resources at once by default; on the emulator nearly all of an
 * apply's time is the provider's fixed waiter delays (RDS, ALB, S3 lifecycle), which overlap
 * better with more at once. Plan, apply and destroy get -parallelism=TF_PARALLELISM.
 */
const TF_PARALLELISM = 32;

function withParallelism(args: string[]): string[] {
  if (!["plan", "apply", "destroy"].includes(args[0]) || args.some((a) => a.startsWith("-parallelism"))) return args;
  return [args[0], `-parallelism=${TF_PARALLELISM}`, ...args.slice(1)];
}

interface Context {
  readonly timings: Timings;
  readonly root: string;
  readonly work: string;
  readonly outdir: string;
  readonly guard: EgressGuard;
  emulator?: Emulator;
  ws?: TerraformWorkspace;
  aws?: EmulatorClients;
  /** Each stack's provider process, started after its `init` (see `tf`). */
  readonly providers: Map<string, { servers: ProviderServers; env: Record<string, string> }>;
}

function stackDir(ctx: Context, stack: string): string {
  return path.join(ctx.outdir, "stacks", stack);
}

let logCount = 0;

/**
 * Runs terraform in a stack directory; its full output goes to .tmp/e2e/logs/.
 *
 * After a stack's `init`, its aws provider is started once (ProviderServers, plugin debug
 * mode) and every later command of that stack attaches to it through TF_REATTACH_PROVIDERS:
 * a terraform command otherwise starts the provider two or three times, ~1 CPU-s and ~1.5 s
 * each, and a run makes ~70 of them (measured on the local stack: cold plan 12.8 s, attached
 * 11.0 s; show 2.5 -> 1.4 s). A stack's commands run one at a time (the lock test's holder
 * starts its own provider), so ConfigureProvider calls never overlap in one process.
 */
async function tf(ctx: Context, stack: string, args: string[], env: Record<string, string | undefined> = {}): Promise<TerraformResult> {
  const attached = ctx.providers.get(stack)?.env ?? {};
  const r = await ctx.ws!.run(withParallelism(args), { cwd: stackDir(ctx, stack), timeoutMs: TF_TIMEOUT, env: { ...attached, ...env } });
  if (args[0] === "init" && r.exitCode === 0 && !ctx.providers.has(stack)) {
    const servers = new ProviderServers(ctx.ws!, stackDir(ctx, stack));
    ctx.providers.set(stack, { servers, env: await servers.start() });
  }
  ctx.timings.command(`${stack.replace(/^fargate-/, "")} ${args[0]}${args[1] && !args[1].startsWith("-") && args[0] === "state" ? ` ${args[1]}` : ""}`, r.durationMs);
  const logs = path.join(ctx.work, "logs");
  fs.mkdirSync(logs, { recursive: true });
  const name = `${String(++logCount).padStart(2, "0")}-${stack}-${args[0]}${args[1] && !args[1].startsWith("-") ? `-${args[1]}` : ""}.log`;
  fs.writeFileSync(path.join(logs, name), `$ ${r.command}  (exit ${r.exitCode}, ${seconds(r.durationMs)})\n\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The slowest resources of an apply/destroy (`... complete after 1m0s`), for the timing report. */
function slowest(stdout: string, n = 3): string {
  const toSec = (t: string) => [...t.matchAll(/(\d+)([hms])/g)].reduce((s, [, v, u]) => s + Number(v) * (u === "h" ? 3600 : u === "m" ? 60 : 1), 0);
  const rows = [...stdout.matchAll(/^(\S+): (?:Creation|Destruction|Modifications) complete after (\S+)/gm)].map((m) => ({ address: m[1], t: m[2], s: toSec(m[2]) }));
  return rows.sort((a, b) => b.s - a.s).slice(0, n).map((r) => `${r.address.replace(/_[0-9A-F]{8}$/, "")} ${r.t}`).join(", ");
}

async function tfOk(ctx: Context, stack: string, args: string[]): Promise<TerraformResult> {
  return assertOk(await tf(ctx, stack, args));
}

async function outputs(ctx: Context, stack: string): Promise<Record<string, { value: any }>> {
  return JSON.parse((await tfOk(ctx, stack, ["output", "-json", "-no-color"])).stdout);
}

/** Holds the state lock: `apply -replace=<address>` that waits at its approval prompt. */
async function holdLock(ctx: Context, stack: string, address: string): Promise<{ child: ChildProcess; output: () => string; release: () => Promise<number | null> }> {
  let output = "";
  const child = spawn(ctx.ws!.toolchain.terraform, ["apply", "-input=true", "-no-color", "-lock-timeout=0s", "-refresh=false", `-replace=${address}`], {
    cwd: stackDir(ctx, stack),
    env: { ...ctx.ws!.env, TF_INPUT: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const deadline = Date.now() + 180_000;
  while (!output.includes("Enter a value:")) {
    if (child.exitCode !== null) throw new E2eFailure(`the lock-holding apply exited ${child.exitCode} before its prompt:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new E2eFailure(`the lock-holding apply did not reach its approval prompt in 180 s:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    output: () => output,
    release: async () => {
      child.stdin!.end("no\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function writeReport(work: string, timings: Timings, started: number, failure: Error | undefined): void {
  const report: E2eReport = { finishedAt: new Date().toISOString(), ok: !failure, wallMs: Date.now() - started, phases: timings.report().phases, loadAverage: os.loadavg() };
  fs.writeFileSync(path.join(work, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
}

async function main(): Promise<number> {
  const started = Date.now();
  const root = projectRoot();
  const work = path.join(root, ".tmp", "e2e");
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const timings = new Timings();
  const guard = await startEgressGuard();
  const ctx: Context = { timings, root, work, outdir: path.join(work, "cdktf.out"), guard, providers: new Map() };
  const env = loadConfig([LOCAL_INPUT]).environments[0];
  const stateConfig = loadConfig([LOCAL_INPUT]).stateBackend;
  const bootstrap = localStateBackendStackName(stateConfig.project);
  const stack = platformStackName(env);
  // The emulated account's own stack (scripts/e2e/account.ts): bootstrap, account, environment.
  const account = loadConfig([LOCAL_INPUT]).accounts[0];
  const accountStack = accountStackName(env.project, account.name);
  const accountIo = (): AccountIo => ({ endpoint: ctx.emulator!.endpoint, region: account.region, tf: (args) => tf(ctx, accountStack, args), say });
  let failure: Error | undefined;

  try {
    await timings.phase("0. tools, emulator, synth", async () => {
      const tools = await ensurePythonTools();
      say(tools.installed ? `installed the pinned tools (${tools.reason})` : ".venv matches requirements-tools.txt");
      const toolchain = detectToolchain();
      if (!toolchain.ok) throw new E2eFailure(`Terraform toolchain missing: ${toolchain.reason}`);
      say(`terraform ${toolchain.terraformVersion}, provider mirror ${toolchain.mirror} (${toolchain.mirrorSource})`);
      // The guard replaces the harness's dead proxy: same effect, but it records attempts.
      ctx.ws = createWorkspace({ toolchain, prefix: "tf-e2e-", env: guard.env() });
      ctx.emulator = await startEmulator({ root, env: { ...process.env, ...guard.env() }, logFile: path.join(work, "moto.log") });
      say(`moto_server pid ${ctx.emulator.pid} on ${ctx.emulator.endpoint} (log .tmp/e2e/moto.log)`);
      ctx.aws = emulatorClients(ctx.emulator.endpoint, env.region);

      await runChecked(process.execPath, [path.join(root, "dist", "main.js")], {
        cwd: root,
        env: { ...process.env, ...guard.env(), CDKTF_OUTDIR: ctx.outdir, [EMULATOR_ENDPOINT_VAR]: ctx.emulator.endpoint },
      });
      // Every URL in the two emulator stacks must be the emulator's loopback address.
      for (const s of [bootstrap, accountStack, stack]) {
        const json = JSON.parse(fs.readFileSync(path.join(stackDir(ctx, s), "cdk.tf.json"), "utf8"));
        const foreign = urlsIn({ provider: json.provider, terraform: json.terraform }).filter((u) => !u.startsWith(ctx.emulator!.endpoint));
        expect(foreign.length === 0, `${s} has non-emulator endpoints: ${foreign.join(", ")}`);
        const endpoints = json.provider.aws[0].endpoints?.[0] ?? {};
        expect(Object.keys(endpoints).length === providerEndpointKeys().length, `${s}: ${Object.keys(endpoints).length} provider endpoints set, want all ${providerEndpointKeys().length}`);
      }
      const backend = JSON.parse(fs.readFileSync(path.join(stackDir(ctx, stack), "cdk.tf.json"), "utf8")).terraform.backend;
      expect(backend.s3, `${stack} must keep its S3 backend; got ${Object.keys(backend).join(", ")}`);
      say(`synthesized ${bootstrap} + ${accountStack} + ${stack}: all ${providerEndpointKeys().length} provider endpoints and the S3 backend point at ${ctx.emulator.endpoint}`);

      // Canary: the guard really sees what Terraform would send out (a provider lookup on a
      // registry host that is not in the mirror). Proves the proxy settings are in force.
      const canary = path.join(work, "egress-canary");
      fs.mkdirSync(canary, { recursive: true });
      fs.writeFileSync(path.join(canary, "main.tf.json"), JSON.stringify({ terraform: { required_providers: { x: { source: "egress-canary.invalid/none/x" } } } }));
      const before = guard.attempts.length;
      await ctx.ws.run(["init", "-input=false", "-no-color"], { cwd: canary, timeoutMs: 60_000 });
      expect(guard.attempts.length > before, "egress canary: terraform's registry lookup did not reach the guard; the proxy settings are not in force");
      say(`egress guard works: it caught and refused "${guard.attempts[before]}"`);
      guard.attempts.splice(before);
    });

    const baseline = JSON.parse((await emulatorGet(ctx.emulator!.endpoint, "/moto-api/data.json", 10_000)).body);

    // Steps 1 and 2 overlap: the local stack's S3 backend needs only the bucket (with its
    // encryption) and the LockID table, which exist a few seconds into the bootstrap apply;
    // the bootstrap's slowest resource is the provider's ~55 s lifecycle-consistency wait,
    // which gates nothing. Each step is still checked on its own.
    await timings.phase("1+2. bootstrap apply; local stack on its real S3 backend", async () => {
      const started = Date.now();
      await tfOk(ctx, bootstrap, ["init", "-input=false", "-no-color"]);
      const bootstrapApply = tf(ctx, bootstrap, ["apply", "-auto-approve", "-input=false", "-no-color"]);
      let bootstrapDone = false;
      void bootstrapApply.finally(() => (bootstrapDone = true));
      const backendReady = async (): Promise<boolean> => {
        try {
          await ctx.aws!.s3.send(new GetBucketEncryptionCommand({ Bucket: env.stateBackend.bucket }));
          await assertLockTable(ctx.aws!.dynamodb, env.stateBackend.lockTable);
          return true;
        } catch {
          return false;
        }
      };
      while (!(await backendReady())) {
        if (bootstrapDone) {
          assertOk(await bootstrapApply);
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      say(`bucket and LockID table exist after ${seconds(Date.now() - started)}: starting the account stack`);

      // 1b. The account stack on its real S3 backend; the environment starts once its deploy role exists.
      const accountRun = await startAccountStack(accountIo(), deployRoleName(account));
      await accountRun.ready;
      say(`${accountStack}: deploy role ${deployRoleName(account)} exists after ${seconds(Date.now() - started)}: starting the local stack (it assumes that role)`);

      // 2. The local stack: preflight, real S3 backend init, apply (runs while 1 finishes).
      await assertLockTable(ctx.aws!.dynamodb, env.stateBackend.lockTable);
      await tfOk(ctx, stack, ["init", "-input=false", "-no-color"]);
      const backendState = JSON.parse(fs.readFileSync(path.join(stackDir(ctx, stack), ".terraform", "terraform.tfstate"), "utf8"));
      expect(backendState.backend?.type === "s3", `terraform init configured a ${backendState.backend?.type} backend, not s3`);
      const localApply = tf(ctx, stack, ["apply", "-auto-approve", "-input=false", "-no-color"]);

      // 1. The bootstrap, checked through the SDK once its apply is complete.
      const applied = assertOk(await bootstrapApply);
      say(`1. bootstrap applied in ${seconds(applied.durationMs)}; slowest: ${slowest(applied.stdout)}`);
      const o = await outputs(ctx, bootstrap);
      const bucket = o.state_bucket_name.value as string;
      const versioning = await ctx.aws!.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      expect(versioning.Status === "Enabled", `state bucket versioning is ${versioning.Status}`);
      const enc = await ctx.aws!.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      const rule = enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
      expect(rule?.SSEAlgorithm === "aws:kms" && rule.KMSMasterKeyID === o.state_kms_key_arn.value, `state bucket encryption is ${JSON.stringify(rule)}`);
      await assertLockTable(ctx.aws!.dynamodb, o.lock_table_name.value);
      say(`   bucket ${bucket}: versioning Enabled, SSE aws:kms with the state key; table ${o.lock_table_name.value}: hash key LockID (S)`);

      // 4 (preflight part): a table keyed `id` is caught at once, never by a lock hang.
      const wrong = `${stateConfig.lockTableName}-wrong-key`;
      await ctx.aws!.dynamodb.send(
        new CreateTableCommand({ TableName: wrong, BillingMode: "PAY_PER_REQUEST", AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], KeySchema: [{ AttributeName: "id", KeyType: "HASH" }] }),
      );
      try {
        let caught: unknown;
        await assertLockTable(ctx.aws!.dynamodb, wrong).catch((e) => (caught = e));
        expect(caught instanceof LockTableError && /hash key "id"/.test((caught as Error).message), `the preflight did not catch the id-keyed table: ${String(caught)}`);
        say(`4. lock-table preflight on a table keyed \`id\`, caught at once: ${(caught as Error).message.split("\n")[1].trim()}`);
      } finally {
        await ctx.aws!.dynamodb.send(new DeleteTableCommand({ TableName: wrong }));
      }

      // 1b. The account stack, checked once its apply is complete (scripts/e2e/account.ts).
      const accountApplied = await accountRun.applied;
      if (accountApplied.exitCode !== 0) throw new E2eFailure(`apply of ${accountStack} failed:\n${accountApplied.stderr.slice(-6000)}`);
      say(`1b. ${accountStack} applied in ${seconds(accountApplied.durationMs)}; slowest: ${slowest(accountApplied.stdout)}`);
      for (const line of await checkAccountStack(accountIo(), accountRun, deployRoleName(account), account.operators)) say(`   ${line}`);

      const apply = await localApply;
      if (apply.exitCode !== 0) throw new E2eFailure(`apply of ${stack} failed:\n${apply.stderr.slice(-6000)}`);
      const created = /Apply complete! Resources: (\d+) added/.exec(apply.stdout)?.[1];
      say(`2. ${stack} applied in ${seconds(apply.durationMs)}; slowest: ${slowest(apply.stdout)}`);
      const head = await ctx.aws!.s3.send(new HeadObjectCommand({ Bucket: env.stateBackend.bucket, Key: stateKey(env) }));
      say(`   backend s3 (bucket ${env.stateBackend.bucket}, key ${stateKey(env)}, table ${env.stateBackend.lockTable}); ${created} resources created; state object ${head.ContentLength} bytes, SSE ${head.ServerSideEncryption}`);
    });

    await timings.phase("3. second plan: no changes", async () => {
      const plan = await tf(ctx, stack, ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=second.tfplan"]);
      if (plan.exitCode === 0) {
        say("No changes. (EMULATOR_DIFFS has " + EMULATOR_DIFFS.length + " entries)");
        return;
      }
      expect(plan.exitCode === 2, `second plan failed:\n${plan.stderr.slice(-4000)}`);
      const json = JSON.parse((await tfOk(ctx, stack, ["show", "-json", "-no-color", "second.tfplan"])).stdout);
      const verdict = classifyDiffs((json.resource_changes ?? []) as PlannedChange[]);
      for (const entry of new Set(verdict.explained.map((x) => x.entry))) {
        const n = verdict.explained.filter((x) => x.entry === entry).length;
        say(`listed emulator diff: ${n} x ${entry.type} (${entry.attributes.slice(0, 3).join(", ")}${entry.attributes.length > 3 ? ", ..." : ""}): ${entry.cause.split(/[;,] /)[0]}`);
      }
      say(`no other changes: the code causes no diff (scripts/e2e/emulator-diffs.ts has the causes and the real-AWS proof)`);
      expect(
        verdict.unexplained.length === 0,
        `the plan after apply is not empty:\n${verdict.unexplained.map((u) => `  ${u.address}: ${u.actions.join("+")} (${u.attributes.join(", ")})`).join("\n")}\n` +
          `Fix the code, or (emulator-caused only, with proof) list it in scripts/e2e/emulator-diffs.ts`,
      );
    });

    await timings.phase("4b. state lock: a concurrent run is refused", async () => {
      const before = JSON.parse((await tfOk(ctx, stack, ["state", "pull"])).stdout);
      const list = (await tfOk(ctx, stack, ["state", "list"])).stdout.trim().split("\n");
      const victim = list.find((a) => !a.startsWith("data.") && !a.includes("data."));
      expect(victim, "the state has no managed resource to plan a replacement of");
      const holder = await holdLock(ctx, stack, victim);
      let released = false;
      try {
        const lockId = `${env.stateBackend.bucket}/${stateKey(env)}`;
        const items = (await ctx.aws!.dynamodb.send(new ScanCommand({ TableName: env.stateBackend.lockTable }))).Items ?? [];
        const lock = items.find((i) => i.LockID?.S === lockId);
        expect(lock?.Info?.S, `no lock item ${lockId} in ${env.stateBackend.lockTable} while apply waits for approval`);
        say(`holder: apply -replace=${victim} waits at its prompt; lock item ${lockId}: ${JSON.parse(lock.Info.S).Operation}`);
        for (const args of [
          ["plan", "-input=false", "-no-color", "-lock-timeout=0s"],
          ["apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s"],
        ]) {
          const r = await tf(ctx, stack, args);
          const text = r.stdout + r.stderr;
          expect(r.exitCode !== 0 && /Error acquiring the state lock/.test(text), `concurrent ${args[0]} was not refused by the lock (exit ${r.exitCode}):\n${text.slice(-3000)}`);
          const who = /Operation:\s+(\S+)/.exec(text)?.[1];
          say(`concurrent ${args[0]}: exit ${r.exitCode} in ${seconds(r.durationMs)}, "Error acquiring the state lock" (held by ${who})`);
        }
        const code = await holder.release();
        released = true;
        expect(/Apply cancelled/.test(holder.output()), `the lock holder did not cancel cleanly (exit ${code}):\n${holder.output().slice(-2000)}`);
      } finally {
        if (!released) holder.child.kill("SIGKILL");
      }
      const after = JSON.parse((await tfOk(ctx, stack, ["state", "pull"])).stdout);
      expect(after.serial === before.serial && after.lineage === before.lineage, `state changed: serial ${before.serial} -> ${after.serial}`);
      const listAfter = (await tfOk(ctx, stack, ["state", "list"])).stdout.trim().split("\n");
      expect(JSON.stringify(listAfter) === JSON.stringify(list), "the resource list in state changed");
      const left = ((await ctx.aws!.dynamodb.send(new ScanCommand({ TableName: env.stateBackend.lockTable }))).Items ?? []).filter((i) => !i.LockID?.S?.endsWith("-md5"));
      expect(left.length === 0, `lock items left behind: ${left.map((i) => i.LockID?.S).join(", ")}`);
      say(`released; state serial ${after.serial} and lineage unchanged, same ${listAfter.length} resources, no lock item left`);
    });

    await timings.phase("5. spot checks through the AWS SDK", async () => {
      const state = JSON.parse((await tfOk(ctx, stack, ["state", "pull"])).stdout);
      const results = [];
      for (const check of spotChecks(env, stateResources(state), state.outputs ?? {}, ctx.aws!)) results.push(await check());
      for (const r of results) say(`${r.status.padEnd(7)} ${r.name}: ${r.detail}`);
      const bad = results.filter((r) => r.status === "failed");
      expect(bad.length === 0, `${bad.length} spot check(s) failed`);
    });

    await timings.phase("5b. day 2: edits planned, reviewed, applied, re-planned; releases through the CLI", async () => {
      await runDay2(ctx, env, stack);
    });

    await timings.phase("6. destroy; nothing left behind", async () => {
      const destroyed = await tfOk(ctx, stack, ["destroy", "-auto-approve", "-input=false", "-no-color"]);
      say(`destroyed in ${seconds(destroyed.durationMs)}; slowest: ${slowest(destroyed.stdout)}`);
      const remaining = (await tfOk(ctx, stack, ["state", "list"])).stdout.trim();
      expect(remaining === "", `state still lists:\n${remaining}`);
      // The reverse of the bootstrap order: environment, account, state.
      const accountDestroyed = await destroyAccountStack(accountIo());
      say(`${accountStack} destroyed in ${seconds(accountDestroyed.durationMs)}`);
      await teardownBootstrap(ctx, bootstrap);
      const tagged = await taggedLeftovers(ctx.aws!, env.project);
      expect(tagged.remaining.length === 0, `resources tagged Project=${env.project} remain:\n  ${tagged.remaining.join("\n  ")}`);
      // A second, independent inventory: moto's own model dump against the empty baseline.
      // (moto 5.2.3 sometimes answers it with HTTP 500 after deletions; then only the tag inventory counts.)
      const dump = await emulatorGet(ctx.emulator!.endpoint, "/moto-api/data.json", 10_000);
      const leftovers = dump.status === 200 ? emulatorLeftovers(baseline, JSON.parse(dump.body)) : [];
      expect(leftovers.length === 0, `the emulator still holds:\n  ${leftovers.join("\n  ")}`);
      say(
        `local stack destroyed, bootstrap torn down: no resource tagged Project=${env.project} is live (deleted, still listed as in AWS: ${summarizeStates(tagged.lingering)}); ` +
          (dump.status === 200 ? "moto's model dump matches its empty baseline" : `moto's model dump answered HTTP ${dump.status}, not used`),
      );
    });

    expect(guard.attempts.length === 0, `something tried to leave the machine:\n  ${guard.attempts.join("\n  ")}`);
    say(`egress: 0 requests to anything but 127.0.0.1`);
  } catch (e) {
    failure = e as Error;
  } finally {
    ctx.aws?.destroy();
    for (const { servers } of ctx.providers.values()) servers.stop();
    await ctx.emulator?.stop();
    ctx.ws?.dispose();
    await guard.close();
  }
  process.stdout.write(`\nPhase timings:\n${timings.table()}\n`);
  writeReport(work, timings, started, failure);
  process.stdout.write(`\nTerraform time per phase (summed per command; concurrent runs overlap):\n${timings.commandTable()}\n`);
  const counts = timings.counts();
  process.stdout.write(`\ntest:e2e: ${counts.passed} passed, ${failure ? Math.max(1, counts.failed) : 0} failed\n`);
  if (failure) {
    process.stderr.write(`\ntest:e2e FAILED: ${failure.message}\n`);
    if (!(failure instanceof E2eFailure) && !(failure instanceof LockTableError)) process.stderr.write(`${failure.stack ?? ""}\n`);
    return 1;
  }
  return 0;
}

/** The day-2 sequence (scripts/e2e/day2.ts) on the applied local stack. */
async function runDay2(ctx: Context, env: EnvironmentConfig, stack: string): Promise<void> {
  const url = parseEmulatorEndpoint(ctx.emulator!.endpoint);
  const common = {
    endpoint: url,
    region: env.region,
    credentials: { accessKeyId: EMULATOR_CREDENTIALS.accessKey, secretAccessKey: EMULATOR_CREDENTIALS.secretKey },
    maxAttempts: 2,
    requestHandler: { httpsAgent: new https.Agent({ rejectUnauthorized: false, keepAlive: true }) },
  };
  const clients = { ecs: new ECSClient(common), codedeploy: new CodeDeployClient(common), cloudwatch: new CloudWatchClient(common), elbv2: new ElasticLoadBalancingV2Client(common), iam: new IAMClient(common) };
  const io: Day2Io = {
    stack,
    stackDir: stackDir(ctx, stack),
    endpoint: ctx.emulator!.endpoint,
    work: ctx.work,
    clients,
    tf: (args) => tf(ctx, stack, args),
    say,
    fail: (message) => {
      throw new E2eFailure(message);
    },
  };
  try {
    const repo = (await outputs(ctx, stack)).ecr_repository_urls.value["worker"] as string;
    const image = (n: number) => `${repo}@sha256:${String(n).repeat(64).slice(0, 64)}`;
    // A release before any edit: the service now runs a release revision, not the config's tag.
    await cli(io, "release", "worker", "--image", image(1));
    const first = await running(io, "worker");
    expect(first.image === image(1), `after platform release the worker runs ${first.image}, want ${image(1)}`);
    say(`release worker ${image(1).split("@")[1].slice(0, 14)}...: the emulator runs ${first.arn.split("/").pop()}`);

    const reports = {
      name: "reports",
      image: { ecrRepository: "reports", tag: "local" },
      containerPort: 8100,
      cpu: 256,
      memoryMiB: 512,
      exposure: { type: "public", paths: ["/reports/*"], priority: 200, healthCheck: { path: "/health" } },
      user: "1000",
    };
    const oldSecret = (await running(io, "api")).secrets.find((v) => v.includes("signing-key"));
    const steps: Day2Step[] = [
      { name: "add a service", touches: ["reports"], edit: (e) => e.services.push(reports) },
      {
        name: "change an environment variable",
        touches: ["worker"],
        edit: (e) => (e.services.find((s: { name: string }) => s.name === "worker").environment = { LOG_LEVEL: "debug" }),
        after: async () => {
          expect((await running(io, "worker")).environment.LOG_LEVEL === undefined, "apply changed the running worker: Terraform must leave the released revision alone");
          await cli(io, "rollout", "worker");
          const now = await running(io, "worker");
          // Property 1: the new config runs, with the image that was running (not the config's tag).
          expect(now.environment.LOG_LEVEL === "debug" && now.image === image(1), `after rollout the worker runs LOG_LEVEL=${now.environment.LOG_LEVEL} image ${now.image}`);
          say(`   rollout: the worker runs LOG_LEVEL=debug with the running image (${now.arn.split("/").pop()})`);
        },
      },
      {
        name: "change cpu/memory",
        touches: ["worker"],
        edit: (e) => Object.assign(e.services.find((s: { name: string }) => s.name === "worker"), { cpu: 512, memoryMiB: 1024 }),
        after: async () => {
          await cli(io, "release", "worker", "--image", image(2));
          const now = await running(io, "worker");
          // Property 2: a new release carries the current config.
          expect(now.cpu === "512" && now.environment.LOG_LEVEL === "debug" && now.image === image(2), `after the release the worker runs cpu ${now.cpu}, LOG_LEVEL=${now.environment.LOG_LEVEL}, image ${now.image}`);
          say(`   release: the worker runs cpu 512 and LOG_LEVEL=debug with the new image (${now.arn.split("/").pop()})`);
        },
      },
      {
        name: "change a secret reference",
        touches: ["api"],
        edit: (e) => {
          const api = e.services.find((s: { name: string }) => s.name === "api");
          api.secrets = api.secrets.map((x: { name: string; path: string }) => (x.name === "API_SIGNING_KEY" ? { ...x, path: `${x.path}-v2` } : x));
        },
        after: async () => {
          const grants = await executionSecretGrants(io, `fargate-local-api-execution`);
          // Property 3: the running revision's secret stays readable until the rollout is recorded.
          expect(oldSecret !== undefined && grants.includes(oldSecret) && grants.some((g) => g.endsWith("signing-key-v2")), `the api execution role reads ${grants.join(", ")}; want the old and the new secret`);
          say(`   the api execution role reads the old and the new signing key until the rollout is recorded`);
        },
      },
      { name: "change the container port (target group replacement)", touches: ["reports"], edit: (e) => (e.services.find((s: { name: string }) => s.name === "reports").containerPort = 8200) },
      // The cluster's strategy; the emulator's services run with launch type FARGATE (environments/local.ts).
      // The api's release spec changes too: its next CodeDeploy AppSpec carries the new strategy.
      { name: "change the Spot share", touches: ["api"], edit: (e) => (e.scaling.fargateSpotPercent = 30) },
      ...(env.features.autoscaling ? [{ name: "raise max capacity", touches: ["api", "worker", "reports"], edit: (e: any) => (e.scaling.maxCapacity = 4) }] : []),
      // Adding an AZ modifies the database's subnet group (moto forgets a modified group: the
      // rds-modify-db-subnet-group shim in scripts/emulator-shims.ts stores it again).
      { name: "add an availability zone (2 -> 3)", touches: ["api", "worker", "reports"], edit: (e) => e.availabilityZones.push(`${e.region}c`) },
      // Retiring a service destroys its log group on purpose: acknowledged, as an operator would
      // (its image repository is the account stack's, and stays until the account stack drops it).
      { name: "remove a service", touches: ["reports"], acknowledge: /services_reports_log-group/, edit: (e) => (e.services = e.services.filter((s: { name: string }) => s.name !== "reports")) },
    ];
    for (let i = 0; i < steps.length; i++) say(await runStep(io, inputAfter(LOCAL_INPUT, steps.slice(0, i + 1)), steps[i]));

    // Property 4: a rollback restores the previous (config, image) pair: cpu 256, LOG_LEVEL=debug, image 1.
    await cli(io, "rollback", "worker");
    const back = await running(io, "worker");
    expect(back.image === image(1) && back.cpu === "256" && back.environment.LOG_LEVEL === "debug", `after rollback the worker runs image ${back.image}, cpu ${back.cpu}, LOG_LEVEL=${back.environment.LOG_LEVEL}`);
    say(`rollback worker: back to ${back.arn.split("/").pop()} (cpu 256, LOG_LEVEL=debug, the first image)`);
    await checkStatus(io, clients.cloudwatch);
  } finally {
    for (const c of Object.values(clients)) c.destroy();
  }
}

/**
 * `platform status --env local` (CloudWatch through the cloudwatch-json shim): exit 0 with a
 * line per released service and its watched alarms; with one rollback alarm set to ALARM it
 * exits 1 and names it; back to OK, exit 0 again.
 */
async function checkStatus(io: Day2Io, cloudwatch: CloudWatchClient): Promise<void> {
  const releases = (await stackOutputs(io)).releases.value as Record<string, { rollback_alarms: string[] }>;
  const names = Object.keys(releases).sort();
  const summary = (lines: string[]) => lines.filter((l) => !l.startsWith(" ")).join(" | ");
  const ok = await cliExit(io, "status");
  expect(ok.code === 0, `platform status exited ${ok.code} with no alarm firing:\n  ${ok.lines.join("\n  ")}`);
  for (const name of names) {
    expect(ok.lines.some((l) => l.startsWith(`${name}: `) && /tasks, (ECS|CodeDeploy) deployments in progress: \d+, runs arn:/.test(l)), `platform status has no line for ${name}:\n  ${ok.lines.join("\n  ")}`);
  }
  const watched = names.flatMap((n) => releases[n].rollback_alarms);
  const alarmLines = ok.lines.filter((l) => /^\s+alarms: /.test(l));
  expect(watched.length > 0 && alarmLines.length === names.filter((n) => releases[n].rollback_alarms.length).length && alarmLines.every((l) => /\d+ watched, none in ALARM/.test(l)), `platform status alarm lines: ${alarmLines.join(" / ")}`);
  const counted = alarmLines.reduce((sum, l) => sum + Number(/(\d+) watched/.exec(l)![1]), 0);
  expect(counted === watched.length, `platform status reads ${counted} alarms; the services watch ${watched.length}`);
  say(`platform status: exit 0; ${summary(ok.lines)}; ${counted} rollback alarms read, none in ALARM`);

  const victim = releases.worker?.rollback_alarms[0] ?? watched[0];
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: victim, StateValue: "ALARM", StateReason: "e2e: status must report a firing alarm" }));
  try {
    const firing = await cliExit(io, "status");
    expect(firing.code === 1 && firing.lines.some((l) => l.includes(`IN ALARM ${victim}`)), `platform status with ${victim} in ALARM exited ${firing.code}:\n  ${firing.lines.join("\n  ")}`);
    say(`platform status with ${victim} in ALARM: exit 1, "${firing.lines.find((l) => l.includes("IN ALARM"))!.trim()}"`);
  } finally {
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: victim, StateValue: "OK", StateReason: "e2e: back to OK" }));
  }
  const again = await cliExit(io, "status");
  expect(again.code === 0, `platform status after ${victim} is OK again exited ${again.code}`);
}

/**
 * The bootstrap teardown an operator does, in order: empty the versioned state bucket
 * (the bucket is never force-destroyed), lift the lock table's deletion protection, destroy.
 */
export async function teardownBootstrap(ctx: Pick<Context, "aws" | "ws" | "outdir"> & Partial<Pick<Context, "providers">>, bootstrap: string): Promise<void> {
  const dir = path.join(ctx.outdir, "stacks", bootstrap);
  const env = ctx.providers?.get(bootstrap)?.env;
  const o = JSON.parse(assertOk(await ctx.ws!.run(["output", "-json", "-no-color"], { cwd: dir, env })).stdout);
  const bucket = o.state_bucket_name.value as string;
  for (;;) {
    const page = await ctx.aws!.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (!objects.length) break;
    await ctx.aws!.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
  }
  await ctx.aws!.dynamodb.send(new UpdateTableCommand({ TableName: o.lock_table_name.value, DeletionProtectionEnabled: false }));
  assertOk(await ctx.ws!.run(withParallelism(["destroy", "-auto-approve", "-input=false", "-no-color"]), { cwd: dir, timeoutMs: TF_TIMEOUT, env }));
}

function summarizeStates(states: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "none";
}

/**
 * The terminal state of a deleted resource that AWS (and moto) still lists for a while:
 * a KMS key pending deletion, an INACTIVE ECS service/cluster/task definition revision,
 * a deleted NAT gateway. Undefined when the resource is live (a leftover).
 */
async function lingeringState(aws: EmulatorClients, arn: string): Promise<string | undefined> {
  const gone = () => "gone";
  if (/:kms:[^:]+:\d+:key\//.test(arn)) {
    const s = await aws.kms.send(new DescribeKeyCommand({ KeyId: arn })).then((k) => k.KeyMetadata?.KeyState, gone);
    return s === "PendingDeletion" || s === "gone" ? `KMS key ${s}` : undefined;
  }
  const ecsService = /:ecs:[^:]+:\d+:service\/([^/]+)\//.exec(arn);
  if (ecsService) {
    const r = await aws.ecs.send(new DescribeServicesCommand({ cluster: ecsService[1], services: [arn] })).catch(() => undefined);
    const s = r?.services?.[0]?.status ?? "MISSING";
    return s === "INACTIVE" || s === "MISSING" ? `ECS service ${s}` : undefined;
  }
  if (/:ecs:[^:]+:\d+:cluster\//.test(arn)) {
    const s = (await aws.ecs.send(new DescribeClustersCommand({ clusters: [arn] })).catch(() => undefined))?.clusters?.[0]?.status ?? "MISSING";
    return s === "INACTIVE" || s === "MISSING" ? `ECS cluster ${s}` : undefined;
  }
  if (/:ecs:[^:]+:\d+:task-definition\//.test(arn)) {
    // Terraform deregisters task definition revisions; AWS keeps them as INACTIVE.
    const s = (await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).catch(() => undefined))?.taskDefinition?.status ?? "MISSING";
    // skip_destroy keeps release-owned revisions registered on destroy (a rollback returns to them).
    return s !== "ACTIVE" ? `task definition ${s}` : "task definition kept by skip_destroy";
  }
  const nat = /:ec2:[^:]+:\d+:natgateway\/(nat-[0-9a-f]+)/.exec(arn);
  if (nat) {
    const s = (await aws.ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat[1]] })).catch(() => undefined))?.NatGateways?.[0]?.State ?? "MISSING";
    return s === "deleted" || s === "deleting" || s === "MISSING" ? `NAT gateway ${s}` : undefined;
  }
  return undefined;
}

/**
 * Every resource still tagged `Project=<project>` (every stack tags everything through the
 * provider's default_tags), by the Resource Groups Tagging API, less those in the terminal
 * state AWS also keeps listing for a while after deletion (see lingeringState).
 */
export async function taggedLeftovers(aws: EmulatorClients, project: string): Promise<{ remaining: string[]; lingering: string[] }> {
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await aws.tagging.send(new GetResourcesCommand({ TagFilters: [{ Key: "Project", Values: [project] }], PaginationToken: token }));
    arns.push(...(page.ResourceTagMappingList ?? []).map((m) => m.ResourceARN!).filter(Boolean));
    token = page.PaginationToken || undefined;
  } while (token);
  const remaining: string[] = [];
  const lingering: string[] = [];
  for (const arn of arns) {
    const state = await lingeringState(aws, arn);
    if (state) lingering.push(state);
    else remaining.push(arn);
  }
  return { remaining, lingering };
}

/**
 * What the emulator holds now that it did not hold at the baseline, as `service.attribute`
 * lines. moto's /moto-api/data.json lists every model per service; KMS keys scheduled for
 * deletion are not leftovers (AWS also keeps them for the deletion window).
 */
export function emulatorLeftovers(baseline: any, now: any): string[] {
  const out: string[] = [];
  for (const [service, models] of Object.entries<any>(now ?? {})) {
    for (const [model, items] of Object.entries<any>(models ?? {})) {
      const before = JSON.stringify(baseline?.[service]?.[model] ?? []);
      const list = Array.isArray(items) ? items : [items];
      const fresh = list.filter((item) => !before.includes(JSON.stringify(item)));
      const real = fresh.filter((item) => !(service === "kms" && /PendingDeletion/.test(JSON.stringify(item))));
      if (real.length) out.push(`${service}.${model}: ${real.length} (${JSON.stringify(real[0]).slice(0, 160)})`);
    }
  }
  return out;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`test:e2e crashed: ${e.stack ?? e.message}\n`);
      process.exitCode = 1;
    },
  );
}
