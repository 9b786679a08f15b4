/**
 * How rules tell prod. The stack's provider default_tags carry `Environment`
 * (an environment stack: its name; an account stack: its tier); a resource's own `tags`
 * override it (the state account's backend roles are tagged with their account's tier).
 */
import { PolicyContext, SynthesizedResource } from "./types";

export function isProd(resource: SynthesizedResource, ctx: PolicyContext): boolean {
  const own = (resource.config.tags as Record<string, unknown> | undefined)?.Environment;
  return (typeof own === "string" ? own : ctx.stackTags.Environment) === "prod";
}
