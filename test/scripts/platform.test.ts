/**
 * The operator CLI against a stubbed AWS: a small in-memory model of ECS task definitions
 * and services, CodeDeploy deployments, target health and alarms (the emulator e2e drives
 * the same commands against moto).
 */
import { main } from "../../scripts/platform";
import { configOf, OperatorClients, TAGS } from "../../src/operator/releases";

type Td = { taskDefinitionArn: string; family: string; revision: number; cpu: string; memory: string; containerDefinitions: { name: string; image: string; environment?: { name: string; value: string }[] }[] };

class FakeAws {
  tds = new Map<string, Td>();
  tags = new Map<string, { key: string; value: string }[]>();
  services = new Map<string, { taskDefinition: string; desiredCount: number; runningCount: number; deployments: any[] }>();
  deployments: any[] = [];
  alarmStates: Record<string, string> = {};
  calls: string[] = [];
  rollBackNext = false;
  pipelineStarts: any[] = [];
  approvals: any[] = [];
  approvalWaiting = false;

  register(td: Omit<Td, "taskDefinitionArn" | "revision">, tags: { key: string; value: string }[] = []): string {
    const revision = [...this.tds.values()].filter((t) => t.family === td.family).length + 1;
    const arn = `arn:aws:ecs:us-east-1:123456789012:task-definition/${td.family}:${revision}`;
    this.tds.set(arn, { ...structuredClone(td), taskDefinitionArn: arn, revision });
    this.tags.set(arn, tags);
    return arn;
  }

  clients(): OperatorClients {
    const send = async (cmd: any) => {
      const name = cmd.constructor.name as string;
      const i = cmd.input;
      this.calls.push(name);
      switch (name) {
        case "DescribeTaskDefinitionCommand":
          return { taskDefinition: structuredClone(this.tds.get(i.taskDefinition)), tags: this.tags.get(i.taskDefinition) ?? [] };
        case "RegisterTaskDefinitionCommand": {
          const arn = this.register({ family: i.family, cpu: i.cpu, memory: i.memory, containerDefinitions: i.containerDefinitions }, i.tags);
          return { taskDefinition: { taskDefinitionArn: arn } };
        }
        case "DescribeServicesCommand": {
          const s = this.services.get(i.services[0]);
          return { services: s ? [{ serviceName: i.services[0], ...structuredClone(s) }] : [] };
        }
        case "UpdateServiceCommand": {
          const s = this.services.get(i.service)!;
          if (i.desiredCount !== undefined) s.desiredCount = i.desiredCount;
          if (i.taskDefinition) {
            const previous = s.taskDefinition;
            const state = this.rollBackNext ? "FAILED" : "COMPLETED";
            s.taskDefinition = this.rollBackNext ? previous : i.taskDefinition;
            s.deployments = [{ id: "ecs-svc/1", status: "PRIMARY", taskDefinition: i.taskDefinition, rolloutState: state, runningCount: s.desiredCount, desiredCount: s.desiredCount }];
          }
          s.runningCount = s.desiredCount;
          return { service: structuredClone(s) };
        }
        case "CreateDeploymentCommand":
          this.deployments.push(i);
          return { deploymentId: `d-${this.deployments.length}` };
        case "GetDeploymentCommand":
          return { deploymentInfo: { status: "Succeeded" } };
        case "ListDeploymentsCommand":
          return { deployments: [] };
        case "DescribeTargetHealthCommand":
          return { TargetHealthDescriptions: [{ TargetHealth: { State: "healthy" } }] };
        case "StartPipelineExecutionCommand":
          this.pipelineStarts.push(i);
          return { pipelineExecutionId: "exec-1" };
        case "GetPipelineStateCommand":
          return { stageStates: [{ stageName: "Approval", actionStates: [{ actionName: "ManualApproval", latestExecution: this.approvalWaiting ? { status: "InProgress", token: "tok-1" } : { status: "Succeeded" } }] }] };
        case "PutApprovalResultCommand":
          this.approvals.push(i);
          return {};
        case "DescribeAlarmsCommand":
          return { MetricAlarms: i.AlarmNames.map((n: string) => ({ AlarmName: n, StateValue: this.alarmStates[n] ?? "OK" })) };
        default:
          throw new Error(`unexpected ${name}`);
      }
    };
    return { ecs: { send }, codedeploy: { send }, cloudwatch: { send }, elbv2: { send }, codepipeline: { send } } as unknown as OperatorClients;
  }
}

