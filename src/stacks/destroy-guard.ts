import { IConstruct } from "constructs";
import { Aspects, IAspect, TerraformResource } from "cdktf";
import { GUARDED_TYPES } from "../../lib/stateful";

/**
 * Puts `lifecycle { prevent_destroy = true }` on every resource of a stack that holds what
 * code cannot rebuild (lib/stateful.ts GUARDED_TYPES): a plan that would destroy or replace
 * one fails in `terraform plan` itself, before anything is touched. Buckets that
 * force-destroy (reproducible pipeline artifacts) are left out.
 *
 * Lifting it is a reviewed change: set `destroyGuard: false` in the environment file (or
 * `destroyGuard: false` on the bootstrap's config), synthesize, apply or destroy, and set it
 * back. README "Destroy guard" has the procedure.
 */
export class DestroyGuard implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !GUARDED_TYPES.includes(node.terraformResourceType)) return;
    // The configured value (the `forceDestroy` getter is the attribute reference, a token).
    if ((node as unknown as { forceDestroyInput?: unknown }).forceDestroyInput === true) return;
    node.lifecycle = { ...(node.lifecycle ?? {}), preventDestroy: true };
  }
}

/** Guards every stateful resource under `scope`. */
export function guardStatefulResources(scope: IConstruct): void {
  Aspects.of(scope).add(new DestroyGuard());
}
