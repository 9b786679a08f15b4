import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isTrue } from "../values";

export const kmsRotation: PolicyRule = {
  id: "KMS-ROTATION",
  description: "Symmetric customer-managed KMS keys rotate their key material yearly.",
  severity: "error",
  controls: ["CKV_AWS_7", "KMS.4"],
  resourceTypes: ["aws_kms_key"],
  check(key) {
    const spec = key.config.customer_master_key_spec ?? "SYMMETRIC_DEFAULT";
    if (spec !== "SYMMETRIC_DEFAULT") return notApplicable(`automatic rotation is not supported for ${spec} keys`);
    if (isTrue(key.config.enable_key_rotation)) return compliant();
    return nonCompliant("enable_key_rotation is not true");
  },
};
