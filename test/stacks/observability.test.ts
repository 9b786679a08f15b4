/**
 * Observability and database access as the real environments synthesize them: routing from
 * config, thresholds derived from config, every log group owned, no master password in any
 * service, the synth warning for environments whose critical alarms reach nobody.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing } from "cdktf";
import { loadConfig } from "../../environments";
import { EnvironmentConfig } from "../../environments/schema";
import { configWarnings } from "../../environments/warnings";
import { securityLogRetentionDays } from "../../environments/accounts";
import { PlatformStack, platformStackName } from "../../src/stacks/platform-stack";
import { runSynth } from "../../src/cli";
import { documentOf, resourcesOf } from "../modules/fixtures";

const loaded = loadConfig();
const env = (name: string): EnvironmentConfig => loaded.environments.find((e) => e.name === name)!;
const synth = (config: EnvironmentConfig) => JSON.parse(Testing.synth(new PlatformStack(Testing.app(), platformStackName(config), { config })));
const prod = synth(env("prod"));
const develop = synth(env("develop"));

const alarm = (json: any, name: string) => resourcesOf(json, "aws_cloudwatch_metric_alarm").find(([, a]) => a.alarm_name === name)?.[1];
const topicOf = (ref: string) => /observability_(critical|warning)-topic/.exec(ref)?.[1];
const containers = (json: any) => resourcesOf(json, "aws_ecs_task_definition").map(([, t]) => ({ family: t.family, ...JSON.parse(t.container_definitions)[0], executionRole: t.execution_role_arn, taskRole: t.task_role_arn }));
const roleName = (json: any, ref: string) => json.resource.aws_iam_role[/^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(ref)![1]].name;
const statementsOfRole = (json: any, name: string) =>
  resourcesOf(json, "aws_iam_role_policy")
    .filter(([, p]) => json.resource.aws_iam_role[/^\$\{aws_iam_role\.([^.]+)\.id\}$/.exec(p.role)![1]].name === name)
    .flatMap(([, p]) => documentOf(json, p.policy).statement);

describe("alarm routing from config", () => {
  test("prod pages its critical destinations and mails the shared warning list", () => {
    const subs = resourcesOf(prod, "aws_sns_topic_subscription").map(([, s]) => [topicOf(s.topic_arn), s.protocol, s.endpoint]).sort();
    expect(subs).toEqual([
      ["critical", "email", "oncall@example.com"],
      ["critical", "https", "https://pager.example.com/integration/sns"],
      ["warning", "email", "platform-team@example.com"],
    ]);
  });

  test("develop has no critical destination: the stack builds, and synth says so", () => {
    expect(resourcesOf(develop, "aws_sns_topic_subscription").map(([, s]) => topicOf(s.topic_arn))).toEqual(["warning"]);
    expect(configWarnings(env("develop"))).toEqual([expect.stringMatching(/^develop\.observability\.critical: critical alarms reach nobody/)]);
    expect(configWarnings(env("prod"))).toEqual([]);
  });

  test("npm run synth prints the warning of every environment whose critical alarms reach nobody, after a successful synth", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "obs-warn-"));
    const lines: string[] = [];
    try {
      // The environments as loaded; the stacks are left out so the test stays fast (the warnings come from the config).
      const code = runSynth({ outdir: path.join(out, "cdktf.out"), load: () => loaded, build: (_app: App) => undefined, stderr: { write: (s: string) => lines.push(s) > 0 }, stdout: { write: () => true } });
      expect(code).toBe(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    const warnings = lines.join("").split("\n").filter((l) => l.startsWith("warning: ") && l.includes(".observability.critical: "));
    expect(warnings.map((w) => w.split(".")[0])).toEqual(["warning: develop", "warning: test", "warning: qa"]);
  });

  test("pipeline approvals go to the warning topic, never to the pager", () => {
    const [[, pipeline]] = resourcesOf(prod, "aws_codepipeline").filter(([, p]) => p.name === "fargate-prod-api");
    const approval = pipeline.stage.flatMap((s: any) => s.action).find((a: any) => a.category === "Approval");
    expect(topicOf(approval.configuration.NotificationArn)).toBe("warning");
  });

  test("the outputs name both topics, the dashboards and the migrations", () => {
    expect(Object.keys(prod.output)).toEqual(expect.arrayContaining(["critical_topic_arn", "warning_topic_arn", "dashboards", "migrations", "grafana_url", "grafana_dashboard"]));
    expect(prod.output.dashboards.value).toEqual(["fargate-prod-cluster-overview", "fargate-prod-pipelines", "fargate-prod-api", "fargate-prod-worker"]);
    expect(Object.keys(develop.output)).not.toContain("grafana_url");
    // The import placeholder is escaped for Terraform; the target groups are references resolved at apply.
    const grafana = prod.output.grafana_dashboard.value;
    expect(grafana).toContain('"uid":"$${DS_CLOUDWATCH}"');
    expect(grafana).not.toMatch(/[^$]\$\{DS_CLOUDWATCH\}/);
    expect(grafana).toMatch(/"TargetGroup":"\$\{aws_lb_target_group\.services_api_routing_[\w-]+\.arn_suffix\}"/);
  });
});

describe("thresholds derived from config", () => {
  test("db-connections-high follows the instance class: 720 on prod's db.m7g.large, 89 on develop's db.t4g.micro", () => {
    expect(alarm(prod, "fargate-prod-db-connections-high").threshold).toBe(720);
    expect(alarm(develop, "fargate-develop-db-connections-high").threshold).toBe(89);
  });

  test("db-free-storage-low is a share of the instance's live allocated storage", () => {
    const [[id]] = resourcesOf(prod, "aws_db_instance");
    expect(alarm(prod, "fargate-prod-db-free-storage-low").threshold).toBe(`\${floor((aws_db_instance.${id}.allocated_storage * 53687091.2))}`);
  });

  test("prod confirms in 3 minutes, develop in 5; every alarm's severity picks its topic", () => {
    expect(alarm(prod, "fargate-prod-api-5xx-rate").evaluation_periods).toBe(3);
    expect(alarm(develop, "fargate-develop-api-5xx-rate").evaluation_periods).toBe(5);
    const alarms = resourcesOf(prod, "aws_cloudwatch_metric_alarm").map(([, a]) => a);
    expect(alarms.length).toBeGreaterThan(15);
    for (const a of alarms) expect([a.alarm_name, topicOf(a.alarm_actions[0])]).toEqual([a.alarm_name, a.tags.Severity]);
  });

  test("the deployment alarms a release rolls back on are the service's own alarms", () => {
    const alarmRef = (svc: string, purpose: string) => expect.stringMatching(new RegExp(`^\\$\\{aws_cloudwatch_metric_alarm\\.services_${svc}_alarms_${purpose}_\\w+\\.alarm_name\\}$`));
    expect(prod.output.releases.value.api.rollback_alarms).toEqual([alarmRef("api", "tasks-below-desired"), alarmRef("api", "unhealthy-hosts"), alarmRef("api", "5xx-rate")]);
    expect(prod.output.releases.value.worker.rollback_alarms).toEqual([alarmRef("worker", "tasks-below-desired")]);
  });
});

/** Retention of the platform's record log groups: the environment's, a year under a regulated Compliance tag (issue 10). */
const recordsRetention = (name: string) => securityLogRetentionDays(env(name).tags, env(name).logRetentionDays);

