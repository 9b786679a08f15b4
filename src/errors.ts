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
