import { compliant, nonCompliant, PolicyRule } from "../types";
import { blocks } from "../values";

export const vpcDefaultSgClosed: PolicyRule = {
  id: "VPC-DEFAULT-SG-CLOSED",
  description: "Each VPC's default security group is declared with no rules, stripping AWS's allow-all defaults so nothing lands in an open group by accident.",
  severity: "error",
  controls: ["CKV2_AWS_12", "EC2.2"],
  resourceTypes: ["aws_vpc"],
  check(vpc, ctx) {
    const defaults = ctx.referencing(vpc, "aws_default_security_group", "vpc_id");
    if (!defaults.length) return nonCompliant("no aws_default_security_group manages this VPC's default SG, so it keeps AWS's allow-all rules; declare one with no ingress or egress");
    const open = defaults.filter((sg) => blocks(sg.config.ingress).length || blocks(sg.config.egress).length);
    if (!open.length) return compliant();
    return nonCompliant(`${open.map((sg) => sg.address).join(", ")} declares ingress/egress rules; the default SG must have none`);
  },
};
