import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { Observability, ObservabilityProps, ObservedService, ServiceAlarms, ServiceAlarmsProps } from "../../modules/observability";
import { Naming } from "../../lib/naming";
import { ACCOUNT, DATA_KEY, newStack, problemsOf, resourcesOf, synthJson, synthText } from "./fixtures";

const naming = new Naming("fargate", "prod");
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
  naming,
  accountId: ACCOUNT,
  region: "us-east-1",
  environment: "prod",
  dataKmsKeyArn: DATA_KEY,
  albArnSuffix: LB,
  services: [],
  database: { instanceId: "fargate-prod-postgres", allocatedStorageGiB: 100, maxConnections: 400 },
};

/**
 * The environment's observability as the platform stack builds it: the Observability
 * construct, one ServiceAlarms per service on its topic, and the services watched on the
 * dashboard.
 */
function observedStack(overrides: Partial<ObservabilityProps> = {}, services: readonly ObservedService[] = [api, web, worker], alarmOverrides: Partial<ServiceAlarmsProps> = {}) {
  const stack = newStack();
  const props = { ...baseProps, ...overrides };
  const observability = new Observability(stack, "observability", props);
  const serviceAlarms = services.map(
    (service) =>
      new ServiceAlarms(stack, `${service.name}-alarms`, {
        naming: props.naming,
        environment: props.environment,
        topicArn: observability.alarmTopic.arn,
        albArnSuffix: service.targetGroupArnSuffixes ? props.albArnSuffix : undefined,
        service,
        thresholds: props.thresholds,
        ...alarmOverrides,
      }),
  );
  observability.watch(services);
  return { stack, observability, serviceAlarms };
}

/** Alarms by name without the `fargate-<env>-` stem. */
const alarmsOf = (stack: TerraformStack): Record<string, any> =>
  Object.fromEntries(resourcesOf(synthJson(stack), "aws_cloudwatch_metric_alarm").map(([, a]) => [a.alarm_name.replace(/^fargate-prod-/, ""), a]));

