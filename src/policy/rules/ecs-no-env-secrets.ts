import { compliant, nonCompliant, PolicyRule } from "../types";
import { blocks } from "../values";
import { containerDefinitions, containerName, UNREADABLE_CONTAINER_DEFINITIONS } from "../ecs";

/** Environment names that look like they hold a secret. */
export const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL/i;
/** Names that point at a secret rather than hold one (`DB_SECRET_ARN`, `TOKEN_PARAMETER_NAME`). */
export const SECRET_POINTER = /_(ARN|NAME|PATH|PARAM|PARAMETER)$/i;

export const ecsNoEnvSecrets: PolicyRule = {
  id: "ECS-NO-ENV-SECRETS",
  description: "Secrets reach containers through `secrets` (SSM / Secrets Manager), never as plaintext `environment` entries visible in the task definition and state.",
  severity: "error",
  controls: ["ECS.8"],
  resourceTypes: ["aws_ecs_task_definition"],
  check(task) {
    const containers = containerDefinitions(task);
    if (!containers) return nonCompliant(UNREADABLE_CONTAINER_DEFINITIONS);
    const found = containers.flatMap((c, i) =>
      blocks(c?.environment)
        .map((e) => String(e?.name ?? ""))
        .filter((name) => SECRET_NAME.test(name) && !SECRET_POINTER.test(name))
        .map((name) => `${containerName(c, i)} environment ${name}`),
    );
    if (!found.length) return compliant();
    return nonCompliant(`${found.join(", ")} looks like a secret in plaintext; pass it through the container's secrets (valueFrom SSM / Secrets Manager)`);
  },
};
