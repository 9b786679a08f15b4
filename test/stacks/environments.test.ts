import { Testing } from "cdktf";
import { loadConfig } from "../../environments";
import { EnvironmentConfig } from "../../environments/schema";
import { PlatformStack, platformStackName, stateKey } from "../../src/stacks/platform-stack";
import { parseValid, baseInput, resourcesOf } from "../helpers";

const { environments } = loadConfig();

function synthEnv(config: EnvironmentConfig) {
  const app = Testing.app();
  const stack = new PlatformStack(app, platformStackName(config), { config });
  return JSON.parse(Testing.synth(stack));
}

const synthesized = Object.fromEntries(environments.map((env) => [env.name, synthEnv(env)]));

describe("PlatformStack per environment", () => {
  test.each(environments.map((e) => [e.name, e] as const))("%s: provider pinned to its account, region and mandatory tags", (_name, env) => {
    const [provider] = synthesized[env.name].provider.aws;
    expect(provider.region).toBe(env.region);
    expect(provider.allowed_account_ids).toEqual([env.accountId]);
    expect(provider.default_tags[0].tags).toMatchObject({
      Environment: env.name,
      Owner: env.tags.Owner,
      CostCenter: env.tags.CostCenter,
      Compliance: env.tags.Compliance,
      Project: "fargate",
      ManagedBy: "cdktf",
    });
  });

  test.each(environments.map((e) => [e.name, e] as const))("%s: S3 backend with its own key, the LockID table and KMS, all in the state account", (_name, env) => {
    expect(synthesized[env.name].terraform.backend.s3).toEqual({
      bucket: "fargate-tfstate-123456789012-us-east-1",
      key: `fargate/${env.name}/terraform.tfstate`,
      region: "us-east-1",
      dynamodb_table: "fargate-tfstate-lock",
      encrypt: true,
      // The state key lives in the state account, not in the environment's (111111111111 / 222222222222).
      kms_key_id: "arn:aws:kms:us-east-1:123456789012:alias/fargate-tfstate",
      // The state account differs from the environment's: the backend assumes its state-access role there.
      assume_role: { role_arn: `arn:aws:iam::123456789012:role/fargate-tfstate-${env.account}`, session_name: `fargate-${env.account}` },
    });
  });

  test("every environment's state key is its own", () => {
    const keys = environments.map((e) => synthesized[e.name].terraform.backend.s3.key);
    expect(new Set(keys).size).toBe(environments.length);
    expect(keys).toEqual(environments.map(stateKey));
  });

  test("S3-native locking is an explicit option next to the table", () => {
    const input = baseInput();
    input.stateBackend.useLockfile = true;
    const backend = synthEnv(parseValid(input)).terraform.backend.s3;
    expect(backend).toMatchObject({ use_lockfile: true, dynamodb_table: "fargate-tfstate-lock" });
  });

  test("develop: no NAT, 2 AZs, tasks in public subnets", () => {
    const out = synthesized.develop;
    expect(resourcesOf(out, "aws_nat_gateway")).toHaveLength(0);
    expect(new Set(resourcesOf(out, "aws_subnet").map(([, s]) => s.availability_zone))).toEqual(new Set(["us-east-1a", "us-east-1b"]));
  });

  test("test: a single NAT gateway in 2 AZs", () => {
    expect(resourcesOf(synthesized.test, "aws_nat_gateway")).toHaveLength(1);
    expect(resourcesOf(synthesized.test, "aws_subnet")).toHaveLength(6);
  });

  test("qa: single NAT, 3 AZs and VPC endpoints", () => {
    expect(resourcesOf(synthesized.qa, "aws_nat_gateway")).toHaveLength(1);
    expect(resourcesOf(synthesized.qa, "aws_subnet")).toHaveLength(9);
    expect(resourcesOf(synthesized.qa, "aws_vpc_endpoint")).toHaveLength(7);
  });

  test("prod: a NAT gateway per AZ, each AZ routed through its own", () => {
    const out = synthesized.prod;
    expect(resourcesOf(out, "aws_nat_gateway")).toHaveLength(3);
    const natRoutes = resourcesOf(out, "aws_route").filter(([, r]) => r.nat_gateway_id);
    expect(new Set(natRoutes.map(([, r]) => r.route_table_id)).size).toBe(3);
  });

  test("application logs keep the guide's 7/30/30/90 days; security and change records a year under the NIST-SOC2 tag", () => {
    const retention = (env: string, match: (name: string) => boolean) =>
      [...new Set(resourcesOf(synthesized[env], "aws_cloudwatch_log_group").filter(([, g]) => match(g.name)).map(([, g]) => g.retention_in_days))];
    const appLogs = (name: string) => /^\/fargate\/[a-z]+\/ecs\/(api|worker)$/.test(name);
    const records = (name: string) => /vpc-flow-logs|codebuild|\/aws\/rds\/|\/aws\/events\/|^aws-waf-logs-/.test(name);
    expect(environments.map((e) => [e.name, retention(e.name, appLogs)])).toEqual([["develop", [7]], ["test", [30]], ["qa", [30]], ["prod", [90]]]);
    for (const env of environments) {
      expect(env.tags.Compliance).toBe("NIST-SOC2");
      expect(retention(env.name, records)).toEqual([365]);
    }
  });

  test("uses no data source that calls AWS at plan time", () => {
    for (const env of environments) {
      const dataTypes = Object.keys(synthesized[env.name].data ?? {});
      expect(dataTypes.filter((t) => t !== "aws_iam_policy_document")).toEqual([]);
    }
  });

  test("KMS keys rotate and have aliases in the environment's namespace", () => {
    const out = synthesized.prod;
    const keys = resourcesOf(out, "aws_kms_key").map(([, k]) => k);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(keys.every((k) => k.enable_key_rotation === true)).toBe(true);
    expect(resourcesOf(out, "aws_kms_alias").map(([, a]) => a.name)).toEqual(expect.arrayContaining(["alias/fargate-prod-logs", "alias/fargate-prod-data"]));
  });

  test("the release flow per environment: develop builds and deploys itself; test builds once and deploys test then QA; QA has no pipeline; prod promotes after approval", () => {
    const stages = (env: string) =>
      Object.fromEntries(resourcesOf(synthesized[env], "aws_codepipeline").map(([, p]) => [p.tags.Service, p.stage.map((st: any) => st.name)]));
    expect(stages("develop")).toEqual({ api: ["Source", "Build", "Deploy-develop"], worker: ["Source", "Build", "Deploy-develop"] });
    expect(stages("test")).toEqual({ api: ["Source", "Build", "Deploy-test", "Deploy-qa", "Release"], worker: ["Source", "Build", "Deploy-test", "Deploy-qa", "Release"] });
    expect(stages("qa")).toEqual({});
    expect(stages("prod")).toEqual({ api: ["Source", "Resolve", "Approval", "Deploy-prod"], worker: ["Source", "Resolve", "Approval", "Deploy-prod"] });
    // Only test and develop build images; prod never does.
    const projects = (env: string) => resourcesOf(synthesized[env], "aws_codebuild_project").map(([, p]) => p.name).sort();
    expect(projects("prod")).toEqual(["fargate-prod-api-release", "fargate-prod-worker-release"]);
    expect(projects("qa")).toEqual([]);
    expect(projects("test")).toEqual(["fargate-test-api-build", "fargate-test-api-release", "fargate-test-worker-build", "fargate-test-worker-release"]);
    // A database client's releases run its migrations first (the spec names Terraform's migrations revision).
    const prodSpecs = Object.fromEntries(resourcesOf(synthesized.prod, "aws_ssm_parameter").map(([, p]) => [p.name, p.value]));
    expect(prodSpecs["/fargate/prod/platform/release/api"]).toMatch(/"migrationTaskDefinition" = aws_ecs_task_definition\.services_api_migration_task-definition_\w+\.arn/);
    expect(prodSpecs["/fargate/prod/platform/release/worker"]).toMatch(/"migrationTaskDefinition" = aws_ecs_task_definition\.services_worker_migration_task-definition_\w+\.arn/);
    // Every environment publishes how a release lands in it, QA included (test's pipeline reads it).
    for (const env of ["develop", "test", "qa", "prod"]) {
      expect(resourcesOf(synthesized[env], "aws_ssm_parameter").map(([, p]) => p.name).filter((n: string) => n.includes("/platform/release/")).sort()).toEqual([`/fargate/${env}/platform/release/api`, `/fargate/${env}/platform/release/worker`]);
    }
  });

  test("pipelines follow the deployment guide: develop manual on feature/*, test on release/*.*.* (push), prod on prod/* (manual runs too)", () => {
    const triggerOf = (env: string) =>
      resourcesOf(synthesized[env], "aws_codepipeline").map(([, p]) => [p.trigger?.[0]?.git_configuration.push[0].branches.includes ?? "manual", p.stage[0].action[0].configuration.BranchName, p.stage[0].action[0].configuration.DetectChanges]);
    expect(triggerOf("develop")).toEqual([["manual", "feature/integration", "false"], ["manual", "feature/integration", "false"]]);
    expect(triggerOf("test")).toEqual([[["release/*.*.*"], "release/1.0.0", "true"], [["release/*.*.*"], "release/1.0.0", "true"]]);
    expect(triggerOf("prod")).toEqual([[["prod/*"], "prod/1.0.0", "true"], [["prod/*"], "prod/1.0.0", "true"]]);
  });

  test("canary services deploy through CodeDeploy (prod: 10% for 5 minutes, alarm rollback); rolling ones through ECS", () => {
    const json = synthesized.prod;
    const specOf = (svc: string) => resourcesOf(json, "aws_ssm_parameter").find(([, p]) => p.name === `/fargate/prod/platform/release/${svc}`)![1].value;
    expect(specOf("api")).toContain('"deployWith" = "codedeploy"');
    expect(specOf("worker")).toContain('"deployWith" = "ecs"');
    const [[, group]] = resourcesOf(json, "aws_codedeploy_deployment_group");
    expect(group.deployment_config_name).toBe("CodeDeployDefault.ECSCanary10Percent5Minutes");
    expect(group.auto_rollback_configuration).toEqual({ enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] });
    // The service's deployment alarms (ServiceAlarms.deploymentAlarms), by reference: they exist before the group.
    const alarmRef = (svc: string, purpose: string) => expect.stringMatching(new RegExp(`^\\$\\{aws_cloudwatch_metric_alarm\\.services_${svc}_alarms_${purpose}_\\w+\\.alarm_name\\}$`));
    expect(group.alarm_configuration.alarms).toEqual([alarmRef("api", "tasks-below-desired"), alarmRef("api", "unhealthy-hosts"), alarmRef("api", "5xx-rate")]);
    const services = Object.fromEntries(resourcesOf(json, "aws_ecs_service").map(([, s]) => [s.name, s]));
    expect(services["fargate-prod-api"].deployment_controller).toEqual({ type: "CODE_DEPLOY" });
    expect(services["fargate-prod-worker"].deployment_controller).toEqual({ type: "ECS" });
    expect(services["fargate-prod-worker"].alarms).toEqual({ alarm_names: [alarmRef("worker", "tasks-below-desired")], enable: true, rollback: true });
  });

  test("every environment has a critical and a warning topic, alarms on them and the guide's dashboards", () => {
    for (const env of environments) {
      const out = synthesized[env.name];
      expect(resourcesOf(out, "aws_sns_topic").map(([, t]) => t.name).sort()).toEqual([`fargate-${env.name}-alarms-critical`, `fargate-${env.name}-alarms-warning`]);
      const pipelines = env.name === "qa" ? [] : [`fargate-${env.name}-pipelines`];
      expect(resourcesOf(out, "aws_cloudwatch_dashboard").map(([, d]) => d.dashboard_name).sort()).toEqual([`fargate-${env.name}-api`, `fargate-${env.name}-cluster-overview`, ...pipelines, `fargate-${env.name}-worker`]);
      const alarms = resourcesOf(out, "aws_cloudwatch_metric_alarm").map(([, a]) => a);
      expect(alarms.length).toBeGreaterThan(10);
      expect(alarms.every((a) => a.alarm_actions.length === 1 && a.alarm_actions[0].includes("aws_sns_topic"))).toBe(true);
      expect(Object.keys(out.output)).toEqual(expect.arrayContaining(["critical_topic_arn", "warning_topic_arn", ...(env.name === "qa" ? [] : ["pipeline_names", "release_project_names"])]));
    }
  });

  test("no environment has CloudTrail or AWS Config: the account stacks own them (test/stacks/account-stack.test.ts)", () => {
    expect(environments.length).toBeGreaterThan(0);
    for (const env of environments) {
      for (const type of ["aws_cloudtrail", "aws_config_configuration_recorder", "aws_iam_openid_connect_provider"]) expect(resourcesOf(synthesized[env.name], type)).toEqual([]);
    }
  });
});
