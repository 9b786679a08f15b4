/**
 * The release path's one implementation, used by `platform release|rollout|rollback|status`
 * (scripts/platform.ts). Who owns what (DESIGN "Who owns what at run time"):
 * - Terraform registers the config revision of every service (`releases.<svc>.config_task_definition`);
 * - a release registers `config revision + image` (nothing else changes) and deploys it with
 *   AWS's engine: an ECS rolling update (circuit breaker + alarm rollback) or a CodeDeploy
 *   blue/green deployment (the AppSpec carries the config's network and capacity settings);
 * - a config edit reaches running tasks with `platform rollout`: the current config plus the
 *   image the service runs now;
 * - a rollback returns to the previous (config, image) pair, which every release records on
 *   its revision (tag `platform:previous`).
 */
import type { CodePipelineClient } from "@aws-sdk/client-codepipeline";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RegisterTaskDefinitionCommandInput,
  TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { CodeDeployClient, CreateDeploymentCommand, GetDeploymentCommand } from "@aws-sdk/client-codedeploy";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";

/** What the stack outputs say about one service (output `releases`). */
export interface ServiceRelease {
  readonly service: string;
  readonly config_task_definition: string;
  readonly family: string;
  readonly container: string;
  readonly container_port: number;
  /** `release`: the release path owns the image; `terraform`: apply deploys the config's tag. */
  readonly image_owner: "release" | "terraform";
  readonly deploy_with: "ecs" | "codedeploy";
  readonly codedeploy_application: string;
  readonly codedeploy_deployment_group: string;
  readonly rollback_alarms: readonly string[];
  readonly target_groups: readonly string[];
}

/** The outputs of an environment stack the release path reads. */
export interface ReleaseOutputs {
  readonly cluster: string;
  readonly releases: Readonly<Record<string, ServiceRelease>>;
  readonly network: { readonly subnets: readonly string[]; readonly security_groups: readonly string[]; readonly assign_public_ip: boolean; readonly capacity_provider_strategy: readonly { readonly capacity_provider: string; readonly base: number; readonly weight: number }[] };
  /** The environment's own pipeline per service (output `pipeline_names`; none where another environment's pipeline delivers). */
  readonly pipelines?: Readonly<Record<string, string>>;
}

/** Reads `terraform output -json` of an environment stack into ReleaseOutputs; throws naming what is missing. */
export function parseOutputs(input: Record<string, unknown>): ReleaseOutputs {
  // `terraform output -json` wraps each value ({ value, type, sensitive }); cdktf's
  // --outputs-file writes { <stack>: { name: value } }. Both are accepted.
  const stacks = Object.values(input);
  const flat = stacks.length === 1 && !isWrapped(stacks[0]) && typeof stacks[0] === "object" && stacks[0] !== null && "releases" in (stacks[0] as object) ? (stacks[0] as Record<string, unknown>) : input;
  const raw: Record<string, { value: unknown }> = Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, isWrapped(v) ? (v as { value: unknown }) : { value: v }]));
  const need = ["ecs_cluster_name", "releases", "task_network"];
  const missing = need.filter((k) => !(k in raw));
  if (missing.length) throw new OperatorError(`the stack outputs lack ${missing.join(", ")}; got ${Object.keys(raw).sort().join(", ") || "none"}; pass the \`terraform output -json\` of an environment stack (apply it first)`);
  return {
    cluster: raw.ecs_cluster_name.value as string,
    releases: raw.releases.value as ReleaseOutputs["releases"],
    network: raw.task_network.value as ReleaseOutputs["network"],
    pipelines: (raw.pipeline_names?.value as ReleaseOutputs["pipelines"]) ?? {},
  };
}

function isWrapped(v: unknown): boolean {
  return v !== null && typeof v === "object" && "value" in (v as object) && Object.keys(v as object).every((k) => ["value", "type", "sensitive"].includes(k));
}

