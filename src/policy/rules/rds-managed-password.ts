import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isSet, isTrue } from "../values";

export const rdsManagedPassword: PolicyRule = {
  id: "RDS-MANAGED-PASSWORD",
  description: "The master password is generated and rotated by RDS in Secrets Manager (manage_master_user_password), never written in config or Terraform state.",
  severity: "error",
  // No checkov or Security Hub control covers this; checkov's secret scanning finds literal passwords only.
  controls: [],
  resourceTypes: ["aws_db_instance"],
  check(db) {
    if (isSet(db.config.replicate_source_db)) return notApplicable("read replica: credentials come from the source instance");
    const problems: string[] = [];
    if (!isTrue(db.config.manage_master_user_password)) problems.push("manage_master_user_password is not true");
    if (isSet(db.config.password)) problems.push("password is set (it would be stored in Terraform state)");
    return problems.length ? nonCompliant(problems.join("; ")) : compliant();
  },
};
