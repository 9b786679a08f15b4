import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";
import { block, blocks } from "../values";

function isHttpsRedirect(action: any): boolean {
  return action?.type === "redirect" && String(block(action.redirect)?.protocol ?? "").toUpperCase() === "HTTPS";
}

export const albHttpRedirect: PolicyRule = {
  id: "ALB-HTTP-REDIRECT",
  description: "Plain-HTTP listeners only redirect to HTTPS; no request is served or forwarded without TLS.",
  severity: "error",
  controls: ["CKV_AWS_2", "CKV2_AWS_20", "ELB.1"],
  resourceTypes: ["aws_lb_listener", "aws_alb_listener"],
  check(listener, ctx) {
    const protocol = String(listener.config.protocol ?? "HTTP").toUpperCase();
    if (protocol !== "HTTP") return notApplicable();
    const actions = blocks(listener.config.default_action);
    const problems: string[] = [];
    if (!actions.length || !actions.every(isHttpsRedirect)) {
      problems.push(`default_action must be a redirect to HTTPS; got ${actions.map((a) => a.type).join(", ") || "none"}`);
    }
    const rules = [...ctx.referencing(listener, "aws_lb_listener_rule", "listener_arn"), ...ctx.referencing(listener, "aws_alb_listener_rule", "listener_arn")];
    for (const rule of rules) {
      const ruleActions = blocks(rule.config.action);
      if (!ruleActions.every(isHttpsRedirect)) problems.push(`${rule.address} on this listener does ${ruleActions.map((a) => a.type).join(", ")} instead of redirecting to HTTPS`);
    }
    return problems.length ? nonCompliant(problems.join("; ")) : compliant();
  },
};
