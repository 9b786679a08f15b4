import { Testing } from "cdktf";
import { Construct } from "constructs";
import { Alb, AlbProps, AlbServiceSpec, TLS_POLICY } from "../../modules/alb";
import { Naming } from "../../lib/naming";
import { resourcesOf } from "../helpers";
import { checkovSkips } from "../../lib/checkov";

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001";

const api: AlbServiceSpec = {
  serviceName: "api",
  containerPort: 8000,
  paths: ["/api/*"],
  hosts: [],
  priority: 100,
  healthCheck: { path: "/health", matcher: "200", intervalSec: 30, timeoutSec: 5, healthyThreshold: 3, unhealthyThreshold: 3 },
  deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 0 },
};
const web: AlbServiceSpec = { ...api, serviceName: "web", paths: [], hosts: ["www.example.com"], priority: 200, deployment: { strategy: "rolling" } };

const baseProps: AlbProps = {
  naming: new Naming("fargate", "prod"),
  accountId: "123456789012",
  region: "us-east-1",
  vpcId: "vpc-123",
  publicSubnetIds: ["subnet-a", "subnet-b"],
  securityGroupId: "sg-alb",
  certificate: { arn: CERT },
  deletionProtection: true,
  services: [api, web],
};

function synthText(overrides: Partial<AlbProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new Alb(scope, "alb", { ...baseProps, ...overrides });
  });
}
const synth = (overrides: Partial<AlbProps> = {}) => JSON.parse(synthText(overrides));

