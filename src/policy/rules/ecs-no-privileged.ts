import { compliant, nonCompliant, PolicyRule } from "../types";
import { isTrue } from "../values";
import { containerDefinitions, containerName, UNREADABLE_CONTAINER_DEFINITIONS } from "../ecs";

export const ecsNoPrivileged: PolicyRule = {
  id: "ECS-NO-PRIVILEGED",
  description: "No container runs privileged (root-equivalent access to the host).",
  severity: "error",
  controls: ["CKV_AWS_334", "ECS.4"],
  resourceTypes: ["aws_ecs_task_definition"],
  check(task) {
    const containers = containerDefinitions(task);
    if (!containers) return nonCompliant(UNREADABLE_CONTAINER_DEFINITIONS);
    const privileged = containers.map((c, i) => ({ c, i })).filter(({ c }) => isTrue(c?.privileged));
    if (!privileged.length) return compliant();
    return nonCompliant(`${privileged.map(({ c, i }) => containerName(c, i)).join(", ")} sets privileged: true`);
  },
};
