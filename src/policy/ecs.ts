import { parseJsonAttribute } from "./parse";
import { SynthesizedResource } from "./types";

/** The parsed container definitions of a task definition, or undefined when they are an unreadable expression. */
export function containerDefinitions(task: SynthesizedResource): any[] | undefined {
  const parsed = parseJsonAttribute(task.config.container_definitions);
  return Array.isArray(parsed) ? parsed : undefined;
}

export const UNREADABLE_CONTAINER_DEFINITIONS =
  "container_definitions is an expression the policy pack cannot read; build it with JSON.stringify or Fn.jsonencode of a literal list";

export const containerName = (c: any, i: number) => (typeof c?.name === "string" ? `container "${c.name}"` : `container #${i + 1}`);
