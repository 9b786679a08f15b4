import { Testing } from "cdktf";
import { Construct } from "constructs";
import { DEFAULT_XRAY_DAEMON_IMAGE, Ecs, EcsProps, EcsServiceSpec } from "../../modules/ecs";
import { Naming } from "../../lib/naming";
import { resourcesOf } from "../helpers";
import { checkovSkips } from "../../lib/checkov";

const api: EcsServiceSpec = {
  serviceName: "api",
  image: { ecrRepository: "fargate/api", tag: "v1.2.3" },
  containerPort: 8000,
  cpu: 256,
  memoryMiB: 512,
  desiredCount: 2,
  environment: { LOG_LEVEL: "info" },
  secrets: [{ name: "API_SIGNING_KEY", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/test/api/signing-key" }],
  healthCheck: { command: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"], intervalSec: 30, timeoutSec: 5, retries: 3, startPeriodSec: 60 },
  user: "1000",
  executionRoleArn: "arn:aws:iam::123456789012:role/fargate-test-api-execution",
  taskRoleArn: "arn:aws:iam::123456789012:role/fargate-test-api-task",
  deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 0, standbyDesiredCount: 0 },
  loadBalancer: { blueTargetGroupArn: "arn:tg/blue", greenTargetGroupArn: "arn:tg/green", blueResourceLabel: "app/alb/1/targetgroup/blue/2", greenResourceLabel: "app/alb/1/targetgroup/green/3" },
  autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80, requestsPerTarget: 500 },
};
const worker: EcsServiceSpec = {
  ...api,
  serviceName: "worker",
  image: { uri: "public.ecr.aws/acme/worker", tag: "2.0" },
  containerPort: 9000,
  secrets: [],
  deployment: { strategy: "rolling" },
  loadBalancer: undefined,
  autoscaling: { cpuTargetPercent: 60, memoryTargetPercent: 75 },
  kafka: { securityGroupId: "sg-0123456789abcdef0", port: 9094 },
};

const baseProps: EcsProps = {
  naming: new Naming("fargate", "test"),
  region: "us-east-1",
  subnetIds: ["subnet-a", "subnet-b"],
  securityGroupId: "sg-ecs",
  assignPublicIp: false,
  logRetentionDays: 30,
  logsKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/logs",
  repositoryKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/data",
  fargateSpotPercent: 30,
  autoscaling: { enabled: true, minCapacity: 2, maxCapacity: 10 },
  services: [api, worker],
};

function synthText(overrides: Partial<EcsProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new Ecs(scope, "ecs", { ...baseProps, ...overrides });
  });
}
const synth = (overrides: Partial<EcsProps> = {}) => JSON.parse(synthText(overrides));
const services = (json: any) => resourcesOf(json, "aws_ecs_service").map(([, s]) => s);
const containersOf = (json: any, family: string) => JSON.parse(resourcesOf(json, "aws_ecs_task_definition").find(([, t]) => t.family === family)![1].container_definitions);

