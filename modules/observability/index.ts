import { Construct } from "constructs";
import { Fn, Lazy, Op, Token } from "cdktf";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchQueryDefinition } from "@cdktf/provider-aws/lib/cloudwatch-query-definition";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../lib/naming";
import { policyDocument } from "../../lib/iam-policy";
import { skipShortRetention } from "../../lib/checkov";
import { logRetentionProblem } from "../../lib/aws-limits";
import { instanceClassProblem, postgresMaxConnections } from "../../lib/rds-instance-classes";
import { AlarmSpec, AlarmTopics, RUNBOOK_DOC, Severity, createAlarms, keyed } from "./alarms";
import { ALB, LOGS_INSIGHTS_MAX_LOG_GROUPS, RDS, clusterOverviewWidgets, pipelinesDashboardWidgets } from "./dashboards";
import { LOG_PATTERNS, logPattern, recentEventsQuery } from "./log-patterns";
import { GrafanaAuthentication, ManagedGrafana, grafanaDashboard } from "./grafana";
import { ObservedService, albSuffixProblem, confirmationMinutes, known } from "./service";

export type { AlarmTopics, Severity } from "./alarms";
export { RUNBOOK_DOC } from "./alarms";
export type { ObservedService, ServiceAlarmsProps, ServiceDashboardProps, ServiceLogMetricsProps } from "./service";
export { DEPLOYMENT_ALARMS, ServiceAlarms, ServiceDashboard, ServiceLogMetrics, serviceAlarmSpecs, serviceThresholds } from "./service";
export type { DashboardWidget } from "./dashboards";
export { LOG_PATTERNS, METRIC_LOG_PATTERNS } from "./log-patterns";
export type { GrafanaAuthentication } from "./grafana";
export { ManagedGrafana, grafanaDashboard } from "./grafana";

/** The database to watch. */
export interface ObservedDatabase {
  /** RDS DB instance identifier. */
  readonly instanceId: string;
  /** Instance class: `max_connections` is derived from its memory (lib/rds-instance-classes.ts). */
  readonly instanceClass: string;
  /** Allocated storage in GiB as configured (the volume at creation). */
  readonly allocatedStorageGiB: number;
  /**
   * Storage autoscaling ceiling in GiB.
   * @default - allocatedStorageGiB (no storage autoscaling)
   */
  readonly maxAllocatedStorageGiB?: number;
  /**
   * The instance's live `allocated_storage` (a token), which follows storage autoscaling: the
   * free-storage threshold is then a share of the volume as it is, not as it was created.
   * @default - allocatedStorageGiB
   */
  readonly currentAllocatedStorageGiB?: number;
  /**
   * `max_connections` when a parameter group sets it.
   * @default - PostgreSQL's default for the class: LEAST(memory/9531392, 5000)
   */
  readonly maxConnections?: number;
}

/** Environment alarm thresholds; every one has a default from the guide or its reason. */
export interface AlarmThresholds {
  /** ALB-generated 5xx as a share of requests, percent. @default 5 */
  readonly elbErrorRatePercent?: number;
  /** Stopped-with-failure tasks in the cluster per 5 minutes above which it pages. @default 2 */
  readonly taskFailuresPer5Min?: number;
  /** Application error lines per minute (all services). @default 10 in prod, 50 elsewhere */
  readonly logErrorsPerMinute?: number;
  /** Security-event lines per minute (all services). @default 20 in prod, 100 elsewhere */
  readonly securityEventsPerMinute?: number;
  /** RDS CPU, percent. @default 80 */
  readonly databaseCpuPercent?: number;
  /** RDS connections as a share of max_connections, percent. @default 80 */
  readonly databaseConnectionsPercent?: number;
  /**
   * Free storage as a share of the allocated volume, percent.
   * @default 5 with storage autoscaling (below RDS's own 10% trigger: autoscaling did not keep up), 10 without
   */
  readonly databaseFreeStoragePercent?: number;
  /** Threshold lines on the overview's ECS widgets. @default 80 */
  readonly cpuPercent?: number;
  /** @default 80 */
  readonly memoryPercent?: number;
}

