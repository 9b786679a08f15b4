import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isSet, isTrue } from "../values";

export const rdsMultiAz: PolicyRule = {
  id: "RDS-MULTI-AZ",
  description: "RDS instances run Multi-AZ so an AZ failure or maintenance fails over instead of taking the database down (a per-environment cost lever: warning).",
  severity: "warning",
  controls: ["CKV_AWS_157", "RDS.5"],
  resourceTypes: ["aws_db_instance"],
  check(db) {
    if (isSet(db.config.replicate_source_db)) return notApplicable("read replica");
    return isTrue(db.config.multi_az) ? compliant() : nonCompliant("multi_az is not true (single-AZ database)");
  },
};