describe("every log group is the platform's", () => {
  test("RDS log exports land in groups the stack creates first, with the environment's retention and the logs key", () => {
    const [[, instance]] = resourcesOf(prod, "aws_db_instance");
    const groups = Object.fromEntries(resourcesOf(prod, "aws_cloudwatch_log_group").map(([id, g]) => [g.name, { id, ...g }]));
    const [[logsKeyId]] = resourcesOf(prod, "aws_kms_key").filter(([id]) => id.includes("logs-key"));
    for (const log of instance.enabled_cloudwatch_logs_exports) {
      const group = groups[`/aws/rds/instance/fargate-prod-postgres/${log}`];
      expect(group).toMatchObject({ retention_in_days: recordsRetention("prod"), kms_key_id: `\${aws_kms_key.${logsKeyId}.arn}` });
      expect(instance.depends_on).toContain(`aws_cloudwatch_log_group.${group.id}`);
    }
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
  });

  test("Container Insights writes into a group that exists before the cluster", () => {
    const [[, cluster]] = resourcesOf(prod, "aws_ecs_cluster");
    expect(cluster.setting).toEqual([{ name: "containerInsights", value: "enabled" }]);
    const [[id, group]] = resourcesOf(prod, "aws_cloudwatch_log_group").filter(([, g]) => g.name.startsWith("/aws/ecs/containerinsights/"));
    expect(group).toMatchObject({ name: "/aws/ecs/containerinsights/fargate-prod-cluster/performance", retention_in_days: recordsRetention("prod") });
    expect(cluster.depends_on).toContain(`aws_cloudwatch_log_group.${id}`);
  });

  test("every log group in every environment has a KMS key and the environment's retention (applications) or records retention (the rest)", () => {
    for (const [json, name] of [[prod, "prod"], [develop, "develop"]] as const) {
      const groups = resourcesOf(json, "aws_cloudwatch_log_group").map(([, g]) => g);
      expect(groups.length).toBeGreaterThan(5);
      for (const g of groups) {
        const days = /\/ecs\/[a-z0-9-]+$/.test(g.name) ? env(name).logRetentionDays : recordsRetention(name);
        expect([g.name, typeof g.kms_key_id, g.retention_in_days]).toEqual([g.name, "string", days]);
      }
    }
  });
});

