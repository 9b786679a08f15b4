import { TerraformOutput, TerraformStack, Testing } from "cdktf";
import { Alb, AlbProps, ServiceRouting, ServiceRoutingProps, TLS_POLICY } from "../../modules/alb";
import { Naming } from "../../lib/naming";
import { checkovSkips } from "../../lib/checkov";
import { CERT_ARN, HEALTH_CHECK, makeAlb, newStack, problemsOf, resourcesOf, synthJson, synthText, TEST_LISTENER_PORT } from "./fixtures";

const naming = new Naming("fargate", "prod");

function albStack(overrides: Partial<AlbProps> = {}): { stack: TerraformStack; alb: Alb } {
  const stack = newStack();
  return { stack, alb: makeAlb(stack, { naming, ...overrides }) };
}

const statementsOf = (json: any): any[] => Object.values<any>(json.data.aws_iam_policy_document).flatMap((d) => d.statement);

describe("Alb", () => {
  test("creates an internet-facing ALB with hardened defaults by default", () => {
    expect(synthText(albStack().stack)).toHaveResourceWithProperties(
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
        idle_timeout: 60,
        access_logs: expect.objectContaining({ enabled: true, prefix: "alb" }),
        depends_on: [expect.stringMatching(/^aws_s3_bucket_policy\./)],
      },
    );
  });

  test("redirects HTTP to HTTPS with a 301 and serves HTTPS with the TLS 1.3 policy and a 404 default", () => {
    const text = synthText(albStack().stack);
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
        certificate_arn: CERT_ARN,
        default_action: [expect.objectContaining({ type: "fixed-response", fixed_response: expect.objectContaining({ status_code: "404" }) })],
      },
    );
    expect(TLS_POLICY).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
  });

  test("writes access logs to an SSE-S3 bucket the regional ELB account may write to, TLS only", () => {
    const json = synthJson(albStack().stack);
    const text = JSON.stringify(json);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket" }, { bucket: "fargate-prod-alb-logs-123456789012", force_destroy: false });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_s3_bucket_server_side_encryption_configuration" },
      { rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }] },
    );
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_s3_bucket_public_access_block" }, { block_public_acls: true, restrict_public_buckets: true });
    expect(statementsOf(json)).toEqual(
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
    const statements = statementsOf(synthJson(albStack({ region: "eu-south-2", certificate: { arn: CERT_ARN.replace("us-east-1", "eu-south-2") } }).stack));
    expect(statements).toEqual(
      expect.arrayContaining([expect.objectContaining({ sid: "ElbLogDelivery", principals: [{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }] })]),
    );
  });

  test("lets a non-prod log bucket be destroyed with its logs", () => {
    expect(synthText(albStack({ deletionProtection: false }).stack)).toHaveResourceWithProperties(
      { tfResourceType: "aws_s3_bucket" },
      { bucket: "fargate-prod-alb-logs-123456789012", force_destroy: true },
    );
  });

  test("declares each checkov skip on its resource with a reason", () => {
    const { alb } = albStack();
    expect([...checkovSkips(alb.loadBalancer).keys()]).toEqual(["CKV2_AWS_28"]);
    expect([...checkovSkips(albStack({ deletionProtection: false }).alb.loadBalancer).keys()]).toEqual(["CKV2_AWS_28", "CKV_AWS_150"]);
    // Object events go to EventBridge (SecureBucket), so CKV2_AWS_62 needs no skip.
    expect([...checkovSkips(alb.accessLogsBucket!).keys()]).toEqual(["CKV_AWS_145", "CKV_AWS_144"]);
    const httpOnly = albStack({ certificate: undefined, allowHttpOnly: true, accessLogs: false }).alb;
    expect([...checkovSkips(httpOnly.loadBalancer).keys()]).toEqual(["CKV_AWS_91", "CKV2_AWS_28", "CKV2_AWS_20"]);
    expect([...checkovSkips(httpOnly.httpListener).keys()]).toEqual(["CKV_AWS_2", "CKV_AWS_103"]);
    for (const reason of checkovSkips(httpOnly.loadBalancer).values()) expect(reason.length).toBeGreaterThanOrEqual(15);
  });

  test("creates no log bucket when access logs are off", () => {
    const { stack, alb } = albStack({ accessLogs: false });
    const json = synthJson(stack);
    expect(alb.accessLogsBucket).toBeUndefined();
    expect(resourcesOf(json, "aws_s3_bucket")).toEqual([]);
    expect(resourcesOf(json, "aws_lb")[0][1].access_logs).toBeUndefined();
  });

  test("creates and validates a certificate for a domain, with an alias record", () => {
    const text = synthText(albStack({ certificate: { domain: "app.example.com", hostedZoneId: "Z0123456789ABC" } }).stack);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_acm_certificate" }, { domain_name: "app.example.com", validation_method: "DNS", lifecycle: { create_before_destroy: true } });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_route53_record" },
      {
        zone_id: "Z0123456789ABC",
        type: expect.stringMatching(/^\$\{tolist\(aws_acm_certificate\.alb_certificate_\w+\.domain_validation_options\)\.0\.resource_record_type\}$/),
        records: [expect.stringContaining("resource_record_value")],
      },
    );
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_route53_record" },
      { zone_id: "Z0123456789ABC", name: "app.example.com", type: "A", alias: expect.objectContaining({ evaluate_target_health: true }) },
    );
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_lb_listener" }, { port: 443, certificate_arn: expect.stringMatching(/aws_acm_certificate_validation\..*\.certificate_arn/) });
  });

  test("serves plain HTTP only when explicitly allowed", () => {
    const { stack, alb } = albStack({ certificate: undefined, allowHttpOnly: true });
    const listeners = resourcesOf(synthJson(stack), "aws_lb_listener").map(([, l]) => l);
    expect(listeners).toHaveLength(1);
    expect(listeners[0]).toEqual(expect.objectContaining({ port: 80, protocol: "HTTP", default_action: [expect.objectContaining({ type: "fixed-response" })] }));
    expect(alb.httpsListener).toBeUndefined();
    expect(alb.serviceListener).toBe(alb.httpListener);
  });

  test("creates no test listener by default (no service uses CodeDeploy)", () => {
    const { stack, alb } = albStack();
    expect(alb.testListener).toBeUndefined();
    expect(resourcesOf(synthJson(stack), "aws_lb_listener").map(([, l]) => l.port).sort()).toEqual([443, 80]);
  });

  test("creates the blue/green test listener on its port with the serving certificate, TLS policy and a 404 default", () => {
    const { stack, alb } = albStack({ testListenerPort: TEST_LISTENER_PORT });
    expect(synthText(stack)).toHaveResourceWithProperties(
      { tfResourceType: "aws_lb_listener" },
      {
        port: TEST_LISTENER_PORT,
        protocol: "HTTPS",
        ssl_policy: TLS_POLICY,
        certificate_arn: CERT_ARN,
        load_balancer_arn: expect.stringMatching(/aws_lb\.alb_load-balancer_\w+\.arn/),
        default_action: [expect.objectContaining({ type: "fixed-response", fixed_response: expect.objectContaining({ status_code: "404" }) })],
      },
    );
    expect(checkovSkips(alb.testListener!).size).toBe(0);
  });

  test("serves the test listener over plain HTTP only in an HTTP-only environment, with its checkov skips", () => {
    const { stack, alb } = albStack({ certificate: undefined, allowHttpOnly: true, testListenerPort: TEST_LISTENER_PORT });
    const test = resourcesOf(synthJson(stack), "aws_lb_listener").map(([, l]) => l).find((l) => l.port === TEST_LISTENER_PORT)!;
    expect(test).toEqual(expect.objectContaining({ protocol: "HTTP", default_action: [expect.objectContaining({ type: "fixed-response" })] }));
    expect(test.ssl_policy).toBeUndefined();
    expect(test.certificate_arn).toBeUndefined();
    expect([...checkovSkips(alb.testListener!).keys()]).toEqual(["CKV_AWS_2", "CKV_AWS_103"]);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(albStack().stack)).toEqual([]);
    expect(problemsOf(albStack({ testListenerPort: TEST_LISTENER_PORT }).stack)).toEqual([]);
    expect(problemsOf(albStack({ certificate: undefined, allowHttpOnly: true }).stack)).toEqual([]);
  });

  test.each<[string, Partial<AlbProps>, RegExp]>([
    ["there is no certificate and HTTP-only was not said", { certificate: undefined }, /^test\/alb: an HTTPS certificate is required; got none/],
    ["both a certificate and allowHttpOnly are given", { allowHttpOnly: true }, /^test\/alb: give either a certificate or allowHttpOnly, not both; got both$/],
    ["the ALB would have fewer than two subnets", { publicSubnetIds: ["subnet-a"] }, /^test\/alb: an ALB needs public subnets in at least 2 AZs; got 1$/],
    ["the certificate is in another region", { certificate: { arn: CERT_ARN.replace("us-east-1", "eu-west-1") } }, /^test\/alb: certificate\.arn is in region eu-west-1, but the load balancer is in us-east-1/],
    ["the certificate ARN is not an ACM ARN", { certificate: { arn: "arn:aws:iam::123456789012:server-certificate/x" } }, /^test\/alb: certificate\.arn must be an ACM certificate ARN/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack } = albStack(overrides);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(message)]);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed with the following errors/);
  });

  test("refuses two services on the same listener rule priority, naming both in one problem", () => {
    const { stack, alb } = albStack();
    routing(stack, alb, { serviceName: "api", priority: 100, deployment: "rolling" });
    routing(stack, alb, { serviceName: "web", priority: 100, deployment: "rolling" });
    routing(stack, alb, { serviceName: "admin", priority: 300, deployment: "rolling" });
    expect(problemsOf(stack)).toEqual([
      'test/alb: listener rule priority 100 is claimed by services "api", "web"; got 100 2 times; priorities must be unique per listener',
    ]);
  });

  test("accepts services on distinct priorities", () => {
    const { stack, alb } = albStack();
    routing(stack, alb, { serviceName: "api", priority: 100, deployment: "rolling" });
    routing(stack, alb, { serviceName: "web", priority: 200, deployment: "rolling" });
    expect(problemsOf(stack)).toEqual([]);
  });
});