/** An operator-facing failure: printed as is, no stack trace. */
export class OperatorError extends Error {}

export interface OperatorClients {
  readonly ecs: Pick<ECSClient, "send">;
  readonly codedeploy: Pick<CodeDeployClient, "send">;
  readonly cloudwatch: Pick<CloudWatchClient, "send">;
  readonly elbv2: Pick<ElasticLoadBalancingV2Client, "send">;
  /** The pipeline commands (`start`, `approve`) only. */
  readonly codepipeline?: Pick<CodePipelineClient, "send">;
}

/** Tags a release writes on its revision, so the history needs no other store. */
export const TAGS = { config: "platform:config", image: "platform:image", previous: "platform:previous" } as const;

/** Everything of a task definition except what identifies the revision: the registration input. */
function registrationOf(td: TaskDefinition): RegisterTaskDefinitionCommandInput {
  return {
    family: td.family!,
    taskRoleArn: td.taskRoleArn,
    executionRoleArn: td.executionRoleArn,
    networkMode: td.networkMode,
    containerDefinitions: td.containerDefinitions,
    volumes: td.volumes,
    placementConstraints: td.placementConstraints,
    requiresCompatibilities: td.requiresCompatibilities,
    cpu: td.cpu,
    memory: td.memory,
    runtimePlatform: td.runtimePlatform,
    ephemeralStorage: td.ephemeralStorage,
    pidMode: td.pidMode,
    ipcMode: td.ipcMode,
    proxyConfiguration: td.proxyConfiguration,
  };
}

/** The config of a revision: everything but the images of its containers (what a rollout compares). */
export function configOf(td: TaskDefinition): string {
  const r = registrationOf(td);
  const canonical = { ...r, containerDefinitions: (r.containerDefinitions ?? []).map((c) => ({ ...c, image: undefined })) };
  return JSON.stringify(canonical, (_k, v) => (v === null || (Array.isArray(v) && v.length === 0) ? undefined : v));
}

export function imageOf(td: TaskDefinition, container: string): string {
  const c = (td.containerDefinitions ?? []).find((d) => d.name === container);
  if (!c?.image) throw new OperatorError(`task definition ${td.taskDefinitionArn} has no container ${container}`);
  return c.image;
}

async function describe(aws: OperatorClients, arn: string): Promise<{ td: TaskDefinition; tags: Record<string, string> }> {
  const r = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ["TAGS"] }));
  if (!r.taskDefinition) throw new OperatorError(`task definition ${arn} not found`);
  return { td: r.taskDefinition, tags: Object.fromEntries((r.tags ?? []).map((t) => [t.key!, t.value!])) };
}

/** The image of `container` in the revision a service runs (what `status` shows: a release is a digest). */
export async function runningImage(aws: OperatorClients, taskDefinitionArn: string, container: string): Promise<string> {
  return imageOf((await describe(aws, taskDefinitionArn)).td, container);
}

/** The ECS service as it is now. */
export async function currentService(aws: OperatorClients, out: ReleaseOutputs, name: string) {
  const r = await aws.ecs.send(new DescribeServicesCommand({ cluster: out.cluster, services: [release(out, name).service] }));
  const s = r.services?.[0];
  if (!s) throw new OperatorError(`ECS service ${release(out, name).service} not found in cluster ${out.cluster}`);
  return s;
}

export function release(out: ReleaseOutputs, name: string): ServiceRelease {
  const r = out.releases[name];
  if (!r) throw new OperatorError(`no service ${JSON.stringify(name)} in this environment; valid: ${Object.keys(out.releases).sort().join(", ")}`);
  return r;
}

export interface DeployResult {
  readonly taskDefinitionArn: string;
  readonly image: string;
  readonly engine: "ecs" | "codedeploy";
  /** ECS: the deployment ID of the update; CodeDeploy: its deployment ID. */
  readonly deploymentId?: string;
  readonly configRevision: string;
}

