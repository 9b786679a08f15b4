/**
 * The operator CLI (`npm run platform -- <command>`, or the `platform` bin after a build).
 * Names come from the environment stack's outputs: `--env <env>` runs `terraform output
 * -json` in cdktf.out/stacks/<project>-<env>; `--outputs <file>` reads a saved copy.
 *
 *   status                               services, tasks, deployments, targets, alarms
 *   release <service> --image <uri>      deploy config + this image (ECS rolling or CodeDeploy)
 *   rollout [<service>]                  deploy a config edit: current config + the running image
 *   apply                                terraform apply, then rollout of every released service
 *   rollback <service> [--method previous-task-definition|previous-image] [--emergency]
 *   switch <service> --to green|blue     continue a CodeDeploy deployment waiting for the operator, or stop it and roll back
 *   switch <service> --blue N --green M  the write-up's manual weights (outside a deployment)
 *   start <service> [--commit <sha>]     run the environment's pipeline (develop runs only when started)
 *   approve <service> [--reject]         answer the approval the pipeline waits at (prod)
 *
 * Options: --env <env> | --outputs <file>, --endpoint <url> (the emulator), --region,
 * --no-wait, --timeout <minutes> (default 30). Exit codes: 0 done; 1 failed (the deployment
 * failed or a check did not pass); 2 bad usage.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { CodePipelineClient, GetPipelineStateCommand, PutApprovalResultCommand, StartPipelineExecutionCommand } from "@aws-sdk/client-codepipeline";
import { CodeDeployClient, ContinueDeploymentCommand, ListDeploymentsCommand, StopDeploymentCommand } from "@aws-sdk/client-codedeploy";
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ENVIRONMENT_INPUTS, LOCAL_INPUT } from "../environments";
import {
  checklist,
  currentService,
  deploy,
  DeployResult,
  follow,
  OperatorClients,
  OperatorError,
  parseOutputs,
  release,
  ReleaseOutputs,
  rollbackTarget,
  rolloutPlan,
  runningImage,
  startDeployment,
} from "../src/operator/releases";
import { main as trafficSwitch } from "./traffic-switch";

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Reads the outputs of an environment (injected by tests). */
  readonly outputs?: (env: string) => Record<string, { value: unknown }>;
  readonly clients?: OperatorClients;
}

export const USAGE = `usage: platform <status|release|rollout|apply|rollback|switch|start|approve> [service] (--env <env> | --outputs <file>) [options]
  release <service> --image <uri>             rollback <service> [--method previous-task-definition|previous-image] [--emergency]
  rollout [<service>]   apply                 switch <service> (--to green|blue | --blue N --green M)
  start <service> [--commit <sha>]            approve <service> [--reject] [--summary <text>]
  options: --endpoint <url> --region <region> --no-wait --timeout <minutes>`;

const COMMANDS = ["status", "release", "rollout", "apply", "rollback", "switch", "start", "approve"];

class UsageError extends Error {}

interface Args {
  readonly command: string;
  readonly service?: string;
  readonly flags: Readonly<Record<string, string | true>>;
}

export function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (!command || !COMMANDS.includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command ?? "")}`);
  const flags: Record<string, string | true> = {};
  let service: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a.startsWith("--")) {
      const key = a.slice(2);
      if (["no-wait", "emergency", "reject"].includes(key)) flags[key] = true;
      else {
        const value = rest[++i];
        if (value === undefined) throw new UsageError(`${a} needs a value`);
        flags[key] = value;
      }
    } else if (!service) service = a;
    else throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
  }
  if (["release", "rollback", "switch", "start", "approve"].includes(command) && !service) throw new UsageError(`${command} needs a service`);
  if (command === "release" && typeof flags.image !== "string") throw new UsageError("release needs --image <uri or uri@digest>");
  if (!flags.env && !flags.outputs) throw new UsageError("give --env <env> or --outputs <terraform output -json file>");
  return { command, service, flags };
}

function stackDir(env: string): string {
  const input = [...ENVIRONMENT_INPUTS, LOCAL_INPUT].find((e) => e.name === env);
  if (!input) throw new UsageError(`unknown environment ${JSON.stringify(env)}; valid: ${[...ENVIRONMENT_INPUTS, LOCAL_INPUT].map((e) => e.name).join(", ")}`);
  return path.join(process.cwd(), "cdktf.out", "stacks", `${input.project}-${env}`);
}

function terraformOutputs(env: string): Record<string, { value: unknown }> {
  const dir = stackDir(env);
  const r = spawnSync("terraform", ["output", "-json"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new OperatorError(`terraform output -json in ${dir} failed (run \`terraform init\` there, or pass --outputs): ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
  return JSON.parse(r.stdout);
}

function clientsFor(flags: Args["flags"]): OperatorClients {
  const endpoint = typeof flags.endpoint === "string" ? flags.endpoint : undefined;
  const config = { region: typeof flags.region === "string" ? flags.region : process.env.AWS_REGION ?? "us-east-1", ...(endpoint ? { endpoint } : {}) };
  return { ecs: new ECSClient(config), codedeploy: new CodeDeployClient(config), cloudwatch: new CloudWatchClient(config), elbv2: new ElasticLoadBalancingV2Client(config), codepipeline: new CodePipelineClient(config) };
}

async function waitFor(io: Io, aws: OperatorClients, out: ReleaseOutputs, name: string, result: DeployResult, flags: Args["flags"]): Promise<boolean> {
  io.out(`${name}: ${result.engine === "codedeploy" ? `CodeDeploy deployment ${result.deploymentId}` : "ECS rolling update"} of ${result.taskDefinitionArn} (image ${result.image})`);
  if (flags["no-wait"]) return true;
  const minutes = typeof flags.timeout === "string" ? Number(flags.timeout) : 30;
  const outcome = await follow(aws, out, name, result, { timeoutMs: minutes * 60_000, intervalMs: 5_000, onProgress: (s) => io.out(`  ${name}: ${s}`) });
  if (!outcome.done) io.err(`${name}: still ${outcome.state} after ${minutes} min; follow it with \`platform status\``);
  else if (!outcome.succeeded) io.err(`${name}: the deployment ended ${outcome.state}; AWS rolled it back (see \`platform status\` and the service's alarms)`);
  else io.out(`${name}: done (${outcome.state})`);
  return outcome.done && outcome.succeeded;
}

