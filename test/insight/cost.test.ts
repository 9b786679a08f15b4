import { estimateStack, placeTasks } from "../../src/insight/cost";
import { PriceError } from "../../src/insight/prices";
import { parseUsage } from "../../src/insight/usage";
import { ecsService, fixtureStack, taskDefinition } from "./fixtures";

const usage = parseUsage("fixture");
const HOURS = usage.hoursPerMonth;

function linesOf(e: ReturnType<typeof estimateStack>, item: string) {
  return e.lines.filter((l) => l.item === item);
}

describe("placeTasks", () => {
  test("puts the base on its provider first, then splits the rest by weight", () => {
    const placed = placeTasks(4, [
      { capacityProvider: "FARGATE", base: 1, weight: 30 },
      { capacityProvider: "FARGATE_SPOT", base: 0, weight: 70 },
    ]);
    expect(placed.FARGATE).toBeCloseTo(1.9, 9);
    expect(placed.FARGATE_SPOT).toBeCloseTo(2.1, 9);
  });

  test("never places more base tasks than are desired", () => {
    expect(placeTasks(1, [
      { capacityProvider: "FARGATE", base: 2, weight: 0 },
      { capacityProvider: "FARGATE_SPOT", base: 0, weight: 100 },
    ])).toEqual({ FARGATE: 1, FARGATE_SPOT: 0 });
  });
});

describe("estimateStack: Fargate", () => {
  test("applies the Spot share after the on-demand base tasks", () => {
    const e = estimateStack(fixtureStack({
      aws_ecs_task_definition: { td: taskDefinition(512, 1024) },
      aws_ecs_service: { svc: ecsService(4, [{ capacity_provider: "FARGATE", base: 1, weight: 30 }, { capacity_provider: "FARGATE_SPOT", base: 0, weight: 70 }]) },
    }), usage);
    const [onDemandCpu] = linesOf(e, "Fargate vCPU, on-demand");
    const [spotCpu] = linesOf(e, "Fargate Spot vCPU");
    expect(onDemandCpu.quantity).toBeCloseTo(1.9 * 0.5 * HOURS, 6);
    expect(onDemandCpu.unitUsd).toBe(0.04048);
    expect(spotCpu.quantity).toBeCloseTo(2.1 * 0.5 * HOURS, 6);
    expect(spotCpu.unitUsd).toBe(0.012144);
    expect(linesOf(e, "Fargate Spot memory")[0].quantity).toBeCloseTo(2.1 * 1 * HOURS, 6);
    expect(e.byConcernUsd.compute).toBeCloseTo(e.lines.reduce((s, l) => s + l.monthlyUsd, 0), 2);
  });

  test("prices base tasks on-demand even when the weights favour Spot", () => {
    const e = estimateStack(fixtureStack({
      aws_ecs_task_definition: { td: taskDefinition(256, 512) },
      aws_ecs_service: { svc: ecsService(1, [{ capacity_provider: "FARGATE", base: 1, weight: 30 }, { capacity_provider: "FARGATE_SPOT", base: 0, weight: 70 }]) },
    }), usage);
    expect(linesOf(e, "Fargate Spot vCPU")).toEqual([]);
    expect(linesOf(e, "Fargate vCPU, on-demand")[0].quantity).toBeCloseTo(0.25 * HOURS, 6);
  });

  test("falls back to the cluster's default strategy when the service has none", () => {
    const e = estimateStack(fixtureStack({
      aws_ecs_cluster: { c: { name: "c" } },
      aws_ecs_cluster_capacity_providers: { cp: { cluster_name: "${aws_ecs_cluster.c.name}", default_capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 1 }] } },
      aws_ecs_task_definition: { td: taskDefinition(1024, 2048) },
      aws_ecs_service: { svc: ecsService(2, undefined, { cluster: "${aws_ecs_cluster.c.arn}" }) },
    }), usage);
    expect(linesOf(e, "Fargate Spot vCPU")[0].quantity).toBeCloseTo(2 * HOURS, 6);
    expect(linesOf(e, "Fargate vCPU, on-demand")).toEqual([]);
  });

  test("prices a public IPv4 address per task when tasks get public IPs", () => {
    const e = estimateStack(fixtureStack({
      aws_ecs_task_definition: { td: taskDefinition(256, 512) },
      aws_ecs_service: { svc: ecsService(3, undefined, { network_configuration: { assign_public_ip: true, subnets: [] } }) },
    }), usage);
    expect(linesOf(e, "public IPv4 address per task")[0]).toMatchObject({ concern: "network", quantity: 3 * HOURS, unitUsd: 0.005 });
  });

  test("lists a service whose task definition is not in the stack as not priced", () => {
    const e = estimateStack(fixtureStack({ aws_ecs_service: { svc: ecsService(2) } }), usage);
    expect(e.lines).toEqual([]);
    expect(e.notPriced).toEqual([expect.objectContaining({ address: "aws_ecs_service.svc", reason: expect.stringContaining("task definition is not in this stack") })]);
  });
});

