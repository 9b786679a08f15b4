/**
 * The Terraform addresses of every synthesized stack, the contract that keeps deployed
 * resources in place: `test/stacks/addresses.json` records them, and a test fails when an
 * address disappears without a `moved` block (a rename would otherwise destroy and recreate
 * the resource). Refresh the record with `npm run addresses -- --write` after reviewing the change.
 */
import { App } from "cdktf";

type StackJson = { resource?: Record<string, Record<string, unknown>>; moved?: { from: string; to: string }[] };

/** `type.name` of every resource in a synthesized stack, sorted. */
export function resourceAddresses(json: StackJson): string[] {
  return Object.entries(json.resource ?? {})
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

/** Addresses of every stack of an app (synthesized in memory). */
export function appAddresses(app: App): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const stack of app.node.children) {
    const json = (stack as unknown as { toTerraform?: () => StackJson }).toTerraform?.();
    if (json) out[stack.node.id] = resourceAddresses(json);
  }
  return out;
}

/** What changed against the record: addresses gone without a `moved` block, and new ones. */
export function addressChanges(recorded: readonly string[], current: readonly string[], moved: readonly { from: string }[] = []): { lost: string[]; added: string[] } {
  const now = new Set(current);
  const movedFrom = new Set(moved.map((m) => m.from));
  const before = new Set(recorded);
  return { lost: recorded.filter((a) => !now.has(a) && !movedFrom.has(a)), added: current.filter((a) => !before.has(a)) };
}
