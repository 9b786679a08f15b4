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