/** Who an alarm of one severity reaches. */
export interface AlarmDestinations {
  /**
   * Email addresses (each recipient confirms the subscription mail once).
   * @default []
   */
  readonly emails?: readonly string[];
  /**
   * HTTPS endpoints, e.g. a pager's SNS integration URL (PagerDuty and Opsgenie confirm
   * automatically).
   * @default []
   */
  readonly httpsEndpoints?: readonly string[];
}

export interface ObservabilityProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Account whose alarms and rules may publish to the topics. */
  readonly accountId: string;
  /** Region of the metrics (dashboard widgets and the topic policies). */
  readonly region: string;
  /**
   * AWS partition of the ARNs.
   * @default "aws"
   */
  readonly partition?: string;
  /** Environment name: labels, thresholds, which topic a pipeline failure reaches. */
  readonly environment: string;
  /**
   * KMS key that encrypts the topics. Its key policy must let `cloudwatch.amazonaws.com` and
   * `events.amazonaws.com` use it (kms:Decrypt, kms:GenerateDataKey*), or nothing is delivered.
   */
  readonly dataKmsKeyArn: string;
  /** KMS key of the log groups this construct owns (events, Container Insights). */
  readonly logsKmsKeyArn: string;
  /** Retention of those log groups (a CloudWatch-allowed value). */
  readonly logRetentionDays: number;
  /**
   * Critical alarms: pages, 24/7.
   * @default - nobody (the stack warns outside prod; the config refuses it in prod)
   */
  readonly critical?: AlarmDestinations;
  /**
   * Warning alarms: email, business hours.
   * @default - nobody
   */
  readonly warning?: AlarmDestinations;
  /** The ECS cluster: `name` as configured (a literal, so the Container Insights log group can exist before it), `arn`. */
  readonly cluster: { readonly name: string; readonly arn: string };
  /**
   * ARN suffix of the ALB (`app/<name>/<id>`).
   * @default - no ALB alarms (required when any service has target groups)
   */
  readonly albArnSuffix?: string;
  /**
   * Application services known at construction; more register with {@link Observability.watch}.
   * @default []
   */
  readonly services?: readonly ObservedService[];
  /**
   * The database.
   * @default - no database alarms or widgets
   */
  readonly database?: ObservedDatabase;
  /**
   * The environment delivers through pipelines: pipeline-failure and build-failure rules, the
   * pipelines dashboard.
   * @default false
   */
  readonly pipelines?: boolean;
  /**
   * Saved Logs Insights queries (aws_cloudwatch_query_definition).
   * @default true
   */
  readonly savedQueries?: boolean;
  /**
   * Amazon Managed Grafana workspace for this environment.
   * @default - none
   */
  readonly grafana?: { readonly authenticationProviders: readonly GrafanaAuthentication[] };
  /** @default - the defaults of AlarmThresholds */
  readonly thresholds?: AlarmThresholds;
}

const GIB = 1024 * 1024 * 1024;

/**
 * Alarm routing (a critical and a warning topic), the environment's alarms and rules, its
 * event and Container Insights log groups, the `<env>-cluster-overview` and `<env>-pipelines`
 * dashboards, saved Logs Insights queries and, optionally, Managed Grafana. Each service's own
 * alarms, dashboard and log metric filters live in its construct (ServiceAlarms,
 * ServiceDashboard, ServiceLogMetrics), on these topics and this namespace.
 */