const healthCheck = HEALTH_CHECK;

/** A blue/green service routed by path (the default), with `overrides`. */
function routing(stack: TerraformStack, alb: Alb, overrides: Partial<ServiceRoutingProps> = {}): ServiceRouting {
  const props: ServiceRoutingProps = {
    naming,
    alb,
    vpcId: "vpc-123",
    serviceName: "api",
    containerPort: 8000,
    paths: ["/api/*"],
    hosts: [],
    priority: 100,
    healthCheck,
    deployment: "blue-green",
    ...overrides,
  };
  return new ServiceRouting(stack, `routing-${props.serviceName}`, props);
}

/** The environment's two public services on an ALB with a test listener: api (blue/green by path) and web (rolling by host). */
function routedStack(albOverrides: Partial<AlbProps> = {}) {
  const { stack, alb } = albStack({ testListenerPort: TEST_LISTENER_PORT, ...albOverrides });
  const api = routing(stack, alb);
  const web = routing(stack, alb, { serviceName: "web", paths: [], hosts: ["www.example.com"], priority: 200, deployment: "rolling" });
  return { stack, alb, api, web };
}

const rulesOf = (json: any, service: string) => resourcesOf(json, "aws_lb_listener_rule").filter(([id]) => id.startsWith(`routing-${service}_`));
const ruleOf = (json: any, service: string) => rulesOf(json, service).find(([id]) => id.startsWith(`routing-${service}_listener-rule_`))![1];
const testRuleOf = (json: any, service: string) => rulesOf(json, service).find(([id]) => id.startsWith(`routing-${service}_test-listener-rule_`))?.[1];
const targetGroupNames = (json: any) => resourcesOf(json, "aws_lb_target_group").map(([, tg]) => tg.name).sort();