async function status(io: Io, aws: OperatorClients, out: ReleaseOutputs): Promise<number> {
  let bad = 0;
  for (const name of Object.keys(out.releases).sort()) {
    const r = release(out, name);
    const s = await currentService(aws, out, name);
    const deployments = (s.deployments ?? []).filter((d) => d.status !== "INACTIVE");
    const inProgress = deployments.filter((d) => d.rolloutState === "IN_PROGRESS" || d.status === "ACTIVE").length;
    io.out(`${name}: ${s.runningCount ?? 0}/${s.desiredCount ?? 0} tasks, ${r.deploy_with === "codedeploy" ? "CodeDeploy" : "ECS"} deployments in progress: ${inProgress}, runs ${s.taskDefinition}`);
    // The digest traces a release across environments (docs/cicd-observability.md#tracing-the-digest-from-qa-to-prod).
    if (s.taskDefinition) io.out(`  image ${await runningImage(aws, s.taskDefinition, r.container)}`);
    if (r.deploy_with === "codedeploy") {
      const ids = (await aws.codedeploy.send(new ListDeploymentsCommand({ applicationName: r.codedeploy_application, deploymentGroupName: r.codedeploy_deployment_group, includeOnlyStatuses: ["Created", "Queued", "InProgress", "Ready"] }))).deployments ?? [];
      if (ids.length) io.out(`  CodeDeploy in progress: ${ids.join(", ")}`);
    }
    for (const tg of r.target_groups) {
      const h = (await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? [];
      io.out(`  targets ${tg.split("/").slice(-2, -1)[0]}: ${h.filter((x) => x.TargetHealth?.State === "healthy").length}/${h.length} healthy`);
    }
    if (r.rollback_alarms.length) {
      const alarms = (await aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [...r.rollback_alarms] }))).MetricAlarms ?? [];
      const firing = alarms.filter((a) => a.StateValue === "ALARM").map((a) => a.AlarmName!);
      bad += firing.length;
      io.out(`  alarms: ${firing.length ? `IN ALARM ${firing.join(", ")}` : `${alarms.length} watched, none in ALARM`}`);
    }
  }
  return bad ? 1 : 0;
}

async function rollout(io: Io, aws: OperatorClients, out: ReleaseOutputs, flags: Args["flags"], only?: string): Promise<number> {
  const names = only ? [only] : Object.keys(out.releases).sort();
  let failed = 0;
  for (const name of names) {
    const r = release(out, name);
    if (r.image_owner !== "release") {
      io.out(`${name}: Terraform owns this service's task definition; apply deployed the config`);
      continue;
    }
    const plan = await rolloutPlan(aws, out, name);
    if (plan.upToDate) {
      io.out(`${name}: runs the current config already (${plan.running})`);
      continue;
    }
    // The current config, and the image that was running: never the config's placeholder tag.
    const result = await deploy(aws, out, name, plan.runningImage);
    if (!(await waitFor(io, aws, out, name, result, flags))) failed++;
  }
  return failed ? 1 : 0;
}

