import { Fn, TerraformStack } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { ecsContainerInsights, ecsNoEnvSecrets, ecsNoPrivileged, ecsNoPublicIp, ecsReadonlyRoot } from "../../src/policy/rules";
import { onlyFinding } from "./fixtures";

const container = (extra: Record<string, unknown> = {}) => ({
  name: "api",
  image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1",
  essential: true,
  readonlyRootFilesystem: true,
  environment: [{ name: "LOG_LEVEL", value: "info" }],
  secrets: [{ name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" }],
  ...extra,
});
const task = (containers: object[], encode: (v: unknown) => string = JSON.stringify) => (s: TerraformStack) =>
  new EcsTaskDefinition(s, "task", { family: "api", requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions: encode(containers) });

describe("ECS-CONTAINER-INSIGHTS", () => {
  test("passes containerInsights enabled or enhanced", () => {
    expect(onlyFinding(ecsContainerInsights, (s) => new EcsCluster(s, "cluster", { name: "c", setting: [{ name: "containerInsights", value: "enabled" }] })).status).toBe("compliant");
    expect(onlyFinding(ecsContainerInsights, (s) => new EcsCluster(s, "cluster", { name: "c", setting: [{ name: "containerInsights", value: "enhanced" }] })).status).toBe("compliant");
  });
  test("fails a cluster without Container Insights", () => {
    expect(onlyFinding(ecsContainerInsights, (s) => new EcsCluster(s, "cluster", { name: "c" })).message).toMatch(/^\[ECS-CONTAINER-INSIGHTS\] aws_ecs_cluster\.cluster: .* \(CKV_AWS_65, ECS\.12\)$/);
    expect(onlyFinding(ecsContainerInsights, (s) => new EcsCluster(s, "cluster", { name: "c", setting: [{ name: "containerInsights", value: "disabled" }] })).status).toBe("non-compliant");
  });
});

describe("ECS-NO-PUBLIC-IP", () => {
  const service = (assignPublicIp: boolean, nat: boolean) => (s: TerraformStack) => {
    if (nat) new NatGateway(s, "nat", { subnetId: "subnet-1", allocationId: "eipalloc-1" });
    new EcsService(s, "service", { name: "api", networkConfiguration: { subnets: ["subnet-1"], assignPublicIp } });
  };
  test("passes a service without public IPs", () => {
    expect(onlyFinding(ecsNoPublicIp, service(false, true)).status).toBe("compliant");
  });
  test("fails public IPs when the stack has a NAT gateway", () => {
    expect(onlyFinding(ecsNoPublicIp, service(true, true)).status).toBe("non-compliant");
  });
  test("allows public IPs when the stack has no NAT gateway (natStrategy none), with the reason", () => {
    expect(onlyFinding(ecsNoPublicIp, service(true, false))).toMatchObject({ status: "not-applicable", reason: expect.stringMatching(/no NAT gateway/) });
  });
});

describe("ECS-NO-PRIVILEGED", () => {
  test("passes unprivileged containers", () => {
    expect(onlyFinding(ecsNoPrivileged, task([container(), container({ name: "sidecar", privileged: false })])).status).toBe("compliant");
  });
  test("fails a privileged container", () => {
    expect(onlyFinding(ecsNoPrivileged, task([container(), container({ name: "sidecar", privileged: true })])).reason).toBe('container "sidecar" sets privileged: true');
  });
  test("reads Fn.jsonencode container definitions", () => {
    expect(onlyFinding(ecsNoPrivileged, task([container({ privileged: true })], (v) => Fn.jsonencode(v))).status).toBe("non-compliant");
    expect(onlyFinding(ecsNoPrivileged, task([container()], (v) => Fn.jsonencode(v))).status).toBe("compliant");
  });
  test("fails container definitions it cannot read", () => {
    expect(onlyFinding(ecsNoPrivileged, (s) => new EcsTaskDefinition(s, "task", { family: "api", containerDefinitions: Fn.file("containers.json") })).reason).toMatch(/cannot read/);
  });
});

describe("ECS-NO-ENV-SECRETS", () => {
  test("passes secrets passed through `secrets` and pointers to secrets in `environment`", () => {
    const env = [{ name: "LOG_LEVEL", value: "info" }, { name: "DB_SECRET_ARN", value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" }];
    expect(onlyFinding(ecsNoEnvSecrets, task([container({ environment: env })])).status).toBe("compliant");
  });
  test.each(["DB_PASSWORD", "JWT_SECRET", "GITHUB_TOKEN", "STRIPE_API_KEY", "TLS_PRIVATE_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"])("fails %s as a plaintext environment entry", (name) => {
    const f = onlyFinding(ecsNoEnvSecrets, task([container({ environment: [{ name, value: "x" }] })]));
    expect(f.message).toMatch(new RegExp(`^\\[ECS-NO-ENV-SECRETS\\] aws_ecs_task_definition\\.task: container "api" environment ${name} looks like a secret.* \\(ECS\\.8\\)$`));
  });
});

describe("ECS-READONLY-ROOT", () => {
  test("is a warning-level rule", () => {
    expect(ecsReadonlyRoot.severity).toBe("warning");
  });
  test("passes read-only root filesystems", () => {
    expect(onlyFinding(ecsReadonlyRoot, task([container()])).status).toBe("compliant");
  });
  test("fails a container with a writable root filesystem", () => {
    expect(onlyFinding(ecsReadonlyRoot, task([container({ readonlyRootFilesystem: false }), container({ name: "sidecar", readonlyRootFilesystem: undefined })])).reason).toBe(
      'container "api", container "sidecar" has no readonlyRootFilesystem: true',
    );
  });
});
