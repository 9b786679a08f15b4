import { compliant, nonCompliant, PolicyRule } from "../types";

export const logsRetention: PolicyRule = {
  id: "LOGS-RETENTION",
  description: "CloudWatch log groups have an explicit retention (per environment), never the default of keeping logs forever.",
  severity: "error",
  controls: ["CKV_AWS_66"],
  resourceTypes: ["aws_cloudwatch_log_group"],
  check(group) {
    const days = group.config.retention_in_days;
    if (days === undefined || days === null) return nonCompliant("retention_in_days is not set (logs are kept forever)");
    if (typeof days === "number" && days <= 0) return nonCompliant(`retention_in_days must be a positive CloudWatch value; got ${days} (never expire)`);
    return compliant();
  },
};
