import { readArchitecture } from "../../src/insight/architecture";
import { renderSvg, toDot } from "../../src/insight/diagram";
import { fixtureStack, taskDefinition } from "./fixtures";

const ref = (address: string, attr = "id") => `\${${address}.${attr}}`;

/** A small platform: 2 AZs, public + private + database tiers, an ALB, a blue/green service, RDS, an endpoint, a pipeline. */
const stack = fixtureStack({
  aws_vpc: { vpc: { cidr_block: "10.0.0.0/16" } },
  aws_internet_gateway: { igw: {} },
  aws_nat_gateway: { nat: { subnet_id: ref("aws_subnet.pub_a") } },
  aws_subnet: {
    pub_a: { availability_zone: "us-east-1a", cidr_block: "10.0.0.0/20", tags: { Tier: "public" } },
    pub_b: { availability_zone: "us-east-1b", cidr_block: "10.0.16.0/20", tags: { Tier: "public" } },
    app_a: { availability_zone: "us-east-1a", cidr_block: "10.0.64.0/20" },
    app_b: { availability_zone: "us-east-1b", cidr_block: "10.0.80.0/20" },
    db_a: { availability_zone: "us-east-1a", cidr_block: "10.0.128.0/20" },
  },
  aws_route_table: { public: {}, private: {}, db: {} },
  aws_route: {
    out: { route_table_id: ref("aws_route_table.public"), destination_cidr_block: "0.0.0.0/0", gateway_id: ref("aws_internet_gateway.igw") },
    nat: { route_table_id: ref("aws_route_table.private"), destination_cidr_block: "0.0.0.0/0", nat_gateway_id: ref("aws_nat_gateway.nat") },
  },
  aws_route_table_association: {
    pa: { subnet_id: ref("aws_subnet.pub_a"), route_table_id: ref("aws_route_table.public") },
    aa: { subnet_id: ref("aws_subnet.app_a"), route_table_id: ref("aws_route_table.private") },
    ab: { subnet_id: ref("aws_subnet.app_b"), route_table_id: ref("aws_route_table.private") },
    da: { subnet_id: ref("aws_subnet.db_a"), route_table_id: ref("aws_route_table.db") },
  },
  aws_security_group: { alb: { name: "fargate-fixture-alb" }, tasks: { name: "fargate-fixture-tasks" }, rds: { name: "fargate-fixture-rds" } },
  aws_vpc_security_group_ingress_rule: {
    https: { security_group_id: ref("aws_security_group.alb"), cidr_ipv4: "0.0.0.0/0", from_port: 443, to_port: 443, ip_protocol: "tcp" },
    http: { security_group_id: ref("aws_security_group.alb"), cidr_ipv4: "0.0.0.0/0", from_port: 80, to_port: 80, ip_protocol: "tcp" },
    app: { security_group_id: ref("aws_security_group.tasks"), referenced_security_group_id: ref("aws_security_group.alb"), from_port: 8000, to_port: 8000, ip_protocol: "tcp" },
    pg: { security_group_id: ref("aws_security_group.rds"), referenced_security_group_id: ref("aws_security_group.tasks"), from_port: 5432, to_port: 5432, ip_protocol: "tcp" },
  },
  aws_vpc_security_group_egress_rule: { out: { security_group_id: ref("aws_security_group.tasks"), cidr_ipv4: "0.0.0.0/0", from_port: 443, to_port: 443, ip_protocol: "tcp" } },
  aws_lb: { alb: { name: "fargate-fixture-alb", load_balancer_type: "application", subnets: [ref("aws_subnet.pub_a"), ref("aws_subnet.pub_b")], security_groups: [ref("aws_security_group.alb")] } },
  aws_lb_listener: { https: { load_balancer_arn: ref("aws_lb.alb", "arn"), port: 443, protocol: "HTTPS", ssl_policy: "TLS13", default_action: [{ type: "fixed-response", fixed_response: { status_code: "404" } }] } },
  aws_lb_target_group: { blue: { name: "fargate-fixture-api-blue", port: 8000, health_check: { path: "/health" } }, green: { name: "fargate-fixture-api-green", port: 8000, health_check: { path: "/health" } } },
  aws_lb_listener_rule: {
    api: {
      listener_arn: ref("aws_lb_listener.https", "arn"),
      condition: [{ path_pattern: { values: ["/*"] } }],
      action: [{ type: "forward", forward: { target_group: [{ arn: ref("aws_lb_target_group.blue", "arn"), weight: 90 }, { arn: ref("aws_lb_target_group.green", "arn"), weight: 10 }] } }],
    },
  },
  aws_ecs_task_definition: { td: taskDefinition(512, 1024, { container_definitions: JSON.stringify([{ name: "api" }]) }) },
  aws_ecs_service: Object.fromEntries(
    ["blue", "green"].map((colour) => [colour, {
      desired_count: colour === "blue" ? 2 : 0,
      task_definition: ref("aws_ecs_task_definition.td", "arn"),
      load_balancer: [{ container_name: "api", container_port: 8000, target_group_arn: ref(`aws_lb_target_group.${colour}`, "arn") }],
      network_configuration: { subnets: [ref("aws_subnet.app_a"), ref("aws_subnet.app_b")], security_groups: [ref("aws_security_group.tasks")] },
    }]),
  ),
  aws_db_subnet_group: { db: { subnet_ids: [ref("aws_subnet.db_a")] } },
  aws_db_instance: { db: { engine: "postgres", engine_version: "16", instance_class: "db.t4g.micro", multi_az: true, db_subnet_group_name: ref("aws_db_subnet_group.db", "name"), vpc_security_group_ids: [ref("aws_security_group.rds")] } },
  aws_vpc_endpoint: { logs: { vpc_endpoint_type: "Interface", service_name: "com.amazonaws.us-east-1.logs", subnet_ids: [ref("aws_subnet.app_a"), ref("aws_subnet.app_b")] } },
  aws_codepipeline: {
    api: {
      pipeline_type: "V2",
      tags: { Service: "api" },
      stage: [
        { name: "Source", action: [{ category: "Source", provider: "CodeStarSourceConnection", configuration: { FullRepositoryId: "team/api" } }] },
        { name: "Deploy", action: [{ category: "Deploy", provider: "ECS", configuration: { ServiceName: ref("aws_ecs_service.green", "name") } }] },
      ],
      trigger: [{ git_configuration: { push: [{ branches: { includes: ["main"] } }] } }],
    },
  },
  aws_kms_key: { data: {} },
  aws_kms_alias: { data: { name: "alias/fargate-fixture-data" } },
});