describe("Observability", () => {
  test("creates a KMS-encrypted alarm topic only this account's CloudWatch alarms may publish to by default", () => {
    const { stack } = observedStack({}, []);
    const text = synthText(stack);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_sns_topic" }, { name: "fargate-prod-alarms", kms_master_key_id: DATA_KEY });
    const docs = Object.values<any>(JSON.parse(text).data.aws_iam_policy_document);
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
    expect(resourcesOf(synthJson(observedStack({}, []).stack), "aws_sns_topic_subscription")).toEqual([]);
    const subs = resourcesOf(synthJson(observedStack({ alarmEmails: ["oncall@example.com", "team@example.com"] }, []).stack), "aws_sns_topic_subscription").map(([, s]) => [s.protocol, s.endpoint]);
    expect(subs).toEqual([["email", "oncall@example.com"], ["email", "team@example.com"]]);
  });

  test("creates the platform's own alarms (ALB 5xx, database) by purpose, and each service's alarms beside them", () => {
    const { stack, observability } = observedStack();
    expect(Object.keys(observability.alarms).sort()).toEqual(["alb-elb-5xx", "db-connections-high", "db-cpu-high", "db-free-storage-low"]);
    expect(Object.keys(alarmsOf(stack)).sort()).toEqual(
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
    const alarms = Object.entries(alarmsOf(observedStack().stack));
    expect(alarms).toHaveLength(19);
    for (const [name, alarm] of alarms) {
      expect([name, alarm.alarm_actions]).toEqual([name, [expect.stringMatching(/^\$\{aws_sns_topic\.observability_alarm-topic_\w+\.arn\}$/)]]);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
      expect(["breaching", "notBreaching", "missing"]).toContain(alarm.treat_missing_data);
      expect(alarm.alarm_description).toMatch(/^\[prod\] .*Runbook: docs\/cicd-observability\.md#/);
    }
  });

  test("every alarm's runbook link points at a section of docs/cicd-observability.md", () => {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/cicd-observability.md"), "utf8");
    const headings = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-")));
    const alarms = Object.values(alarmsOf(observedStack().stack));
    expect(alarms).toHaveLength(19);
    for (const alarm of alarms) {
      const anchor = alarm.alarm_description.match(/#([\w-]+)$/)[1];
      expect([alarm.alarm_name, headings.has(anchor)]).toEqual([alarm.alarm_name, true]);
    }
  });

  test("watches ALB 5xx at the load balancer, even before any service is routed", () => {
    expect(synthText(observedStack({}, []).stack)).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-alb-elb-5xx",
      namespace: "AWS/ApplicationELB",
      metric_name: "HTTPCode_ELB_5XX_Count",
      dimensions: { LoadBalancer: LB },
      statistic: "Sum",
      comparison_operator: "GreaterThanThreshold",
      threshold: 5,
      evaluation_periods: 3,
      treat_missing_data: "notBreaching",
    });
  });

  test("watches RDS CPU, free storage below 10% of allocated, and connections", () => {
    const a = alarmsOf(observedStack({}, []).stack);
    expect(a["db-cpu-high"]).toMatchObject({ namespace: "AWS/RDS", metric_name: "CPUUtilization", dimensions: { DBInstanceIdentifier: "fargate-prod-postgres" }, threshold: 80, treat_missing_data: "missing" });
    expect(a["db-free-storage-low"]).toMatchObject({ metric_name: "FreeStorageSpace", comparison_operator: "LessThanThreshold", threshold: 10 * 1024 ** 3 });
    expect(a["db-connections-high"]).toMatchObject({ metric_name: "DatabaseConnections", threshold: 320 });
    expect(alarmsOf(observedStack({ database: { instanceId: "db", allocatedStorageGiB: 20 } }, []).stack)["db-connections-high"].threshold).toBe(80);
  });

  test("non-prod environments alarm on more and wait longer", () => {
    const a = alarmsOf(observedStack({ environment: "develop" }).stack);
    expect(a["alb-elb-5xx"]).toMatchObject({ threshold: 20, evaluation_periods: 5 });
    expect(a["api-latency-p95"]).toMatchObject({ threshold: 2, evaluation_periods: 5 });
    expect(a["api-target-5xx"]).toMatchObject({ threshold: 20 });
    expect(a["api-latency-p95"].alarm_description).toMatch(/^\[develop\]/);
  });

  test("creates no ALB or database alarms without an ALB or database", () => {
    const { stack, observability } = observedStack({ albArnSuffix: undefined, database: undefined }, [worker]);
    expect(observability.alarms).toEqual({});
    expect(Object.keys(alarmsOf(stack)).sort()).toEqual(["worker-cpu-high", "worker-memory-high", "worker-no-tasks-reporting"]);
  });

  test("builds a dashboard whose body is JSON and shows every watched service and the database", () => {
    const [[, dashboard]] = resourcesOf(synthJson(observedStack().stack), "aws_cloudwatch_dashboard");
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

  test("adds services to the dashboard when they register with watch() after the construct exists", () => {
    const stack = newStack();
    const observability = new Observability(stack, "observability", { ...baseProps, database: undefined });
    const widgetTitles = () => {
      const [[, dashboard]] = resourcesOf(synthJson(stack), "aws_cloudwatch_dashboard");
      return JSON.parse(dashboard.dashboard_body).widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.title);
    };
    expect(widgetTitles()).toEqual([]);
    observability.watch([worker]);
    expect(widgetTitles()).toEqual(["ECS CPU utilisation", "ECS memory utilisation"]);
    observability.watch([api]);
    expect(widgetTitles()).toEqual(["Requests", "5xx", "Latency p95 (s)", "Healthy hosts (task capacity)", "Unhealthy hosts", "ECS CPU utilisation", "ECS memory utilisation"]);
  });

  test("dashboard references resolve to Terraform expressions when given tokens", () => {
    const stack = newStack();
    const upstream = new Observability(stack, "upstream", { ...baseProps, naming: new Naming("fargate", "upstream"), database: undefined, albArnSuffix: undefined });
    const observability = new Observability(stack, "observability", { ...baseProps, albArnSuffix: upstream.alarmTopic.name });
    observability.watch([{ ...api, targetGroupArnSuffixes: [upstream.alarmTopic.id] }]);
    const [, dashboard] = resourcesOf(synthJson(stack), "aws_cloudwatch_dashboard").find(([, d]) => d.dashboard_name === "fargate-prod-overview")!;
    const body = JSON.stringify(JSON.parse(dashboard.dashboard_body));
    expect(body).toContain("${aws_sns_topic.upstream_alarm-topic");
  });

  test.each<[string, Partial<ObservabilityProps>, RegExp]>([
    ["a service lists no ECS service", { services: [{ ...api, serviceNames: [] }] }, /services\[0\]\.serviceNames must list the ECS service\(s\)/],
    ["target groups come without the ALB", { albArnSuffix: undefined, services: [api] }, /services\[0\] has target groups but albArnSuffix is missing/],
    ["albArnSuffix is a full ARN", { albArnSuffix: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/${LB}` }, /albArnSuffix must be an ALB ARN suffix/],
    ["a target group suffix is a full ARN", { services: [{ ...api, targetGroupArnSuffixes: [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/x/1`] }] }, /targetGroupArnSuffixes must be like "targetgroup\/<name>\/<id>"/],
    ["an alarm email is not an address", { alarmEmails: ["oncall"] }, /alarmEmails\[0\] is not an email address; got "oncall"/],
    ["allocated storage is not positive", { database: { instanceId: "db", allocatedStorageGiB: 0 } }, /allocatedStorageGiB must be a positive whole number of GiB; got 0/],
    ["maxConnections is not positive", { database: { instanceId: "db", allocatedStorageGiB: 20, maxConnections: -1 } }, /maxConnections must be a positive whole number; got -1/],
    ["a percentage threshold exceeds 100", { thresholds: { cpuPercent: 120 } }, /thresholds\.cpuPercent must be a percentage above 0 and at most 100; got 120/],
    ["a rate threshold is not positive", { thresholds: { latencyP95Sec: 0 } }, /thresholds\.latencyP95Sec must be above 0; got 0/],
    ["environment is empty", { environment: "" }, /environment must name the environment/],
  ])("throws when %s", (_what, overrides, message) => {
    expect(() => new Observability(newStack(), "observability", { ...baseProps, ...overrides })).toThrow(message);
    expect(() => new Observability(newStack(), "observability", { ...baseProps, ...overrides })).toThrow(/^test\/observability: /);
  });
});