describe("Ecs", () => {
  test("creates a cluster with Container Insights and the Spot share as default strategy", () => {
    const text = synthText();
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
    const strategy = (spot: number) => resourcesOf(synth({ fargateSpotPercent: spot }), "aws_ecs_cluster_capacity_providers")[0][1].default_capacity_provider_strategy;
    expect(strategy(0)).toEqual([{ capacity_provider: "FARGATE", base: 1, weight: 100 }]);
    expect(strategy(100)).toEqual([{ capacity_provider: "FARGATE_SPOT", base: 0, weight: 100 }]);
  });

  test("runs blue and green services for blue/green and one service for rolling", () => {
    expect(services(synth()).map((s) => s.name).sort()).toEqual(["fargate-test-api-blue", "fargate-test-api-green", "fargate-test-worker"]);
  });

  test("gives the colour with traffic the desired count and the standby colour its standby count", () => {
    const byName = Object.fromEntries(services(synth()).map((s) => [s.name, s]));
    expect(byName["fargate-test-api-blue"].desired_count).toBe(2);
    expect(byName["fargate-test-api-green"].desired_count).toBe(0);
    const flipped = synth({ services: [{ ...api, deployment: { strategy: "blue-green", blueWeight: 0, greenWeight: 100, standbyDesiredCount: 1 } }] });
    const f = Object.fromEntries(services(flipped).map((s) => [s.name, s]));
    expect([f["fargate-test-api-blue"].desired_count, f["fargate-test-api-green"].desired_count]).toEqual([1, 2]);
  });

  test("configures every service for safe deployments and ignores desired_count after creation", () => {
    const text = synthText();
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_ecs_service" },
      {
        name: "fargate-test-api-blue",
        health_check_grace_period_seconds: 60,
        deployment_circuit_breaker: { enable: true, rollback: true },
        deployment_minimum_healthy_percent: 100,
        deployment_maximum_percent: 200,
        enable_execute_command: false,
        propagate_tags: "SERVICE",
        network_configuration: { subnets: ["subnet-a", "subnet-b"], security_groups: ["sg-ecs"], assign_public_ip: false },
        load_balancer: [{ target_group_arn: "arn:tg/blue", container_name: "api", container_port: 8000 }],
        capacity_provider_strategy: expect.arrayContaining([expect.objectContaining({ capacity_provider: "FARGATE_SPOT", weight: 30 })]),
        lifecycle: { ignore_changes: ["desired_count"] },
      },
    );
    for (const s of services(synth())) expect(s.lifecycle).toEqual({ ignore_changes: ["desired_count"] });
  });

  test("also ignores task_definition when a delivery pipeline deploys the service", () => {
    const json = synth({ services: [{ ...api, deployedByPipeline: true }, worker] });
    const byName = Object.fromEntries(services(json).map((s) => [s.name, s]));
    expect(byName["fargate-test-api-green"].lifecycle).toEqual({ ignore_changes: ["desired_count", "task_definition"] });
    expect(byName["fargate-test-worker"].lifecycle).toEqual({ ignore_changes: ["desired_count"] });
  });

  test("attaches the green service to the green target group; an internal service has no load balancer or grace period", () => {
    const byName = Object.fromEntries(services(synth()).map((s) => [s.name, s]));
    expect(byName["fargate-test-api-green"].load_balancer).toEqual([{ target_group_arn: "arn:tg/green", container_name: "api", container_port: 8000 }]);
    expect(byName["fargate-test-worker"].load_balancer).toBeUndefined();
    expect(byName["fargate-test-worker"].health_check_grace_period_seconds).toBeUndefined();
  });

  test("assigns public IPs only when asked (tasks in public subnets), declaring the checkov skip there only", () => {
    for (const s of services(synth({ assignPublicIp: true }))) expect(s.network_configuration.assign_public_ip).toBe(true);
    const units = (assignPublicIp: boolean) => {
      let ecs: Ecs | undefined;
      Testing.synthScope((scope: Construct) => {
        ecs = new Ecs(scope, "ecs", { ...baseProps, assignPublicIp });
      });
      return Object.values(ecs!.serviceUnits).flat();
    };
    for (const unit of units(true)) expect(checkovSkips(unit.service).get("CKV_AWS_333")).toMatch(/NAT strategy none/);
    for (const unit of units(false)) expect(checkovSkips(unit.service).size).toBe(0);
  });

  test("defines Fargate tasks with awslogs to the KMS log group, secrets by valueFrom and a curl-free health check", () => {
    const json = synth();
    const text = JSON.stringify(json);
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_ecs_task_definition" },
      {
        family: "fargate-test-api-blue",
        requires_compatibilities: ["FARGATE"],
        network_mode: "awsvpc",
        cpu: "256",
        memory: "512",
        execution_role_arn: api.executionRoleArn,
        task_role_arn: api.taskRoleArn,
      },
    );
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_cloudwatch_log_group" },
      { name: "/fargate/test/ecs/api", retention_in_days: 30, kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/logs" },
    );
    const [app] = containersOf(json, "fargate-test-api-blue");
    expect(app).toEqual(
      expect.objectContaining({
        name: "api",
        image: expect.stringMatching(/aws_ecr_repository\..*\.repository_url\}:v1\.2\.3$/),
        essential: true,
        privileged: false,
        readonlyRootFilesystem: true,
        user: "1000",
        environment: [{ name: "LOG_LEVEL", value: "info" }],
        secrets: [{ name: "API_SIGNING_KEY", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/fargate/test/api/signing-key" }],
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        logConfiguration: { logDriver: "awslogs", options: expect.objectContaining({ "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api-blue" }) },
      }),
    );
    expect(app.healthCheck.command).toEqual(api.healthCheck!.command);
    expect(app.healthCheck.command.join(" ")).not.toMatch(/curl/);
    expect(containersOf(json, "fargate-test-worker")[0].image).toBe("public.ecr.aws/acme/worker:2.0");
  });

  test("adds the X-Ray daemon sidecar when asked", () => {
    const json = synth({ services: [{ ...worker, xraySidecar: true }] });
    const [app, xray] = containersOf(json, "fargate-test-worker");
    expect(xray).toEqual(expect.objectContaining({ name: "xray-daemon", image: DEFAULT_XRAY_DAEMON_IMAGE, essential: false, portMappings: [{ containerPort: 2000, hostPort: 2000, protocol: "udp" }] }));
    expect(app.environment).toEqual(expect.arrayContaining([{ name: "AWS_XRAY_DAEMON_ADDRESS", value: "localhost:2000" }]));
  });

  test("creates an immutable, scanned, KMS-encrypted ECR repository with a lifecycle policy", () => {
    const json = synth();
    const text = JSON.stringify(json);
    expect(text).toHaveResourceWithProperties(
      { tfResourceType: "aws_ecr_repository" },
      {
        name: "fargate-test/fargate/api",
        image_tag_mutability: "IMMUTABLE",
        image_scanning_configuration: { scan_on_push: true },
        encryption_configuration: [{ encryption_type: "KMS", kms_key: "arn:aws:kms:us-east-1:123456789012:key/data" }],
        force_delete: false,
      },
    );
    expect(resourcesOf(json, "aws_ecr_repository")).toHaveLength(1); // the worker uses an external image
    const policy = JSON.parse(resourcesOf(json, "aws_ecr_lifecycle_policy")[0][1].policy);
    expect(policy.rules.map((r: any) => r.selection.tagStatus)).toEqual(["untagged", "any"]);
  });

  test("scales each service on CPU, memory and ALB requests between the environment's min and max", () => {
    const json = synth();
    const targets = resourcesOf(json, "aws_appautoscaling_target").map(([, t]) => t);
    expect(targets).toHaveLength(3);
    const blue = targets.find((t) => t.resource_id.includes("api_blue"))!;
    const green = targets.find((t) => t.resource_id.includes("api_green"))!;
    const rolling = targets.find((t) => t.resource_id.includes("worker"))!;
    expect([blue.min_capacity, blue.max_capacity]).toEqual([2, 10]);
    expect([green.min_capacity, green.max_capacity]).toEqual([0, 10]); // cold standby
    expect(green.lifecycle).toEqual({ ignore_changes: ["min_capacity"] });
    expect([rolling.min_capacity, rolling.max_capacity, rolling.lifecycle]).toEqual([2, 10, undefined]);
    const policies = resourcesOf(json, "aws_appautoscaling_policy").map(([, p]) => p.target_tracking_scaling_policy_configuration);
    const metrics = policies.map((p) => p.predefined_metric_specification.predefined_metric_type);
    expect(metrics.filter((m) => m === "ALBRequestCountPerTarget")).toHaveLength(2);
    expect(metrics.filter((m) => m === "ECSServiceAverageCPUUtilization")).toHaveLength(3);
    expect(policies).toEqual(expect.arrayContaining([expect.objectContaining({ target_value: 500, predefined_metric_specification: { predefined_metric_type: "ALBRequestCountPerTarget", resource_label: "app/alb/1/targetgroup/green/3" } })]));
  });

  test("creates no autoscaling when the feature is off", () => {
    const json = synth({ autoscaling: { enabled: false, minCapacity: 2, maxCapacity: 10 } });
    expect(resourcesOf(json, "aws_appautoscaling_target")).toEqual([]);
    expect(resourcesOf(json, "aws_appautoscaling_policy")).toEqual([]);
  });

  test("opens the Kafka security group to the ECS tasks and the ECS tasks to Kafka", () => {
    const text = synthText();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_vpc_security_group_egress_rule" }, { security_group_id: "sg-ecs", referenced_security_group_id: "sg-0123456789abcdef0", from_port: 9094, to_port: 9094 });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_vpc_security_group_ingress_rule" }, { security_group_id: "sg-0123456789abcdef0", referenced_security_group_id: "sg-ecs", from_port: 9094, to_port: 9094 });
  });

  test("throws for an invalid Fargate cpu/memory pair", () => {
    expect(() => synth({ services: [{ ...api, cpu: 512, memoryMiB: 512 }] })).toThrow(/ecs: service "api": cpu 512 with memoryMiB 512 is not a Fargate task size; got 512\/512/);
  });

  test("throws for image, port and count problems", () => {
    expect(() => synth({ services: [{ ...api, image: { ecrRepository: "a", uri: "b", tag: "1" } }] })).toThrow(/give either image.ecrRepository or image.uri, not both or neither/);
    expect(() => synth({ services: [{ ...api, image: { ecrRepository: "Bad Repo", tag: "1" } }] })).toThrow(/image.ecrRepository is not a valid ECR repository name; got "Bad Repo"/);
    expect(() => synth({ services: [{ ...api, containerPort: 0 }] })).toThrow(/containerPort must be 1-65535; got 0/);
    expect(() => synth({ services: [{ ...api, desiredCount: 11 }] })).toThrow(/desiredCount must be between 0 and autoscaling max \(10\); got 11/);
    expect(() => synth({ services: [api, api] })).toThrow(/service "api" is listed twice/);
  });

  test("throws for blue/green without two target groups or with bad weights", () => {
    expect(() => synth({ services: [{ ...api, loadBalancer: { blueTargetGroupArn: "arn:tg/blue" } }] })).toThrow(/blue-green needs a blue and a green target group; got only one/);
    expect(() => synth({ services: [{ ...api, deployment: { strategy: "blue-green", blueWeight: 50, greenWeight: 40, standbyDesiredCount: 0 } }] })).toThrow(/blueWeight \+ greenWeight must be 100; got 50 \+ 40/);
    expect(() => synth({ services: [{ ...api, deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 0, standbyDesiredCount: 11 } }] })).toThrow(/standbyDesiredCount must be between 0 and autoscaling max \(10\); got 11/);
  });

  test("throws for ECS Exec on a read-only root filesystem, a root user, duplicate variables", () => {
    expect(() => synth({ services: [{ ...api, enableExecuteCommand: true }] })).toThrow(/ECS Exec needs a writable root filesystem/);
    expect(() => synth({ services: [{ ...api, user: "0" }] })).toThrow(/user must be a non-root uid or uid:gid; got "0"/);
    expect(() => synth({ services: [{ ...api, environment: { API_SIGNING_KEY: "x" } }] })).toThrow(/variable API_SIGNING_KEY is defined twice/);
  });

  test("throws for request scaling without a load balancer and for bad environment-wide values", () => {
    expect(() => synth({ services: [{ ...worker, autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80, requestsPerTarget: 100 } }] })).toThrow(/requestsPerTarget needs an ALB target group/);
    expect(() => synth({ fargateSpotPercent: 120 })).toThrow(/fargateSpotPercent must be an integer 0-100; got 120/);
    expect(() => synth({ autoscaling: { enabled: true, minCapacity: 5, maxCapacity: 2 } })).toThrow(/minCapacity must be between 0 and maxCapacity \(2\); got 5/);
    expect(() => synth({ subnetIds: [] })).toThrow(/subnetIds must list at least one subnet; got none/);
  });
});
