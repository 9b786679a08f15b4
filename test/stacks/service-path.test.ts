/**
 * Whole-stack invariants of the service path (internet -> ALB -> ECS -> RDS), per shipped
 * environment, read from the synthesized Terraform JSON.
 */
import { Testing } from "cdktf";
import { loadConfig } from "../../environments";
import { EnvironmentConfig } from "../../environments/schema";
import { PlatformStack, platformStackName } from "../../src/stacks/platform-stack";
import { NameKind, nameProblem } from "../../lib/naming";
import { RESOURCE_WILDCARD_ACTIONS } from "../../src/policy/rules/iam-wildcard-allowlist";
import { resourcesOf } from "../helpers";

const { environments } = loadConfig();
type Json = { resource: Record<string, Record<string, any>>; data: Record<string, Record<string, any>>; output: Record<string, any> };

function synthEnv(config: EnvironmentConfig): Json {
  const stack = new PlatformStack(Testing.app(), platformStackName(config), { config });
  return JSON.parse(Testing.synth(stack));
}
const synthesized: Record<string, Json> = Object.fromEntries(environments.map((env) => [env.name, synthEnv(env)]));
const cases = environments.map((e) => [e.name, e] as const);

/** `${aws_x.name.attr}` -> name */
const refName = (value: string, type: string): string | undefined => new RegExp(`^\\$\\{${type}\\.([^.]+)\\.`).exec(value)?.[1];
const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);

/** Every statement of the policy documents attached to IAM identities (roles, policies). */
function identityStatements(json: Json): { owner: string; statement: any }[] {
  const docs = json.data.aws_iam_policy_document ?? {};
  const out: { owner: string; statement: any }[] = [];
  for (const type of ["aws_iam_role_policy", "aws_iam_policy"]) {
    for (const [name, policy] of resourcesOf(json, type)) {
      const doc = refName(policy.policy, "data.aws_iam_policy_document");
      if (!doc) throw new Error(`${type}.${name} has a policy not built with aws_iam_policy_document: ${policy.policy}`);
      for (const statement of docs[doc].statement) out.push({ owner: `${type}.${name}`, statement });
    }
  }
  return out;
}

/** Who each SG rule connects: "alb <- 0.0.0.0/0 tcp/443". */
function sgRules(json: Json): string[] {
  const groups = Object.fromEntries(resourcesOf(json, "aws_security_group").map(([name, sg]) => [name, String(sg.name).replace(/^fargate-\w+-/, "")]));
  const group = (id: string) => groups[refName(id, "aws_security_group") ?? ""] ?? id; // an external SG by its ID
  const who = (rule: any) => (rule.referenced_security_group_id ? group(rule.referenced_security_group_id) : rule.cidr_ipv4);
  const port = (rule: any) => `tcp/${rule.from_port}${rule.to_port !== rule.from_port ? `-${rule.to_port}` : ""}`;
  return [
    ...resourcesOf(json, "aws_vpc_security_group_ingress_rule").map(([, r]) => `${group(r.security_group_id)} <- ${who(r)} ${port(r)}`),
    ...resourcesOf(json, "aws_vpc_security_group_egress_rule").map(([, r]) => `${group(r.security_group_id)} -> ${who(r)} ${port(r)}`),
  ].sort();
}

/** Statements of the inline policies of one role. */
function statementsOfRole(json: Json, role: string): any[] {
  return identityStatements(json)
    .filter(({ owner }) => {
      const [type, policyName] = owner.split(/\.(.*)/);
      return type === "aws_iam_role_policy" && refName(json.resource.aws_iam_role_policy[policyName].role, "aws_iam_role") === role;
    })
    .map(({ statement }) => statement);
}

