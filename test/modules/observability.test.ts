import * as fs from "fs";
import * as path from "path";
import { Lazy, TerraformStack, Testing } from "cdktf";
import {
  Observability,
  ObservabilityProps,
  ObservedService,
  ServiceAlarms,
  ServiceAlarmsProps,
  ServiceDashboard,
  ServiceLogMetrics,
  grafanaDashboard,
} from "../../modules/observability";
import { Naming } from "../../lib/naming";
import { ACCOUNT, DATA_KEY, LOGS_KEY, documentOf, newStack, problemsOf, resourcesOf, synthJson } from "./fixtures";

const naming = new Naming("fargate", "prod");
const LB = "app/fargate-prod-alb/0123456789abcdef";
const CLUSTER_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/fargate-prod-cluster`;
const api: ObservedService = {
  name: "api",
  clusterName: "fargate-prod-cluster",
  serviceNames: ["fargate-prod-api"],
  targetGroupArnSuffixes: ["targetgroup/fargate-prod-api/0123456789abcdef"],
  logGroupName: "/fargate/prod/ecs/api",
  pipeline: { pipelineName: "fargate-prod-api", buildProjectName: "fargate-prod-api-build" },
};
/** A CodeDeploy blue/green service: one ECS service, two target groups. */
const web: ObservedService = {
  name: "web",
  clusterName: "fargate-prod-cluster",
  serviceNames: ["fargate-prod-web"],
  targetGroupArnSuffixes: ["targetgroup/fargate-prod-web-blue/00000000000000aa", "targetgroup/fargate-prod-web-green/00000000000000bb"],
  logGroupName: "/fargate/prod/ecs/web",
};
const worker: ObservedService = { name: "worker", clusterName: "fargate-prod-cluster", serviceNames: ["fargate-prod-worker"], logGroupName: "/fargate/prod/ecs/worker" };
const TOPIC = /^\$\{aws_sns_topic\.observability_(critical|warning)-topic_\w+\.arn\}$/;

const baseProps: ObservabilityProps = {
  naming,
  accountId: ACCOUNT,
  region: "us-east-1",
  environment: "prod",
  dataKmsKeyArn: DATA_KEY,
  logsKmsKeyArn: LOGS_KEY,
  logRetentionDays: 90,
  cluster: { name: "fargate-prod-cluster", arn: CLUSTER_ARN },
  albArnSuffix: LB,
  database: { instanceId: "fargate-prod-postgres", instanceClass: "db.m7g.large", allocatedStorageGiB: 20, maxAllocatedStorageGiB: 100 },
  pipelines: true,
};

/**
 * The environment's observability as the platform stack builds it: the Observability
 * construct, per service its ServiceAlarms, ServiceDashboard and ServiceLogMetrics on the
 * environment's topics and namespace, and the services watched.
 */
function observedStack(overrides: Partial<ObservabilityProps> = {}, services: readonly ObservedService[] = [api, web, worker], alarmOverrides: Partial<ServiceAlarmsProps> = {}) {
  const stack = newStack();
  const props = { ...baseProps, ...overrides };
  const observability = new Observability(stack, "observability", props);
  const serviceAlarms = services.map((service) => {
    const alarms = new ServiceAlarms(stack, `${service.name}-alarms`, {
      naming: props.naming,
      environment: props.environment,
      topics: observability.topics,
      albArnSuffix: service.targetGroupArnSuffixes ? props.albArnSuffix : undefined,
      service,
      ...alarmOverrides,
    });
    new ServiceDashboard(stack, `${service.name}-dashboard`, { naming: props.naming, environment: props.environment, region: props.region, metricsNamespace: observability.metricsNamespace, albArnSuffix: props.albArnSuffix, service, alarms });
    new ServiceLogMetrics(stack, `${service.name}-log-metrics`, { logGroupName: service.logGroupName, metricsNamespace: observability.metricsNamespace });
    return alarms;
  });
  observability.watch(services);
  return { stack, observability, serviceAlarms };
}

/** Alarms by name without the `fargate-<env>-` stem. */
const alarmsOf = (stack: TerraformStack): Record<string, any> =>
  Object.fromEntries(resourcesOf(synthJson(stack), "aws_cloudwatch_metric_alarm").map(([, a]) => [a.alarm_name.replace(/^fargate-\w+?-/, ""), a]));
/** The `<id>` of a `${aws_sns_topic.<id>.arn}` reference: which topic an alarm notifies. */
const topicOf = (ref: string) => /observability_(critical|warning)-topic/.exec(ref)?.[1];
const byName = (json: any, type: string, name: string) => resourcesOf(json, type).find(([, r]) => r.name === name || r.dashboard_name === name)?.[1];
/** The metric_query entries of a metric-math alarm by id. */
const queriesOf = (alarm: any): Record<string, any> => Object.fromEntries((alarm.metric_query ?? []).map((q: any) => [q.id, q]));

const EXPECTED_SEVERITY: Record<string, "critical" | "warning"> = {
  "alb-5xx-rate": "critical",
  "cluster-task-failures": "critical",
  "logs-application-errors": "warning",
  "logs-security-events": "warning",
  "db-cpu-high": "warning",
  "db-free-storage-low": "critical",
  "db-connections-high": "warning",
  "api-tasks-below-desired": "critical",
  "api-5xx-rate": "critical",
  "api-unhealthy-hosts": "warning",
  "api-latency-p95": "warning",
  "api-cpu-high": "warning",
  "api-memory-high": "warning",
  "web-tasks-below-desired": "critical",
  "web-5xx-rate": "critical",
  "web-unhealthy-hosts": "warning",
  "web-latency-p95": "warning",
  "web-cpu-high": "warning",
  "web-memory-high": "warning",
  "worker-tasks-below-desired": "critical",
  "worker-cpu-high": "warning",
  "worker-memory-high": "warning",
};

describe("Observability", () => {
  const { stack: full } = observedStack();
  const json = synthJson(full);
  const alarms = alarmsOf(full);

  test("creates a critical and a warning topic, both encrypted with the data key", () => {
    const topics = resourcesOf(json, "aws_sns_topic").map(([, t]) => [t.name, t.kms_master_key_id]);
    expect(topics.sort()).toEqual([["fargate-prod-alarms-critical", DATA_KEY], ["fargate-prod-alarms-warning", DATA_KEY]]);
  });

  test("each topic policy lets only this account's alarms publish, and events only from the rules that target that topic", () => {
    const policies = Object.fromEntries(resourcesOf(json, "aws_sns_topic_policy").map(([, p]) => [topicOf(p.arn), documentOf(json, p.policy).statement]));
    const rule = (name: string) => expect.stringMatching(new RegExp(`^\\$\\{aws_cloudwatch_event_rule\\.observability_${name}-rule_\\w+\\.arn\\}$`));
    for (const severity of ["critical", "warning"]) {
      expect(policies[severity][0]).toMatchObject({
        sid: "CloudWatchAlarmsOfThisAccountPublish",
        actions: ["sns:Publish"],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
          { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:*`] },
        ],
      });
    }
    // prod: a failed pipeline pages (critical); build failures are non-prod only.
    expect(policies.critical[1]).toMatchObject({
      principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }, { test: "ArnEquals", variable: "aws:SourceArn", values: [rule("pipeline-failed")] }],
    });
    // Succeeded executions mail the warning topic in every environment.
    expect(policies.warning[1].condition[1].values).toEqual([rule("pipeline-succeeded")]);
    const develop = synthJson(observedStack({ naming: new Naming("fargate", "develop"), environment: "develop" }, []).stack);
    const developPolicies = Object.fromEntries(resourcesOf(develop, "aws_sns_topic_policy").map(([, p]) => [topicOf(p.arn), documentOf(develop, p.policy).statement]));
    expect(developPolicies.critical).toHaveLength(1);
    expect(developPolicies.warning[1].condition[1].values).toEqual([rule("pipeline-failed"), rule("pipeline-succeeded"), rule("build-failed")]);
  });

  test("subscribes every destination to the topic of its severity, addressed by the destination, and none by default", () => {
    expect(resourcesOf(json, "aws_sns_topic_subscription")).toEqual([]);
    const routed = (critical: ObservabilityProps["critical"], warning: ObservabilityProps["warning"]) =>
      resourcesOf(synthJson(observedStack({ critical, warning }, []).stack), "aws_sns_topic_subscription").map(([id, s]) => ({ id, to: topicOf(s.topic_arn), protocol: s.protocol, endpoint: s.endpoint }));
    const subs = routed({ emails: ["oncall@example.com"], httpsEndpoints: ["https://pager.example.com/integration/sns"] }, { emails: ["team@example.com"] });
    expect(subs.map(({ to, protocol, endpoint }) => [to, protocol, endpoint])).toEqual([
      ["critical", "email", "oncall@example.com"],
      ["critical", "https", "https://pager.example.com/integration/sns"],
      ["warning", "email", "team@example.com"],
    ]);
    // Removing the first address never re-creates the others.
    const fewer = routed({ emails: [], httpsEndpoints: ["https://pager.example.com/integration/sns"] }, { emails: ["team@example.com"] });
    expect(fewer.map((s) => s.id)).toEqual(subs.slice(1).map((s) => s.id));
  });

  test("every alarm states its severity in its description and notifies that severity's topic on ALARM and OK", () => {
    expect(Object.fromEntries(Object.entries(alarms).map(([name, a]) => [name, topicOf(a.alarm_actions[0])]))).toEqual(EXPECTED_SEVERITY);
    for (const [name, alarm] of Object.entries(alarms)) {
      expect([name, alarm.alarm_actions]).toEqual([name, [expect.stringMatching(TOPIC)]]);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
      expect(alarm.alarm_description).toMatch(new RegExp(`^\\[prod\\]\\[${EXPECTED_SEVERITY[name]}\\] .*Runbook: docs/observability\\.md#[\\w-]+$`));
      expect(alarm.tags).toEqual({ Severity: EXPECTED_SEVERITY[name] });
      expect(["breaching", "notBreaching", "missing"]).toContain(alarm.treat_missing_data);
    }
  });

  test("every alarm's runbook link points at a section of docs/observability.md", () => {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/observability.md"), "utf8");
    const headings = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-")));
    const anchors = [...Object.values(alarms).map((a) => a.alarm_description.match(/#([\w-]+)$/)[1]), "pipeline-failed", "pipeline-succeeded", "build-failed"];
    expect(anchors.length).toBeGreaterThan(20);
    for (const anchor of anchors) expect([anchor, headings.has(anchor)]).toEqual([anchor, true]);
  });

  test("alarms on ALB-generated 5xx as a share of requests (5xx > 5% for 3 minutes in prod)", () => {
    const a = alarms["alb-5xx-rate"];
    const q = queriesOf(a);
    expect(q.m0.metric).toMatchObject({ namespace: "AWS/ApplicationELB", metric_name: "HTTPCode_ELB_5XX_Count", dimensions: { LoadBalancer: LB }, stat: "Sum" });
    expect(q.m1.metric).toMatchObject({ metric_name: "RequestCount", dimensions: { LoadBalancer: LB }, stat: "Sum" });
    expect(q.result.expression).toBe("IF((FILL(m0, 0) + FILL(m1, 0)) > 0, 100 * FILL(m0, 0) / (FILL(m0, 0) + FILL(m1, 0)), 0)");
    expect(a).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 5, evaluation_periods: 3, treat_missing_data: "notBreaching" });
    expect(alarmsOf(observedStack({ thresholds: { elbErrorRatePercent: 2 } }, []).stack)["alb-5xx-rate"].threshold).toBe(2);
  });

  test("counts task failures from ECS task state changes: rule -> log group -> metric filter -> alarm on more than 2 in 5 minutes", () => {
    const rule = byName(json, "aws_cloudwatch_event_rule", "fargate-prod-task-failures");
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: {
        clusterArn: [CLUSTER_ARN],
        lastStatus: ["STOPPED"],
        group: [{ prefix: "service:" }],
        $or: [{ stopCode: ["TaskFailedToStart", "EssentialContainerExited"] }, { stoppedReason: [{ prefix: "Task failed" }] }],
      },
    });
    const [[, target]] = resourcesOf(json, "aws_cloudwatch_event_target").filter(([id]) => id.includes("task-failures-to-logs"));
    expect(target.arn).toMatch(/^\$\{aws_cloudwatch_log_group\.observability_events-log-group_\w+\.arn\}$/);
    const [, filter] = resourcesOf(json, "aws_cloudwatch_log_metric_filter").find(([, f]) => f.name === "task-failures-metric")!;
    expect(filter).toMatchObject({ pattern: '{ $.source = "aws.ecs" }', metric_transformation: { namespace: "fargate-prod", name: "TaskFailures", value: "1", dimensions: { Group: "$.detail.group" } } });
    const a = alarms["cluster-task-failures"];
    expect(a.metric_query).toEqual([expect.objectContaining({ id: "result", expression: 'SELECT SUM(TaskFailures) FROM SCHEMA("fargate-prod", "Group")', period: 300, return_data: true })]);
    expect(a).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 2, evaluation_periods: 1, treat_missing_data: "notBreaching" });
  });

  test("lets only its own rules write the events log group, which it owns with the environment's retention and the logs key", () => {
    const [[, policy]] = resourcesOf(json, "aws_cloudwatch_log_resource_policy");
    expect(policy.policy_name).toBe("fargate-prod-events-to-logs");
    const [statement] = documentOf(json, policy.policy_document).statement;
    expect(statement).toMatchObject({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.observability_events-log-group_\w+\.arn\}:\*$/)],
      principals: [{ type: "Service", identifiers: ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }],
    });
    expect(statement.condition[0].values.map((v: string) => /event_rule\.observability_([\w-]+)-rule/.exec(v)?.[1])).toEqual(["task-failures", "pipeline-executions"]);
    const groups = resourcesOf(json, "aws_cloudwatch_log_group").map(([, g]) => [g.name, g.retention_in_days, g.kms_key_id]);
    expect(groups.sort()).toEqual([
      ["/aws/ecs/containerinsights/fargate-prod-cluster/performance", 90, LOGS_KEY],
      ["/aws/events/fargate-prod", 90, LOGS_KEY],
    ]);
  });

  test("sends failed pipelines to the critical topic in prod and to the warning topic elsewhere; build failures outside prod only", () => {
    const failed = byName(json, "aws_cloudwatch_event_rule", "fargate-prod-pipeline-failed");
    expect(JSON.parse(failed.event_pattern)).toEqual({
      source: ["aws.codepipeline"],
      "detail-type": ["CodePipeline Pipeline Execution State Change"],
      detail: { pipeline: [{ prefix: "fargate-prod-" }], state: ["FAILED"] },
    });
    const target = resourcesOf(json, "aws_cloudwatch_event_target").find(([id]) => id.includes("pipeline-failed-to-topic"))![1];
    expect(topicOf(target.arn)).toBe("critical");
    expect(JSON.parse(target.input_transformer.input_template)).toBe("[prod][critical] Pipeline <pipeline> execution <execution> <state> at <time>. Runbook: docs/observability.md#pipeline-failed");
    expect(target.input_transformer.input_paths).toEqual({ pipeline: "$.detail.pipeline", execution: "$.detail.execution-id", state: "$.detail.state", time: "$.time" });
    expect(byName(json, "aws_cloudwatch_event_rule", "fargate-prod-build-failed")).toBeUndefined();
    // Every succeeded execution is a release notice on the warning topic.
    expect(JSON.parse(byName(json, "aws_cloudwatch_event_rule", "fargate-prod-pipeline-succeeded").event_pattern).detail).toEqual({ pipeline: [{ prefix: "fargate-prod-" }], state: ["SUCCEEDED"] });
    const succeeded = resourcesOf(json, "aws_cloudwatch_event_target").find(([id]) => id.includes("pipeline-succeeded-to-topic"))![1];
    expect(topicOf(succeeded.arn)).toBe("warning");
    expect(JSON.parse(succeeded.input_transformer.input_template)).toBe("[prod][warning] Pipeline <pipeline> execution <execution> <state> at <time>. Runbook: docs/observability.md#pipeline-succeeded");

    const develop = synthJson(observedStack({ naming: new Naming("fargate", "develop"), environment: "develop" }, []).stack);
    const targets = Object.fromEntries(resourcesOf(develop, "aws_cloudwatch_event_target").map(([id, t]) => [id.replace(/^observability_([\w-]+?)_\w+$/, "$1"), t.arn]));
    expect(topicOf(targets["pipeline-failed-to-topic"])).toBe("warning");
    expect(topicOf(targets["build-failed-to-topic"])).toBe("warning");
    expect(JSON.parse(byName(develop, "aws_cloudwatch_event_rule", "fargate-develop-build-failed").event_pattern).detail).toEqual({ "project-name": [{ prefix: "fargate-develop-" }], "build-status": ["FAILED"] });
  });

  test("creates no pipeline rules, metrics or dashboard without pipelines", () => {
    const none = synthJson(observedStack({ pipelines: false }, []).stack);
    expect(resourcesOf(none, "aws_cloudwatch_event_rule").map(([, r]) => r.name)).toEqual(["fargate-prod-task-failures"]);
    expect(resourcesOf(none, "aws_cloudwatch_dashboard").map(([, d]) => d.dashboard_name)).toEqual(["fargate-prod-cluster-overview"]);
  });

  test("derives max_connections from the instance class memory: db.m7g.large allows 901, so the alarm fires above 720", () => {
    expect(alarms["db-connections-high"]).toMatchObject({ metric_name: "DatabaseConnections", namespace: "AWS/RDS", dimensions: { DBInstanceIdentifier: "fargate-prod-postgres" }, threshold: 720, evaluation_periods: 5 });
    expect(alarms["db-connections-high"].alarm_description).toContain("max_connections 901 (LEAST(memory of db.m7g.large / 9531392, 5000))");
    const micro = alarmsOf(observedStack({ database: { ...baseProps.database!, instanceClass: "db.t4g.micro" } }, []).stack);
    expect(micro["db-connections-high"].threshold).toBe(89);
    expect(alarmsOf(observedStack({ database: { ...baseProps.database!, maxConnections: 200 } }, []).stack)["db-connections-high"].threshold).toBe(160);
  });

  test("watches free storage as a share of the live allocated volume: 5% with storage autoscaling, 10% without", () => {
    // Static: 5% of 20 GiB (autoscaling up to 100 GiB), 10% of 100 GiB (no autoscaling).
    expect(alarms["db-free-storage-low"]).toMatchObject({ metric_name: "FreeStorageSpace", statistic: "Minimum", comparison_operator: "LessThanThreshold", threshold: Math.floor(20 * 1024 ** 3 * 0.05) });
    const fixed = alarmsOf(observedStack({ database: { ...baseProps.database!, allocatedStorageGiB: 100, maxAllocatedStorageGiB: 100 } }, []).stack);
    expect(fixed["db-free-storage-low"].threshold).toBe(10 * 1024 ** 3);
    // Live: a Terraform expression on the instance's allocated_storage, which follows autoscaling.
    const stack = newStack();
    const upstream = new Observability(stack, "upstream", { ...baseProps, naming: new Naming("fargate", "upstream"), database: undefined });
    new Observability(stack, "observability", { ...baseProps, database: { ...baseProps.database!, currentAllocatedStorageGiB: upstream.eventsLogGroup.retentionInDays } });
    const live = alarmsOf(stack)["db-free-storage-low"];
    expect(live.threshold).toMatch(/^\$\{floor\(\(?aws_cloudwatch_log_group\.upstream_events-log-group_\w+\.retention_in_days \* 53687091\.2\)?\)\}$/);
  });

  test("builds <env>-cluster-overview with every watched service, the ALB, the database, task failures and log patterns", () => {
    const body = JSON.parse(byName(json, "aws_cloudwatch_dashboard", "fargate-prod-cluster-overview").dashboard_body);
    const titles = body.widgets.filter((w: any) => w.type !== "text").map((w: any) => w.properties.title);
    expect(titles).toEqual([
      "Environment alarms",
      "Running tasks (Container Insights)",
      "Task failures (stopped with a failure, per 5 min)",
      "ECS CPU utilisation",
      "ECS memory utilisation",
      "Requests",
      "ALB-generated 5xx (% of requests)",
      "Latency p95 (s)",
      "Healthy targets",
      "Unhealthy targets",
      "Log patterns (all services, per minute)",
      "Application errors by service (dashboard time range)",
      "RDS CPU",
      "RDS connections (max_connections 901)",
      "RDS free storage (bytes)",
    ]);
    const text = JSON.stringify(body);
    for (const name of [...api.serviceNames, ...web.serviceNames, ...worker.serviceNames, ...web.targetGroupArnSuffixes!, api.logGroupName, worker.logGroupName, "fargate-prod-postgres", LB]) expect(text).toContain(name);
    expect(body.widgets.find((w: any) => w.type === "alarm").properties.alarms).toHaveLength(7);
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      if (w.type === "metric" || w.type === "log") expect(w.properties.region).toBe("us-east-1");
    }
  });

  test("adds services to the overview when they register with watch() after the construct exists", () => {
    const stack = newStack();
    const o = new Observability(stack, "observability", { ...baseProps, database: undefined, pipelines: false });
    const titles = () => JSON.parse(byName(synthJson(stack), "aws_cloudwatch_dashboard", "fargate-prod-cluster-overview").dashboard_body).widgets.filter((w: any) => w.type === "metric").map((w: any) => w.properties.title);
    expect(titles()).toEqual([]);
    o.watch([worker]);
    expect(titles()).toEqual(["Running tasks (Container Insights)", "Task failures (stopped with a failure, per 5 min)", "ECS CPU utilisation", "ECS memory utilisation", "Log patterns (all services, per minute)"]);
  });

  test("builds <env>-pipelines from every watched pipeline: deployment frequency, failures, build success rate", () => {
    const body = JSON.parse(byName(json, "aws_cloudwatch_dashboard", "fargate-prod-pipelines").dashboard_body);
    const widgets = Object.fromEntries(body.widgets.filter((w: any) => w.type === "metric").map((w: any) => [w.properties.title, w.properties]));
    expect(Object.keys(widgets)).toEqual([
      "Deployment frequency (succeeded executions per day)",
      "Failed executions per day",
      "Build success rate (% of builds per day)",
      "Failure rate (all pipelines, % of executions per day)",
      "Build duration (s)",
    ]);
    expect(widgets["Deployment frequency (succeeded executions per day)"].metrics).toEqual([["fargate-prod", "PipelineExecutionsSucceeded", "Pipeline", "fargate-prod-api", { stat: "Sum", label: "api" }]]);
    expect(widgets["Build success rate (% of builds per day)"].metrics).toEqual([
      ["AWS/CodeBuild", "SucceededBuilds", "ProjectName", "fargate-prod-api-build", { stat: "Sum", id: "s0", visible: false }],
      ["AWS/CodeBuild", "Builds", "ProjectName", "fargate-prod-api-build", { stat: "Sum", id: "b0", visible: false }],
      [{ expression: "IF(FILL(b0, 0) > 0, 100 * FILL(s0, 0) / b0, 0)", label: "api", id: "rate0" }],
    ]);
    const filters = resourcesOf(json, "aws_cloudwatch_log_metric_filter").map(([, f]) => [f.name, f.metric_transformation.name, f.metric_transformation.dimensions]);
    expect(filters.filter(([n]) => String(n).startsWith("pipeline")).sort()).toEqual([
      ["pipeline-failed-metric", "PipelineExecutionsFailed", { Pipeline: "$.detail.pipeline" }],
      ["pipeline-succeeded-metric", "PipelineExecutionsSucceeded", { Pipeline: "$.detail.pipeline" }],
    ]);
  });

  test("saves Logs Insights queries for the guide's four pattern groups over every service log group, and one for a single service", () => {
    const queries = Object.fromEntries(resourcesOf(json, "aws_cloudwatch_query_definition").map(([, q]) => [q.name, q]));
    expect(Object.keys(queries).sort()).toEqual(
      ["application-errors", "deployment-events", "performance-issues", "recent-errors-of-one-service", "security-events"].map((k) => `fargate-prod/${k}`),
    );
    expect(queries["fargate-prod/application-errors"].log_group_names).toEqual([api.logGroupName, web.logGroupName, worker.logGroupName]);
    expect(queries["fargate-prod/application-errors"].query_string).toBe(
      "fields @timestamp, @log, @logStream, @message\n| filter @message like /ERROR|Exception|Failed|Timeout|Connection refused/\n| sort @timestamp desc\n| limit 100",
    );
    expect(queries["fargate-prod/performance-issues"].query_string).toContain("/Slow query|High latency|Timeout|Request took/");
    expect(queries["fargate-prod/security-events"].query_string).toContain("/Unauthorized|Forbidden|Authentication failed|Invalid token/");
    expect(queries["fargate-prod/deployment-events"].query_string).toContain("/Starting|Stopping|Deployment|Health check/");
    // Run against the one service's log group (docs/observability.md#logs-insights-queries).
    expect(queries["fargate-prod/recent-errors-of-one-service"].log_group_names).toBeUndefined();
    expect(resourcesOf(synthJson(observedStack({ savedQueries: false }, [worker]).stack), "aws_cloudwatch_query_definition")).toEqual([]);
  });

  test("alarms on the guide's error and security log patterns across all services", () => {
    expect(alarms["logs-application-errors"]).toMatchObject({ namespace: "fargate-prod", metric_name: "ApplicationErrors", statistic: "Sum", threshold: 10, evaluation_periods: 3, treat_missing_data: "notBreaching" });
    expect(alarms["logs-security-events"]).toMatchObject({ namespace: "fargate-prod", metric_name: "SecurityEvents", threshold: 20 });
    const develop = alarmsOf(observedStack({ naming: new Naming("fargate", "develop"), environment: "develop" }, []).stack);
    expect([develop["logs-application-errors"].threshold, develop["logs-security-events"].threshold, develop["logs-application-errors"].evaluation_periods]).toEqual([50, 100, 5]);
  });

  test("creates Managed Grafana only when asked: CloudWatch data source through its own read-only role, AWS-provided URL", () => {
    expect(resourcesOf(json, "aws_grafana_workspace")).toEqual([]);
    const { stack, observability: o } = observedStack({ grafana: { authenticationProviders: ["AWS_SSO"] } }, [api, worker]);
    const g = synthJson(stack);
    const [[, workspace]] = resourcesOf(g, "aws_grafana_workspace");
    expect(workspace).toMatchObject({ name: "fargate-prod-grafana", account_access_type: "CURRENT_ACCOUNT", authentication_providers: ["AWS_SSO"], permission_type: "CUSTOMER_MANAGED", data_sources: ["CLOUDWATCH"] });
    const [[, role]] = resourcesOf(g, "aws_iam_role");
    expect(documentOf(g, role.assume_role_policy).statement[0]).toMatchObject({ principals: [{ type: "Service", identifiers: ["grafana.amazonaws.com"] }], condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] }] });
    const [[, policy]] = resourcesOf(g, "aws_iam_role_policy");
    expect(documentOf(g, policy.policy).statement).toEqual([expect.objectContaining({ actions: ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:DescribeAlarmsForMetric"], resources: ["*"] })]);
    expect(o.grafana!.url).toMatch(/^https:\/\/\$\{TfToken/);
  });

  test("generates the Grafana dashboard (HealthyHostCount / UnHealthyHostCount per target group) from the services", () => {
    const dashboard = grafanaDashboard({ title: "fargate-prod target health", region: "us-east-1", albArnSuffix: LB, services: [api, web, worker] }) as any;
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: "DS_CLOUDWATCH", type: "datasource", pluginId: "cloudwatch" })]);
    const health = dashboard.panels.filter((p: any) => p.title.includes("healthy"));
    expect(health.map((p: any) => p.title)).toEqual(["api: healthy / unhealthy targets", "web (blue): healthy / unhealthy targets", "web (green): healthy / unhealthy targets"]);
    expect(health[1].targets.map((t: any) => [t.namespace, t.metricName, t.dimensions.TargetGroup, t.statistics[0]])).toEqual([
      ["AWS/ApplicationELB", "HealthyHostCount", web.targetGroupArnSuffixes![0], "Minimum"],
      ["AWS/ApplicationELB", "UnHealthyHostCount", web.targetGroupArnSuffixes![0], "Maximum"],
    ]);
    // The notes' failure 5: the task count comes from Container Insights, never from AWS/ECS.
    const tasks = dashboard.panels.find((p: any) => p.title === "worker: running / desired tasks (Container Insights)");
    expect(tasks.targets.map((t: any) => [t.namespace, t.metricName])).toEqual([["ECS/ContainerInsights", "RunningTaskCount"], ["ECS/ContainerInsights", "DesiredTaskCount"]]);
    expect(JSON.stringify(dashboard)).not.toMatch(/"namespace":"AWS\/ECS","metricName":"RunningTaskCount"/);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(full)).toEqual([]);
  });

  test.each<[string, Partial<ObservabilityProps>, RegExp]>([
    ["target groups come without the ALB", { albArnSuffix: undefined }, /services\[0\] \("api"\) has target groups but albArnSuffix is missing/],
    ["albArnSuffix is a full ARN", { albArnSuffix: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/${LB}` }, /albArnSuffix must be an ALB ARN suffix/],
    ["a critical email is not an address", { critical: { emails: ["oncall"] } }, /critical\.emails\[0\] is not an email address; got "oncall"/],
    ["a pager URL is not https", { critical: { httpsEndpoints: ["http://pager.example.com/x"] } }, /critical\.httpsEndpoints\[0\] must be an https:\/\/ URL without credentials/],
    ["the database class is unknown", { database: { ...baseProps.database!, instanceClass: "db.x2g.large" } }, /database\.instanceClass is not in the platform's instance-class table.*got "db\.x2g\.large"/],
    ["allocated storage is not positive", { database: { ...baseProps.database!, allocatedStorageGiB: 0 } }, /database\.allocatedStorageGiB must be a positive whole number of GiB; got 0/],
    ["maxConnections is not positive", { database: { ...baseProps.database!, maxConnections: -1 } }, /database\.maxConnections must be a positive whole number; got -1/],
    ["a percentage threshold exceeds 100", { thresholds: { databaseCpuPercent: 120 } }, /thresholds\.databaseCpuPercent must be a percentage above 0 and at most 100; got 120/],
    ["a count threshold is negative", { thresholds: { taskFailuresPer5Min: -1 } }, /thresholds\.taskFailuresPer5Min must be 0 or more; got -1/],
    ["retention is not a CloudWatch value", { logRetentionDays: 8 }, /logRetentionDays /],
    ["environment is empty", { environment: "" }, /environment must name the environment/],
    ["the cluster name is a reference", { cluster: { name: Lazy.stringValue({ produce: () => "fargate-prod-cluster" }), arn: CLUSTER_ARN } }, /cluster\.name must be the cluster's configured name \(a literal\)/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack } = observedStack(overrides, [api]);
    expect(problemsOf(stack).filter((p) => p.startsWith("test/observability:"))).toEqual([expect.stringMatching(new RegExp(`^test/observability: ${message.source}`))]);
  });

  test("refuses more services than Logs Insights can read at once in its saved queries", () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ ...worker, name: `w${i}`, logGroupName: `/fargate/prod/ecs/w${i}` }));
    const stack = newStack();
    new Observability(stack, "observability", { ...baseProps, services: many });
    expect(problemsOf(stack)).toEqual([expect.stringContaining("Logs Insights queries read at most 50 log groups; got 51 services")]);
    expect(() => Testing.synth(stack, true)).toThrow(/Validation failed/);
  });
});

/** The alarms of one ServiceAlarms by purpose (its construct IDs). */
const purposes = (alarms: ServiceAlarms) => Object.keys(alarms.alarms).sort();

describe("ServiceAlarms", () => {
  const { stack, serviceAlarms } = observedStack();
  const [apiAlarms, webAlarms, workerAlarms] = serviceAlarms;
  const alarms = alarmsOf(stack);

  test("creates a public service's alarms by purpose, and an internal one's without the ALB ones", () => {
    expect(purposes(apiAlarms)).toEqual(["5xx-rate", "cpu-high", "latency-p95", "memory-high", "tasks-below-desired", "unhealthy-hosts"]);
    expect(purposes(workerAlarms)).toEqual(["cpu-high", "memory-high", "tasks-below-desired"]);
    for (const [purpose, alarm] of Object.entries(apiAlarms.alarms)) expect(alarm.node.path).toBe(`test/api-alarms/${purpose}`);
  });

  test("gives every service the same construct IDs, so adding a service never moves another's alarms", () => {
    const alone = observedStack({}, [worker]).serviceAlarms[0];
    expect(Object.values(alone.alarms).map((a) => a.node.path)).toEqual(Object.values(workerAlarms.alarms).map((a) => a.node.path));
  });

  test("tasks-below-desired: Container Insights running below desired for 5 minutes; a public service counts only healthy targets", () => {
    const internal = alarms["worker-tasks-below-desired"];
    const q = queriesOf(internal);
    expect(q.d0.metric).toEqual(expect.objectContaining({ namespace: "ECS/ContainerInsights", metric_name: "DesiredTaskCount", dimensions: { ClusterName: "fargate-prod-cluster", ServiceName: "fargate-prod-worker" } }));
    expect(q.r0.metric).toEqual(expect.objectContaining({ namespace: "ECS/ContainerInsights", metric_name: "RunningTaskCount" }));
    expect(q.result.expression).toBe("SUM([FILL(d0, 0)]) - SUM([FILL(r0, 0)])");
    expect(internal).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 0, evaluation_periods: 5, datapoints_to_alarm: 5, treat_missing_data: "breaching" });

    const blueGreen = queriesOf(alarms["web-tasks-below-desired"]);
    expect([blueGreen.h0.metric.metric_name, blueGreen.h0.metric.dimensions.TargetGroup, blueGreen.h1.metric.dimensions.TargetGroup]).toEqual(["HealthyHostCount", ...web.targetGroupArnSuffixes!]);
    expect(blueGreen.result.expression).toBe("SUM([FILL(d0, 0)]) - MIN([SUM([FILL(r0, 0)]), SUM([FILL(h0, 0), FILL(h1, 0)])])");
    // Never the metric AWS/ECS does not publish.
    expect(JSON.stringify(Object.values(alarms))).not.toMatch(/"namespace":"AWS\/ECS","metric_name":"RunningTaskCount"/);
  });

  test("5xx-rate: target 5xx above 5% of requests, summed over the service's target groups", () => {
    const q = queriesOf(alarms["web-5xx-rate"]);
    expect([q.e0, q.e1, q.q0, q.q1].map((x) => [x.metric.metric_name, x.metric.dimensions.TargetGroup, x.metric.stat])).toEqual([
      ["HTTPCode_Target_5XX_Count", web.targetGroupArnSuffixes![0], "Sum"],
      ["HTTPCode_Target_5XX_Count", web.targetGroupArnSuffixes![1], "Sum"],
      ["RequestCount", web.targetGroupArnSuffixes![0], "Sum"],
      ["RequestCount", web.targetGroupArnSuffixes![1], "Sum"],
    ]);
    expect(q.result.expression).toBe("IF(SUM([FILL(q0, 0), FILL(q1, 0)]) > 0, 100 * SUM([FILL(e0, 0), FILL(e1, 0)]) / SUM([FILL(q0, 0), FILL(q1, 0)]), 0)");
    expect(alarms["web-5xx-rate"]).toMatchObject({ threshold: 5, evaluation_periods: 3, treat_missing_data: "notBreaching" });
  });

  test("CPU and memory above 80% for 5 minutes, unhealthy targets and p95 latency, plain metrics for a single series", () => {
    expect(alarms["api-cpu-high"]).toMatchObject({ namespace: "AWS/ECS", metric_name: "CPUUtilization", dimensions: { ClusterName: "fargate-prod-cluster", ServiceName: "fargate-prod-api" }, statistic: "Average", threshold: 80, evaluation_periods: 5 });
    expect(alarms["api-memory-high"]).toMatchObject({ metric_name: "MemoryUtilization", threshold: 80, evaluation_periods: 5 });
    expect(alarms["api-unhealthy-hosts"]).toMatchObject({ metric_name: "UnHealthyHostCount", dimensions: { LoadBalancer: LB, TargetGroup: api.targetGroupArnSuffixes![0] }, comparison_operator: "GreaterThanThreshold", threshold: 0 });
    expect(alarms["api-latency-p95"]).toMatchObject({ metric_name: "TargetResponseTime", extended_statistic: "p95", threshold: 1 });
    expect(queriesOf(alarms["web-unhealthy-hosts"]).result.expression).toBe("SUM([FILL(u0, 0), FILL(u1, 0)])");
    expect(alarmsOf(observedStack({ naming: new Naming("fargate", "develop"), environment: "develop" }, [api]).stack)["api-latency-p95"]).toMatchObject({ threshold: 2, evaluation_periods: 5 });
  });

  test("uses the thresholds the service gives", () => {
    const a = alarmsOf(observedStack({}, [api], { thresholds: { errorRatePercent: 2, latencyP95Sec: 0.5, cpuPercent: 65, memoryPercent: 70 } }).stack);
    expect([a["api-5xx-rate"].threshold, a["api-latency-p95"].threshold, a["api-cpu-high"].threshold, a["api-memory-high"].threshold]).toEqual([2, 0.5, 65, 70]);
  });

  test("exposes the deployment (rollback) alarms: errors and serving capacity, never load", () => {
    expect(apiAlarms.deploymentAlarms.map((a) => a.node.id)).toEqual(["tasks-below-desired", "unhealthy-hosts", "5xx-rate"]);
    expect(workerAlarms.deploymentAlarms.map((a) => a.node.id)).toEqual(["tasks-below-desired"]);
    expect(webAlarms.deploymentAlarms).toHaveLength(3);
  });

  test.each<[string, ObservedService, Partial<ServiceAlarmsProps>, RegExp]>([
    ["a service lists no ECS service", { ...worker, serviceNames: [] }, {}, /^serviceNames must list the ECS service\(s\) of "worker"; got none$/],
    ["target groups come without the ALB", api, { albArnSuffix: undefined }, /^target group metrics need the LoadBalancer dimension/],
    ["a target group suffix is a full ARN", { ...api, targetGroupArnSuffixes: [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/x/1`] }, {}, /^targetGroupArnSuffixes must be like "targetgroup\/<name>\/<id>"/],
    ["an internal service asks for an alarm on an ALB metric it cannot have", worker, { thresholds: { errorRatePercent: 1 } }, /^thresholds\.errorRatePercent needs ALB metrics .* which a service without a target group does not have; got 1 on an internal service/],
    ["a percentage exceeds 100", api, { thresholds: { cpuPercent: 120 } }, /^thresholds\.cpuPercent must be a percentage above 0 and at most 100; got 120$/],
  ])("refuses when %s", (_what, service, overrides, message) => {
    const { stack: s, serviceAlarms: [alarms] } = observedStack({}, [service], overrides);
    expect(alarms.node.validate()).toEqual([expect.stringMatching(message)]);
    expect(() => Testing.synth(s, true)).toThrow(/Validation failed with the following errors/);
  });
});

