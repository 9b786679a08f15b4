/**
 * `npm run local:up` / `npm run local:down`: the platform on the AWS emulator, no AWS account.
 *
 * up:   installs the pinned tools if needed, starts moto_server in the background on
 *       127.0.0.1 (pid and endpoint in .tmp/emulator.json), then runs exactly what users
 *       run per environment, with PLATFORM_EMULATOR_ENDPOINT set so the app adds the
 *       emulator stacks:
 *         cdktf deploy fargate-local-state --auto-approve   (state bucket + LockID table)
 *         cdktf deploy fargate-account-local --auto-approve (trail, Config, deploy role, OIDC provider)
 *         cdktf deploy fargate-local --auto-approve         (the platform, S3 backend)
 *       and prints the stack outputs.
 * down: cdktf destroy fargate-local --auto-approve, then stops the emulator (which drops
 *       the emulated bootstrap with it) and removes the bootstrap's local state file.
 *
 * Output lives in .tmp/local/cdktf.out (never the team's cdktf.out). Terraform runs with
 * the offline harness's environment: providers only from the local mirror, fake
 * credentials, a dead proxy for everything but loopback.
 */
import * as fs from "fs";
import * as path from "path";
import { LOCAL_INPUT, loadConfig } from "../environments";
import { localStateBackendStackName } from "../src/emulator";
import { EMULATOR_ENDPOINT_VAR } from "../src/emulator";
import { platformStackName } from "../src/stacks/platform-stack";
import { accountStackName } from "../src/stacks/account-stack";
import { detachedStatus, readDetached, startDetached, stopDetached } from "./emulator";
import { emulatorClients } from "./e2e/aws";
import { assertLockTable } from "./e2e/lock-table";
import { projectRoot, run, seconds } from "./e2e/proc";
import { ensurePythonTools } from "./python-tools";
import { createWorkspace, DEAD_PROXY, detectToolchain, TerraformWorkspace } from "./lib/terraform";

function names() {
  const config = loadConfig([LOCAL_INPUT]);
  const env = config.environments[0];
  return { env, bootstrap: localStateBackendStackName(config.stateBackend.project), account: accountStackName(env.project, env.account), stack: platformStackName(env) };
}

function paths(root: string) {
  const dir = path.join(root, ".tmp", "local");
  return { dir, outdir: path.join(dir, "cdktf.out"), outputs: path.join(dir, "outputs.json") };
}

/**
 * The Terraform workspace of the local environment, kept in .tmp/local/terraform until
 * local:down: the stack directories' .terraform link into its plugin cache, so every
 * documented command (`terraform output -json` there, the operator CLI) works after up.
 */
function workspace(root: string): TerraformWorkspace {
  const toolchain = detectToolchain();
  if (!toolchain.ok) throw new Error(`local needs Terraform and the provider mirror: ${toolchain.reason}`);
  return createWorkspace({ toolchain, dir: path.join(paths(root).dir, "terraform") });
}

/** Runs the cdktf CLI the way a user does, inside the locked-down Terraform environment. */
async function cdktf(root: string, ws: TerraformWorkspace, endpoint: string, args: string[]): Promise<void> {
  const started = Date.now();
  process.stdout.write(`\n$ cdktf ${args.join(" ")}\n`);
  // --skip-provider-lock: after init, cdktf would run `terraform providers lock
  // -platform=linux_amd64`, which asks registry.terraform.io for checksums. Providers come
  // only from the local mirror here, and the dead proxy refuses the registry.
  const r = await run(path.join(root, "node_modules", ".bin", "cdktf"), [...args, "--skip-provider-lock"], {
    cwd: root,
    echo: true,
    timeoutMs: 20 * 60_000,
    env: {
      ...ws.env,
      [EMULATOR_ENDPOINT_VAR]: endpoint,
      CHECKPOINT_DISABLE: "1",
      // Use the harness's CLI config (mirror + plugin cache), not cdktf's own cache dir.
      CDKTF_DISABLE_PLUGIN_CACHE_ENV: "true",
      CI: "1",
      FORCE_COLOR: "0",
    },
  });
  if (r.code !== 0) throw new Error(`cdktf ${args[0]} ${args[1]} failed (exit ${r.code})`);
  process.stdout.write(`(cdktf ${args[0]} ${args[1]}: ${seconds(Date.now() - started)})\n`);
}