async function rollback(io: Io, aws: OperatorClients, out: ReleaseOutputs, name: string, flags: Args["flags"]): Promise<number> {
  const r = release(out, name);
  const target = await rollbackTarget(aws, out, name);
  const method = typeof flags.method === "string" ? flags.method : "previous-task-definition";
  if (!["previous-task-definition", "previous-image"].includes(method)) throw new UsageError(`--method must be previous-task-definition or previous-image; got ${JSON.stringify(method)}`);
  if (flags.emergency) {
    // The guide's emergency rollback: stop every task of the bad revision first, then start the previous one.
    const s = await currentService(aws, out, name);
    const desired = s.desiredCount ?? 0;
    io.out(`${name}: EMERGENCY: scaling to 0 (was ${desired}), then redeploying ${target.previous} at ${desired}`);
    if (r.deploy_with !== "ecs") throw new OperatorError(`${name}: emergency scale-to-zero applies to ECS rolling services; for CodeDeploy use \`platform switch ${name} --to blue\` (stop and roll back the deployment)`);
    await aws.ecs.send(new UpdateServiceCommand({ cluster: out.cluster, service: r.service, desiredCount: 0 }));
    await aws.ecs.send(new UpdateServiceCommand({ cluster: out.cluster, service: r.service, taskDefinition: target.previous, desiredCount: desired }));
    const result: DeployResult = { taskDefinitionArn: target.previous, image: target.previousImage, engine: "ecs", configRevision: target.previous };
    return finishRollback(io, aws, out, name, result, flags);
  }
  const result =
    method === "previous-image" ? await deploy(aws, out, name, target.previousImage) : await startDeployment(aws, out, name, target.previous, target.previousImage, target.previous);
  io.out(`${name}: rolling back from ${target.current} to ${method === "previous-image" ? `the current config with image ${target.previousImage}` : target.previous}`);
  return finishRollback(io, aws, out, name, result, flags);
}

async function finishRollback(io: Io, aws: OperatorClients, out: ReleaseOutputs, name: string, result: DeployResult, flags: Args["flags"]): Promise<number> {
  const ok = await waitFor(io, aws, out, name, result, flags);
  if (flags["no-wait"]) return ok ? 0 : 1;
  const checks = await checklist(aws, out, name, result.taskDefinitionArn);
  for (const c of checks) io.out(`  [${c.ok ? "x" : " "}] ${c.name}: ${c.detail}`);
  return ok && checks.every((c) => c.ok) ? 0 : 1;
}

async function switchTraffic(io: Io, aws: OperatorClients, out: ReleaseOutputs, name: string, args: Args, outputsFile: () => string): Promise<number> {
  const r = release(out, name);
  const f = args.flags;
  if (f.to === "green" || f.to === "blue") {
    if (r.deploy_with !== "codedeploy") throw new OperatorError(`${name} deploys with ECS rolling updates; there is no green task set to switch to`);
    const ids = (await aws.codedeploy.send(new ListDeploymentsCommand({ applicationName: r.codedeploy_application, deploymentGroupName: r.codedeploy_deployment_group, includeOnlyStatuses: ["Ready", "InProgress"] }))).deployments ?? [];
    if (!ids.length) throw new OperatorError(`${name}: no CodeDeploy deployment is in progress; start one with \`platform release\``);
    if (f.to === "green") {
      await aws.codedeploy.send(new ContinueDeploymentCommand({ deploymentId: ids[0], deploymentWaitType: "READY_WAIT" }));
      io.out(`${name}: deployment ${ids[0]} continues: CodeDeploy shifts production traffic to green per its deployment config`);
    } else {
      await aws.codedeploy.send(new StopDeploymentCommand({ deploymentId: ids[0], autoRollbackEnabled: true }));
      io.out(`${name}: deployment ${ids[0]} stopped; CodeDeploy routes traffic back to blue`);
    }
    return 0;
  }
  if (typeof f.blue === "string" && typeof f.green === "string") {
    // Outside a deployment only: CodeDeploy owns the weights while one runs.
    const ids = r.deploy_with === "codedeploy" ? (await aws.codedeploy.send(new ListDeploymentsCommand({ applicationName: r.codedeploy_application, deploymentGroupName: r.codedeploy_deployment_group, includeOnlyStatuses: ["Created", "Queued", "InProgress", "Ready"] }))).deployments ?? [] : [];
    if (ids.length) throw new OperatorError(`${name}: CodeDeploy deployment ${ids[0]} owns the weights right now; use --to green|blue`);
    const argv = ["--outputs", outputsFile(), "--service", name, "--blue", f.blue, "--green", f.green, ...(typeof f.endpoint === "string" ? ["--endpoint", f.endpoint] : [])];
    return trafficSwitch(argv, { out: io.out, err: io.err });
  }
  throw new UsageError("switch needs --to green|blue or --blue N --green M");
}

