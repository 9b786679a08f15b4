import { compliant, nonCompliant, PolicyRule } from "../types";
import { isTrue } from "../values";

export const rdsDeletionProtection: PolicyRule = {
  id: "RDS-DELETION-PROTECTION",
  description: "RDS instances have deletion protection so a destroy or replace cannot drop the database (off by design in non-prod: warning).",
  severity: "warning",
  controls: ["CKV_AWS_293", "RDS.8"],
  resourceTypes: ["aws_db_instance"],
  check(db) {
    return isTrue(db.config.deletion_protection) ? compliant() : nonCompliant("deletion_protection is not true");
  },
};