describe("ServiceDashboard", () => {
  const json = synthJson(observedStack().stack);

  test("builds <env>-<service>: requests, error rate, latency, targets, tasks, failures, utilisation, recent errors", () => {
    const body = JSON.parse(byName(json, "aws_cloudwatch_dashboard", "fargate-prod-api").dashboard_body);
    const widgets = Object.fromEntries(body.widgets.filter((w: any) => w.type !== "text").map((w: any) => [w.properties.title, w]));
    expect(Object.keys(widgets)).toEqual([
      "api alarms",
      "Requests per minute",
      "Error rate (target 5xx, % of requests)",
      "Latency (s)",
      "Targets: healthy / unhealthy",
      "Tasks: running / desired / pending",
      "Task failures (per 5 min)",
      "CPU / memory utilisation",
      "Recent errors of api",
    ]);
    expect(widgets["api alarms"].properties.alarms).toHaveLength(6);
    expect(widgets["Task failures (per 5 min)"].properties.metrics).toEqual([["fargate-prod", "TaskFailures", "Group", "service:fargate-prod-api", { stat: "Sum", label: "failures" }]]);
    expect(widgets["Recent errors of api"]).toMatchObject({ type: "log", properties: { query: expect.stringMatching(/^SOURCE '\/fargate\/prod\/ecs\/api' \| fields @timestamp/) } });
    expect(widgets["Error rate (target 5xx, % of requests)"].properties.annotations.horizontal).toEqual([{ label: "alarm", value: 5 }]);
  });

  test("an internal service's dashboard has no ALB widgets", () => {
    const body = JSON.parse(byName(json, "aws_cloudwatch_dashboard", "fargate-prod-worker").dashboard_body);
    expect(body.widgets.filter((w: any) => w.type !== "text").map((w: any) => w.properties.title)).toEqual(["worker alarms", "Tasks: running / desired / pending", "Task failures (per 5 min)", "CPU / memory utilisation", "Recent errors of worker"]);
  });
});

describe("ServiceLogMetrics", () => {
  test("counts the guide's error, performance and security patterns of the service's log group into the environment's series", () => {
    const json = synthJson(observedStack({}, [worker]).stack);
    const filters = resourcesOf(json, "aws_cloudwatch_log_metric_filter").filter(([, f]) => f.log_group_name === worker.logGroupName).map(([, f]) => [f.name, f.pattern, f.metric_transformation]);
    expect(filters).toEqual([
      ["application-errors", '?ERROR ?Exception ?Failed ?Timeout ?"Connection refused"', { namespace: "fargate-prod", name: "ApplicationErrors", value: "1", default_value: "0", unit: "Count" }],
      ["performance-issues", '?"Slow query" ?"High latency" ?Timeout ?"Request took"', { namespace: "fargate-prod", name: "PerformanceIssues", value: "1", default_value: "0", unit: "Count" }],
      ["security-events", '?Unauthorized ?Forbidden ?"Authentication failed" ?"Invalid token"', { namespace: "fargate-prod", name: "SecurityEvents", value: "1", default_value: "0", unit: "Count" }],
    ]);
  });
});