/** The environment's own pipeline of a service; an environment another pipeline delivers has none. */
function pipelineOf(out: ReleaseOutputs, name: string, aws: OperatorClients): { pipeline: string; codepipeline: NonNullable<OperatorClients["codepipeline"]> } {
  release(out, name);
  const pipeline = out.pipelines?.[name];
  if (!pipeline) throw new OperatorError(`${name} has no pipeline in this environment (its releases come from another environment's pipeline, or it has no source); see docs/cicd-observability.md#release-flow`);
  if (!aws.codepipeline) throw new OperatorError("no CodePipeline client");
  return { pipeline, codepipeline: aws.codepipeline };
}

/** `start`: runs the pipeline (develop runs only when started), at a commit or at the head of its release branch. */
async function startPipeline(io: Io, aws: OperatorClients, out: ReleaseOutputs, name: string, flags: Args["flags"]): Promise<number> {
  const { pipeline, codepipeline } = pipelineOf(out, name, aws);
  const commit = typeof flags.commit === "string" ? flags.commit : undefined;
  if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) throw new UsageError(`--commit must be a full 40-character commit SHA; got ${JSON.stringify(commit)}`);
  const r = await codepipeline.send(new StartPipelineExecutionCommand({ name: pipeline, sourceRevisions: commit ? [{ actionName: "Source", revisionType: "COMMIT_ID", revisionValue: commit }] : undefined }));
  io.out(`${pipeline}: execution ${r.pipelineExecutionId} started${commit ? ` at ${commit}` : " at the head of its release branch"}; follow it with \`platform status\``);
  return 0;
}

/** `approve`: answers the approval the pipeline waits at (prod), after showing what it would release. */
async function approve(io: Io, aws: OperatorClients, out: ReleaseOutputs, name: string, flags: Args["flags"]): Promise<number> {
  const { pipeline, codepipeline } = pipelineOf(out, name, aws);
  const state = await codepipeline.send(new GetPipelineStateCommand({ name: pipeline }));
  const stage = (state.stageStates ?? []).find((s) => s.stageName === "Approval");
  if (!stage) throw new OperatorError(`${pipeline} has no Approval stage`);
  const action = (stage.actionStates ?? []).find((a) => a.actionName === "ManualApproval");
  const token = action?.latestExecution?.token;
  if (action?.latestExecution?.status !== "InProgress" || !token) throw new OperatorError(`${pipeline}: nothing waits for approval (Approval is ${action?.latestExecution?.status ?? "not run"})`);
  const result = flags.reject ? "Rejected" : "Approved";
  const summary = typeof flags.summary === "string" ? flags.summary : `${result} with platform approve`;
  await codepipeline.send(new PutApprovalResultCommand({ pipelineName: pipeline, stageName: "Approval", actionName: "ManualApproval", token, result: { status: result, summary } }));
  io.out(`${pipeline}: ${result.toLowerCase()} (${summary})${result === "Approved" ? "; the deploy stage starts now" : "; nothing is deployed"}`);
  return 0;
}

export async function main(argv: readonly string[], io: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const env = typeof args.flags.env === "string" ? args.flags.env : undefined;
    const file = typeof args.flags.outputs === "string" ? args.flags.outputs : undefined;
    if (args.command === "apply") {
      if (!env) throw new UsageError("apply needs --env (it runs terraform apply in the stack directory)");
      const dir = stackDir(env);
      io.out(`terraform apply in ${dir}`);
      const applied = spawnSync("terraform", ["apply", "-input=false"], { cwd: dir, stdio: "inherit" });
      if (applied.status !== 0) return 1;
    }
    const raw = io.outputs ? io.outputs(env ?? file!) : file ? JSON.parse(fs.readFileSync(file, "utf8")) : terraformOutputs(env!);
    const out = parseOutputs(raw);
    const aws = io.clients ?? clientsFor(args.flags);
    const name = args.service;
    switch (args.command) {
      case "status":
        return await status(io, aws, out);
      case "release": {
        const result = await deploy(aws, out, name!, args.flags.image as string);
        return (await waitFor(io, aws, out, name!, result, args.flags)) ? 0 : 1;
      }
      case "rollout":
      case "apply":
        return await rollout(io, aws, out, args.flags, name);
      case "rollback":
        return await rollback(io, aws, out, name!, args.flags);
      case "start":
        return await startPipeline(io, aws, out, name!, args.flags);
      case "approve":
        return await approve(io, aws, out, name!, args.flags);
      default: {
        const outputsFile = () => {
          if (file) return file;
          const tmp = path.join(fs.mkdtempSync(path.join(require("os").tmpdir(), "platform-")), "outputs.json");
          fs.writeFileSync(tmp, JSON.stringify(raw));
          return tmp;
        };
        return await switchTraffic(io, aws, out, name!, args, outputsFile);
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof OperatorError) {
      io.err(`platform ${args.command}: ${e.message}`);
      return 1;
    }
    io.err(`platform ${args.command}: ${(e as Error).name}: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