describe("readArchitecture", () => {
  const arch = readArchitecture(stack);

  test("reads the VPC, its AZs and the subnet tiers with their route out", () => {
    expect(arch.vpc).toEqual({ cidr: "10.0.0.0/16", azs: ["us-east-1a", "us-east-1b"] });
    expect(arch.tiers.map((t) => [t.name, t.egress, t.subnets.length])).toEqual([
      ["public", "internet gateway", 2],
      ["private", "NAT gateway", 2],
      ["isolated", "none", 1],
    ]);
  });

  test("derives the security-group chain with its ports from the rules", () => {
    expect(arch.sgEdges).toEqual(expect.arrayContaining([
      { from: "cidr:0.0.0.0/0", to: "aws_security_group.alb", ports: ["80", "443"] },
      { from: "aws_security_group.alb", to: "aws_security_group.tasks", ports: ["8000"] },
      { from: "aws_security_group.tasks", to: "aws_security_group.rds", ports: ["5432"] },
      { from: "aws_security_group.tasks", to: "cidr:0.0.0.0/0", ports: ["443"] },
    ]));
  });

  test("folds blue and green ECS services into one service with both target groups and their weights", () => {
    expect(arch.services).toEqual([expect.objectContaining({
      name: "api",
      ecsServices: ["aws_ecs_service.blue", "aws_ecs_service.green"],
      deployment: "blue/green, 2 ECS services",
      size: "0.5 vCPU / 1 GB",
      desiredTasks: 2,
      routes: ["HTTPS :443 /*"],
      tier: "private",
      securityGroup: "aws_security_group.tasks",
      targetGroups: [
        { name: "blue", port: 8000, healthPath: "/health", weight: 90 },
        { name: "green", port: 8000, healthPath: "/health", weight: 10 },
      ],
    })]);
  });

  test("places the database, NAT, endpoints and load balancer, and links the pipeline to the service it deploys", () => {
    expect(arch.databases[0]).toMatchObject({ title: "RDS postgres 16", tier: "isolated", details: expect.arrayContaining(["db.t4g.micro, Multi-AZ (standby in another AZ)"]) });
    expect(arch.natGateways).toEqual([{ id: "nat_0", az: "us-east-1a", tier: "public" }]);
    expect(arch.endpoints).toMatchObject({ interfaces: ["logs"], azCount: 2, tier: "private" });
    expect(arch.loadBalancers[0]).toMatchObject({ name: "alb", tier: "public", listeners: ["HTTPS :443 - default 404, TLS13"] });
    expect(arch.pipelines).toEqual([expect.objectContaining({ name: "api", type: "V2", source: "CodeStarSourceConnection team/api", branches: ["main"], stages: ["Source", "Deploy"], deploys: ["service_api"] })]);
    expect(arch.account["security and audit"]).toEqual(["KMS keys: data"]);
  });
});