describe("database access that survives rotation", () => {
  const all = containers(prod);
  const services = all.filter((c) => !c.family.endsWith("-migration"));
  const migrations = all.filter((c) => c.family.endsWith("-migration"));

  test("no service receives the master password or user; each connects as its own IAM-authenticated user", () => {
    expect(services.map((c) => c.family).sort()).toEqual(["fargate-prod-api", "fargate-prod-worker"]);
    for (const c of services) {
      expect(JSON.stringify(c.secrets)).not.toContain("master_user_secret");
      const env = Object.fromEntries(c.environment.map((e: any) => [e.name, e.value]));
      expect(env).toMatchObject({ DB_USER: `svc_${c.name}`, DB_AUTH: "iam", DB_PORT: "5432", DB_NAME: "app" });
      expect(Object.keys(env)).not.toEqual(expect.arrayContaining(["DB_PASSWORD"]));
    }
  });

  test("each client's task role may rds-db:connect as exactly its own user of exactly this instance", () => {
    const [[dbId]] = resourcesOf(prod, "aws_db_instance");
    for (const c of services) {
      const statements = statementsOfRole(prod, roleName(prod, c.taskRole)).filter((s: any) => s.actions.includes("rds-db:connect"));
      expect(statements).toEqual([expect.objectContaining({ actions: ["rds-db:connect"], resources: [`arn:aws:rds-db:us-east-1:${env("prod").accountId}:dbuser:\${aws_db_instance.${dbId}.resource_id}/svc_${c.name}`] })]);
    }
  });

  test("only each client's migration task reads the master secret, through its own execution role", () => {
    expect(migrations.map((c) => c.family).sort()).toEqual(["fargate-prod-api-migration", "fargate-prod-worker-migration"]);
    for (const m of migrations) {
      expect(m.secrets.map((s: any) => [s.name, s.valueFrom.replace(/^\$\{aws_db_instance\.[^.]+\./, "")])).toEqual([
        ["DB_MASTER_USERNAME", "master_user_secret[0].secret_arn}:username::"],
        ["DB_MASTER_PASSWORD", "master_user_secret[0].secret_arn}:password::"],
      ]);
      expect(m.taskRole).toBeUndefined();
      expect(roleName(prod, m.executionRole)).toBe(`${m.family}-execution`);
      expect(m).toMatchObject({ name: "migration", readonlyRootFilesystem: true, user: "1000", logConfiguration: { options: { "awslogs-stream-prefix": "migration" } } });
    }
    expect(migrations.find((m) => m.family === "fargate-prod-api-migration").command).toEqual(["python", "-m", "app.migrate"]);
    // The services' execution roles read their own secrets only.
    const readers = resourcesOf(prod, "aws_iam_role_policy").filter(([, p]) => JSON.stringify(documentOf(prod, p.policy)).includes("master_user_secret"));
    expect(readers.map(([id]) => id.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual(["services_api_migration_roles_execution-policy", "services_worker_migration_roles_execution-policy"]);
    expect(prod.output.migrations.value).toEqual({ api: { task_definition: "fargate-prod-api-migration", database_user: "svc_api" }, worker: { task_definition: "fargate-prod-worker-migration", database_user: "svc_worker" } });
  });
});