/** Secrets of every task definition that its execution role may not read. */
function secretCoverage(json: Json): { uncovered: string[]; checked: number } {
  const uncovered: string[] = [];
  let checked = 0;
  for (const [tdName, td] of resourcesOf(json, "aws_ecs_task_definition")) {
    const role = refName(td.execution_role_arn, "aws_iam_role")!;
    const statements = statementsOfRole(json, role);
    const allows = (action: string, arn: string) =>
      statements.some((s) => s.effect === "Allow" && s.actions.includes(action) && s.resources.some((r: string) => r === arn || (!r.includes("${") && glob(r).test(arn))));
    for (const container of JSON.parse(td.container_definitions)) {
      for (const secret of container.secrets ?? []) {
        const from: string = secret.valueFrom;
        let ok: boolean;
        if (from.startsWith("arn:aws:ssm:")) ok = allows("ssm:GetParameters", from);
        else if (from.startsWith("${")) ok = allows("secretsmanager:GetSecretValue", from.slice(0, from.indexOf("}") + 1));
        else ok = allows("secretsmanager:GetSecretValue", `${from.split(":").slice(0, 7).join(":")}-AbCdEf`); // AWS appends a 6-character suffix
        if (!ok) uncovered.push(`${tdName}: ${secret.name} (${from}) not readable by ${role}`);
        checked++;
      }
    }
  }
  return { uncovered, checked };
}

