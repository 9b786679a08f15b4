import { compliant, nonCompliant, PolicyRule } from "../types";
import { isTrue } from "../values";
import { containerDefinitions, containerName, UNREADABLE_CONTAINER_DEFINITIONS } from "../ecs";

export const ecsReadonlyRoot: PolicyRule = {
  id: "ECS-READONLY-ROOT",
  description: "Containers mount their root filesystem read-only (writes go to declared volumes), so a compromise cannot alter the image.",
  severity: "warning",
  controls: ["CKV_AWS_336", "ECS.5"],
  resourceTypes: ["aws_ecs_task_definition"],
  check(task) {
    const containers = containerDefinitions(task);
    if (!containers) return nonCompliant(UNREADABLE_CONTAINER_DEFINITIONS);
    const writable = containers.map((c, i) => ({ c, i })).filter(({ c }) => !isTrue(c?.readonlyRootFilesystem));
    if (!writable.length) return compliant();
    return nonCompliant(`${writable.map(({ c, i }) => containerName(c, i)).join(", ")} has no readonlyRootFilesystem: true`);
  },
};
