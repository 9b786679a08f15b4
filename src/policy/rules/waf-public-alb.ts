import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { isTrue } from "../values";
import { isProd } from "../prod";

/** The prod edge: every internet-facing application load balancer sits behind AWS WAF. */
export const wafPublicAlb: PolicyRule = {
  id: "WAF-PUBLIC-ALB",
  description: "In prod, every internet-facing application load balancer is associated with an AWS WAF web ACL (managed rules, rate limit).",
  severity: "error",
  controls: ["CKV2_AWS_28", "ELB.16"],
  resourceTypes: ["aws_lb"],
  check(lb, ctx) {
    if (isTrue(lb.config.internal)) return notApplicable("internal load balancer");
    if ((lb.config.load_balancer_type ?? "application") !== "application") return notApplicable(`${lb.config.load_balancer_type} load balancers cannot carry a web ACL`);
    if (!isProd(lb, ctx)) return notApplicable("WAF is optional outside prod");
    const associations = ctx.referencing(lb, "aws_wafv2_web_acl_association", "resource_arn");
    return associations.length ? compliant() : nonCompliant("no aws_wafv2_web_acl_association has this load balancer as its resource_arn");
  },
};