export class Observability extends Construct {
  /** Pages (the guide's "Critical Alarms (PagerDuty)"). KMS-encrypted; only this account's alarms and rules publish. */
  public readonly criticalTopic: SnsTopic;
  /** Email, business hours (the guide's "Warning Alarms (Email)"). */
  public readonly warningTopic: SnsTopic;
  /** Both topics by severity, for the services' alarms. */
  public readonly topics: AlarmTopics;
  /** Subscriptions by severity (email ones stay PendingConfirmation until each recipient confirms). */
  public readonly subscriptions: Readonly<Record<Severity, readonly SnsTopicSubscription[]>>;
  /** Namespace of the platform's own metrics (task failures, pipeline executions, log patterns). */
  public readonly metricsNamespace: string;
  /** Environment alarms by purpose, e.g. `alb-5xx-rate`, `cluster-task-failures`, `db-free-storage-low`. */
  public readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  /** EventBridge rules by purpose: `task-failures`, and with pipelines `pipeline-executions`, `pipeline-failed`, `pipeline-succeeded`, `build-failed` (non-prod). */
  public readonly rules: Readonly<Record<string, CloudwatchEventRule>>;
  /** `/aws/events/<stem>`: the events the rules keep (task failures, pipeline executions). */
  public readonly eventsLogGroup: CloudwatchLogGroup;
  /** `/aws/ecs/containerinsights/<cluster>/performance`, created before the cluster so ECS never creates it. */
  public readonly containerInsightsLogGroup: CloudwatchLogGroup;
  public readonly clusterOverview: CloudwatchDashboard;
  /** Absent without pipelines. */
  public readonly pipelinesDashboard?: CloudwatchDashboard;
  /** Saved queries by key (the guide's four pattern groups, `recent-errors-of-one-service`). */
  public readonly queries: Readonly<Record<string, CloudwatchQueryDefinition>>;
  public readonly grafana?: ManagedGrafana;
  /** Grafana import JSON of the target-health dashboard (services resolved at synth). Absent without Grafana. */
  public readonly grafanaDashboardJson?: string;

  private readonly watched: ObservedService[] = [];

  /** Adds services to the environment dashboards and queries (their alarms live in their own constructs). */
  public watch(services: readonly ObservedService[]): void {
    this.watched.push(...services);
  }

  /** Every watched service (construction-time ones first). */
  public get services(): readonly ObservedService[] {
    return [...(this.props.services ?? []), ...this.watched];
  }