/**
 * Registers `config revision + image` (tagged with where it came from and what ran before)
 * and starts its deployment with the service's engine. Does not wait (see `follow`).
 */
export async function deploy(aws: OperatorClients, out: ReleaseOutputs, name: string, image: string, configRevision?: string): Promise<DeployResult> {
  const r = release(out, name);
  if (r.image_owner !== "release") {
    throw new OperatorError(`${name}: Terraform owns this service's image (it has no source); change image.tag in environments/ and apply instead`);
  }
  const config = (await describe(aws, configRevision ?? r.config_task_definition)).td;
  const running = (await currentService(aws, out, name)).taskDefinition;
  const input = registrationOf(config);
  input.containerDefinitions = (input.containerDefinitions ?? []).map((c) => (c.name === r.container ? { ...c, image } : c));
  input.tags = [
    { key: TAGS.config, value: configRevision ?? r.config_task_definition },
    { key: TAGS.image, value: image },
    ...(running ? [{ key: TAGS.previous, value: running }] : []),
  ];
  const registered = (await aws.ecs.send(new RegisterTaskDefinitionCommand(input))).taskDefinition?.taskDefinitionArn;
  if (!registered) throw new OperatorError(`${name}: RegisterTaskDefinition returned no ARN`);
  return startDeployment(aws, out, name, registered, image, configRevision ?? r.config_task_definition);
}

/** Deploys an already registered revision (a rollback to a previous pair). */
export async function startDeployment(aws: OperatorClients, out: ReleaseOutputs, name: string, taskDefinitionArn: string, image: string, configRevision: string): Promise<DeployResult> {
  const r = release(out, name);
  if (r.deploy_with === "ecs") {
    const updated = await aws.ecs.send(new UpdateServiceCommand({ cluster: out.cluster, service: r.service, taskDefinition: taskDefinitionArn }));
    const primary = updated.service?.deployments?.find((d) => d.status === "PRIMARY");
    return { taskDefinitionArn, image, engine: "ecs", deploymentId: primary?.id, configRevision };
  }
  const appSpec = {
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: "AWS::ECS::Service",
          Properties: {
            TaskDefinition: taskDefinitionArn,
            LoadBalancerInfo: { ContainerName: r.container, ContainerPort: r.container_port },
            NetworkConfiguration: { AwsvpcConfiguration: { Subnets: out.network.subnets, SecurityGroups: out.network.security_groups, AssignPublicIp: out.network.assign_public_ip ? "ENABLED" : "DISABLED" } },
            CapacityProviderStrategy: out.network.capacity_provider_strategy.map((c) => ({ CapacityProvider: c.capacity_provider, Base: c.base, Weight: c.weight })),
          },
        },
      },
    ],
  };
  const created = await aws.codedeploy.send(
    new CreateDeploymentCommand({
      applicationName: r.codedeploy_application,
      deploymentGroupName: r.codedeploy_deployment_group,
      revision: { revisionType: "AppSpecContent", appSpecContent: { content: JSON.stringify(appSpec) } },
      description: `platform: ${name} ${image}`,
    }),
  );
  return { taskDefinitionArn, image, engine: "codedeploy", deploymentId: created.deploymentId, configRevision };
}

/** What a rollout would do: nothing when the running revision already carries the current config. */
export async function rolloutPlan(aws: OperatorClients, out: ReleaseOutputs, name: string): Promise<{ upToDate: boolean; runningImage: string; running: string; config: string }> {
  const r = release(out, name);
  const running = (await currentService(aws, out, name)).taskDefinition!;
  const [now, config] = await Promise.all([describe(aws, running), describe(aws, r.config_task_definition)]);
  return { upToDate: configOf(now.td) === configOf(config.td), runningImage: imageOf(now.td, r.container), running, config: r.config_task_definition };
}

/**
 * The rollback target. `previous-task-definition` (the guide's method 1): the revision that
 * ran before the current one, exactly (its config and its image). `previous-image`
 * (method 2): the current config with the image that ran before.
 */
