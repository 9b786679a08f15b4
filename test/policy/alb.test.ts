import { TerraformStack } from "cdktf";
import { Lb, LbConfig } from "@cdktf/provider-aws/lib/lb";
import { LbListener, LbListenerConfig } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { albDesyncMitigation, albDropInvalidHeaders, albHttpRedirect, albTlsPolicy } from "../../src/policy/rules";
import { findingAt, onlyFinding } from "./fixtures";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001";
const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/0123456789abcdef";
const REDIRECT = [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }];

const listener = (config: Partial<LbListenerConfig>) => (s: TerraformStack) => new LbListener(s, "listener", { loadBalancerArn: "arn:lb", defaultAction: REDIRECT, ...config });
const lb = (config: Partial<LbConfig>) => (s: TerraformStack) => new Lb(s, "lb", { subnets: ["subnet-1", "subnet-2"], dropInvalidHeaderFields: true, ...config });

describe("ALB-TLS-POLICY", () => {
  test("passes an HTTPS listener with ELBSecurityPolicy-TLS13-1-2-2021-06", () => {
    const f = onlyFinding(albTlsPolicy, listener({ protocol: "HTTPS", port: 443, certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", defaultAction: [{ type: "forward", targetGroupArn: TG }] }));
    expect(f.status).toBe("compliant");
  });
  test("fails an HTTPS listener with a TLS 1.0 policy or the provider default", () => {
    expect(onlyFinding(albTlsPolicy, listener({ protocol: "HTTPS", port: 443, certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-2016-08" })).status).toBe("non-compliant");
    expect(onlyFinding(albTlsPolicy, listener({ protocol: "HTTPS", port: 443, certificateArn: CERT })).reason).toMatch(/provider default/);
  });
  test("does not apply to plain HTTP listeners", () => {
    expect(onlyFinding(albTlsPolicy, listener({ protocol: "HTTP", port: 80 })).status).toBe("not-applicable");
  });
});

describe("ALB-HTTP-REDIRECT", () => {
  test("passes an HTTP listener that only redirects to HTTPS", () => {
    expect(onlyFinding(albHttpRedirect, listener({ protocol: "HTTP", port: 80 })).status).toBe("compliant");
  });
  test("fails an HTTP listener that forwards", () => {
    const f = onlyFinding(albHttpRedirect, listener({ protocol: "HTTP", port: 80, defaultAction: [{ type: "forward", targetGroupArn: TG }] }));
    expect(f.message).toMatch(/^\[ALB-HTTP-REDIRECT\] aws_lb_listener\.listener: default_action must be a redirect to HTTPS; got forward \(CKV_AWS_2, CKV2_AWS_20, ELB\.1\)$/);
  });
  test("fails a redirecting HTTP listener with a forwarding listener rule", () => {
    const f = findingAt(
      albHttpRedirect,
      (s) => {
        const l = listener({ protocol: "HTTP", port: 80 })(s);
        new LbListenerRule(s, "rule", { listenerArn: l.arn, action: [{ type: "forward", targetGroupArn: TG }], condition: [{ pathPattern: { values: ["/*"] } }] });
      },
      "aws_lb_listener.listener",
    );
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/aws_lb_listener_rule\.rule on this listener does forward/) });
  });
  test("does not apply to HTTPS listeners", () => {
    expect(onlyFinding(albHttpRedirect, listener({ protocol: "HTTPS", port: 443, certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" })).status).toBe("not-applicable");
  });
});

describe("ALB-DROP-INVALID-HEADERS", () => {
  test("passes an ALB dropping invalid headers", () => {
    expect(onlyFinding(albDropInvalidHeaders, lb({})).status).toBe("compliant");
  });
  test("fails an ALB that passes invalid headers on", () => {
    expect(onlyFinding(albDropInvalidHeaders, lb({ dropInvalidHeaderFields: false })).status).toBe("non-compliant");
    expect(onlyFinding(albDropInvalidHeaders, lb({ dropInvalidHeaderFields: undefined })).status).toBe("non-compliant");
  });
  test("does not apply to network load balancers", () => {
    expect(onlyFinding(albDropInvalidHeaders, lb({ loadBalancerType: "network", dropInvalidHeaderFields: undefined })).status).toBe("not-applicable");
  });
});

describe("ALB-DESYNC-MITIGATION", () => {
  test("passes an internet-facing ALB in defensive (default) or strictest mode", () => {
    expect(onlyFinding(albDesyncMitigation, lb({ internal: false })).status).toBe("compliant");
    expect(onlyFinding(albDesyncMitigation, lb({ internal: false, desyncMitigationMode: "strictest" })).status).toBe("compliant");
  });
  test('fails an internet-facing ALB in "monitor" mode', () => {
    expect(onlyFinding(albDesyncMitigation, lb({ internal: false, desyncMitigationMode: "monitor" })).status).toBe("non-compliant");
  });
  test("does not apply to an internal ALB", () => {
    expect(onlyFinding(albDesyncMitigation, lb({ internal: true, desyncMitigationMode: "monitor" })).status).toBe("not-applicable");
  });
});
