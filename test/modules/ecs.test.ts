import { TerraformStack } from "cdktf";
import { CODE_DEPLOY_OWNED_FIELDS, DEFAULT_XRAY_DAEMON_IMAGE, Ecs, EcsProps, ServiceTasks, ServiceTasksProps } from "../../modules/ecs";
import { Naming } from "../../lib/naming";
import { checkovSkips } from "../../lib/checkov";
import { makeEcs, newStack, problemsOf, resourcesOf, synthJson, synthText } from "./fixtures";

const naming = new Naming("fargate", "test");

function ecsStack(overrides: Partial<EcsProps> = {}): { stack: TerraformStack; ecs: Ecs } {
  const stack = newStack();
  return { stack, ecs: makeEcs(stack, { naming, ...overrides }) };
}

describe("Ecs", () => {
  test("creates a cluster with Container Insights and the Spot share as default strategy by default", () => {
    const text = synthText(ecsStack().stack);
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_ecs_cluster" }, { name: "fargate-test-cluster", setting: [{ name: "containerInsights", value: "enabled" }] });
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_ecs_cluster_capacity_providers" },
      {
        capacity_providers: ["FARGATE", "FARGATE_SPOT"],
        default_capacity_provider_strategy: [
          { capacity_provider: "FARGATE", base: 1, weight: 70 },
          { capacity_provider: "FARGATE_SPOT", base: 0, weight: 30 },
        ],
      },
    );
  });

  test("uses only FARGATE when the Spot share is 0 and only FARGATE_SPOT when it is 100", () => {
    const strategy = (spot: number) => resourcesOf(synthJson(ecsStack({ fargateSpotPercent: spot }).stack), "aws_ecs_cluster_capacity_providers")[0][1].default_capacity_provider_strategy;
    expect(strategy(0)).toEqual([{ capacity_provider: "FARGATE", base: 1, weight: 100 }]);
    expect(strategy(100)).toEqual([{ capacity_provider: "FARGATE_SPOT", base: 0, weight: 100 }]);
  });

  test("turns on ECS Exec logging, with its checkov skip, only when a service uses ECS Exec", () => {
    const on = ecsStack({ executeCommand: true });
    expect(resourcesOf(synthJson(on.stack), "aws_ecs_cluster")[0][1].configuration).toEqual({ execute_command_configuration: { logging: "DEFAULT" } });
    expect(checkovSkips(on.ecs.cluster).get("CKV_AWS_224")).toMatch(/awslogs/);
    const off = ecsStack();
    expect(resourcesOf(synthJson(off.stack), "aws_ecs_cluster")[0][1].configuration).toBeUndefined();
    expect(checkovSkips(off.ecs.cluster).size).toBe(0);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(ecsStack().stack)).toEqual([]);
  });

  test("refuses when the Spot share is not a whole percentage", () => {
    expect(problemsOf(ecsStack({ fargateSpotPercent: 120 }).stack)).toEqual(["test/ecs: fargateSpotPercent must be an integer 0-100; got 120"]);
    expect(problemsOf(ecsStack({ fargateSpotPercent: 12.5 }).stack)).toEqual(["test/ecs: fargateSpotPercent must be an integer 0-100; got 12.5"]);
  });
});

const autoscaling = { minCapacity: 2, maxCapacity: 10, cpuTargetPercent: 70, memoryTargetPercent: 80 };
const API_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fargate-test/fargate/api:v1.2.3";
const EXECUTION_ROLE = "arn:aws:iam::123456789012:role/fargate-test-api-execution";
const TASK_ROLE = "arn:aws:iam::123456789012:role/fargate-test-api-task";
const HEALTH_COMMAND = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"];
const API_ALARMS = ["fargate-test-api-target-5xx", "fargate-test-api-unhealthy-hosts"];
const codeDeploy: ServiceTasksProps["deployment"] = { controller: "CODE_DEPLOY" };

