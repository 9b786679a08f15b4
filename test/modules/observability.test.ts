// Brings cdktf's jest matcher types (toHaveResourceWithProperties, ...) into the type check.
import type {} from "cdktf/lib/testing/adapters/jest";
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { Observability, ObservabilityProps, ObservedService } from "../../modules/observability";
import { Naming } from "../../lib/naming";
import { resourcesOf } from "../helpers";

const ACCOUNT = "123456789012";
const LB = "app/fargate-prod-alb/0123456789abcdef";
const api: ObservedService = {
  name: "api",
  clusterName: "fargate-prod-cluster",
  serviceNames: ["fargate-prod-api"],
  targetGroupArnSuffixes: ["targetgroup/fargate-prod-api-blue/0123456789abcdef"],
};
const web: ObservedService = {
  name: "web",
  clusterName: "fargate-prod-cluster",
  serviceNames: ["fargate-prod-web-blue", "fargate-prod-web-green"],
  targetGroupArnSuffixes: ["targetgroup/fargate-prod-web-blue/00000000000000aa", "targetgroup/fargate-prod-web-green/00000000000000bb"],
};
const worker: ObservedService = { name: "worker", clusterName: "fargate-prod-cluster", serviceNames: ["fargate-prod-worker"] };

const baseProps: ObservabilityProps = {
  naming: new Naming("fargate", "prod"),
  accountId: ACCOUNT,
  region: "us-east-1",
  environment: "prod",
  dataKmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/data`,
  albArnSuffix: LB,
  services: [api, web, worker],
  database: { instanceId: "fargate-prod-postgres", allocatedStorageGiB: 100, maxConnections: 400 },
};

function synth(overrides: Partial<ObservabilityProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new Observability(scope, "observability", { ...baseProps, ...overrides });
  });
}

const json = (text: string) => JSON.parse(text);
const alarms = (text: string): Record<string, any> =>
  Object.fromEntries(resourcesOf(json(text), "aws_cloudwatch_metric_alarm").map(([, a]) => [a.alarm_name.replace(/^fargate-prod-/, ""), a]));

describe("Observability", () => {
  test("creates a KMS-encrypted alarm topic only this account's CloudWatch alarms may publish to", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_sns_topic" }, { name: "fargate-prod-alarms", kms_master_key_id: baseProps.dataKmsKeyArn });
    const docs = Object.values<any>(json(text).data.aws_iam_policy_document);
    expect(docs).toHaveLength(1);
    expect(docs[0].statement).toEqual([
      expect.objectContaining({
        effect: "Allow",
        actions: ["sns:Publish"],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
          { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:*`] },
        ],
      }),
    ]);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_sns_topic_policy" }, { arn: expect.stringContaining("aws_sns_topic.") });
  });

  test("subscribes the alarm emails, and none by default", () => {
    expect(resourcesOf(json(synth()), "aws_sns_topic_subscription")).toEqual([]);
    const subs = resourcesOf(json(synth({ alarmEmails: ["oncall@example.com", "team@example.com"] })), "aws_sns_topic_subscription").map(([, s]) => [s.protocol, s.endpoint]);
    expect(subs).toEqual([["email", "oncall@example.com"], ["email", "team@example.com"]]);
  });

  test("creates the alarms the platform needs, by purpose", () => {
    expect(Object.keys(alarms(synth())).sort()).toEqual(
      [
        "alb-elb-5xx",
        "api-healthy-hosts", "api-unhealthy-hosts", "api-target-5xx", "api-latency-p95", "api-cpu-high", "api-memory-high",
        "web-healthy-hosts", "web-unhealthy-hosts", "web-target-5xx", "web-latency-p95", "web-cpu-high", "web-memory-high",
        "worker-no-tasks-reporting", "worker-cpu-high", "worker-memory-high",
        "db-cpu-high", "db-free-storage-low", "db-connections-high",
      ].sort(),
    );
  });

  test("every alarm notifies the topic on ALARM and OK and says how it treats missing data", () => {
    for (const [name, alarm] of Object.entries(alarms(synth()))) {
      expect([name, alarm.alarm_actions]).toEqual([name, [expect.stringContaining("aws_sns_topic.")]]);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
      expect(["breaching", "notBreaching", "missing"]).toContain(alarm.treat_missing_data);
      expect(alarm.alarm_description).toMatch(/^\[prod\] .*Runbook: docs\/cicd-observability\.md#/);
    }
  });

  test("every alarm's runbook link points at a section of docs/cicd-observability.md", () => {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/cicd-observability.md"), "utf8");
    const headings = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-")));
    for (const alarm of Object.values(alarms(synth()))) {
      const anchor = alarm.alarm_description.match(/#([\w-]+)$/)[1];
      expect([alarm.alarm_name, headings.has(anchor)]).toEqual([alarm.alarm_name, true]);
    }
  });

  test("watches ALB 5xx at the load balancer and each service's target 5xx", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-alb-elb-5xx",
      namespace: "AWS/ApplicationELB",
      metric_name: "HTTPCode_ELB_5XX_Count",
      dimensions: { LoadBalancer: LB },
      statistic: "Sum",
      comparison_operator: "GreaterThanThreshold",
      threshold: 5,
      treat_missing_data: "notBreaching",
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-api-target-5xx",
      metric_name: "HTTPCode_Target_5XX_Count",
      dimensions: { LoadBalancer: LB, TargetGroup: api.targetGroupArnSuffixes![0] },
      treat_missing_data: "notBreaching",
    });
  });

  test("watches capacity through ALB host counts: HealthyHostCount < 1 (breaching when silent) and UnHealthyHostCount > 0", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-api-healthy-hosts",
      namespace: "AWS/ApplicationELB",
      metric_name: "HealthyHostCount",
      dimensions: { LoadBalancer: LB, TargetGroup: api.targetGroupArnSuffixes![0] },
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-api-unhealthy-hosts",
      metric_name: "UnHealthyHostCount",
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      treat_missing_data: "notBreaching",
    });
    // No alarm uses the metric ECS does not publish.
    expect(text).not.toContain("RunningTaskCount");
  });

  test("a blue/green service's healthy hosts are the sum over both target groups (a cold standby does not alarm)", () => {
    const alarm = alarms(synth())["web-healthy-hosts"];
    expect(alarm.metric_name).toBeUndefined();
    const queries = alarm.metric_query;
    expect(queries.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.TargetGroup)).toEqual(web.targetGroupArnSuffixes);
    expect(queries.find((q: any) => q.return_data === true).expression).toBe("SUM([FILL(m0, 0), FILL(m1, 0)])");
    expect(alarm).toMatchObject({ comparison_operator: "LessThanThreshold", threshold: 1, treat_missing_data: "breaching" });
  });

  test("watches p95 latency with an extended statistic", () => {
    expect(synth()).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-api-latency-p95",
      metric_name: "TargetResponseTime",
      extended_statistic: "p95",
      threshold: 1,
      treat_missing_data: "notBreaching",
    });
  });

  test("watches ECS CPU and memory per service with ClusterName/ServiceName", () => {
    const text = synth();
    for (const metric of ["CPUUtilization", "MemoryUtilization"]) {
      expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
        namespace: "AWS/ECS",
        metric_name: metric,
        dimensions: { ClusterName: "fargate-prod-cluster", ServiceName: "fargate-prod-api" },
        statistic: "Average",
        threshold: 80,
      });
    }
    // Both colours of a blue/green service: the busiest counts.
    const webCpu = alarms(text)["web-cpu-high"].metric_query;
    expect(webCpu.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.ServiceName)).toEqual(web.serviceNames);
    expect(webCpu.find((q: any) => q.return_data).expression).toBe("MAX([m0, m1])");
  });

  test("a service without target groups alarms when it stops reporting utilisation (no task running)", () => {
    expect(synth()).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-worker-no-tasks-reporting",
      namespace: "AWS/ECS",
      metric_name: "CPUUtilization",
      statistic: "SampleCount",
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
    });
  });

  test("watches RDS CPU, free storage below 10% of allocated, and connections", () => {
    const a = alarms(synth());
    expect(a["db-cpu-high"]).toMatchObject({ namespace: "AWS/RDS", metric_name: "CPUUtilization", dimensions: { DBInstanceIdentifier: "fargate-prod-postgres" }, threshold: 80 });
    expect(a["db-free-storage-low"]).toMatchObject({ metric_name: "FreeStorageSpace", comparison_operator: "LessThanThreshold", threshold: 10 * 1024 ** 3 });
    expect(a["db-connections-high"]).toMatchObject({ metric_name: "DatabaseConnections", threshold: 320 });
  });

  test("non-prod environments alarm on more and wait longer", () => {
    const a = alarms(synth({ naming: new Naming("fargate", "prod"), environment: "develop" }));
    expect(a["alb-elb-5xx"]).toMatchObject({ threshold: 20, evaluation_periods: 5 });
    expect(a["api-latency-p95"]).toMatchObject({ threshold: 2 });
    expect(a["api-latency-p95"].alarm_description).toMatch(/^\[develop\]/);
  });

  test("creates no ALB or database alarms without an ALB or database", () => {
    const a = alarms(synth({ albArnSuffix: undefined, database: undefined, services: [worker] }));
    expect(Object.keys(a).sort()).toEqual(["worker-cpu-high", "worker-memory-high", "worker-no-tasks-reporting"]);
  });

  test("builds a dashboard whose body is JSON and shows every service and the database", () => {
    const [[, dashboard]] = resourcesOf(json(synth()), "aws_cloudwatch_dashboard");
    expect(dashboard.dashboard_name).toBe("fargate-prod-overview");
    const body = JSON.parse(dashboard.dashboard_body);
    const titles = body.widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.title);
    expect(titles).toEqual(["Requests", "5xx", "Latency p95 (s)", "Healthy hosts (task capacity)", "Unhealthy hosts", "ECS CPU utilisation", "ECS memory utilisation", "RDS CPU", "RDS connections", "RDS free storage (bytes)"]);
    const text = JSON.stringify(body);
    for (const name of [...api.serviceNames, ...web.serviceNames, ...worker.serviceNames, ...web.targetGroupArnSuffixes!, "fargate-prod-postgres", LB]) {
      expect(text).toContain(name);
    }
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      if (w.type === "metric") expect(w.properties.region).toBe("us-east-1");
    }
  });

  test("dashboard references resolve to Terraform expressions when given tokens", () => {
    const text = Testing.synthScope((scope: Construct) => {
      const topic = new Observability(scope, "upstream", { ...baseProps, services: [], database: undefined, albArnSuffix: undefined });
      new Observability(scope, "observability", { ...baseProps, albArnSuffix: topic.alarmTopic.name, services: [{ ...api, targetGroupArnSuffixes: [topic.alarmTopic.id] }] });
    });
    const [, dashboard] = resourcesOf(json(text), "aws_cloudwatch_dashboard").find(([, d]) => d.dashboard_name === "fargate-prod-overview" && d.dashboard_body.includes("${"))!;
    const body = JSON.parse(dashboard.dashboard_body);
    expect(JSON.stringify(body)).toContain("${aws_sns_topic.upstream_alarm-topic");
  });

  test.each<[string, Partial<ObservabilityProps>, RegExp]>([
    ["service names repeat", { services: [api, { ...api }] }, /services\[1\]\.name duplicates another service; got "api"/],
    ["a service name is not kebab-case", { services: [{ ...api, name: "Api" }] }, /services\[0\]\.name must be lowercase kebab-case/],
    ["a service lists no ECS service", { services: [{ ...api, serviceNames: [] }] }, /serviceNames must list the ECS service\(s\)/],
    ["target groups come without the ALB", { albArnSuffix: undefined }, /has target groups but albArnSuffix is missing/],
    ["albArnSuffix is a full ARN", { albArnSuffix: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/${LB}` }, /albArnSuffix must be an ALB ARN suffix/],
    ["a target group suffix is a full ARN", { services: [{ ...api, targetGroupArnSuffixes: [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/x/1`] }] }, /targetGroupArnSuffixes must be like "targetgroup\/<name>\/<id>"/],
    ["an alarm email is not an address", { alarmEmails: ["oncall"] }, /alarmEmails\[0\] is not an email address; got "oncall"/],
    ["allocated storage is not positive", { database: { instanceId: "db", allocatedStorageGiB: 0 } }, /allocatedStorageGiB must be a positive whole number of GiB; got 0/],
    ["maxConnections is not positive", { database: { instanceId: "db", allocatedStorageGiB: 20, maxConnections: -1 } }, /maxConnections must be a positive whole number; got -1/],
    ["a percentage threshold exceeds 100", { thresholds: { cpuPercent: 120 } }, /thresholds\.cpuPercent must be a percentage above 0 and at most 100; got 120/],
    ["a rate threshold is not positive", { thresholds: { latencyP95Sec: 0 } }, /thresholds\.latencyP95Sec must be above 0; got 0/],
    ["environment is empty", { environment: "" }, /environment must name the environment/],
    ["a service name collides with a platform alarm", { services: [{ ...worker, name: "db" }] }, /two alarms would both be named "db-cpu-high"/],
  ])("throws when %s", (_what, overrides, message) => {
    expect(() => synth(overrides)).toThrow(message);
    expect(() => synth(overrides)).toThrow(/observability: /);
  });
});