export async function rollbackTarget(aws: OperatorClients, out: ReleaseOutputs, name: string): Promise<{ previous: string; previousImage: string; current: string }> {
  const r = release(out, name);
  const current = (await currentService(aws, out, name)).taskDefinition!;
  const tags = (await describe(aws, current)).tags;
  const previous = tags[TAGS.previous];
  if (!previous) throw new OperatorError(`${name}: the running revision ${current} records no previous revision (it was not deployed by a release); nothing to roll back to`);
  return { previous, previousImage: imageOf((await describe(aws, previous)).td, r.container), current };
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The guide's rollback checklist, checked: right revision, tasks, targets, alarms. */
export async function checklist(aws: OperatorClients, out: ReleaseOutputs, name: string, expectedTaskDefinition: string): Promise<CheckResult[]> {
  const r = release(out, name);
  const s = await currentService(aws, out, name);
  const results: CheckResult[] = [];
  const runningTd = r.deploy_with === "ecs" ? s.taskDefinition : (s.taskSets ?? []).find((t) => t.status === "PRIMARY")?.taskDefinition ?? s.taskDefinition;
  results.push({ name: "revision", ok: runningTd === expectedTaskDefinition, detail: `runs ${runningTd}; want ${expectedTaskDefinition}` });
  results.push({ name: "tasks", ok: (s.runningCount ?? 0) >= (s.desiredCount ?? 0), detail: `${s.runningCount ?? 0}/${s.desiredCount ?? 0} running` });
  for (const tg of r.target_groups) {
    const health = (await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? [];
    const bad = health.filter((h) => h.TargetHealth?.State !== "healthy");
    results.push({ name: `targets ${tg.split("/").slice(-2, -1)[0] ?? tg}`, ok: bad.length === 0, detail: `${health.length - bad.length}/${health.length} healthy` });
  }
  if (r.rollback_alarms.length) {
    const alarms = (await aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [...r.rollback_alarms] }))).MetricAlarms ?? [];
    const firing = alarms.filter((a) => a.StateValue === "ALARM").map((a) => a.AlarmName);
    results.push({ name: "alarms", ok: firing.length === 0, detail: firing.length ? `in ALARM: ${firing.join(", ")}` : `${alarms.length} watched, none in ALARM` });
  }
  return results;
}

/** Polls a deployment until it finishes or `timeoutMs` passes; reports each state change. */
export async function follow(aws: OperatorClients, out: ReleaseOutputs, name: string, result: DeployResult, options: { timeoutMs: number; intervalMs: number; onProgress?: (line: string) => void }): Promise<{ done: boolean; succeeded: boolean; state: string }> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    let state: string;
    let terminal: boolean;
    let succeeded: boolean;
    if (result.engine === "codedeploy") {
      const info = (await aws.codedeploy.send(new GetDeploymentCommand({ deploymentId: result.deploymentId! }))).deploymentInfo;
      state = info?.status ?? "Unknown";
      terminal = ["Succeeded", "Failed", "Stopped"].includes(state);
      succeeded = state === "Succeeded";
    } else {
      const s = await currentService(aws, out, name);
      const mine = (s.deployments ?? []).find((d) => d.taskDefinition === result.taskDefinitionArn);
      const rollout = mine?.rolloutState ?? (mine ? (mine.runningCount === mine.desiredCount ? "COMPLETED" : "IN_PROGRESS") : "ROLLED_BACK");
      state = `${rollout} (${mine?.runningCount ?? 0}/${mine?.desiredCount ?? 0} tasks)`;
      terminal = rollout !== "IN_PROGRESS";
      succeeded = rollout === "COMPLETED" && s.taskDefinition === result.taskDefinitionArn;
    }
    if (state !== last) options.onProgress?.(state);
    last = state;
    if (terminal) return { done: true, succeeded, state };
    if (Date.now() >= deadline) return { done: false, succeeded: false, state };
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}
