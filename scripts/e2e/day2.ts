/**
 * Day 2 on the emulator: a sequence of realistic edits to the `local` config, each
 * synthesized, planned, reviewed (scripts/plan-review's rules: no stateful destroy or
 * replacement, no change to a service the edit does not touch), applied, and planned again
 * (no changes). Releases, a config rollout, a secret narrowing and a rollback go through the
 * operator CLI (scripts/platform.ts) and are checked against what the emulator runs.
 */
import * as fs from "fs";
import * as path from "path";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { GetRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { EnvironmentInput } from "../../environments/schema";
import { synthesizeAtomically } from "../../src/app";
import { buildLocalStacks } from "../../src/emulator";
import { reviewPlan } from "../../src/plan-review";
import { OperatorClients } from "../../src/operator/releases";
import { main as platform } from "../platform";
import { classifyDiffs, PlannedChange } from "./emulator-diffs";
import { seconds } from "./proc";
import { TerraformResult } from "../lib/terraform";

type Mutable = any; // configs are edited freely, then validated by the real schema

export interface Day2Io {
  readonly stack: string;
  readonly stackDir: string;
  readonly endpoint: string;
  readonly work: string;
  readonly clients: OperatorClients & { readonly iam: IAMClient; readonly ecs: ECSClient };
  readonly tf: (args: string[]) => Promise<TerraformResult>;
  readonly say: (line: string) => void;
  readonly fail: (message: string) => never;
}

export interface Day2Step {
  readonly name: string;
  /** The edit, applied on top of the previous steps' edits. */
  readonly edit: (env: Mutable) => void;
  /** Services whose resources this edit may change (every other service must be untouched). */
  readonly touches: readonly string[];
  /**
   * Stateful destroys the edit intends (removing a service retires its log group and
   * repository): acknowledged like `plan:review --ack`, and only these.
   * @default - none
   */
  readonly acknowledge?: RegExp;
  /** Checks after the apply (and the no-changes re-plan). */
  readonly after?: (io: Day2Io) => Promise<void>;
}

/** Services a resource address belongs to (`services_<name>_...`). */
function serviceOf(address: string): string | undefined {
  return /\.services_([a-z][a-z0-9-]*?)_(roles|routing|tasks|alarms|pipeline|blue-green|log-group|migration|dashboard|log-metrics)/.exec(address)?.[1];
}

async function synthStep(io: Day2Io, input: EnvironmentInput): Promise<void> {
  const staging = path.join(io.work, "day2-synth");
  synthesizeAtomically(staging, (app) => void buildLocalStacks(app, io.endpoint, input));
  fs.copyFileSync(path.join(staging, "stacks", io.stack, "cdk.tf.json"), path.join(io.stackDir, "cdk.tf.json"));
}

async function json(io: Day2Io, args: string[]): Promise<any> {
  const r = await io.tf(args);
  if (r.exitCode !== 0) io.fail(`terraform ${args.join(" ")} failed:\n${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout);
}

/** `terraform output -json` of the stack, read once per applied state (runStep forgets it after each apply). */
const outputsCache = new WeakMap<Day2Io, Promise<any>>();
export function stackOutputs(io: Day2Io): Promise<any> {
  if (!outputsCache.has(io)) outputsCache.set(io, json(io, ["output", "-json", "-no-color"]));
  return outputsCache.get(io)!;
}

/** Plan, review, apply, re-plan one step; returns the timing line. */
export async function runStep(io: Day2Io, input: EnvironmentInput, step: Day2Step): Promise<string> {
  const started = Date.now();
  const parts: string[] = [];
  let mark = started;
  const lap = (name: string) => {
    parts.push(`${name} ${seconds(Date.now() - mark)}`);
    mark = Date.now();
  };
  await synthStep(io, input);
  lap("synth");
  const plan = await io.tf(["plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=day2.tfplan"]);
  lap("plan");
  if (plan.exitCode === 1) io.fail(`${step.name}: plan failed:\n${plan.stderr.slice(-4000)}`);
  if (plan.exitCode === 0) io.fail(`${step.name}: the plan has no changes; the edit did not reach the synthesized stack`);
  const shown = await json(io, ["show", "-json", "-no-color", "day2.tfplan"]);
  const changes: PlannedChange[] = (shown.resource_changes ?? []).filter((c: PlannedChange) => c.mode !== "data" && !(c.change.actions.length === 1 && c.change.actions[0] === "no-op"));
  const stateful = reviewPlan(shown).stateful.map((f) => f.address);
  const review = reviewPlan(shown, stateful.filter((a) => step.acknowledge?.test(a)));
  if (review.stateful.some((f) => f.acknowledged)) io.say(`   acknowledged: ${review.stateful.filter((f) => f.acknowledged).map((f) => f.address).join(", ")}`);
  if (review.stateful.some((f) => !f.acknowledged)) io.fail(`${step.name}: the plan destroys or replaces stateful resources:\n  ${review.stateful.filter((f) => !f.acknowledged).map((f) => `${f.address}: ${f.what}`).join("\n  ")}`);
  const unrelated = changes.filter((c) => {
    const svc = serviceOf(c.address);
    return svc !== undefined && !step.touches.includes(svc);
  });
  // The emulator's own diffs (scripts/e2e/emulator-diffs.ts) may ride along; nothing else may touch other services.
  const unexplained = classifyDiffs(unrelated).unexplained;
  if (unexplained.length) io.fail(`${step.name}: the plan changes services the edit does not touch:\n  ${unexplained.map((u) => `${u.address}: ${u.actions.join("+")}`).join("\n  ")}`);
  lap("show+review");
  outputsCache.delete(io);
  const apply = await io.tf(["apply", "-input=false", "-no-color", "day2.tfplan"]);
  if (apply.exitCode !== 0) io.fail(`${step.name}: apply failed:\n${apply.stderr.slice(-4000)}`);
  lap("apply");
  const replan = await io.tf(["plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=day2-again.tfplan"]);
  if (replan.exitCode === 1) io.fail(`${step.name}: re-plan failed:\n${replan.stderr.slice(-3000)}`);
  if (replan.exitCode === 2) {
    const again = await json(io, ["show", "-json", "-no-color", "day2-again.tfplan"]);
    const verdict = classifyDiffs((again.resource_changes ?? []) as PlannedChange[]);
    if (verdict.unexplained.length) io.fail(`${step.name}: the re-plan after apply is not empty:\n  ${verdict.unexplained.map((u) => `${u.address}: ${u.actions.join("+")} (${u.attributes.join(", ")})`).join("\n  ")}`);
  }
  lap("re-plan");
  if (step.after) {
    await step.after(io);
    lap("checks");
  }
  const c = review.counts;
  return `${step.name}: +${c.create} ~${c.update} -/+${c.replace} -${c.delete}; ${review.services.length} service change(s), ${review.widening.length} widening; re-plan clean; ${seconds(Date.now() - started)} (${parts.join(", ")})`;
}

/** Runs the operator CLI in-process against the emulator with the stack's outputs; its exit code and lines. */
export async function cliExit(io: Day2Io, ...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const outputs = await stackOutputs(io);
  const code = await platform([...argv, "--env", "local", "--no-wait"], { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), outputs: () => outputs, clients: io.clients });
  return { code, lines };
}

/** Runs the operator CLI in-process; a non-zero exit fails the run. */
export async function cli(io: Day2Io, ...argv: string[]): Promise<string[]> {
  const { code, lines } = await cliExit(io, ...argv);
  if (code !== 0) io.fail(`platform ${argv.join(" ")} exited ${code}:\n  ${lines.join("\n  ")}`);
  return lines;
}

/** What the emulator runs for a service: its task definition's container. */
export async function running(io: Day2Io, service: string): Promise<{ arn: string; image: string; environment: Record<string, string>; cpu?: string; secrets: string[] }> {
  const outputs = await stackOutputs(io);
  const r = outputs.releases.value[service];
  const s = (await io.clients.ecs.send(new DescribeServicesCommand({ cluster: outputs.ecs_cluster_name.value, services: [r.service] }))).services![0];
  const td = (await io.clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: s.taskDefinition! }))).taskDefinition!;
  const c = td.containerDefinitions!.find((d) => d.name === r.container)!;
  return {
    arn: s.taskDefinition!,
    image: c.image!,
    environment: Object.fromEntries((c.environment ?? []).map((e) => [e.name!, e.value!])),
    cpu: td.cpu,
    secrets: (c.secrets ?? []).map((x) => x.valueFrom!),
  };
}

/** Resources the execution role of a service may read secrets from (its inline policy). */
export async function executionSecretGrants(io: Day2Io, roleName: string): Promise<string[]> {
  const doc = (await io.clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: "pull-log-read-secrets" }))).PolicyDocument ?? "";
  const parsed = JSON.parse(decodeURIComponent(doc));
  return (parsed.Statement as { Sid?: string; Resource: string | string[] }[])
    .filter((s) => s.Sid === "ReadTaskParameters" || s.Sid === "ReadTaskSecrets")
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
}

/** Applies the step edits cumulatively to a copy of the base input. */
export function inputAfter(base: EnvironmentInput, steps: readonly Day2Step[]): EnvironmentInput {
  const env = structuredClone(base) as Mutable;
  for (const s of steps) s.edit(env);
  return env;
}
