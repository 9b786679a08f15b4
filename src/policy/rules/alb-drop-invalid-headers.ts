import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isTrue } from "../values";

export const albDropInvalidHeaders: PolicyRule = {
  id: "ALB-DROP-INVALID-HEADERS",
  description: "Application load balancers drop HTTP headers with invalid names instead of passing them to the app (request smuggling).",
  severity: "error",
  controls: ["CKV_AWS_131", "ELB.4"],
  resourceTypes: ["aws_lb", "aws_alb"],
  check(lb) {
    const type = lb.config.load_balancer_type ?? "application";
    if (type !== "application") return notApplicable(`load_balancer_type ${type}`);
    return isTrue(lb.config.drop_invalid_header_fields) ? compliant() : nonCompliant("drop_invalid_header_fields is not true");
  },
};