const cluster = "fargate-local-cluster";
function setup(options: { deployWith?: "ecs" | "codedeploy"; owner?: "release" | "terraform" } = {}) {
  const aws = new FakeAws();
  const container = { name: "worker", image: "123.dkr.ecr.us-east-1.amazonaws.com/fargate/worker:bootstrap", environment: [{ name: "LOG_LEVEL", value: "info" }] };
  const config = aws.register({ family: "fargate-local-worker", cpu: "256", memory: "512", containerDefinitions: [container] });
  aws.services.set("fargate-local-worker", { taskDefinition: config, desiredCount: 2, runningCount: 2, deployments: [] });
  const releases = {
    worker: {
      service: "fargate-local-worker",
      config_task_definition: config,
      family: "fargate-local-worker",
      container: "worker",
      container_port: 9000,
      image_owner: options.owner ?? "release",
      deploy_with: options.deployWith ?? "ecs",
      codedeploy_application: "fargate-local-worker",
      codedeploy_deployment_group: "fargate-local-worker",
      rollback_alarms: ["fargate-local-worker-no-tasks-reporting"],
      target_groups: options.deployWith === "codedeploy" ? ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fargate-local-worker-b9000/abc"] : [],
    },
  };
  const outputs = {
    ecs_cluster_name: { value: cluster },
    pipeline_names: { value: { worker: "fargate-local-worker" } },
    releases: { value: releases },
    task_network: { value: { subnets: ["subnet-1"], security_groups: ["sg-1"], assign_public_ip: false, capacity_provider_strategy: [{ capacity_provider: "FARGATE", base: 1, weight: 50 }] } },
  };
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`), outputs: () => outputs, clients: aws.clients() };
  const run = (...argv: string[]) => main([...argv, "--env", "local"], io);
  const running = () => aws.tds.get(aws.services.get("fargate-local-worker")!.taskDefinition)!;
  /** Terraform applies a config edit: a new config revision, and the stack output points at it. */
  const applyConfig = (env: { name: string; value: string }[]) => {
    const next = aws.register({ family: "fargate-local-worker", cpu: "256", memory: "512", containerDefinitions: [{ ...container, environment: env }] });
    (releases.worker as { config_task_definition: string }).config_task_definition = next;
    return next;
  };
  return { aws, run, lines, running, applyConfig, config };
}

describe("platform status", () => {
  test("shows tasks, deployments, the running revision and its image, and the rollback alarms; exits 0 when none is in ALARM", async () => {
    const { run, lines, aws } = setup();
    expect(await run("release", "worker", "--image", "repo/worker@sha256:aaa")).toBe(0);
    lines.length = 0;
    expect(await run("status")).toBe(0);
    const text = lines.join("\n");
    expect(text).toMatch(/^worker: 2\/2 tasks, ECS deployments in progress: \d+, runs arn:aws:ecs:us-east-1:123456789012:task-definition\/fargate-local-worker:2$/m);
    expect(text).toContain("  image repo/worker@sha256:aaa");
    expect(text).toContain("  alarms: 1 watched, none in ALARM");
    aws.alarmStates["fargate-local-worker-no-tasks-reporting"] = "ALARM";
    lines.length = 0;
    expect(await run("status")).toBe(1);
    expect(lines.join("\n")).toContain("  alarms: IN ALARM fargate-local-worker-no-tasks-reporting");
  });
});

describe("platform start and approve (the pipeline runbooks)", () => {
  test("start runs the service's pipeline at a full commit SHA, or at the head of its release branch", async () => {
    const { run, aws, lines } = setup();
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(await run("start", "worker", "--commit", sha)).toBe(0);
    expect(aws.pipelineStarts).toEqual([{ name: "fargate-local-worker", sourceRevisions: [{ actionName: "Source", revisionType: "COMMIT_ID", revisionValue: sha }] }]);
    expect(lines.join("\n")).toContain(`fargate-local-worker: execution exec-1 started at ${sha}`);
    expect(await run("start", "worker")).toBe(0);
    expect(aws.pipelineStarts[1]).toEqual({ name: "fargate-local-worker", sourceRevisions: undefined });
    expect(await run("start", "worker", "--commit", "abc123")).toBe(2);
  });

  test("approve answers the waiting approval (or rejects it), and fails when nothing waits", async () => {
    const { run, aws, lines } = setup();
    expect(await run("approve", "worker")).toBe(1);
    expect(lines.join("\n")).toContain("fargate-local-worker: nothing waits for approval (Approval is Succeeded)");
    aws.approvalWaiting = true;
    expect(await run("approve", "worker", "--summary", "CHG-42")).toBe(0);
    expect(await run("approve", "worker", "--reject")).toBe(0);
    expect(aws.approvals).toEqual([
      { pipelineName: "fargate-local-worker", stageName: "Approval", actionName: "ManualApproval", token: "tok-1", result: { status: "Approved", summary: "CHG-42" } },
      { pipelineName: "fargate-local-worker", stageName: "Approval", actionName: "ManualApproval", token: "tok-1", result: { status: "Rejected", summary: "Rejected with platform approve" } },
    ]);
  });

  test("an environment without its own pipeline (QA) says where its releases come from", async () => {
    const { run, lines } = setup();
    lines.length = 0;
    const code = await main(["start", "worker", "--outputs", "x"], { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), outputs: () => ({ ecs_cluster_name: { value: cluster }, releases: { value: { worker: {} } }, task_network: { value: {} } }), clients: new FakeAws().clients() });
    expect(code).toBe(1);
    expect(lines.join("\n")).toContain("worker has no pipeline in this environment (its releases come from another environment's pipeline, or it has no source)");
    expect(await run("approve")).toBe(2);
  });
});

describe("platform release", () => {
  test("registers the config revision with only the image swapped, deploys it with ECS, and follows it to the end", async () => {
    const { run, running, config, aws, lines } = setup();
    expect(await run("release", "worker", "--image", "repo/worker@sha256:aaa")).toBe(0);
    const td = running();
    expect(td.containerDefinitions[0].image).toBe("repo/worker@sha256:aaa");
    expect(configOf(td as never)).toEqual(configOf(aws.tds.get(config)! as never));
    expect(aws.tags.get(td.taskDefinitionArn)).toEqual([
      { key: TAGS.config, value: config },
      { key: TAGS.image, value: "repo/worker@sha256:aaa" },
      { key: TAGS.previous, value: config },
    ]);
    expect(lines.join("\n")).toContain("worker: done (COMPLETED");
  });

  test("reports failure when ECS rolled the deployment back", async () => {
    const { run, aws, lines } = setup();
    aws.rollBackNext = true;
    expect(await run("release", "worker", "--image", "repo/worker@sha256:bad")).toBe(1);
    expect(lines.join("\n")).toContain("AWS rolled it back");
  });

  test("a CodeDeploy service gets a deployment whose AppSpec carries the release and the config's network and capacity", async () => {
    const { run, aws } = setup({ deployWith: "codedeploy" });
    expect(await run("release", "worker", "--image", "repo/worker@sha256:bbb")).toBe(0);
    const appSpec = JSON.parse(aws.deployments[0].revision.appSpecContent.content);
    const props = appSpec.Resources[0].TargetService.Properties;
    expect(props.TaskDefinition).toMatch(/fargate-local-worker:2$/);
    expect(props.NetworkConfiguration.AwsvpcConfiguration).toEqual({ Subnets: ["subnet-1"], SecurityGroups: ["sg-1"], AssignPublicIp: "DISABLED" });
    expect(props.CapacityProviderStrategy).toEqual([{ CapacityProvider: "FARGATE", Base: 1, Weight: 50 }]);
    expect(aws.calls).not.toContain("UpdateServiceCommand");
  });

  test("refuses a service whose image Terraform owns", async () => {
    const { run, lines } = setup({ owner: "terraform" });
    expect(await run("release", "worker", "--image", "x@sha256:c")).toBe(1);
    expect(lines.join("\n")).toContain("Terraform owns this service's image");
  });
});

describe("platform rollout", () => {
  test("a config edit reaches the tasks with the image that was running, never the config's placeholder tag", async () => {
    const { run, running, applyConfig } = setup();
    await run("release", "worker", "--image", "repo/worker@sha256:live");
    applyConfig([{ name: "LOG_LEVEL", value: "debug" }]);
    expect(await run("rollout")).toBe(0);
    const td = running();
    expect(td.containerDefinitions[0]).toEqual(expect.objectContaining({ image: "repo/worker@sha256:live", environment: [{ name: "LOG_LEVEL", value: "debug" }] }));
  });

  test("a new release after a config edit carries the current config", async () => {
    const { run, running, applyConfig } = setup();
    applyConfig([{ name: "FEATURE", value: "on" }]);
    await run("release", "worker", "--image", "repo/worker@sha256:new");
    expect(running().containerDefinitions[0].environment).toEqual([{ name: "FEATURE", value: "on" }]);
  });

  test("does nothing when the running revision carries the current config", async () => {
    const { run, aws, lines } = setup();
    await run("release", "worker", "--image", "repo/worker@sha256:live");
    const registered = aws.tds.size;
    expect(await run("rollout", "worker")).toBe(0);
    expect(aws.tds.size).toBe(registered);
    expect(lines.join("\n")).toContain("runs the current config already");
  });
});

describe("platform rollback", () => {
  test("method 1 returns to the previous (config, image) pair and checks the guide's checklist", async () => {
    const { run, running, applyConfig, lines } = setup();
    await run("release", "worker", "--image", "repo/worker@sha256:one");
    const first = running().taskDefinitionArn;
    applyConfig([{ name: "LOG_LEVEL", value: "debug" }]);
    await run("release", "worker", "--image", "repo/worker@sha256:two");
    expect(await run("rollback", "worker")).toBe(0);
    expect(running().taskDefinitionArn).toBe(first);
    expect(running().containerDefinitions[0]).toEqual(expect.objectContaining({ image: "repo/worker@sha256:one", environment: [{ name: "LOG_LEVEL", value: "info" }] }));
    expect(lines.join("\n")).toMatch(/\[x\] revision: runs .*:2; want .*:2/);
    expect(lines.join("\n")).toContain("[x] alarms: 1 watched, none in ALARM");
  });

  test("method 2 keeps the current config with the previous image", async () => {
    const { run, running, applyConfig } = setup();
    await run("release", "worker", "--image", "repo/worker@sha256:one");
    await run("release", "worker", "--image", "repo/worker@sha256:two");
    applyConfig([{ name: "LOG_LEVEL", value: "warn" }]);
    expect(await run("rollback", "worker", "--method", "previous-image")).toBe(0);
    expect(running().containerDefinitions[0]).toEqual(expect.objectContaining({ image: "repo/worker@sha256:one", environment: [{ name: "LOG_LEVEL", value: "warn" }] }));
  });

  test("fails the checklist while a rollback alarm is in ALARM", async () => {
    const { run, aws, lines } = setup();
    await run("release", "worker", "--image", "repo/worker@sha256:one");
    await run("release", "worker", "--image", "repo/worker@sha256:two");
    aws.alarmStates["fargate-local-worker-no-tasks-reporting"] = "ALARM";
    expect(await run("rollback", "worker")).toBe(1);
    expect(lines.join("\n")).toContain("[ ] alarms: in ALARM: fargate-local-worker-no-tasks-reporting");
  });

  test("--emergency scales to zero first, then redeploys the previous revision at the old count", async () => {
    const { run, aws, running } = setup();
    await run("release", "worker", "--image", "repo/worker@sha256:one");
    const first = running().taskDefinitionArn;
    await run("release", "worker", "--image", "repo/worker@sha256:two");
    aws.calls = [];
    expect(await run("rollback", "worker", "--emergency")).toBe(0);
    expect(aws.calls.filter((c) => c === "UpdateServiceCommand")).toHaveLength(2);
    expect(running().taskDefinitionArn).toBe(first);
    expect(aws.services.get("fargate-local-worker")!.desiredCount).toBe(2);
  });

  test("refuses when the running revision records no previous one", async () => {
    const { run, lines } = setup();
    expect(await run("rollback", "worker")).toBe(1);
    expect(lines.join("\n")).toContain("records no previous revision");
  });
});

describe("platform usage", () => {
  test.each([
    [["nonsense"], 'unknown command "nonsense"'],
    [["release", "worker"], "release needs --image"],
    [["status"], "give --env <env> or --outputs"],
  ])("%j exits 2 with the usage", async (argv, message) => {
    const lines: string[] = [];
    expect(await main(argv as string[], { out: (l) => lines.push(l), err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toContain(message);
  });

  test("an unknown service names the valid ones", async () => {
    const { run, lines } = setup();
    expect(await run("release", "billing", "--image", "x@sha256:1")).toBe(1);
    expect(lines.join("\n")).toContain('no service "billing" in this environment; valid: worker');
  });
});

describe("parseOutputs", () => {
  const { parseOutputs } = require("../../src/operator/releases");
  const releases = { api: { service: "s" } };
  test("reads terraform output -json, plain maps and cdktf's --outputs-file alike", () => {
    const wrapped = { ecs_cluster_name: { value: "c", type: "string", sensitive: false }, releases: { value: releases, type: "object", sensitive: false }, task_network: { value: {}, type: "object", sensitive: false } };
    const plain = { ecs_cluster_name: "c", releases, task_network: {} };
    for (const form of [wrapped, plain, { "fargate-local": plain }]) expect(parseOutputs(form)).toEqual({ cluster: "c", releases, network: {}, pipelines: {} });
    expect(parseOutputs({ ...plain, pipeline_names: { api: "fargate-develop-api" } }).pipelines).toEqual({ api: "fargate-develop-api" });
  });
  test("names what is missing", () => {
    expect(() => parseOutputs({ vpc_id: { value: "v", type: "string" } })).toThrow("the stack outputs lack ecs_cluster_name, releases, task_network; got vpc_id");
  });
});