/** The alarms of one ServiceAlarms by purpose (its construct IDs). */
const alarmsByPurpose = (alarms: ServiceAlarms) => Object.keys(alarms.alarms).sort();

describe("ServiceAlarms", () => {
  test("creates a public service's alarms by default, keyed by purpose and named after the service", () => {
    const { stack, serviceAlarms } = observedStack({}, [api]);
    const [apiAlarms] = serviceAlarms;
    expect(alarmsByPurpose(apiAlarms)).toEqual(["cpu-high", "healthy-hosts", "latency-p95", "memory-high", "target-5xx", "unhealthy-hosts"]);
    for (const [purpose, alarm] of Object.entries(apiAlarms.alarms)) {
      expect(alarm.node.path).toBe(`test/api-alarms/${purpose}`);
    }
    expect(synthText(stack)).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, { alarm_name: "fargate-prod-api-cpu-high" });
  });

  test("gives every service the same construct IDs, so adding a service never moves another's alarms", () => {
    const { serviceAlarms } = observedStack({}, [api, worker]);
    const [apiAlarms, workerAlarms] = serviceAlarms;
    expect(apiAlarms.alarms["cpu-high"].node.id).toBe("cpu-high");
    expect(workerAlarms.alarms["cpu-high"].node.id).toBe("cpu-high");
    const alone = observedStack({}, [worker]).serviceAlarms[0];
    expect(alarmsByPurpose(alone)).toEqual(alarmsByPurpose(workerAlarms));
    expect(Object.values(alone.alarms).map((a) => a.node.path)).toEqual(Object.values(workerAlarms.alarms).map((a) => a.node.path));
  });

  test("a service without target groups alarms when it stops reporting utilisation (no task running)", () => {
    const { stack, serviceAlarms } = observedStack({}, [worker]);
    expect(alarmsByPurpose(serviceAlarms[0])).toEqual(["cpu-high", "memory-high", "no-tasks-reporting"]);
    expect(synthText(stack)).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-worker-no-tasks-reporting",
      namespace: "AWS/ECS",
      metric_name: "CPUUtilization",
      dimensions: { ClusterName: "fargate-prod-cluster", ServiceName: "fargate-prod-worker" },
      statistic: "SampleCount",
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
    });
  });

  test("watches each service's target 5xx on its target group", () => {
    expect(synthText(observedStack({}, [api]).stack)).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-api-target-5xx",
      metric_name: "HTTPCode_Target_5XX_Count",
      dimensions: { LoadBalancer: LB, TargetGroup: api.targetGroupArnSuffixes![0] },
      statistic: "Sum",
      threshold: 5,
      treat_missing_data: "notBreaching",
    });
  });

  test("watches capacity through ALB host counts: HealthyHostCount < 1 (breaching when silent) and UnHealthyHostCount > 0", () => {
    const text = synthText(observedStack({}, [api]).stack);
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
    const alarm = alarmsOf(observedStack({}, [web]).stack)["web-healthy-hosts"];
    expect(alarm.metric_name).toBeUndefined();
    const queries = alarm.metric_query;
    expect(queries.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.TargetGroup)).toEqual(web.targetGroupArnSuffixes);
    expect(queries.find((q: any) => q.return_data === true).expression).toBe("SUM([FILL(m0, 0), FILL(m1, 0)])");
    expect(alarm).toMatchObject({ comparison_operator: "LessThanThreshold", threshold: 1, treat_missing_data: "breaching" });
  });

  test("watches p95 latency with an extended statistic", () => {
    expect(synthText(observedStack({}, [api]).stack)).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
      alarm_name: "fargate-prod-api-latency-p95",
      metric_name: "TargetResponseTime",
      extended_statistic: "p95",
      threshold: 1,
      treat_missing_data: "notBreaching",
    });
  });

  test("watches ECS CPU and memory per service with ClusterName/ServiceName; the busiest colour counts", () => {
    const { stack } = observedStack({}, [api, web]);
    const text = synthText(stack);
    for (const metric of ["CPUUtilization", "MemoryUtilization"]) {
      expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_metric_alarm" }, {
        namespace: "AWS/ECS",
        metric_name: metric,
        dimensions: { ClusterName: "fargate-prod-cluster", ServiceName: "fargate-prod-api" },
        statistic: "Average",
        threshold: 80,
      });
    }
    const webCpu = alarmsOf(stack)["web-cpu-high"].metric_query;
    expect(webCpu.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.ServiceName)).toEqual(web.serviceNames);
    expect(webCpu.find((q: any) => q.return_data).expression).toBe("MAX([m0, m1])");
  });

  test("uses the given thresholds", () => {
    const a = alarmsOf(observedStack({ thresholds: { cpuPercent: 65, memoryPercent: 70, latencyP95Sec: 0.5, target5xxPerMinute: 2 } }, [api]).stack);
    expect([a["api-cpu-high"].threshold, a["api-memory-high"].threshold, a["api-latency-p95"].threshold, a["api-target-5xx"].threshold]).toEqual([65, 70, 0.5, 2]);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(observedStack().stack)).toEqual([]);
  });

  test.each<[string, ObservedService, Partial<ServiceAlarmsProps>, RegExp]>([
    ["a service lists no ECS service", { ...worker, serviceNames: [] }, {}, /^serviceNames must list the ECS service\(s\) of "worker"; got none$/],
    ["target groups come without the ALB", api, { albArnSuffix: undefined }, /^target group metrics need the LoadBalancer dimension; got target groups but no albArnSuffix/],
    ["albArnSuffix is a full ARN", api, { albArnSuffix: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/${LB}` }, /^albArnSuffix must be an ALB ARN suffix like "app\/<name>\/<id>"/],
    ["a target group suffix is a full ARN", { ...api, targetGroupArnSuffixes: [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/x/1`] }, {}, /^targetGroupArnSuffixes must be like "targetgroup\/<name>\/<id>"/],
  ])("refuses when %s", (_what, service, overrides, message) => {
    const { stack, serviceAlarms } = observedStack({}, [service], overrides);
    expect(serviceAlarms[0].node.validate()).toEqual([expect.stringMatching(message)]);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(new RegExp(`^test/${service.name}-alarms: `))]);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed with the following errors/);
  });
});
