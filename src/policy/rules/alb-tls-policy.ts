import { compliant, nonCompliant, notApplicable, PolicyRule } from "../types";

/** The policy we set; any other TLS 1.3 policy (`...TLS13...`, incl. FIPS and -Res) also passes. */
export const RECOMMENDED_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export const albTlsPolicy: PolicyRule = {
  id: "ALB-TLS-POLICY",
  description: `HTTPS listeners use a TLS 1.3 security policy (${RECOMMENDED_SSL_POLICY}): TLS 1.2 minimum, no legacy ciphers.`,
  severity: "error",
  controls: ["CKV_AWS_103", "ELB.17"],
  resourceTypes: ["aws_lb_listener", "aws_alb_listener"],
  check(listener) {
    const protocol = String(listener.config.protocol ?? "HTTP").toUpperCase();
    if (protocol !== "HTTPS" && protocol !== "TLS") return notApplicable();
    const policy = listener.config.ssl_policy;
    if (typeof policy === "string" && /^ELBSecurityPolicy-TLS13-/.test(policy)) return compliant();
    return nonCompliant(
      `ssl_policy must be a TLS 1.3 policy such as ${RECOMMENDED_SSL_POLICY}; got ${policy === undefined ? "none (the provider default ELBSecurityPolicy-2016-08 allows TLS 1.0)" : JSON.stringify(policy)}`,
    );
  },
};
