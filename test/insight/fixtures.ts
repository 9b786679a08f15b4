import { parseStack, TfStack } from "../../src/insight/terraform-json";

/** A synthesized stack made of the given `resource` blocks, as cdk.tf.json spells them. */
export function fixtureStack(resource: Record<string, Record<string, Record<string, unknown>>>, region = "us-east-1", name = "fargate-fixture"): TfStack {
  return parseStack(name, { provider: { aws: [{ region, default_tags: [{ tags: { Project: "fargate" } }] }] }, resource });
}

/** A Fargate task definition block of the given size (CPU units, MiB). */
export function taskDefinition(cpu: number, memory: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { family: "fixture", cpu: String(cpu), memory: String(memory), requires_compatibilities: ["FARGATE"], network_mode: "awsvpc", container_definitions: JSON.stringify([{ name: "app" }]), ...extra };
}

/** An ECS service running `aws_ecs_task_definition.td` with the given desired count and strategy. */
export function ecsService(desired: number, strategy?: { capacity_provider: string; base?: number; weight: number }[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { desired_count: desired, task_definition: "${aws_ecs_task_definition.td.arn}", ...(strategy ? { capacity_provider_strategy: strategy } : {}), ...extra };
}