describe("estimateStack: network", () => {
  test("prices an interface endpoint per AZ it has a subnet in; a gateway endpoint is free", () => {
    const e = estimateStack(fixtureStack({
      aws_vpc_endpoint: {
        ecr: { vpc_endpoint_type: "Interface", service_name: "com.amazonaws.us-east-1.ecr.api", subnet_ids: ["${aws_subnet.a.id}", "${aws_subnet.b.id}", "${aws_subnet.c.id}"] },
        s3: { vpc_endpoint_type: "Gateway", service_name: "com.amazonaws.us-east-1.s3" },
      },
    }), usage);
    const [eni] = linesOf(e, "interface endpoint ecr.api, ENI hours");
    expect(eni).toMatchObject({ quantity: 3 * HOURS, unitUsd: 0.01, monthlyUsd: 21.9 });
    expect(e.lines.filter((l) => l.address === "aws_vpc_endpoint.s3")).toEqual([]);
    expect(e.noCharge).toEqual([{ type: "aws_vpc_endpoint", count: 1 }]);
  });

  test("prices every NAT gateway (one per AZ) with hours and the data assumption", () => {
    const e = estimateStack(fixtureStack({ aws_nat_gateway: { a: {}, b: {}, c: {} } }), parseUsage("fixture", { nat: { dataGbPerMonth: 100 } }));
    expect(linesOf(e, "NAT gateway hours").map((l) => l.monthlyUsd)).toEqual([32.85, 32.85, 32.85]);
    expect(linesOf(e, "NAT data processed").map((l) => l.quantity)).toEqual([100, 100, 100]);
    expect(e.byConcernUsd.network).toBeCloseTo(3 * (32.85 + 4.5), 2);
  });

  test("reproduces the write-up's ALB figure: 720 h x $0.0225 = $16.20", () => {
    const e = estimateStack(fixtureStack({ aws_lb: { alb: { load_balancer_type: "application" } } }), parseUsage("write-up", { hoursPerMonth: 720, loadBalancer: { capacityUnitsPerHour: 0 } }));
    expect(linesOf(e, "ALB hours")[0]).toMatchObject({ quantity: 720, unitUsd: 0.0225, monthlyUsd: 16.2 });
    expect(e.totalUsd).toBe(16.2);
  });

  test("adds LCU-hours and a public IPv4 address per subnet of an internet-facing ALB", () => {
    const e = estimateStack(fixtureStack({ aws_lb: { alb: { load_balancer_type: "application", internal: false, subnets: ["a", "b"] } } }), usage);
    expect(linesOf(e, "LCU-hours")[0]).toMatchObject({ quantity: HOURS, unitUsd: 0.008 });
    expect(linesOf(e, "public IPv4 address per AZ node")[0].quantity).toBe(2 * HOURS);
  });
});