async function up(): Promise<void> {
  const root = projectRoot();
  const { env, bootstrap, account, stack } = names();
  const p = paths(root);
  fs.mkdirSync(p.dir, { recursive: true });
  await ensurePythonTools();
  const emulator = await startDetached({ root, env: { ...process.env, HTTP_PROXY: DEAD_PROXY, HTTPS_PROXY: DEAD_PROXY, NO_PROXY: "127.0.0.1,localhost" } });
  process.stdout.write(`emulator: moto_server pid ${emulator.pid} on ${emulator.endpoint} (stop it with npm run local:down)\n`);
  const ws = workspace(root);
  {
    await cdktf(root, ws, emulator.endpoint, ["deploy", bootstrap, "--auto-approve", "--output", p.outdir]);
    const aws = emulatorClients(emulator.endpoint, env.region);
    try {
      await assertLockTable(aws.dynamodb, env.stateBackend.lockTable);
    } finally {
      aws.destroy();
    }
    // Bootstrap order: state, account, environment (the environment assumes the account's deploy role).
    await cdktf(root, ws, emulator.endpoint, ["deploy", account, "--auto-approve", "--output", p.outdir]);
    await cdktf(root, ws, emulator.endpoint, ["deploy", stack, "--auto-approve", "--output", p.outdir]);
  }
  // The outputs in `terraform output -json` form, which every operator tool reads.
  const dir = path.join(p.outdir, "stacks", stack);
  const shown = await ws.run(["output", "-json", "-no-color"], { cwd: dir });
  if (shown.exitCode !== 0) throw new Error(`terraform output -json in ${dir} failed: ${shown.stderr.slice(-2000)}`);
  fs.writeFileSync(p.outputs, shown.stdout);
  const outputs = JSON.parse(shown.stdout) as Record<string, { value: unknown }>;
  process.stdout.write(`\n${stack} is up on the emulator (${emulator.endpoint}). Outputs (${path.relative(root, p.outputs)}):\n`);
  for (const [k, v] of Object.entries(outputs)) process.stdout.write(`  ${k} = ${JSON.stringify(v.value)}\n`);
  process.stdout.write(
    `\nTry:\n  npm run platform -- status --outputs ${path.relative(root, p.outputs)} --endpoint ${emulator.endpoint}\n` +
      `  (cd ${path.relative(root, dir)} && TF_CLI_CONFIG_FILE=${path.relative(dir, ws.cliConfigFile)} terraform output -json)\n` +
      `Tear it down with: npm run local:down\n`,
  );
}

async function down(): Promise<void> {
  const root = projectRoot();
  const { bootstrap, account, stack } = names();
  const p = paths(root);
  const emulator = await detachedStatus(root);
  let destroyError: Error | undefined;
  if (emulator && fs.existsSync(path.join(p.outdir, "stacks", stack))) {
    const ws = workspace(root);
    try {
      await cdktf(root, ws, emulator.endpoint, ["destroy", stack, "--auto-approve", "--output", p.outdir]);
      await cdktf(root, ws, emulator.endpoint, ["destroy", account, "--auto-approve", "--output", p.outdir]);
    } catch (e) {
      // Whatever the destroy did, the emulator local:up started is stopped below.
      destroyError = e as Error;
    } finally {
      ws.dispose();
    }
  } else {
    process.stdout.write(`emulator ${readDetached(root) ? "is not answering" : "is not running"}: nothing to destroy\n`);
  }
  const stopped = await stopDetached(root);
  // The bootstrap lived only in the emulator; its local state now describes nothing.
  for (const f of fs.existsSync(p.dir) ? fs.readdirSync(p.dir) : []) {
    if (f.startsWith(`terraform.${bootstrap}.tfstate`)) fs.rmSync(path.join(p.dir, f), { force: true });
  }
  fs.rmSync(p.outputs, { force: true });
  process.stdout.write(stopped ? "emulator stopped; local environment gone\n" : "emulator was not running\n");
  if (destroyError) throw new Error(`${destroyError.message}; the emulator was stopped anyway (everything in it is gone)`);
}

if (require.main === module) {
  const command = process.argv[2];
  const action = command === "up" ? up : command === "down" ? down : undefined;
  if (!action) {
    process.stderr.write("usage: node dist/scripts/local.js up|down\n");
    process.exitCode = 2;
  } else {
    action().catch((e: Error) => {
      process.stderr.write(`\nlocal:${command} failed: ${e.message}\n`);
      process.exitCode = 1;
    });
  }
}