/** A public service rolled out by ECS (alarm rollback), with every optional feature a test reads. */
function apiProps(ecs: Ecs): ServiceTasksProps {
  return {
    naming,
    region: "us-east-1",
    cluster: ecs,
    subnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-ecs",
    assignPublicIp: false,
    serviceName: "api",
    image: API_IMAGE,
    logGroupName: "/fargate/test/ecs/api",
    containerPort: 8000,
    cpu: 256,
    memoryMiB: 512,
    desiredCount: 2,
    environment: { LOG_LEVEL: "info" },
    secrets: [{ name: "API_SIGNING_KEY", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/test/api/signing-key" }],
    healthCheck: { command: HEALTH_COMMAND, intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 60 },
    user: "1000",
    executionRoleArn: EXECUTION_ROLE,
    taskRoleArn: TASK_ROLE,
    deployment: { controller: "ECS", rollbackAlarmNames: API_ALARMS },
    loadBalancer: { targetGroupArn: "arn:tg/api", resourceLabel: "app/alb/1/targetgroup/api/2" },
    autoscaling: { ...autoscaling, requestsPerTarget: 500 },
  };
}

/** An internal service on an external image, rolled out by ECS without alarms. */
function workerProps(ecs: Ecs): ServiceTasksProps {
  return {
    ...apiProps(ecs),
    serviceName: "worker",
    image: "public.ecr.aws/acme/worker:2.0",
    logGroupName: "/fargate/test/ecs/worker",
    containerPort: 9000,
    secrets: [],
    deployment: { controller: "ECS" },
    loadBalancer: undefined,
    autoscaling: { ...autoscaling, cpuTargetPercent: 60, memoryTargetPercent: 75 },
  };
}

type TasksOverrides = (ecs: Ecs) => Partial<ServiceTasksProps>;

/** The api and worker services (each optionally changed) on one cluster. */
function tasksStack(api: TasksOverrides = () => ({}), worker: TasksOverrides = () => ({})) {
  const { stack, ecs } = ecsStack();
  const apiTasks = new ServiceTasks(stack, "api", { ...apiProps(ecs), ...api(ecs) });
  const workerTasks = new ServiceTasks(stack, "worker", { ...workerProps(ecs), ...worker(ecs) });
  return { stack, ecs, apiTasks, workerTasks };
}

const services = (json: any) => resourcesOf(json, "aws_ecs_service").map(([, s]) => s);
const servicesByName = (json: any): Record<string, any> => Object.fromEntries(services(json).map((s) => [s.name, s]));
const taskDefinitionsByFamily = (json: any): Record<string, any> => Object.fromEntries(resourcesOf(json, "aws_ecs_task_definition").map(([, t]) => [t.family, t]));
const containersOf = (json: any, family: string) => JSON.parse(taskDefinitionsByFamily(json)[family].container_definitions);

describe("ServiceTasks", () => {
  test("runs one task definition and one ECS service per application service by default", () => {
    const json = synthJson(tasksStack().stack);
    expect(services(json).map((s) => s.name).sort()).toEqual(["fargate-test-api", "fargate-test-worker"]);
    expect(Object.keys(taskDefinitionsByFamily(json)).sort()).toEqual(["fargate-test-api", "fargate-test-worker"]);
    const api = servicesByName(json)["fargate-test-api"];
    expect(api.task_definition).toMatch(/^\$\{aws_ecs_task_definition\.api_task-definition_\w+\.arn\}$/);
  });

  test("rolls an ECS-controlled service out with the circuit breaker and rolls it back on its alarms", () => {
    const { stack } = tasksStack();
    expect(synthText(stack)).toHaveResourceWithProperties(
      { tfResourceType: "aws_ecs_service" },
      {
        name: "fargate-test-api",
        cluster: expect.stringMatching(/aws_ecs_cluster\.ecs_cluster_.*\.arn/),
        deployment_controller: { type: "ECS" },
        deployment_circuit_breaker: { enable: true, rollback: true },
        alarms: { alarm_names: API_ALARMS, enable: true, rollback: true },
        health_check_grace_period_seconds: 60,
        deployment_minimum_healthy_percent: 100,
        deployment_maximum_percent: 200,
        enable_execute_command: false,
        propagate_tags: "SERVICE",
        network_configuration: { subnets: ["subnet-a", "subnet-b"], security_groups: ["sg-ecs"], assign_public_ip: false },
        load_balancer: [{ target_group_arn: "arn:tg/api", container_name: "api", container_port: 8000 }],
        capacity_provider_strategy: expect.arrayContaining([expect.objectContaining({ capacity_provider: "FARGATE_SPOT", weight: 30 })]),
        depends_on: [expect.stringMatching(/^aws_ecs_cluster_capacity_providers\./)],
        // Autoscaling and operators own the count; Terraform owns everything else.
        lifecycle: { ignore_changes: ["desired_count"] },
      },
    );
  });

  test("gives an ECS-controlled service without rollback alarms the circuit breaker only", () => {
    const worker = servicesByName(synthJson(tasksStack().stack))["fargate-test-worker"];
    expect(worker.deployment_controller).toEqual({ type: "ECS" });
    expect(worker.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    expect(worker.alarms).toBeUndefined();
  });

  test("hands a CODE_DEPLOY service to CodeDeploy: no circuit breaker or alarms, and ignores what only a deployment may change", () => {
    const api = servicesByName(synthJson(tasksStack(() => ({ deployment: codeDeploy })).stack))["fargate-test-api"];
    expect(api.deployment_controller).toEqual({ type: "CODE_DEPLOY" });
    // CodeDeploy runs its own health gates and alarm rollback (the deployment group's).
    expect(api.deployment_circuit_breaker).toBeUndefined();
    expect(api.alarms).toBeUndefined();
    // ECS refuses to update these outside a deployment; the release's AppSpec carries them (cicd tests).
    expect(api.lifecycle).toEqual({ ignore_changes: ["desired_count", "task_definition", "load_balancer", "network_configuration", "capacity_provider_strategy", "platform_version"] });
    // Set at creation: the blue target group CodeDeploy starts from.
    expect(api.load_balancer).toEqual([{ target_group_arn: "arn:tg/api", container_name: "api", container_port: 8000 }]);
  });

  test("lets the release path own the image: ignores task_definition and keeps replaced revisions registered", () => {
    const { stack, apiTasks, workerTasks } = tasksStack(() => ({ imageOwnedByReleases: true }));
    const json = synthJson(stack);
    expect([apiTasks.imageOwnedByReleases, workerTasks.imageOwnedByReleases]).toEqual([true, false]);
    expect(servicesByName(json)["fargate-test-api"].lifecycle).toEqual({ ignore_changes: ["desired_count", "task_definition"] });
    expect(taskDefinitionsByFamily(json)["fargate-test-api"].skip_destroy).toBe(true);
    // Terraform owns the whole task definition by default.
    expect(servicesByName(json)["fargate-test-worker"].lifecycle).toEqual({ ignore_changes: ["desired_count"] });
    expect(taskDefinitionsByFamily(json)["fargate-test-worker"].skip_destroy).toBeUndefined();
  });

  test("ignores task_definition once on a CODE_DEPLOY service whose image the releases own", () => {
    const api = servicesByName(synthJson(tasksStack(() => ({ deployment: codeDeploy, imageOwnedByReleases: true })).stack))["fargate-test-api"];
    expect(api.lifecycle.ignore_changes).toEqual(["desired_count", ...CODE_DEPLOY_OWNED_FIELDS]);
    expect(api.lifecycle.ignore_changes.filter((f: string) => f === "task_definition")).toHaveLength(1);
  });

  test("gives an internal service no load balancer or grace period", () => {
    const worker = servicesByName(synthJson(tasksStack().stack))["fargate-test-worker"];
    expect(worker.load_balancer).toBeUndefined();
    expect(worker.health_check_grace_period_seconds).toBeUndefined();
  });

  test("uses the given health check grace period on a service behind the ALB", () => {
    const api = servicesByName(synthJson(tasksStack(() => ({ healthCheckGracePeriodSec: 300 })).stack))["fargate-test-api"];
    expect(api.health_check_grace_period_seconds).toBe(300);
  });

  test("waits for what it is told to depend on (the listener rule of its target group)", () => {
    const { stack } = tasksStack((ecs) => ({ dependsOn: [ecs.cluster] }));
    const api = servicesByName(synthJson(stack))["fargate-test-api"];
    expect(api.depends_on).toEqual([expect.stringMatching(/^aws_ecs_cluster_capacity_providers\./), expect.stringMatching(/^aws_ecs_cluster\./)]);
  });

  test("assigns public IPs only when asked (tasks in public subnets), declaring the checkov skip there only", () => {
    const open = tasksStack(() => ({ assignPublicIp: true }));
    const byName = servicesByName(synthJson(open.stack));
    expect(byName["fargate-test-api"].network_configuration.assign_public_ip).toBe(true);
    expect(byName["fargate-test-worker"].network_configuration.assign_public_ip).toBe(false);
    expect(checkovSkips(open.apiTasks.service).get("CKV_AWS_333")).toMatch(/NAT strategy none/);
    expect(checkovSkips(open.workerTasks.service).size).toBe(0);
  });

  test("defines Fargate tasks with awslogs to the service's log group, secrets by valueFrom and a curl-free health check", () => {
    const json = synthJson(tasksStack().stack);
    expect(JSON.stringify(json)).toHaveResourceWithProperties(
      { tfResourceType: "aws_ecs_task_definition" },
      {
        family: "fargate-test-api",
        requires_compatibilities: ["FARGATE"],
        network_mode: "awsvpc",
        cpu: "256",
        memory: "512",
        execution_role_arn: EXECUTION_ROLE,
        task_role_arn: TASK_ROLE,
        runtime_platform: { operating_system_family: "LINUX", cpu_architecture: "X86_64" },
        volume: [{ name: "tmp" }],
      },
    );
    const [app] = containersOf(json, "fargate-test-api");
    expect(app).toEqual(
      expect.objectContaining({
        name: "api",
        image: API_IMAGE,
        essential: true,
        privileged: false,
        readonlyRootFilesystem: true,
        user: "1000",
        environment: [{ name: "LOG_LEVEL", value: "info" }],
        secrets: [{ name: "API_SIGNING_KEY", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/test/api/signing-key" }],
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/fargate/test/ecs/api", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api" } },
      }),
    );
    expect(app.healthCheck.command).toEqual(HEALTH_COMMAND);
    expect(app.healthCheck.command.join(" ")).not.toMatch(/curl/);
    const [worker] = containersOf(json, "fargate-test-worker");
    expect(worker.image).toBe("public.ecr.aws/acme/worker:2.0");
    expect(worker.logConfiguration.options["awslogs-stream-prefix"]).toBe("worker");
  });

  test("gives the tasks no application role (no AWS credentials) when none is given", () => {
    const families = taskDefinitionsByFamily(synthJson(tasksStack(undefined, () => ({ taskRoleArn: undefined })).stack));
    expect(families["fargate-test-worker"].task_role_arn).toBeUndefined();
    expect(families["fargate-test-worker"].execution_role_arn).toBe(EXECUTION_ROLE);
    expect(families["fargate-test-api"].task_role_arn).toBe(TASK_ROLE);
  });

  test("adds the X-Ray daemon sidecar when asked", () => {
    const json = synthJson(tasksStack(undefined, () => ({ xraySidecar: true })).stack);
    const [app, xray] = containersOf(json, "fargate-test-worker");
    expect(xray).toEqual(expect.objectContaining({ name: "xray-daemon", image: DEFAULT_XRAY_DAEMON_IMAGE, essential: false, portMappings: [{ containerPort: 2000, hostPort: 2000, protocol: "udp" }] }));
    expect(app.environment).toEqual(expect.arrayContaining([{ name: "AWS_XRAY_DAEMON_ADDRESS", value: "localhost:2000" }]));
    expect(containersOf(json, "fargate-test-api")).toHaveLength(1);
  });

  test("scales each service between the environment's min and max on CPU, memory and (behind the ALB) requests", () => {
    const json = synthJson(tasksStack().stack);
    const targets = resourcesOf(json, "aws_appautoscaling_target").map(([, t]) => t);
    expect(targets.map((t) => [t.resource_id.includes("api_service") ? "api" : "worker", t.min_capacity, t.max_capacity, t.lifecycle])).toEqual([
      ["api", 2, 10, undefined],
      ["worker", 2, 10, undefined],
    ]);
    const policies = resourcesOf(json, "aws_appautoscaling_policy").map(([, p]) => p.target_tracking_scaling_policy_configuration);
    const metrics = policies.map((p) => p.predefined_metric_specification.predefined_metric_type);
    expect(metrics.filter((m) => m === "ALBRequestCountPerTarget")).toHaveLength(1);
    expect(metrics.filter((m) => m === "ECSServiceAverageCPUUtilization")).toHaveLength(2);
    expect(metrics.filter((m) => m === "ECSServiceAverageMemoryUtilization")).toHaveLength(2);
    expect(policies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target_value: 500, predefined_metric_specification: { predefined_metric_type: "ALBRequestCountPerTarget", resource_label: "app/alb/1/targetgroup/api/2" } }),
        expect.objectContaining({ target_value: 60, predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" } }),
      ]),
    );
  });

  test("memory target tracking is opt-in: no memory policy without memoryTargetPercent", () => {
    const cpuOnly = { minCapacity: 2, maxCapacity: 10, cpuTargetPercent: 70 };
    const json = synthJson(tasksStack(() => ({ autoscaling: cpuOnly }), () => ({ autoscaling: cpuOnly })).stack);
    const metrics = resourcesOf(json, "aws_appautoscaling_policy").map(([, p]) => p.target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type);
    expect(metrics.filter((m) => m === "ECSServiceAverageCPUUtilization")).toHaveLength(2);
    expect(metrics.filter((m) => m === "ECSServiceAverageMemoryUtilization")).toEqual([]);
  });

  test("creates no autoscaling when none is given", () => {
    const json = synthJson(tasksStack(() => ({ autoscaling: undefined }), () => ({ autoscaling: undefined })).stack);
    expect(resourcesOf(json, "aws_ecs_service")).toHaveLength(2);
    expect(resourcesOf(json, "aws_appautoscaling_target")).toEqual([]);
    expect(resourcesOf(json, "aws_appautoscaling_policy")).toEqual([]);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(tasksStack().stack)).toEqual([]);
    expect(problemsOf(tasksStack(() => ({ deployment: codeDeploy, imageOwnedByReleases: true })).stack)).toEqual([]);
  });

  test.each<[string, TasksOverrides, RegExp]>([
    ["the cpu/memory pair is not a Fargate task size", () => ({ cpu: 512, memoryMiB: 512 }), /^512 CPU units need 1024-4096 MiB in steps of 1024 of memory on Fargate; got 512$/],
    ["the container port is out of range", () => ({ containerPort: 0 }), /^containerPort must be a whole number from 1 to 65535; got 0$/],
    ["desiredCount exceeds the autoscaling max", () => ({ desiredCount: 11 }), /^desiredCount must be between 0 and autoscaling max \(10\); got 11$/],
    ["the service name is not kebab-case", () => ({ serviceName: "Api_1" }), /^serviceName must be lowercase kebab-case; got "Api_1"$/],
    ["ECS Exec runs on a read-only root filesystem", () => ({ enableExecuteCommand: true }), /^ECS Exec needs a writable root filesystem/],
    ["the container user is root", () => ({ user: "0" }), /^user must be a non-root uid or uid:gid; got "0"/],
    ["a variable is both environment and secret", () => ({ environment: { API_SIGNING_KEY: "x" } }), /^variable API_SIGNING_KEY is defined twice/],
    ["autoscaling min exceeds max", () => ({ autoscaling: { ...autoscaling, minCapacity: 5, maxCapacity: 2 }, desiredCount: 2 }), /^autoscaling minCapacity must be between 0 and maxCapacity \(2\); got 5$/],
    ["there is no subnet", () => ({ subnetIds: [] }), /^subnetIds must list at least one subnet; got none$/],
    ["the health check grace period is negative", () => ({ healthCheckGracePeriodSec: -1 }), /^healthCheckGracePeriodSec must be a whole number from 0 to 2147483647 seconds; got -1$/],
    ["the container health check is not a CMD", () => ({ healthCheck: { command: ["curl localhost"], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 60 } }), /^healthCheck\.command must start with "CMD" or "CMD-SHELL"/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { apiTasks } = tasksStack(overrides);
    const problems = apiTasks.node.validate();
    expect(problems).toEqual([expect.stringMatching(message)]);
  });

  test("refuses request-count scaling on a service without a load balancer", () => {
    const { workerTasks } = tasksStack(undefined, () => ({ autoscaling: { ...autoscaling, requestsPerTarget: 100 } }));
    expect(workerTasks.node.validate()).toEqual(["requestsPerTarget needs an ALB target group; got 100 on a service without a load balancer"]);
  });

  test("refuses a CODE_DEPLOY service without a load balancer (blue/green is for public services)", () => {
    const { workerTasks } = tasksStack(undefined, () => ({ deployment: codeDeploy }));
    expect(workerTasks.node.validate()).toEqual(["a CODE_DEPLOY service needs its blue target group; got no load balancer; CodeDeploy blue/green is for public services"]);
  });

  test("throws a NameError when an ECS service name would break the AWS limit", () => {
    expect(() => tasksStack(() => ({ serviceName: "x".repeat(250) }))).toThrow(/ecsService name "fargate-test-x+" is 263 characters; the AWS limit is 255/);
  });
});