describe("Alb", () => {
  test("creates an internet-facing ALB with hardened defaults by default", () => {
    expect(synthText()).toHaveResourceWithProperties(
      { tfResourceType: "aws_lb" },
      {
        name: "fargate-prod-alb",
        internal: false,
        load_balancer_type: "application",
        subnets: ["subnet-a", "subnet-b"],
        security_groups: ["sg-alb"],
        drop_invalid_header_fields: true,
        desync_mitigation_mode: "defensive",
        enable_deletion_protection: true,
        access_logs: expect.objectContaining({ enabled: true, prefix: "alb" }),
      },
    );
  });

  test("redirects HTTP to HTTPS with a 301 and serves HTTPS with the TLS 1.3 policy and a 404 default", () => {
    const text = synthText();
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_lb_listener" },
      { port: 80, protocol: "HTTP", default_action: [expect.objectContaining({ type: "redirect", redirect: expect.objectContaining({ protocol: "HTTPS", port: "443", status_code: "HTTP_301" }) })] },
    );
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_lb_listener" },
      {
        port: 443,
        protocol: "HTTPS",
        ssl_policy: TLS_POLICY,
        certificate_arn: CERT,
        default_action: [expect.objectContaining({ type: "fixed-response", fixed_response: expect.objectContaining({ status_code: "404" }) })],
      },
    );
    expect(TLS_POLICY).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
  });

  test("creates ip target groups with health checks from config and a 30 s deregistration delay", () => {
    const text = synthText();
    for (const name of ["fargate-prod-api-blue", "fargate-prod-api-green", "fargate-prod-web"]) {
      expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_lb_target_group" }, { name, target_type: "ip", protocol: "HTTP", deregistration_delay: "30" });
    }
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_lb_target_group" },
      { name: "fargate-prod-api-blue", port: 8000, health_check: expect.objectContaining({ path: "/health", matcher: "200", port: "traffic-port", interval: 30, timeout: 5, healthy_threshold: 3, unhealthy_threshold: 3 }) },
    );
  });

  test("forwards a blue/green rule to both target groups with the config weights, and ignores later action changes", () => {
    const json = synth();
    const [, rule] = resourcesOf(json, "aws_lb_listener_rule").find(([name]) => name.includes("_api_"))!;
    expect(rule.priority).toBe(100);
    expect(rule.condition).toEqual([{ path_pattern: { values: ["/api/*"] } }]);
    expect(rule.action).toEqual([
      {
        type: "forward",
        forward: {
          target_group: [
            { arn: expect.stringMatching(/aws_lb_target_group\.alb_api_blue-target-group_.*\.arn/), weight: 100 },
            { arn: expect.stringMatching(/aws_lb_target_group\.alb_api_green-target-group_.*\.arn/), weight: 0 },
          ],
        },
      },
    ]);
    // The operator tool owns the weights after creation: apply never reverts a switch.
    expect(rule.lifecycle).toEqual({ ignore_changes: ["action"] });
  });

  test("forwards a rolling rule to its one target group by host, under full Terraform control", () => {
    const [, rule] = resourcesOf(synth(), "aws_lb_listener_rule").find(([name]) => name.includes("_web_"))!;
    expect(rule.condition).toEqual([{ host_header: { values: ["www.example.com"] } }]);
    expect(rule.action).toEqual([{ type: "forward", target_group_arn: expect.stringMatching(/alb_web_target-group_.*\.arn/) }]);
    expect(rule.lifecycle).toBeUndefined();
  });

  test("writes access logs to an SSE-S3 bucket the regional ELB account may write to, TLS only", () => {
    const json = synth();
    const text = JSON.stringify(json);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket" }, { bucket: "fargate-prod-alb-logs-123456789012", force_destroy: false });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" },
      { rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }] },
    );
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, { block_public_acls: true, restrict_public_buckets: true });
    const statements = Object.values<any>(json.data.aws_iam_policy_document).flatMap((d) => d.statement);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          sid: "ElbLogDelivery",
          actions: ["s3:PutObject"],
          resources: ["arn:aws:s3:::fargate-prod-alb-logs-123456789012/alb/AWSLogs/123456789012/*"],
          principals: [{ type: "AWS", identifiers: ["arn:aws:iam::127311923021:root"] }],
        }),
        expect.objectContaining({ sid: "DenyInsecureTransport", effect: "Deny" }),
      ]),
    );
  });

  test("uses the log-delivery service principal in regions without an ELB account", () => {
    const statements = Object.values<any>(synth({ region: "eu-south-2" }).data.aws_iam_policy_document).flatMap((d) => d.statement);
    expect(statements).toEqual(
      expect.arrayContaining([expect.objectContaining({ sid: "ElbLogDelivery", principals: [{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }] })]),
    );
  });

  test("declares each checkov skip on its resource with a reason", () => {
    const build = (overrides: Partial<AlbProps>) => {
      let alb: Alb | undefined;
      Testing.synthScope((scope: Construct) => {
        alb = new Alb(scope, "alb", { ...baseProps, ...overrides });
      });
      return alb!;
    };
    const alb = build({});
    expect([...checkovSkips(alb.loadBalancer).keys()]).toEqual(["CKV2_AWS_28"]);
    expect([...checkovSkips(build({ deletionProtection: false }).loadBalancer).keys()]).toEqual(["CKV2_AWS_28", "CKV_AWS_150"]);
    for (const tgs of Object.values(alb.targetGroups)) {
      for (const tg of [tgs.blue, tgs.green].filter((t) => t !== undefined)) expect(checkovSkips(tg).get("CKV_AWS_378")).toMatch(/TLS ends at the ALB/);
    }
    expect([...checkovSkips(alb.accessLogsBucket!).keys()]).toEqual(["CKV_AWS_145", "CKV_AWS_144", "CKV2_AWS_62"]);
    const httpOnly = build({ certificate: undefined, allowHttpOnly: true, accessLogs: false });
    expect([...checkovSkips(httpOnly.loadBalancer).keys()]).toEqual(["CKV_AWS_91", "CKV2_AWS_28", "CKV2_AWS_20"]);
    expect([...checkovSkips(httpOnly.httpListener).keys()]).toEqual(["CKV_AWS_2", "CKV_AWS_103"]);
  });

  test("creates no log bucket when access logs are off", () => {
    const json = synth({ accessLogs: false });
    expect(resourcesOf(json, "aws_s3_bucket")).toEqual([]);
    expect(resourcesOf(json, "aws_lb")[0][1].access_logs).toBeUndefined();
  });

  test("creates and validates a certificate for a domain, with an alias record", () => {
    const text = synthText({ certificate: { domain: "app.example.com", hostedZoneId: "Z0123456789ABC" } });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_acm_certificate" }, { domain_name: "app.example.com", validation_method: "DNS" });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_route53_record" }, {
      zone_id: "Z0123456789ABC",
      type: expect.stringMatching(/^\$\{tolist\(aws_acm_certificate\.alb_certificate_\w+\.domain_validation_options\)\.0\.resource_record_type\}$/),
      records: [expect.stringContaining("resource_record_value")],
    });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_route53_record" },
      { zone_id: "Z0123456789ABC", name: "app.example.com", type: "A", alias: expect.objectContaining({ evaluate_target_health: true }) },
    );
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_lb_listener" }, { port: 443, certificate_arn: expect.stringMatching(/aws_acm_certificate_validation\..*\.certificate_arn/) });
  });

  test("serves plain HTTP only when explicitly allowed", () => {
    const json = synth({ certificate: undefined, allowHttpOnly: true });
    const listeners = resourcesOf(json, "aws_lb_listener").map(([, l]) => l);
    expect(listeners).toHaveLength(1);
    expect(listeners[0]).toEqual(expect.objectContaining({ port: 80, protocol: "HTTP", default_action: [expect.objectContaining({ type: "fixed-response" })] }));
  });

  test("throws when there is no certificate and HTTP-only was not said", () => {
    expect(() => synth({ certificate: undefined })).toThrow(/alb: an HTTPS certificate is required; got none/);
  });

  test("throws when both a certificate and allowHttpOnly are given", () => {
    expect(() => synth({ allowHttpOnly: true })).toThrow(/give either a certificate or allowHttpOnly, not both/);
  });

  test("throws for bad listener rules", () => {
    expect(() => synth({ services: [{ ...api, paths: [], hosts: [] }] })).toThrow(/service "api": a listener rule needs at least one path or host; got none/);
    expect(() => synth({ services: [{ ...api, paths: ["/a", "/b", "/c", "/d", "/e", "/f"] }] })).toThrow(/at most 5 condition values; got 6/);
    expect(() => synth({ services: [api, { ...web, priority: 100 }] })).toThrow(/service "web": priority 100 is already used by service "api"/);
    expect(() => synth({ services: [{ ...api, priority: 0 }] })).toThrow(/priority must be 1-50000; got 0/);
    expect(() => synth({ services: [api, api] })).toThrow(/service "api" is listed twice/);
  });

  test("throws for bad target groups", () => {
    expect(() => synth({ services: [{ ...api, healthCheck: { ...api.healthCheck, path: "health" } }] })).toThrow(/healthCheck.path must start with "\/"; got "health"/);
    expect(() => synth({ services: [{ ...api, containerPort: 70000 }] })).toThrow(/containerPort must be 1-65535; got 70000/);
    expect(() => synth({ services: [{ ...api, deployment: { strategy: "blue-green", blueWeight: 90, greenWeight: 20 } }] })).toThrow(/weights must be 0-100 and sum to 100; got 90 \+ 20/);
    expect(() => synth({ services: [{ ...api, deregistrationDelaySec: 4000 }] })).toThrow(/deregistrationDelaySec must be 0-3600; got 4000/);
  });

  test("throws when the ALB would have fewer than two subnets", () => {
    expect(() => synth({ publicSubnetIds: ["subnet-a"] })).toThrow(/public subnets in at least 2 AZs; got 1/);
  });

  test("throws a NameError when a target group name would exceed 32 characters", () => {
    expect(() => synth({ services: [{ ...api, serviceName: "payments-gateway-v2" }] })).toThrow(/targetGroup name "fargate-prod-payments-gateway-v2-blue" is 37 characters; the AWS limit is 32/);
  });
});
