import { compliant, nonCompliant, PolicyRule } from "../types";

export const vpcFlowLogs: PolicyRule = {
  id: "VPC-FLOW-LOGS",
  description: "Every VPC has a flow log, so accepted and rejected traffic can be investigated after the fact.",
  severity: "error",
  controls: ["CKV2_AWS_11", "EC2.6"],
  resourceTypes: ["aws_vpc"],
  check(vpc, ctx) {
    if (ctx.referencing(vpc, "aws_flow_log", "vpc_id").length) return compliant();
    return nonCompliant("no aws_flow_log has vpc_id referencing this VPC");
  },
};