describe("estimateStack: data and the rest", () => {
  const db = { engine: "postgres", instance_class: "db.t4g.micro", allocated_storage: 20, storage_type: "gp3", backup_retention_period: 7, manage_master_user_password: true };

  test("Multi-AZ doubles instance hours and storage", () => {
    const single = estimateStack(fixtureStack({ aws_db_instance: { db: { ...db, multi_az: false } } }), usage);
    const multi = estimateStack(fixtureStack({ aws_db_instance: { db: { ...db, multi_az: true } } }), usage);
    const hours = (e: typeof single) => linesOf(e, "RDS postgres db.t4g.micro instance hours")[0];
    expect(hours(single)).toMatchObject({ quantity: HOURS, monthlyUsd: 11.68 });
    expect(hours(multi)).toMatchObject({ quantity: 2 * HOURS, monthlyUsd: 23.36 });
    expect(linesOf(multi, "RDS gp3 storage")[0].quantity).toBe(40);
    expect(linesOf(multi, "RDS backup storage beyond the free amount")[0].quantity).toBe(7 * usage.database.backupChangeGbPerDay);
    expect(linesOf(multi, "managed master password secret")[0]).toMatchObject({ concern: "security", monthlyUsd: 0.4 });
  });

  test("lists an instance class the table lacks as not priced, naming the missing key", () => {
    const e = estimateStack(fixtureStack({ aws_db_instance: { db: { ...db, instance_class: "db.x2iedn.32xlarge" } } }), usage);
    expect(e.notPriced).toEqual([expect.objectContaining({ reason: expect.stringContaining('no price "rds.postgres.db.x2iedn.32xlarge" for us-east-1') })]);
    expect(linesOf(e, "RDS gp3 storage")).toHaveLength(1);
  });

  test("lists a type the table does not price as not priced, outside the total", () => {
    const e = estimateStack(fixtureStack({ aws_kinesis_stream: { events: { shard_count: 4 } }, aws_kms_key: { k: {} } }), usage);
    expect(e.notPriced).toEqual([{ type: "aws_kinesis_stream", address: "aws_kinesis_stream.events", reason: expect.stringContaining("not in the price table") }]);
    expect(e.totalUsd).toBe(1);
  });

  test("counts types with no charge of their own instead of pricing them", () => {
    const e = estimateStack(fixtureStack({ aws_iam_role: { a: {}, b: {} }, aws_subnet: { s: {} } }), usage);
    expect(e.lines).toEqual([]);
    expect(e.notPriced).toEqual([]);
    expect(e.noCharge).toEqual([{ type: "aws_iam_role", count: 2 }, { type: "aws_subnet", count: 1 }]);
  });

  test("sizes a log group by what writes to it and keeps it for its retention", () => {
    const e = estimateStack(fixtureStack({
      aws_cloudwatch_log_group: { flow: { retention_in_days: 30 }, app: { retention_in_days: 90 } },
      aws_flow_log: { f: { log_destination: "${aws_cloudwatch_log_group.flow.arn}" } },
    }), parseUsage("fixture", { logs: { ingestedGbPerMonth: { flowLogs: 10, other: 2 } } }));
    const ingestion = Object.fromEntries(linesOf(e, "log ingestion").map((l) => [l.address, l.quantity]));
    expect(ingestion).toEqual({ "aws_cloudwatch_log_group.app": 2, "aws_cloudwatch_log_group.flow": 10 });
    expect(linesOf(e, "log storage").find((l) => l.address.endsWith("app"))?.quantity).toBe(6);
  });

  test("prices alarms per metric, dashboards, KMS keys, Config, WAF, pipelines, builds and zones", () => {
    const e = estimateStack(fixtureStack({
      aws_cloudwatch_metric_alarm: { a: { period: 60 }, math: { metric_query: [{ id: "m1", metric: {} }, { id: "m2", metric: {} }, { id: "e", expression: "m1+m2" }] } },
      aws_cloudwatch_dashboard: { d: {} },
      aws_config_configuration_recorder: { r: {} },
      aws_config_config_rule: { x: {} },
      aws_wafv2_web_acl: { acl: { rule: [{ name: "a" }, { name: "b" }] } },
      aws_codepipeline: { p: { pipeline_type: "V2" } },
      aws_codebuild_project: { b: { environment: { compute_type: "BUILD_GENERAL1_SMALL", type: "LINUX_CONTAINER" } } },
      aws_route53_zone: { z: {} },
      aws_cloudtrail: { t: {} },
    }), usage);
    const cost = (item: string) => linesOf(e, item).reduce((s, l) => s + l.monthlyUsd, 0);
    expect(cost("alarm metrics")).toBeCloseTo(0.3, 2);
    expect(cost("dashboard")).toBe(3);
    expect(cost("configuration items recorded")).toBe(3);
    expect(cost("web ACL") + cost("web ACL rules")).toBe(7);
    expect(cost("CodePipeline V2 action minutes")).toBe(0.3);
    expect(cost("CodeBuild BUILD_GENERAL1_SMALL minutes")).toBe(0.5);
    expect(cost("hosted zone")).toBe(0.5);
    expect(linesOf(e, "management events, first copy")[0]).toMatchObject({ unitUsd: 0, monthlyUsd: 0 });
    expect(e.notPriced).toEqual([]);
  });
});

describe("estimateStack: regions", () => {
  test("prices by the stack's region", () => {
    const e = estimateStack(fixtureStack({ aws_nat_gateway: { a: {} } }, "eu-west-1"), usage);
    expect(linesOf(e, "NAT gateway hours")[0].unitUsd).toBe(0.048);
  });

  test("throws a clear error for a region the price table does not cover", () => {
    const stack = fixtureStack({ aws_nat_gateway: { a: {} } }, "ap-south-9");
    expect(() => estimateStack(stack, usage)).toThrow(PriceError);
    expect(() => estimateStack(stack, usage)).toThrow('no prices for region "ap-south-9" in src/insight/prices.ts; it covers eu-west-1, us-east-1');
  });
});
