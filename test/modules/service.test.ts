import { TerraformStack } from "cdktf";
import { FargateService, FargateServiceProps } from "../../modules/service";
import { Alb, AlbProps } from "../../modules/alb";
import { Ecs } from "../../modules/ecs";
import { Cicd } from "../../modules/cicd";
import { Naming } from "../../lib/naming";
import { ACCOUNT, DATA_KEY, HEALTH_CHECK, LOGS_KEY, makeAlb, makeCicd, makeEcs, newStack, problemsOf, resourcesOf, synthJson, TEST_LISTENER_PORT } from "./fixtures";

const naming = new Naming("fargate", "prod");
/** The account registry's repository (the account stack creates it). */
const REPOSITORY = { arn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/fargate/api`, repositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fargate/api` };
const canary: FargateServiceProps["deployment"] = {
  strategy: "blue-green",
  shift: { type: "canary", percent: 10, intervalMinutes: 5 },
  terminationWaitMinutes: 60,
  codeDeployRoleArn: `arn:aws:iam::${ACCOUNT}:role/fargate-prod-codedeploy`,
};

interface Environment {
  readonly stack: TerraformStack;
  readonly ecs: Ecs;
  readonly alb: Alb;
  readonly cicd: Cicd;
}

/** The environment-level constructs a service attaches to (by default the ALB has the test listener). */
function environment(albOverrides: Partial<AlbProps> = { testListenerPort: TEST_LISTENER_PORT }): Environment {
  const stack = newStack();
  return { stack, ecs: makeEcs(stack, { naming }), alb: makeAlb(stack, { naming, ...albOverrides }), cicd: makeCicd(stack, { naming }) };
}

/** A public, rolling, delivered service "api". */
function serviceProps(env: Environment, overrides: Partial<FargateServiceProps> = {}): FargateServiceProps {
  return {
    naming,
    accountId: ACCOUNT,
    region: "us-east-1",
    name: "api",
    image: { repository: REPOSITORY, tag: "v1" },
    containerPort: 8000,
    cpu: 256,
    memoryMiB: 512,
    desiredCount: 2,
    deployment: { strategy: "rolling" },
    logRetentionDays: 30,
    logsKmsKeyArn: LOGS_KEY,
    secretsKmsKeyArn: DATA_KEY,
    cluster: env.ecs,
    subnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-ecs",
    assignPublicIp: false,
    routing: { alb: env.alb, vpcId: "vpc-123", paths: ["/api/*"], hosts: [], priority: 100, healthCheck: HEALTH_CHECK },
    autoscaling: { minCapacity: 2, maxCapacity: 10, cpuTargetPercent: 70, memoryTargetPercent: 80 },
    alarms: {
      topics: { critical: `arn:aws:sns:us-east-1:${ACCOUNT}:fargate-prod-critical`, warning: `arn:aws:sns:us-east-1:${ACCOUNT}:fargate-prod-warning` },
      environment: "prod",
      metricsNamespace: "Fargate/prod",
    },
    delivery: { cicd: env.cicd, repository: "myorg/api", imageRepositoryName: "fargate/api" },
    ...overrides,
  };
}

function serviceStack(overrides: (env: Environment) => Partial<FargateServiceProps> = () => ({})) {
  const env = environment();
  const service = new FargateService(env.stack, "api", serviceProps(env, overrides(env)));
  return { ...env, service, json: synthJson(env.stack) };
}

const onlyOf = (json: any, type: string) => {
  const all = resourcesOf(json, type);
  expect([type, all.length]).toEqual([type, 1]);
  return all[0][1];
};
const deployActionOf = (json: any) => onlyOf(json, "aws_codepipeline").stage.find((s: any) => s.name === "Deploy-prod").action[0];
/** The ReleaseSpec parameter's value: a jsonencode expression over the service's resources. */
const releaseSpecOf = (json: any) => onlyOf(json, "aws_ssm_parameter").value as string;

/** The synthesized alarms a list names, by literal name or by reference to the alarm resource. */
function alarmsNamedIn(json: any, names: readonly string[]): any[] {
  const alarms = resourcesOf(json, "aws_cloudwatch_metric_alarm");
  return names.map((name) => {
    const id = /^\$\{aws_cloudwatch_metric_alarm\.([^.}]+)\.alarm_name\}$/.exec(name)?.[1];
    const found = alarms.find(([key, alarm]) => (id ? key === id : alarm.alarm_name === name));
    if (!found) throw new Error(`no synthesized alarm is named ${name}`);
    return found[1];
  });
}

