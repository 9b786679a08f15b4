import { compliant, nonCompliant, PolicyRule } from "../types";
import { block, isTrue } from "../values";

export const dynamodbPitr: PolicyRule = {
  id: "DYNAMODB-PITR",
  description: "DynamoDB tables have point-in-time recovery, so a bad write or delete can be rolled back to any second of the last 35 days.",
  severity: "error",
  controls: ["CKV_AWS_28", "DynamoDB.2"],
  resourceTypes: ["aws_dynamodb_table"],
  check(table) {
    if (isTrue(block(table.config.point_in_time_recovery)?.enabled)) return compliant();
    return nonCompliant("point_in_time_recovery.enabled is not true");
  },
};