describe("service path, whole stack", () => {
  test.each(cases)("%s: the security-group chain is exactly internet -> ALB -> ECS -> RDS", (name, env) => {
    const json = synthesized[name];
    const expected = [
      "alb <- 0.0.0.0/0 tcp/443",
      "alb <- 0.0.0.0/0 tcp/80",
      "alb -> ecs-tasks tcp/8000",
      "ecs-tasks <- alb tcp/8000",
      "ecs-tasks -> rds tcp/5432",
      "ecs-tasks -> 0.0.0.0/0 tcp/443",
      "rds <- ecs-tasks tcp/5432",
      ...(env.network.vpcEndpoints ? ["endpoints <- ecs-tasks tcp/443"] : []),
      // The blue/green test listener: from inside the VPC only, never the internet.
      `alb <- ${env.network.vpcCidr} tcp/${env.alb.testListener.port}`,
    ].sort();
    expect(sgRules(json)).toEqual(expected);
    // No inline rules that would bypass the chain.
    for (const [, sg] of resourcesOf(json, "aws_security_group")) {
      expect([sg.ingress, sg.egress]).toEqual([undefined, undefined]);
    }
    expect(resourcesOf(json, "aws_db_instance").map(([, db]) => db.vpc_security_group_ids)).toEqual([[expect.stringMatching(/aws_security_group\.networking_rds-security-group/)]]);
    for (const [, svc] of resourcesOf(json, "aws_ecs_service")) {
      expect(svc.network_configuration.security_groups).toEqual([expect.stringMatching(/aws_security_group\.networking_ecs-security-group/)]);
    }
    expect(resourcesOf(json, "aws_lb")[0][1].security_groups).toEqual([expect.stringMatching(/aws_security_group\.networking_alb-security-group/)]);
  });

  test.each(cases)("%s: no IAM identity statement allows Resource \"*\" except for actions AWS requires it for", (name) => {
    const allowed = RESOURCE_WILDCARD_ACTIONS.map((a) => glob(a.action));
    const offenders = identityStatements(synthesized[name])
      .filter(({ statement }) => statement.effect !== "Deny" && (statement.resources ?? []).includes("*"))
      .flatMap(({ owner, statement }) => (statement.actions as string[]).filter((a) => !allowed.some((re) => re.test(a))).map((a) => `${owner}: ${a}`));
    expect(offenders).toEqual([]);
    for (const { statement } of identityStatements(synthesized[name])) expect(statement.actions).not.toContain("*");
  });

  test.each(cases)("%s: every task definition's secrets are covered by its own execution role", (name) => {
    const json = synthesized[name];
    const { uncovered, checked } = secretCoverage(json);
    expect(uncovered).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(5); // API_SIGNING_KEY on api + DB_MASTER_USERNAME/PASSWORD on each client's migration task
    for (const [, td] of resourcesOf(json, "aws_ecs_task_definition")) {
      const role = refName(td.execution_role_arn, "aws_iam_role")!;
      if (JSON.parse(td.container_definitions)[0].secrets.length) expect(statementsOfRole(json, role)).toEqual(expect.arrayContaining([expect.objectContaining({ actions: ["kms:Decrypt"] })]));
      // ECR pulls from its own repository and awslogs to its own log group, written out (no managed policy on "*").
      const statements = statementsOfRole(json, role);
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ sid: "PullOwnImage", actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resources: [expect.stringMatching(/^arn:aws:ecr:us-east-1:\d{12}:repository\/fargate\/(api|worker)$/)] }),
          expect.objectContaining({ sid: "WriteOwnLogs", resources: [expect.stringMatching(/log-group.*\.arn\}$/), expect.stringMatching(/log-group.*\.arn\}:\*$/)] }),
        ]),
      );
      expect(resourcesOf(json, "aws_iam_role_policy_attachment").filter(([, a]) => refName(a.role, "aws_iam_role") === role)).toEqual([]);
    }
  });

  test("a Secrets Manager secret by name is covered through the -?????? suffix", () => {
    const env = environments.find((e) => e.name === "develop")!;
    const api = { ...env.services[0], secrets: [...env.services[0].secrets, { name: "STRIPE_KEY", source: "secretsmanager" as const, path: "fargate/develop/api/stripe", jsonKey: "key" }] };
    const json = synthEnv({ ...env, services: [api, env.services[1]] });
    const { uncovered, checked } = secretCoverage(json);
    expect([uncovered, checked]).toEqual([[], 6]); // api 2 + the master secret's 2 keys on each client's migration task
  });

  test("the secret-coverage check notices a secret its execution role cannot read", () => {
    const json: Json = structuredClone(synthesized.develop);
    for (const doc of Object.values<any>(json.data.aws_iam_policy_document)) {
      doc.statement = doc.statement.filter((st: any) => st.sid !== "ReadTaskParameters");
    }
    expect(secretCoverage(json).uncovered).toEqual([
      expect.stringMatching(/services_api_tasks_task-definition.*API_SIGNING_KEY/),
    ]);
  });

  test.each(cases)("%s: database clients get the address and their own user as variables; only their migration task gets the master secret", (name) => {
    const json = synthesized[name];
    const definitions = resourcesOf(json, "aws_ecs_task_definition").map(([, td]) => [td.family, JSON.parse(td.container_definitions)[0]] as const);
    expect(definitions).toHaveLength(4);
    for (const [family, app] of definitions) {
      const env = Object.fromEntries(app.environment.map((e: any) => [e.name, e.value]));
      expect(env).toEqual(expect.objectContaining({ DB_HOST: expect.stringMatching(/aws_db_instance\..*\.address/), DB_PORT: "5432", DB_NAME: "app", DB_USER: expect.stringMatching(/^svc_(api|worker)$/), DB_AUTH: "iam" }));
      const master = app.secrets.filter((s: any) => /master_user_secret/.test(s.valueFrom)).map((s: any) => s.name);
      expect([family, master]).toEqual([family, family.endsWith("-migration") ? ["DB_MASTER_USERNAME", "DB_MASTER_PASSWORD"] : []]);
      expect(JSON.stringify(app.environment)).not.toMatch(/PASSWORD|SECRET/);
    }
  });

  test.each(cases)("%s: every physical name is within its AWS limit", (name) => {
    const kinds: [string, string, NameKind][] = [
      ["aws_lb", "name", "alb"],
      ["aws_lb_target_group", "name", "targetGroup"],
      ["aws_iam_role", "name", "iamRole"],
      ["aws_s3_bucket", "bucket", "s3Bucket"],
      ["aws_db_instance", "identifier", "dbInstance"],
      ["aws_ecs_cluster", "name", "ecsCluster"],
      ["aws_ecs_service", "name", "ecsService"],
      ["aws_ecs_task_definition", "family", "ecsService"],
      ["aws_cloudwatch_log_group", "name", "logGroup"],
      ["aws_ecr_repository", "name", "generic"],
      ["aws_security_group", "name", "securityGroup"],
    ];
    const problems: string[] = [];
    let count = 0;
    for (const [type, attr, kind] of kinds) {
      for (const [, r] of resourcesOf(synthesized[name], type)) {
        const value = r[attr];
        if (typeof value !== "string" || value.includes("${")) continue;
        count++;
        const problem = nameProblem(kind, value);
        if (problem) problems.push(problem);
      }
    }
    expect(problems).toEqual([]);
    expect(count).toBeGreaterThan(20);
  });

  test.each(cases)("%s: CodeDeploy owns the weights and what a deployment carries; autoscaling owns the counts", (name) => {
    const json = synthesized[name];
    const rules = resourcesOf(json, "aws_lb_listener_rule").map(([, r]) => r);
    // The production rule and the test-listener rule of the one blue/green service.
    expect(rules.map((r) => [r.listener_arn.includes("test-listener") ? "test" : "production", r.action[0].forward.target_group.map((t: any) => t.weight)])).toEqual([
      ["production", [100, 0]],
      ["test", [100, 0]],
    ]);
    for (const rule of rules) expect(rule.lifecycle).toEqual({ ignore_changes: ["action"] });
    const byName = Object.fromEntries(resourcesOf(json, "aws_ecs_service").map(([, s]) => [s.name, s]));
    // desired_count: autoscaling; task_definition: the release path (the services have a source).
    expect(byName[`fargate-${name}-worker`].lifecycle.ignore_changes).toEqual(["desired_count", "task_definition"]);
    expect(byName[`fargate-${name}-api`].lifecycle.ignore_changes).toEqual(["desired_count", "task_definition", "load_balancer", "network_configuration", "capacity_provider_strategy", "platform_version"]);
    expect(resourcesOf(json, "aws_appautoscaling_target")).toHaveLength(2);
  });

  test.each(cases)("%s: services scale on CPU and memory between the environment's min and max", (name, env) => {
    const json = synthesized[name];
    const targets = resourcesOf(json, "aws_appautoscaling_target").map(([, t]) => t);
    expect(targets.map((t) => [t.min_capacity, t.max_capacity])).toEqual(targets.map(() => [env.scaling.minCapacity, env.scaling.maxCapacity]));
    const metrics = resourcesOf(json, "aws_appautoscaling_policy").map(([, p]) => p.target_tracking_scaling_policy_configuration.predefined_metric_specification);
    // No request-count policy on the CodeDeploy service: it would name one target group (the schema refuses it).
    expect(metrics.filter((m) => m.predefined_metric_type === "ALBRequestCountPerTarget")).toEqual([]);
    expect(metrics.filter((m) => m.predefined_metric_type === "ECSServiceAverageCPUUtilization")).toHaveLength(2);
    // Memory target tracking is opt-in: the api asks for it, the worker scales on CPU only.
    expect(metrics.filter((m) => m.predefined_metric_type === "ECSServiceAverageMemoryUtilization")).toHaveLength(1);
  });

  test.each(cases)("%s: the HTTPS listener uses the TLS 1.3 policy and HTTP redirects", (name) => {
    const listeners = resourcesOf(synthesized[name], "aws_lb_listener").map(([, l]) => l);
    expect(listeners.map((l) => [l.port, l.protocol, l.ssl_policy ?? null, l.default_action[0].type])).toEqual(
      expect.arrayContaining([
        [80, "HTTP", null, "redirect"],
        [443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06", "fixed-response"],
      ]),
    );
  });

  test.each(cases)("%s: outputs carry the names the runbooks use", (name) => {
    const output = synthesized[name].output;
    for (const key of ["alb_dns_name", "alb_listener_arn", "test_listener_arn", "blue_target_group_arns", "green_target_group_arns", "listener_rule_arns", "ecs_cluster_name", "service_names", "releases", "task_network", "db_address", "db_master_secret_arn"]) {
      expect(output).toHaveProperty(key);
    }
    expect(output.alb_listener_arn.value).toMatch(/aws_lb_listener\.alb_https-listener/);
    expect(output.db_master_secret_arn.value).toMatch(/master_user_secret\[0\]\.secret_arn/);
    expect(Object.keys(output.service_names.value)).toEqual(["api", "worker"]);
    expect(output.service_names.value.api).toMatch(/aws_ecs_service\.services_api_tasks_service_/);
    expect(output.releases.value.api).toEqual(expect.objectContaining({ deploy_with: "codedeploy", image_owner: "release", config_task_definition: expect.stringMatching(/aws_ecs_task_definition\.services_api_tasks_task-definition_.*\.arn/) }));
    expect(output.releases.value.worker).toEqual(expect.objectContaining({ deploy_with: "ecs", codedeploy_application: "" }));
  });

  test("prod has deletion protection and Multi-AZ on the database and the ALB", () => {
    const json = synthesized.prod;
    const [[, db]] = resourcesOf(json, "aws_db_instance");
    expect([db.multi_az, db.deletion_protection, db.skip_final_snapshot]).toEqual([true, true, false]);
    expect(resourcesOf(json, "aws_lb")[0][1].enable_deletion_protection).toBe(true);
    expect(resourcesOf(json, "aws_ecr_repository").every(([, r]) => r.force_delete === false)).toBe(true);
  });

  test("develop tasks get public IPs in public subnets (NAT none); prod tasks do not", () => {
    const ips = (env: string) => resourcesOf(synthesized[env], "aws_ecs_service").map(([, s]) => [s.network_configuration.assign_public_ip, s.network_configuration.subnets.every((id: string) => id.includes(env === "develop" ? "public-subnets" : "private-subnets"))]);
    expect(ips("develop").every(([ip, tier]) => ip === true && tier === true)).toBe(true);
    expect(ips("prod").every(([ip, tier]) => ip === false && tier === true)).toBe(true);
    expect(ips("develop")).toHaveLength(2);
  });

  test("every environment pins PostgreSQL to its major version with an RDS-managed password", () => {
    for (const env of environments) {
      const [[, db]] = resourcesOf(synthesized[env.name], "aws_db_instance");
      expect([db.engine_version, db.manage_master_user_password, db.storage_encrypted, db.publicly_accessible, db.password]).toEqual(["15", true, true, false, undefined]);
    }
  });

  test("an internal Kafka client gets the brokers and an egress rule; the Kafka group (not ours) is never written to", () => {
    const env = environments.find((e) => e.name === "test")!;
    const kafka = { brokers: ["b-1.kafka.internal:9094", "b-2.kafka.internal:9094"], securityGroupId: "sg-0123456789abcdef0", port: 9094 };
    const worker = { ...env.services[1], exposure: { type: "internal" as const, kafka } };
    const json = synthEnv({ ...env, services: [env.services[0], worker] });
    const [, td] = resourcesOf(json, "aws_ecs_task_definition").find(([, t]) => t.family === "fargate-test-worker")!;
    expect(JSON.parse(td.container_definitions)[0].environment).toEqual(expect.arrayContaining([{ name: "KAFKA_BROKERS", value: "b-1.kafka.internal:9094,b-2.kafka.internal:9094" }]));
    expect(sgRules(json)).toEqual(expect.arrayContaining(["ecs-tasks -> sg-0123456789abcdef0 tcp/9094"]));
    // The Kafka owner admits our ECS security group on their side (docs/service-path.md#kafka-clients).
    expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule").filter(([, r]) => r.security_group_id === kafka.securityGroupId)).toEqual([]);
  });

  test("a service with a source is released (pipeline or `platform release`), with or without pipelines; without a source Terraform owns its task definition", () => {
    const env = environments.find((e) => e.name === "develop")!;
    const lifecycles = (config: EnvironmentConfig) => Object.fromEntries(resourcesOf(synthEnv(config), "aws_ecs_service").map(([, s]) => [s.name, s.lifecycle.ignore_changes]));
    const noPipelines = lifecycles({ ...env, features: { ...env.features, cicd: false } });
    expect(noPipelines["fargate-develop-worker"]).toEqual(["desired_count", "task_definition"]);
    const noSource = lifecycles({ ...env, services: env.services.map((s) => (s.name === "worker" ? { ...s, source: undefined } : s)) });
    expect(noSource["fargate-develop-worker"]).toEqual(["desired_count"]);
  });

  test("autoscaling off (the emulator's switch) removes every scaling resource", () => {
    const env = environments.find((e) => e.name === "develop")!;
    const json = synthEnv({ ...env, features: { ...env.features, autoscaling: false } });
    expect(resourcesOf(json, "aws_appautoscaling_target")).toEqual([]);
    expect(resourcesOf(json, "aws_appautoscaling_policy")).toEqual([]);
  });
});