  constructor(scope: Construct, id: string, private readonly props: ObservabilityProps) {
    super(scope, id);
    validate(this, props, () => this.services);
    const { naming, accountId, region, environment } = props;
    const partition = props.partition ?? "aws";
    const prod = environment === "prod";
    this.metricsNamespace = naming.stem;

    this.criticalTopic = new SnsTopic(this, "critical-topic", {
      name: naming.name("generic", "alarms-critical"),
      displayName: `${naming.stem} CRITICAL`,
      kmsMasterKeyId: props.dataKmsKeyArn,
    });
    this.warningTopic = new SnsTopic(this, "warning-topic", {
      name: naming.name("generic", "alarms-warning"),
      displayName: `${naming.stem} warning`,
      kmsMasterKeyId: props.dataKmsKeyArn,
    });
    this.topics = { critical: this.criticalTopic.arn, warning: this.warningTopic.arn };
    this.subscriptions = {
      critical: subscribe(this, "critical", this.criticalTopic, props.critical),
      warning: subscribe(this, "warning", this.warningTopic, props.warning),
    };

    // --- Events: what EventBridge sees and CloudWatch cannot count on its own ------------
    this.eventsLogGroup = new CloudwatchLogGroup(this, "events-log-group", {
      name: `/aws/events/${naming.stem}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    this.containerInsightsLogGroup = new CloudwatchLogGroup(this, "container-insights-log-group", {
      name: `/aws/ecs/containerinsights/${props.cluster.name}/performance`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    for (const group of [this.eventsLogGroup, this.containerInsightsLogGroup]) {
      skipShortRetention(group, props.logRetentionDays, "retention is the environment config value from the deployment guide (7, 30 or 90 days)");
    }

    const rules: Record<string, CloudwatchEventRule> = {};
    const rule = (key: string, description: string, pattern: object) =>
      (rules[key] = new CloudwatchEventRule(this, `${key}-rule`, { name: naming.name("generic", key), description, eventPattern: JSON.stringify(pattern) }));
    const toTopic: Record<Severity, CloudwatchEventRule[]> = { critical: [], warning: [] };
    const toLogs: CloudwatchEventRule[] = [];

    // EventBridge cannot count ("more than 2 in 5 minutes"), so failures land in a log group
    // whose metric filter counts them per ECS service group, and an alarm does the arithmetic.
    const taskFailures = rule("task-failures", `${naming.stem}: ECS service tasks that stopped with a failure`, {
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: {
        clusterArn: [props.cluster.arn],
        lastStatus: ["STOPPED"],
        // Services only: a one-off task (a migration) that exits is not a failure of a service.
        group: [{ prefix: "service:" }],
        $or: [{ stopCode: ["TaskFailedToStart", "EssentialContainerExited"] }, { stoppedReason: [{ prefix: "Task failed" }] }],
      },
    });
    toLogs.push(taskFailures);

    if (props.pipelines) {
      const pipelinePrefix = `${naming.stem}-`;
      toLogs.push(
        rule("pipeline-executions", `${naming.stem}: pipeline executions that ended (deployment frequency, failure rate)`, {
          source: ["aws.codepipeline"],
          "detail-type": ["CodePipeline Pipeline Execution State Change"],
          detail: { pipeline: [{ prefix: pipelinePrefix }], state: ["SUCCEEDED", "FAILED"] },
        }),
      );
      const pipelineSeverity: Severity = prod ? "critical" : "warning";
      toTopic[pipelineSeverity].push(
        rule("pipeline-failed", `${naming.stem}: a pipeline execution failed (${pipelineSeverity})`, {
          source: ["aws.codepipeline"],
          "detail-type": ["CodePipeline Pipeline Execution State Change"],
          detail: { pipeline: [{ prefix: pipelinePrefix }], state: ["FAILED"] },
        }),
      );
      // Releases that reached every stage: the team hears of each one (email, never a page).
      toTopic.warning.push(
        rule("pipeline-succeeded", `${naming.stem}: a pipeline execution succeeded (release notice)`, {
          source: ["aws.codepipeline"],
          "detail-type": ["CodePipeline Pipeline Execution State Change"],
          detail: { pipeline: [{ prefix: pipelinePrefix }], state: ["SUCCEEDED"] },
        }),
      );
      // The guide: build failures of non-production; in prod a failed build fails the pipeline, which pages.
      if (!prod) {
        toTopic.warning.push(
          rule("build-failed", `${naming.stem}: a CodeBuild build failed (warning)`, {
            source: ["aws.codebuild"],
            "detail-type": ["CodeBuild Build State Change"],
            detail: { "project-name": [{ prefix: pipelinePrefix }], "build-status": ["FAILED"] },
          }),
        );
      }
    }
    this.rules = rules;

    for (const r of toLogs) {
      new CloudwatchEventTarget(this, `${r.node.id.replace(/-rule$/, "")}-to-logs`, { rule: r.name, arn: this.eventsLogGroup.arn });
    }
    for (const severity of ["critical", "warning"] as const) {
      for (const r of toTopic[severity]) {
        const key = r.node.id.replace(/-rule$/, "");
        const [what, inputPaths] =
          key === "build-failed"
            ? ["Build <project> <build> <status>", { project: "$.detail.project-name", build: "$.detail.build-id", status: "$.detail.build-status" }]
            : ["Pipeline <pipeline> execution <execution> <state>", { pipeline: "$.detail.pipeline", execution: "$.detail.execution-id", state: "$.detail.state" }];
        new CloudwatchEventTarget(this, `${key}-to-topic`, {
          rule: r.name,
          arn: this.topics[severity],
          inputTransformer: {
            inputPaths: { ...inputPaths, time: "$.time" },
            inputTemplate: JSON.stringify(`[${environment}][${severity}] ${what} at <time>. Runbook: ${RUNBOOK_DOC}#${key}`),
          },
        });
      }
    }
    new CloudwatchLogResourcePolicy(this, "events-log-policy", {
      policyName: naming.name("generic", "events-to-logs"),
      policyDocument: policyDocument(this, "events-log-policy-document", [
        {
          sid: "ThisEnvironmentsRulesWriteEvents",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${this.eventsLogGroup.arn}:*`],
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }],
          condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: toLogs.map((r) => r.arn) }],
        },
      ]),
    });

    const ns = this.metricsNamespace;
    const eventMetric = (key: string, pattern: string, metricName: string, dimension: [string, string]) =>
      new CloudwatchLogMetricFilter(this, key, {
        name: key,
        logGroupName: this.eventsLogGroup.name,
        pattern,
        metricTransformation: { namespace: ns, name: metricName, value: "1", unit: "Count", dimensions: { [dimension[0]]: dimension[1] } },
      });
    eventMetric("task-failures-metric", '{ $.source = "aws.ecs" }', "TaskFailures", ["Group", "$.detail.group"]);
    if (props.pipelines) {
      eventMetric("pipeline-succeeded-metric", '{ ($.source = "aws.codepipeline") && ($.detail.state = "SUCCEEDED") }', "PipelineExecutionsSucceeded", ["Pipeline", "$.detail.pipeline"]);
      eventMetric("pipeline-failed-metric", '{ ($.source = "aws.codepipeline") && ($.detail.state = "FAILED") }', "PipelineExecutionsFailed", ["Pipeline", "$.detail.pipeline"]);
    }

    // --- Alarms ----------------------------------------------------------------------
    this.alarms = createAlarms(new Construct(this, "alarms"), alarmSpecs(props, ns), naming, environment, this.topics);
    for (const severity of ["critical", "warning"] as const) {
      topicPolicy(this, severity, severity === "critical" ? this.criticalTopic : this.warningTopic, { accountId, region, partition, rules: toTopic[severity] });
    }

    // --- Dashboards and saved queries ---------------------------------------------------
    const t = props.thresholds ?? {};
    const shown = { cpuPercent: t.cpuPercent ?? 80, memoryPercent: t.memoryPercent ?? 80 };
    const db = props.database;
    this.clusterOverview = new CloudwatchDashboard(this, "cluster-overview", {
      dashboardName: naming.name("generic", "cluster-overview"),
      // Services register after this construct exists (they alarm on its topics): see watch().
      dashboardBody: Lazy.stringValue({
        produce: () =>
          JSON.stringify({
            widgets: clusterOverviewWidgets({
              stem: naming.stem,
              environment,
              region,
              namespace: ns,
              albArnSuffix: props.albArnSuffix,
              services: this.services,
              database: db && { instanceId: db.instanceId, maxConnections: maxConnectionsOf(db), connectionsThreshold: connectionsThreshold(db, t) },
              alarmArns: Object.values(this.alarms).map((a) => a.arn),
              thresholds: shown,
            }),
          }),
      }),
    });
    if (props.pipelines) {
      this.pipelinesDashboard = new CloudwatchDashboard(this, "pipelines", {
        dashboardName: naming.name("generic", "pipelines"),
        dashboardBody: Lazy.stringValue({
          produce: () =>
            JSON.stringify({
              widgets: pipelinesDashboardWidgets({
                stem: naming.stem,
                environment,
                region,
                namespace: ns,
                pipelines: this.services.flatMap((s) => (s.pipeline ? [{ service: s.name, ...s.pipeline }] : [])),
              }),
            }),
        }),
      });
    }

    const queries: Record<string, CloudwatchQueryDefinition> = {};
    if (props.savedQueries ?? true) {
      const serviceLogGroups = Lazy.listValue({ produce: () => this.services.map((s) => s.logGroupName) });
      for (const p of LOG_PATTERNS) {
        queries[p.key] = new CloudwatchQueryDefinition(this, `${p.key}-query`, {
          name: `${naming.stem}/${p.key}`,
          logGroupNames: serviceLogGroups,
          queryString: recentEventsQuery(p),
        });
      }
      // No log group preselected: pick the one service's group (/<project>/<env>/ecs/<service>) when running it.
      queries["recent-errors-of-one-service"] = new CloudwatchQueryDefinition(this, "recent-errors-of-one-service-query", {
        name: `${naming.stem}/recent-errors-of-one-service`,
        queryString: recentEventsQuery(logPattern("application-errors"), 50),
      });
    }
    this.queries = queries;

    if (props.grafana) {
      this.grafana = new ManagedGrafana(this, "grafana", { naming, accountId, region, authenticationProviders: props.grafana.authenticationProviders });
      this.grafanaDashboardJson = Lazy.stringValue({
        // `$${...}`: Terraform would read the import placeholder as an interpolation.
        produce: () => JSON.stringify(grafanaDashboard({ title: `${naming.stem} target health`, region, albArnSuffix: props.albArnSuffix, services: this.services })).replace(/\$\{DS_CLOUDWATCH\}/g, "$$${DS_CLOUDWATCH}"),
      });
    }
  }
}

/** One subscription per destination, addressed by the destination itself (order never moves one). */
function subscribe(scope: Construct, severity: Severity, topic: SnsTopic, to: AlarmDestinations | undefined): SnsTopicSubscription[] {
  const endpoints: [string, string][] = [...(to?.emails ?? []).map((e): [string, string] => ["email", e]), ...(to?.httpsEndpoints ?? []).map((u): [string, string] => ["https", u])];
  return endpoints.map(
    ([protocol, endpoint]) => new SnsTopicSubscription(scope, `${severity}-${protocol}-${endpointId(endpoint)}`, { topicArn: topic.arn, protocol, endpoint }),
  );
}

/** An injective, construct-ID-safe spelling of an endpoint (`/` is not allowed in IDs). */
function endpointId(endpoint: string): string {
  return endpoint.replace(/[^A-Za-z0-9@.-]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`);
}

/** Only this account's alarms, and only this environment's rules that target the topic, publish. */
function topicPolicy(scope: Construct, severity: Severity, topic: SnsTopic, at: { accountId: string; region: string; partition: string; rules: readonly CloudwatchEventRule[] }): void {
  const publishBy = (sid: string, service: string, test: "ArnLike" | "ArnEquals", sources: string[]): DataAwsIamPolicyDocumentStatement => ({
    sid,
    effect: "Allow",
    actions: ["sns:Publish"],
    resources: [topic.arn],
    principals: [{ type: "Service", identifiers: [service] }],
    condition: [
      { test: "StringEquals", variable: "aws:SourceAccount", values: [at.accountId] },
      { test, variable: "aws:SourceArn", values: sources },
    ],
  });
  const statements = [publishBy("CloudWatchAlarmsOfThisAccountPublish", "cloudwatch.amazonaws.com", "ArnLike", [`arn:${at.partition}:cloudwatch:${at.region}:${at.accountId}:alarm:*`])];
  if (at.rules.length) statements.push(publishBy("ThisEnvironmentsRulesPublish", "events.amazonaws.com", "ArnEquals", at.rules.map((r) => r.arn)));
  new SnsTopicPolicy(scope, `${severity}-topic-policy`, { arn: topic.arn, policy: policyDocument(scope, `${severity}-topic-policy-document`, statements) });
}

function maxConnectionsOf(db: ObservedDatabase): number {
  return db.maxConnections ?? postgresMaxConnections(db.instanceClass);
}

function connectionsThreshold(db: ObservedDatabase, t: AlarmThresholds): number {
  return Math.floor((maxConnectionsOf(db) * (t.databaseConnectionsPercent ?? 80)) / 100);
}

/** Free-storage share: below RDS storage autoscaling's own trigger (10% free) when it can grow. */
export function freeStoragePercent(db: ObservedDatabase, t: AlarmThresholds): number {
  return t.databaseFreeStoragePercent ?? ((db.maxAllocatedStorageGiB ?? db.allocatedStorageGiB) > db.allocatedStorageGiB ? 5 : 10);
}

/** Every environment alarm, each with its deliberate severity and missing-data treatment. */
export function alarmSpecs(props: ObservabilityProps, namespace: string): AlarmSpec[] {
  const prod = props.environment === "prod";
  const t = props.thresholds ?? {};
  const minutes = confirmationMinutes(props.environment);
  const specs: AlarmSpec[] = [];
  const lb = props.albArnSuffix;

  if (lb) {
    // 503s for a rule without a healthy target never reach RequestCount, so they join the denominator.
    const metrics = keyed("m", [
      { namespace: ALB, metricName: "HTTPCode_ELB_5XX_Count", dimensions: { LoadBalancer: lb }, stat: "Sum" },
      { namespace: ALB, metricName: "RequestCount", dimensions: { LoadBalancer: lb }, stat: "Sum" },
    ]);
    const total = "(FILL(m0, 0) + FILL(m1, 0))";
    const rate = t.elbErrorRatePercent ?? 5;
    specs.push({
      key: "alb-5xx-rate",
      severity: "critical",
      runbook: "alb-5xx-rate",
      description: `The ALB itself answers 5xx (no healthy target, target timeouts or resets) for more than ${rate}% of requests, ${minutes} minutes.`,
      metrics,
      expression: `IF(${total} > 0, 100 * FILL(m0, 0) / ${total}, 0)`,
      comparison: "GreaterThanThreshold",
      threshold: rate,
      periodSec: 60,
      evaluationPeriods: minutes,
      // Count metrics are only published when non-zero: no data means no errors.
      treatMissingData: "notBreaching",
    });
  }

  const failures = t.taskFailuresPer5Min ?? 2;
  specs.push({
    key: "cluster-task-failures",
    severity: "critical",
    runbook: "cluster-task-failures",
    description: `More than ${failures} service tasks stopped with a failure in 5 minutes (ECS task state changes counted from /aws/events/${props.naming.stem}).`,
    metrics: {},
    // Metrics Insights sums every service group's series (the filter's Group dimension).
    expression: `SELECT SUM(TaskFailures) FROM SCHEMA("${namespace}", "Group")`,
    comparison: "GreaterThanThreshold",
    threshold: failures,
    periodSec: 300,
    evaluationPeriods: 1,
    // Published only when a task fails.
    treatMissingData: "notBreaching",
  });

  const perMinute = (key: string, metricName: string, limit: number, what: string): AlarmSpec => ({
    key,
    severity: "warning",
    runbook: key,
    description: `More than ${limit} ${what} log lines per minute across the services for ${minutes} minutes (the guide's pattern; metric filters on every service log group).`,
    metrics: { m0: { namespace, metricName, dimensions: {}, stat: "Sum" } },
    comparison: "GreaterThanThreshold",
    threshold: limit,
    periodSec: 60,
    evaluationPeriods: minutes,
    treatMissingData: "notBreaching",
  });
  specs.push(
    perMinute("logs-application-errors", "ApplicationErrors", t.logErrorsPerMinute ?? (prod ? 10 : 50), "application-error"),
    perMinute("logs-security-events", "SecurityEvents", t.securityEventsPerMinute ?? (prod ? 20 : 100), "security-event"),
  );

  const db = props.database;
  if (db && !instanceClassProblem(db.instanceClass)) specs.push(...databaseAlarmSpecs(db, t));
  return specs;
}

function databaseAlarmSpecs(db: ObservedDatabase, t: AlarmThresholds): AlarmSpec[] {
  const dims = { DBInstanceIdentifier: db.instanceId };
  const maxConnections = maxConnectionsOf(db);
  const connectionsPercent = t.databaseConnectionsPercent ?? 80;
  const share = freeStoragePercent(db, t);
  const current = db.currentAllocatedStorageGiB;
  const freeBytes = current !== undefined && Token.isUnresolved(current) ? Fn.floor(Token.asNumber(Op.mul(current, (GIB * share) / 100))) : Math.floor(((current ?? db.allocatedStorageGiB) * GIB * share) / 100);
  const derivation = db.maxConnections !== undefined ? "as configured" : `LEAST(memory of ${db.instanceClass} / 9531392, 5000)`;
  return [
    {
      key: "db-cpu-high",
      severity: "warning",
      runbook: "db-cpu-high",
      description: `Database CPU above ${t.databaseCpuPercent ?? 80}% for 10 minutes.`,
      metrics: { m0: { namespace: RDS, metricName: "CPUUtilization", dimensions: dims, stat: "Average" } },
      comparison: "GreaterThanThreshold",
      threshold: t.databaseCpuPercent ?? 80,
      periodSec: 60,
      evaluationPeriods: 10,
      // RDS publishes every minute while available; a gap (reboot, failover) keeps the last state.
      treatMissingData: "missing",
    },
    {
      key: "db-free-storage-low",
      severity: "critical",
      runbook: "db-free-storage-low",
      description: `Database free storage below ${share}% of the allocated volume (today's allocated_storage; autoscaling up to ${db.maxAllocatedStorageGiB ?? db.allocatedStorageGiB} GiB).`,
      metrics: { m0: { namespace: RDS, metricName: "FreeStorageSpace", dimensions: dims, stat: "Minimum" } },
      comparison: "LessThanThreshold",
      threshold: freeBytes,
      periodSec: 300,
      evaluationPeriods: 1,
      treatMissingData: "missing",
    },
    {
      key: "db-connections-high",
      severity: "warning",
      runbook: "db-connections-high",
      description: `Database connections above ${connectionsPercent}% of max_connections ${maxConnections} (${derivation}) for 5 minutes.`,
      metrics: { m0: { namespace: RDS, metricName: "DatabaseConnections", dimensions: dims, stat: "Maximum" } },
      comparison: "GreaterThanThreshold",
      threshold: connectionsThreshold(db, t),
      periodSec: 60,
      evaluationPeriods: 5,
      treatMissingData: "missing",
    },
  ];
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Every problem at once (reported by synth with the construct path). */
function validate(scope: Construct, props: ObservabilityProps, services: () => readonly ObservedService[]): void {
  scope.node.addValidation({
    validate: () => {
      const problems: (string | undefined)[] = [];
      if (!props.environment) problems.push(`environment must name the environment (labels and thresholds); got ${JSON.stringify(props.environment)}`);
      for (const severity of ["critical", "warning"] as const) {
        const to = props[severity] ?? {};
        (to.emails ?? []).forEach((email, i) => {
          if (known(email) && !EMAIL.test(email)) problems.push(`${severity}.emails[${i}] is not an email address; got ${JSON.stringify(email)}`);
        });
        (to.httpsEndpoints ?? []).forEach((url, i) => {
          if (known(url) && !/^https:\/\/[^\s/@]+(\/\S*)?$/.test(url)) problems.push(`${severity}.httpsEndpoints[${i}] must be an https:// URL without credentials; got ${JSON.stringify(url)}`);
        });
      }
      if (Token.isUnresolved(props.cluster.name)) {
        problems.push(`cluster.name must be the cluster's configured name (a literal), not its attribute; got a Terraform reference; the Container Insights log group is named after it and must exist before the cluster (pass cluster.nameInput)`);
      }
      const retention = logRetentionProblem(props.logRetentionDays);
      if (retention) problems.push(`logRetentionDays ${retention}`);
      problems.push(albSuffixProblem(props.albArnSuffix));
      const all = services();
      all.forEach((svc, i) => {
        if ((svc.targetGroupArnSuffixes ?? []).length && props.albArnSuffix === undefined) {
          problems.push(`services[${i}] ("${svc.name}") has target groups but albArnSuffix is missing; target group metrics need the LoadBalancer dimension; pass the ALB's arn_suffix`);
        }
      });
      if ((props.savedQueries ?? true) && all.length > LOGS_INSIGHTS_MAX_LOG_GROUPS) {
        problems.push(`Logs Insights queries read at most ${LOGS_INSIGHTS_MAX_LOG_GROUPS} log groups; got ${all.length} services; split the environment or turn savedQueries off`);
      }
      const db = props.database;
      if (db) {
        const classProblem = instanceClassProblem(db.instanceClass);
        if (classProblem) problems.push(`database.instanceClass ${classProblem}`);
        if (!Number.isInteger(db.allocatedStorageGiB) || db.allocatedStorageGiB < 1) problems.push(`database.allocatedStorageGiB must be a positive whole number of GiB; got ${db.allocatedStorageGiB}`);
        if (db.maxConnections !== undefined && (!Number.isInteger(db.maxConnections) || db.maxConnections < 1)) problems.push(`database.maxConnections must be a positive whole number; got ${db.maxConnections}`);
      }
      const t = props.thresholds ?? {};
      for (const key of ["elbErrorRatePercent", "databaseCpuPercent", "databaseConnectionsPercent", "databaseFreeStoragePercent", "cpuPercent", "memoryPercent"] as const) {
        const v = t[key];
        if (v !== undefined && !(v > 0 && v <= 100)) problems.push(`thresholds.${key} must be a percentage above 0 and at most 100; got ${v}`);
      }
      for (const key of ["taskFailuresPer5Min", "logErrorsPerMinute", "securityEventsPerMinute"] as const) {
        const v = t[key];
        if (v !== undefined && !(v >= 0)) problems.push(`thresholds.${key} must be 0 or more; got ${v}`);
      }
      return problems.filter((p): p is string => p !== undefined);
    },
  });
}
