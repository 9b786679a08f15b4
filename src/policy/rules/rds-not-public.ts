import { compliant, nonCompliant, PolicyRule } from "../types";
import { isTrue } from "../values";

export const rdsNotPublic: PolicyRule = {
  id: "RDS-NOT-PUBLIC",
  description: "RDS instances get no public endpoint; only the ECS tasks' security group reaches them inside the VPC.",
  severity: "error",
  controls: ["CKV_AWS_17", "RDS.2"],
  resourceTypes: ["aws_db_instance"],
  check(db) {
    return isTrue(db.config.publicly_accessible) ? nonCompliant("publicly_accessible is true") : compliant();
  },
};