/** A deployment rolls back on the service's own health alarms: synthesized, named for it, and no load signal. */
function expectHealthAlarms(json: any, names: readonly string[]): void {
  const alarms = alarmsNamedIn(json, names);
  expect(alarms.length).toBeGreaterThan(0);
  for (const alarm of alarms) {
    expect(alarm.alarm_name).toMatch(/^fargate-prod-api-/);
    // CPU or memory high is a scaling signal, not a bad release.
    expect(alarm.alarm_name).not.toMatch(/cpu|memory/);
  }
}

describe("FargateService", () => {
  test("rolls a public service out with ECS: circuit breaker, and rollback on the service's health alarms", () => {
    const { service, json } = serviceStack();
    const ecsService = onlyOf(json, "aws_ecs_service");
    expect(ecsService).toEqual(
      expect.objectContaining({
        name: "fargate-prod-api",
        deployment_controller: { type: "ECS" },
        deployment_circuit_breaker: { enable: true, rollback: true },
        alarms: { alarm_names: expect.any(Array), enable: true, rollback: true },
        load_balancer: [expect.objectContaining({ target_group_arn: expect.stringMatching(/^\$\{aws_lb_target_group\.api_routing_target-group_\w+\.arn\}$/), container_name: "api", container_port: 8000 })],
      }),
    );
    expect(ecsService.alarms.alarm_names).toHaveLength(service.rollbackAlarmNames.length);
    expectHealthAlarms(json, ecsService.alarms.alarm_names);
    // One target group, no CodeDeploy.
    expect(resourcesOf(json, "aws_lb_target_group").map(([, tg]) => tg.name)).toEqual(["fargate-prod-api-8000"]);
    expect(service.blueGreen).toBeUndefined();
    expect(resourcesOf(json, "aws_codedeploy_deployment_group")).toEqual([]);
    // The pipeline's deploy is the release project in deploy mode; ECS runs the rollout and its rollback.
    expect(deployActionOf(json)).toMatchObject({ provider: "CodeBuild", configuration: { EnvironmentVariables: JSON.stringify([{ name: "MODE", value: "deploy", type: "PLAINTEXT" }, { name: "TARGET", value: "prod", type: "PLAINTEXT" }]) } });
    const spec = releaseSpecOf(serviceStack(() => ({ releases: true })).json);
    expect(spec).toContain('"deployWith" = "ecs"');
    // Network and capacity reach a rolling service through Terraform, not through the release.
    expect(spec).not.toContain("capacityProviderStrategy");
  });

  test("hands a canary public service to CodeDeploy, rolling back on the same health alarms, and releases through its deployment group", () => {
    const { service, json } = serviceStack(() => ({ deployment: canary, releases: true }));
    const ecsService = onlyOf(json, "aws_ecs_service");
    expect(ecsService.deployment_controller).toEqual({ type: "CODE_DEPLOY" });
    expect(ecsService.deployment_circuit_breaker).toBeUndefined();
    expect(ecsService.alarms).toBeUndefined();
    // At creation the service starts on blue; CodeDeploy owns the target group afterwards.
    expect(ecsService.load_balancer).toEqual([expect.objectContaining({ target_group_arn: expect.stringMatching(/api_routing_blue-target-group_\w+\.arn/) })]);
    expect(ecsService.lifecycle.ignore_changes).toEqual(expect.arrayContaining(["load_balancer", "task_definition", "network_configuration"]));

    expect(service.blueGreen).toBeDefined();
    const group = onlyOf(json, "aws_codedeploy_deployment_group");
    expect(group.alarm_configuration).toEqual({ enabled: true, alarms: expect.any(Array) });
    expectHealthAlarms(json, group.alarm_configuration.alarms);
    // The same alarms a rolling deployment of this service would roll back on.
    const rolling = serviceStack().json;
    const rollingAlarms = onlyOf(rolling, "aws_ecs_service").alarms.alarm_names;
    expect(alarmsNamedIn(json, group.alarm_configuration.alarms).map((a) => a.alarm_name)).toEqual(alarmsNamedIn(rolling, rollingAlarms).map((a) => a.alarm_name));
    expect(group).toEqual(
      expect.objectContaining({
        service_role_arn: canary.codeDeployRoleArn,
        deployment_config_name: "CodeDeployDefault.ECSCanary10Percent5Minutes",
        ecs_service: { cluster_name: expect.stringMatching(/aws_ecs_cluster\.ecs_cluster_\w+\.name/), service_name: expect.stringMatching(/aws_ecs_service\.api_tasks_service_\w+\.name/) },
        load_balancer_info: {
          target_group_pair_info: {
            prod_traffic_route: { listener_arns: [expect.stringMatching(/aws_lb_listener\.alb_https-listener_\w+\.arn/)] },
            test_traffic_route: { listener_arns: [expect.stringMatching(/aws_lb_listener\.alb_test-listener_\w+\.arn/)] },
            target_group: [{ name: expect.stringMatching(/api_routing_blue-target-group_\w+\.name/) }, { name: expect.stringMatching(/api_routing_green-target-group_\w+\.name/) }],
          },
        },
      }),
    );
    expect(resourcesOf(json, "aws_lb_target_group").map(([, tg]) => tg.name).sort()).toEqual(["fargate-prod-api-b8000", "fargate-prod-api-g8000"]);

    // A release creates a CodeDeploy deployment in this group (the release project reads the spec when it runs).
    const spec = releaseSpecOf(json);
    expect(spec).toContain('"deployWith" = "codedeploy"');
    expect(spec).toContain('"capacityProviderStrategy" = [{"CapacityProvider" = "FARGATE", "Base" = 1, "Weight" = 70}');
    expect(spec).toContain('"Subnets" = ["subnet-a", "subnet-b"]');
    expect(spec).toMatch(/"codeDeployApplication" = aws_codedeploy_app\.api_blue-green_application_\w+\.name,/);
    expect(spec).toMatch(/"codeDeployGroup" = aws_codedeploy_deployment_group\.api_blue-green_deployment-group_\w+\.deployment_group_name,/);
    expect(deployActionOf(json).provider).toBe("CodeBuild");
  });

  test("gives a service whose image the releases own a config revision Terraform never reverts", () => {
    const owned = serviceStack(() => ({ releases: true })).json;
    expect(onlyOf(owned, "aws_ecs_service").lifecycle.ignore_changes).toContain("task_definition");
    expect(onlyOf(owned, "aws_ecs_task_definition").skip_destroy).toBe(true);
    // Every release starts from that revision: the release spec names it, and every apply updates it.
    expect(releaseSpecOf(owned)).toMatch(/"configTaskDefinition" = aws_ecs_task_definition\.api_tasks_task-definition_\w+\.arn,/);

    const terraformOwned = serviceStack().json;
    expect(onlyOf(terraformOwned, "aws_ecs_service").lifecycle.ignore_changes).not.toContain("task_definition");
    expect(onlyOf(terraformOwned, "aws_ecs_task_definition").skip_destroy).toBeUndefined();
  });

  test("gives an internal service no routing: no target group, listener rule or load balancer", () => {
    const { service, json } = serviceStack(() => ({ routing: undefined, delivery: undefined }));
    expect(service.routing).toBeUndefined();
    expect(resourcesOf(json, "aws_lb_target_group")).toEqual([]);
    expect(resourcesOf(json, "aws_lb_listener_rule")).toEqual([]);
    const ecsService = onlyOf(json, "aws_ecs_service");
    expect(ecsService.load_balancer).toBeUndefined();
    expect(ecsService.health_check_grace_period_seconds).toBeUndefined();
    expect(ecsService.depends_on).toEqual([expect.stringMatching(/^aws_ecs_cluster_capacity_providers\./)]);
    // It still rolls back on its own (task) alarms.
    expect(ecsService.alarms).toEqual({ alarm_names: expect.any(Array), enable: true, rollback: true });
    expect(ecsService.alarms.alarm_names).toHaveLength(service.rollbackAlarmNames.length);
    expectHealthAlarms(json, ecsService.alarms.alarm_names);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(serviceStack().stack)).toEqual([]);
    expect(problemsOf(serviceStack(() => ({ deployment: canary, releases: true })).stack)).toEqual([]);
  });

  test("refuses blue/green for an internal service (CodeDeploy needs its target groups)", () => {
    const { service } = serviceStack(() => ({ routing: undefined, delivery: undefined, deployment: canary }));
    expect(service.blueGreen).toBeUndefined();
    expect(problemsOf(service)).toEqual([expect.stringMatching(/^test\/api\/tasks: a CODE_DEPLOY service needs its blue target group; got no load balancer/)]);
  });

  test("refuses delivery of a service on an external image (the pipeline pushes to the account registry)", () => {
    const { service } = serviceStack(() => ({ image: { uri: "public.ecr.aws/acme/api", tag: "1.0" } }));
    expect(service.pipeline).toBeUndefined();
    expect(problemsOf(service)).toEqual([expect.stringMatching(/^test\/api: a pipeline pushes to the account registry, so a delivered service needs an image repository; got an external image URI/)]);
  });

  test("throws when a blue/green service is routed on an ALB without a test listener", () => {
    const env = environment({});
    expect(env.alb.testListener).toBeUndefined();
    expect(() => new FargateService(env.stack, "api", serviceProps(env, { deployment: canary }))).toThrow(/^test\/api\/routing: a blue\/green service needs the ALB's test listener/);
  });
});
