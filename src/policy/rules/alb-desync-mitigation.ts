import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isTrue } from "../values";

export const albDesyncMitigation: PolicyRule = {
  id: "ALB-DESYNC-MITIGATION",
  description: 'Internet-facing application load balancers block HTTP desync (request smuggling): desync_mitigation_mode "defensive" (the default) or "strictest", never "monitor".',
  severity: "error",
  controls: ["CKV_AWS_328", "ELB.12"],
  resourceTypes: ["aws_lb", "aws_alb"],
  check(lb) {
    const type = lb.config.load_balancer_type ?? "application";
    if (type !== "application") return notApplicable(`load_balancer_type ${type}`);
    if (isTrue(lb.config.internal)) return notApplicable("internal load balancer");
    const mode = lb.config.desync_mitigation_mode;
    if (mode === "monitor") return nonCompliant('desync_mitigation_mode is "monitor" on an internet-facing ALB; use "defensive" or "strictest"');
    return compliant();
  },
};
