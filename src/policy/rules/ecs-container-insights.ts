import { compliant, nonCompliant, PolicyRule } from "../types";
import { blocks } from "../values";

export const ecsContainerInsights: PolicyRule = {
  id: "ECS-CONTAINER-INSIGHTS",
  description: "ECS clusters have Container Insights on, so task-level CPU/memory/restarts are visible to alarms and dashboards.",
  severity: "error",
  controls: ["CKV_AWS_65", "ECS.12"],
  resourceTypes: ["aws_ecs_cluster"],
  check(cluster) {
    const setting = blocks(cluster.config.setting).find((s) => s.name === "containerInsights");
    if (setting && (setting.value === "enabled" || setting.value === "enhanced")) return compliant();
    return nonCompliant(`setting containerInsights must be "enabled" or "enhanced"; got ${setting ? JSON.stringify(setting.value) : "no setting"}`);
  },
};