describe("ServiceRouting", () => {
  test("creates ip target groups named by service, colour and port, with health checks from config and a 30 s deregistration delay by default", () => {
    const { stack, api, web } = routedStack();
    const json = synthJson(stack);
    expect(targetGroupNames(json)).toEqual(["fargate-prod-api-b8000", "fargate-prod-api-g8000", "fargate-prod-web-8000"]);
    const text = JSON.stringify(json);
    for (const name of targetGroupNames(json)) {
      expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_lb_target_group" }, { name, port: 8000, target_type: "ip", protocol: "HTTP", vpc_id: "vpc-123", deregistration_delay: "30" });
    }
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_lb_target_group" },
      { name: "fargate-prod-api-b8000", health_check: expect.objectContaining({ path: "/health", matcher: "200", port: "traffic-port", interval: 30, timeout: 5, healthy_threshold: 3, unhealthy_threshold: 3 }) },
    );
    expect(api.targetGroups.green).toBeDefined();
    expect(web.targetGroups.green).toBeUndefined();
    const tgs = [api.targetGroups.blue, api.targetGroups.green!, web.targetGroups.blue];
    for (const tg of tgs) expect(checkovSkips(tg).get("CKV_AWS_378")).toMatch(/TLS ends at the ALB/);
  });

  test("creates every target group before destroying the one it replaces", () => {
    const groups = resourcesOf(synthJson(routedStack().stack), "aws_lb_target_group");
    expect(groups).toHaveLength(3);
    for (const [, tg] of groups) expect([tg.name, tg.lifecycle]).toEqual([tg.name, { create_before_destroy: true }]);
  });

  test("names the replacement of a port change differently, so it can exist next to the old group", () => {
    const namesAt = (containerPort: number) => {
      const { stack, alb } = albStack({ testListenerPort: TEST_LISTENER_PORT });
      routing(stack, alb, { containerPort });
      routing(stack, alb, { serviceName: "web", priority: 200, deployment: "rolling", containerPort });
      return targetGroupNames(synthJson(stack));
    };
    const before = namesAt(8000);
    const after = namesAt(8080);
    expect(after).toEqual(["fargate-prod-api-b8080", "fargate-prod-api-g8080", "fargate-prod-web-8080"]);
    expect(after.filter((name) => before.includes(name))).toEqual([]);
  });

  test("forwards the production rule of a blue/green service 100/0 to blue/green, and leaves its action to CodeDeploy", () => {
    const rule = ruleOf(synthJson(routedStack().stack), "api");
    expect(rule.priority).toBe(100);
    expect(rule.listener_arn).toMatch(/aws_lb_listener\.alb_https-listener_.*\.arn/);
    expect(rule.condition).toEqual([{ path_pattern: { values: ["/api/*"] } }]);
    expect(rule.action).toEqual([
      {
        type: "forward",
        forward: {
          target_group: [
            { arn: expect.stringMatching(/aws_lb_target_group\.routing-api_blue-target-group_.*\.arn/), weight: 100 },
            { arn: expect.stringMatching(/aws_lb_target_group\.routing-api_green-target-group_.*\.arn/), weight: 0 },
          ],
        },
      },
    ]);
    // CodeDeploy moves the weights on every deployment: an apply must never move them back.
    expect(rule.lifecycle).toEqual({ ignore_changes: ["action"] });
  });

  test("routes the same paths on the test listener to green 100/blue 0, also owned by CodeDeploy", () => {
    const { stack, api } = routedStack();
    const json = synthJson(stack);
    const rule = testRuleOf(json, "api");
    expect(api.testListenerRule).toBeDefined();
    expect(rule).toEqual(
      expect.objectContaining({
        listener_arn: expect.stringMatching(/aws_lb_listener\.alb_test-listener_.*\.arn/),
        priority: 100,
        condition: ruleOf(json, "api").condition,
        action: [
          {
            type: "forward",
            forward: {
              target_group: [
                { arn: expect.stringMatching(/routing-api_green-target-group_.*\.arn/), weight: 100 },
                { arn: expect.stringMatching(/routing-api_blue-target-group_.*\.arn/), weight: 0 },
              ],
            },
          },
        ],
        lifecycle: { ignore_changes: ["action"] },
      }),
    );
  });

  test("forwards a rolling rule to its one target group by host, under full Terraform control, with no test route", () => {
    const { stack, web } = routedStack();
    const json = synthJson(stack);
    const rule = ruleOf(json, "web");
    expect(rule.condition).toEqual([{ host_header: { values: ["www.example.com"] } }]);
    expect(rule.action).toEqual([{ type: "forward", target_group_arn: expect.stringMatching(/routing-web_target-group_.*\.arn/) }]);
    expect(rule.lifecycle).toBeUndefined();
    expect(web.testListenerRule).toBeUndefined();
    expect(rulesOf(json, "web")).toHaveLength(1);
  });

  test("routes a rolling service on an ALB without a test listener", () => {
    const { stack, alb } = albStack();
    routing(stack, alb, { deployment: "rolling" });
    expect(targetGroupNames(synthJson(stack))).toEqual(["fargate-prod-api-8000"]);
    expect(problemsOf(stack)).toEqual([]);
  });

  test("routes on both paths and hosts when both are given", () => {
    const { stack, alb } = albStack();
    routing(stack, alb, { paths: ["/api/*"], hosts: ["api.example.com"], deployment: "rolling" });
    expect(ruleOf(synthJson(stack), "api").condition).toEqual([{ path_pattern: { values: ["/api/*"] } }, { host_header: { values: ["api.example.com"] } }]);
  });

  test("attaches its rules to the HTTP listeners of an HTTP-only environment", () => {
    const json = synthJson(routedStack({ certificate: undefined, allowHttpOnly: true }).stack);
    expect(ruleOf(json, "web").listener_arn).toMatch(/aws_lb_listener\.alb_http-listener_.*\.arn/);
    expect(ruleOf(json, "api").listener_arn).toMatch(/aws_lb_listener\.alb_http-listener_.*\.arn/);
    expect(testRuleOf(json, "api").listener_arn).toMatch(/aws_lb_listener\.alb_test-listener_.*\.arn/);
  });

  test("labels a target group for request-count scaling as <alb arn_suffix>/<target group arn_suffix>", () => {
    const { stack, api } = routedStack();
    new TerraformOutput(stack, "label", { value: api.resourceLabel(api.targetGroups.blue) });
    expect(synthJson(stack).output.label.value).toMatch(/^\$\{aws_lb\.alb_load-balancer_\w+\.arn_suffix\}\/\$\{aws_lb_target_group\.routing-api_blue-target-group_\w+\.arn_suffix\}$/);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(routedStack().stack)).toEqual([]);
  });

  test.each<[string, Partial<ServiceRoutingProps>, RegExp]>([
    ["the rule has neither paths nor hosts", { paths: [], hosts: [] }, /^a listener rule needs at least one path or host to route on; got none/],
    ["a condition has more than 3 values", { paths: ["/a", "/b", "/c", "/d"] }, /^a listener rule condition matches at most 3 values; got 4 paths/],
    ["paths and hosts together exceed 5", { paths: ["/a", "/b", "/c"], hosts: ["a.example.com", "b.example.com", "c.example.com"] }, /^a listener rule matches at most 5 paths and hosts together; got 6/],
    ["the rule has more than 5 wildcards", { paths: ["/a*/*/*", "/b*/*/*"] }, /^a listener rule allows at most 5 wildcards \(\* or \?\) across its conditions; got 6/],
    ["a path does not start with /", { paths: ["api/*"] }, /^paths: must start with "\/"; got "api\/\*"/],
    ["a host is a URL", { paths: [], hosts: ["https://www.example.com/"] }, /^hosts: is a URL, not a host name; got "https:\/\/www.example.com\/"; give the host alone, e.g. "www.example.com"/],
    ["the priority is 0", { priority: 0 }, /^priority must be a whole number from 1 to 50000; got 0$/],
    ["the health check path does not start with /", { healthCheck: { ...healthCheck, path: "health" } }, /^healthCheck\.path must start with "\/"; got "health"/],
    ["the health check timeout is not shorter than the interval", { healthCheck: { ...healthCheck, timeoutSec: 30 } }, /^healthCheck\.timeoutSec must be shorter than intervalSec \(30\); got 30$/],
    ["the health check matcher is not an HTTP code", { healthCheck: { ...healthCheck, matcher: "ok" } }, /^healthCheck\.matcher must be HTTP codes from 200 to 499/],
    ["the container port is out of range", { containerPort: 70000 }, /^containerPort must be a whole number from 1 to 65535; got 70000$/],
    ["the deregistration delay exceeds an hour", { deregistrationDelaySec: 4000 }, /^deregistrationDelaySec must be a whole number from 0 to 3600 seconds; got 4000$/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack, alb } = albStack({ testListenerPort: TEST_LISTENER_PORT });
    const api = routing(stack, alb, overrides);
    expect(api.node.validate()).toEqual([expect.stringMatching(message)]);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(/^test\/routing-api: /)]);
  });

  test("throws when a blue/green service is routed on an ALB without a test listener", () => {
    const { stack, alb } = albStack();
    expect(() => routing(stack, alb)).toThrow("test/routing-api: a blue/green service needs the ALB's test listener; got an Alb without testListenerPort; set it where a service uses CodeDeploy");
  });

  test("throws a NameError when a target group name would exceed 32 characters", () => {
    const { stack, alb } = albStack({ testListenerPort: TEST_LISTENER_PORT });
    expect(() => routing(stack, alb, { serviceName: "payments-gateway-v2" })).toThrow(/targetGroup name "fargate-prod-payments-gateway-v2-b8000" is 38 characters; the AWS limit is 32/);
    // The rolling name is shorter, but still checked.
    expect(() => routing(stack, alb, { serviceName: "payments-gateway-v2x", deployment: "rolling" })).toThrow(/targetGroup name "fargate-prod-payments-gateway-v2x-8000" is 38 characters; the AWS limit is 32/);
  });
});
