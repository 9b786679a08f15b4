import { Construct } from "constructs";

/**
 * The one error a construct throws for bad props: it carries the construct path, what was
 * wrong, the value received and what to do, e.g.
 * `fargate-prod/ecs/service-api: desiredCount must be between 2 and 10; got 12`.
 */
export class ConstructPropsError extends Error {
  constructor(scope: Construct, message: string) {
    super(`${scope.node.path}: ${message}`);
    this.name = "ConstructPropsError";
  }
}

/** Every construct validation that failed, across all stacks, as `<construct path>: <problem>`. */
export class ConstructValidationError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid construct props (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
    this.name = "ConstructValidationError";
  }
}

const KEBAB_CASE = /^[a-z][a-z0-9-]*$/;

/**
 * Throws unless every `services[i].name` is lowercase kebab-case and unique: the names
 * become construct IDs and parts of physical names.
 */
export function requireServiceNames(scope: Construct, names: readonly string[]): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (!KEBAB_CASE.test(name)) {
      throw new ConstructPropsError(scope, `services[${i}].name must be lowercase kebab-case; got ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) {
      throw new ConstructPropsError(scope, `services[${i}].name duplicates another service; got "${name}"; service names must be unique`);
    }
    seen.add(name);
  });
}