describe("toDot / renderSvg", () => {
  const dot = toDot(readArchitecture(stack));

  test("draws tiers inside the VPC, groups by security group and labels the chain with ports", () => {
    expect(dot).toContain("subgraph cluster_vpc {");
    expect(dot).toMatch(/subgraph "cluster_tier_public" \{[\s\S]*subgraph cluster_public_aws_security_group_alb \{[\s\S]*"lb_0"/);
    expect(dot).toMatch(/"internet" -> "lb_0" \[label=" 80, 443", lhead=cluster_public_aws_security_group_alb/);
    expect(dot).toMatch(/"service_api" -> "database_0" \[label=" 5432"/);
    expect(dot).toMatch(/"service_api" -> "nat_0" \[label=" 443 out via NAT"/);
    expect(dot).toMatch(/"service_api" -> "pipeline_0" \[dir=back/);
  });

  test("is deterministic and renders to SVG with the WebAssembly Graphviz", async () => {
    expect(toDot(readArchitecture(stack))).toBe(dot);
    const svg = await renderSvg(dot);
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg width="\d+pt"/);
    expect(svg).toContain("service api");
    expect(await renderSvg(dot)).toBe(svg);
  });
});

describe("readArchitecture: CodeDeploy blue/green", () => {
  test("takes the green target group and the test listener from the deployment group", () => {
    const arch = readArchitecture(fixtureStack({
      aws_lb_listener: { prod: { port: 443, protocol: "HTTPS" }, test: { port: 8443, protocol: "HTTPS" } },
      aws_lb_target_group: { blue: { name: "fargate-fixture-api-blue", port: 8000 }, green: { name: "fargate-fixture-api-green", port: 8000 } },
      aws_ecs_task_definition: { td: taskDefinition(256, 512) },
      aws_ecs_service: { api: { desired_count: 2, task_definition: ref("aws_ecs_task_definition.td", "arn"), deployment_controller: { type: "CODE_DEPLOY" }, load_balancer: [{ container_name: "api", target_group_arn: ref("aws_lb_target_group.blue", "arn") }] } },
      aws_codedeploy_deployment_group: {
        api: {
          ecs_service: { service_name: ref("aws_ecs_service.api", "name") },
          load_balancer_info: { target_group_pair_info: { target_group: [{ name: ref("aws_lb_target_group.blue", "name") }, { name: ref("aws_lb_target_group.green", "name") }], prod_traffic_route: { listener_arns: [ref("aws_lb_listener.prod", "arn")] }, test_traffic_route: { listener_arns: [ref("aws_lb_listener.test", "arn")] } } },
        },
      },
    }));
    expect(arch.services[0]).toMatchObject({
      deployment: "CodeDeploy blue/green",
      routes: ["HTTPS :443 (production)", "HTTPS :8443 (test)"],
      targetGroups: [expect.objectContaining({ name: "blue" }), expect.objectContaining({ name: "green" })],
    });
  });
});
