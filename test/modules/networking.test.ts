import { DefaultTokenResolver, StringConcat, TerraformStack, Testing, Tokenization } from "cdktf";
import { Construct } from "constructs";
import { Networking, NetworkingProps } from "../../modules/networking";
import { Naming } from "../../lib/naming";
import { planSubnets } from "../../lib/subnet-plan";
import { resourcesOf } from "../helpers";

const baseProps: NetworkingProps = {
  naming: new Naming("fargate", "develop"),
  accountId: "123456789012",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  vpcCidr: "10.10.0.0/16",
  subnetPrefixLength: 20,
  natStrategy: "none",
  vpcEndpoints: false,
  taskSubnets: "public",
  appPorts: [8000],
  flowLogRetentionDays: 7,
  logsKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/logs",
};

function synth(overrides: Partial<NetworkingProps> = {}): string {
  return Testing.synthScope((scope: Construct) => {
    new Networking(scope, "networking", { ...baseProps, ...overrides });
  });
}

const json = (text: string) => JSON.parse(text);

describe("Networking", () => {
  test("creates a VPC with DNS support and hostnames", () => {
    expect(synth()).toHaveResourceWithProperties({ tfResourceType: "aws_vpc" }, { cidr_block: "10.10.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
  });

  test("creates public, private and database subnets in every AZ with planned CIDRs", () => {
    const subnets = resourcesOf(json(synth({ availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"] })), "aws_subnet").map(([, s]) => s);
    expect(subnets).toHaveLength(9);
    const byTier = (tier: string) => subnets.filter((s) => s.tags.Tier === tier).map((s) => [s.availability_zone, s.cidr_block]);
    expect(byTier("public")).toEqual([["us-east-1a", "10.10.0.0/20"], ["us-east-1b", "10.10.16.0/20"], ["us-east-1c", "10.10.32.0/20"]]);
    expect(byTier("private")).toEqual([["us-east-1a", "10.10.64.0/20"], ["us-east-1b", "10.10.80.0/20"], ["us-east-1c", "10.10.96.0/20"]]);
    expect(byTier("database")).toEqual([["us-east-1a", "10.10.128.0/20"], ["us-east-1b", "10.10.144.0/20"], ["us-east-1c", "10.10.160.0/20"]]);
    expect(subnets.every((s) => s.map_public_ip_on_launch === false)).toBe(true);
  });

  test("adding an AZ keeps the CIDRs of existing subnets (no replacement)", () => {
    const two = planSubnets("10.10.0.0/16", 20, 2);
    const three = planSubnets("10.10.0.0/16", 20, 3);
    for (const entry of two) expect(three).toContainEqual(entry);
  });

  test("NAT none: no NAT gateway, no default route for private subnets, tasks in public subnets with public IPs", () => {
    const out = json(synth());
    expect(resourcesOf(out, "aws_nat_gateway")).toHaveLength(0);
    expect(resourcesOf(out, "aws_eip")).toHaveLength(0);
    const routes = resourcesOf(out, "aws_route").map(([, r]) => r);
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ destination_cidr_block: "0.0.0.0/0", gateway_id: expect.stringContaining("aws_internet_gateway") });
  });

  test("NAT single: one EIP and NAT in the first public subnet, one private route table", () => {
    const out = json(synth({ natStrategy: "single", taskSubnets: "private" }));
    expect(resourcesOf(out, "aws_nat_gateway")).toHaveLength(1);
    expect(resourcesOf(out, "aws_eip")).toHaveLength(1);
    const natRoutes = resourcesOf(out, "aws_route").filter(([, r]) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(1);
    const tables = resourcesOf(out, "aws_route_table").filter(([, t]) => t.tags.Tier === "private");
    expect(tables).toHaveLength(1);
  });

  test("NAT per-az: one NAT and one private route table per AZ", () => {
    const out = json(synth({ natStrategy: "per-az", taskSubnets: "private", availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"] }));
    expect(resourcesOf(out, "aws_nat_gateway")).toHaveLength(3);
    expect(resourcesOf(out, "aws_eip").map(([, e]) => e.domain)).toEqual(["vpc", "vpc", "vpc"]);
    expect(resourcesOf(out, "aws_route_table").filter(([, t]) => t.tags.Tier === "private")).toHaveLength(3);
    const natRoutes = resourcesOf(out, "aws_route").filter(([, r]) => r.nat_gateway_id).map(([, r]) => r.nat_gateway_id);
    expect(new Set(natRoutes).size).toBe(3);
  });

  test("database subnets have a route table with no route out of the VPC", () => {
    const out = json(synth({ natStrategy: "per-az", taskSubnets: "private" }));
    const [dbTableName] = resourcesOf(out, "aws_route_table").find(([, t]) => t.tags.Tier === "database")!;
    const routesToDb = resourcesOf(out, "aws_route").filter(([, r]) => String(r.route_table_id).includes(dbTableName));
    expect(routesToDb).toEqual([]);
  });

  test("strips every rule from the default security group", () => {
    const [[, sg]] = resourcesOf(json(synth()), "aws_default_security_group");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  test("chains the security groups internet -> ALB -> ECS -> RDS with described, separate rules", () => {
    const out = json(synth({ appPorts: [8000, 9000, 8000] }));
    const sgName = (ref: string) => ref.match(/aws_security_group\.([^.]+)\.id/)?.[1] ?? ref;
    const sgs = Object.fromEntries(resourcesOf(out, "aws_security_group").map(([name, sg]) => [name, sg.name]));
    const describe = (type: string) =>
      resourcesOf(out, type).map(([, r]) => ({
        group: sgs[sgName(r.security_group_id)],
        from: r.referenced_security_group_id ? sgs[sgName(r.referenced_security_group_id)] : r.cidr_ipv4,
        port: `${r.from_port}-${r.to_port}`,
        described: typeof r.description === "string" && r.description.length > 0,
      }))
        // synthesized JSON is keyed by name; compare as a set
        .sort((a, b) => `${a.group}${a.port}`.localeCompare(`${b.group}${b.port}`));
    expect(describe("aws_vpc_security_group_ingress_rule")).toEqual([
      { group: "fargate-develop-alb", from: "0.0.0.0/0", port: "443-443", described: true },
      { group: "fargate-develop-alb", from: "0.0.0.0/0", port: "80-80", described: true },
      { group: "fargate-develop-ecs-tasks", from: "fargate-develop-alb", port: "8000-8000", described: true },
      { group: "fargate-develop-ecs-tasks", from: "fargate-develop-alb", port: "9000-9000", described: true },
      { group: "fargate-develop-rds", from: "fargate-develop-ecs-tasks", port: "5432-5432", described: true },
    ]);
    expect(describe("aws_vpc_security_group_egress_rule")).toEqual([
      { group: "fargate-develop-alb", from: "fargate-develop-ecs-tasks", port: "8000-8000", described: true },
      { group: "fargate-develop-alb", from: "fargate-develop-ecs-tasks", port: "9000-9000", described: true },
      { group: "fargate-develop-ecs-tasks", from: "0.0.0.0/0", port: "443-443", described: true },
      { group: "fargate-develop-ecs-tasks", from: "fargate-develop-rds", port: "5432-5432", described: true },
    ]);
    // RDS has no egress rule at all, and no group carries inline rules.
    for (const [, sg] of resourcesOf(out, "aws_security_group")) {
      expect(sg.ingress).toBeUndefined();
      expect(sg.egress).toBeUndefined();
    }
  });

  const testListenerIngress = (out: any) =>
    resourcesOf(out, "aws_vpc_security_group_ingress_rule")
      .map(([, r]) => r)
      .filter((r) => r.from_port === 8443);

  test("admits the blue/green test listener port on the ALB only from the VPC's own range by default", () => {
    const rules = testListenerIngress(json(synth({ testListener: { port: 8443 } })));
    expect(rules).toEqual([
      expect.objectContaining({
        security_group_id: expect.stringMatching(/^\$\{aws_security_group\.networking_alb-security-group_\w+\.id\}$/),
        ip_protocol: "tcp",
        from_port: 8443,
        to_port: 8443,
        cidr_ipv4: "10.10.0.0/16",
        description: expect.stringContaining("never the internet"),
      }),
    ]);
  });

  test("admits the test listener port only from the given CIDRs, one rule each, never from the internet", () => {
    const out = json(synth({ testListener: { port: 8443, allowedCidrs: ["10.20.0.0/16", "192.168.10.0/24"] } }));
    const rules = testListenerIngress(out);
    expect(rules.map((r) => r.cidr_ipv4).sort()).toEqual(["10.20.0.0/16", "192.168.10.0/24"]);
    for (const rule of rules) expect(rule.security_group_id).toMatch(/networking_alb-security-group_/);
    // The internet reaches 80 and 443 only.
    const open = resourcesOf(out, "aws_vpc_security_group_ingress_rule").map(([, r]) => r).filter((r) => r.cidr_ipv4 === "0.0.0.0/0");
    expect(open.map((r) => r.from_port).sort()).toEqual([443, 80]);
  });

  test("admits no test listener port when there is no test listener", () => {
    expect(testListenerIngress(json(synth()))).toEqual([]);
  });

  test("opens the ECS tasks to each external Kafka group and port once, and writes nothing onto the Kafka group", () => {
    const kafkaPeers = [
      { securityGroupId: "sg-0kafka00000000001", port: 9094 },
      { securityGroupId: "sg-0kafka00000000001", port: 9094 }, // a second service on the same cluster
      { securityGroupId: "sg-0kafka00000000001", port: 9092 },
      { securityGroupId: "sg-0kafka00000000002", port: 9094 },
    ];
    const out = json(synth({ kafkaPeers }));
    const kafkaEgress = resourcesOf(out, "aws_vpc_security_group_egress_rule")
      .map(([, r]) => r)
      .filter((r) => String(r.referenced_security_group_id).startsWith("sg-0kafka"));
    expect(kafkaEgress.map((r) => [r.referenced_security_group_id, r.ip_protocol, r.from_port, r.to_port]).sort()).toEqual([
      ["sg-0kafka00000000001", "tcp", 9092, 9092],
      ["sg-0kafka00000000001", "tcp", 9094, 9094],
      ["sg-0kafka00000000002", "tcp", 9094, 9094],
    ]);
    for (const rule of kafkaEgress) {
      expect(rule.security_group_id).toMatch(/^\$\{aws_security_group\.networking_ecs-security-group_\w+\.id\}$/);
      expect(rule.description).toContain(rule.referenced_security_group_id);
    }
    // The Kafka group belongs to its owner: the platform adds no rule to it, in or out.
    const onKafka = [...resourcesOf(out, "aws_vpc_security_group_ingress_rule"), ...resourcesOf(out, "aws_vpc_security_group_egress_rule")].filter(([, r]) => String(r.security_group_id).startsWith("sg-0kafka"));
    expect(onKafka).toEqual([]);
  });

  test("addresses each Kafka egress rule by its group and port, so the order of peers never moves one", () => {
    const peers = [
      { securityGroupId: "sg-0kafka00000000001", port: 9094 },
      { securityGroupId: "sg-0kafka00000000002", port: 9094 },
    ];
    const ids = (kafkaPeers: NetworkingProps["kafkaPeers"]) =>
      resourcesOf(json(synth({ kafkaPeers })), "aws_vpc_security_group_egress_rule")
        .filter(([, r]) => String(r.referenced_security_group_id).startsWith("sg-0kafka"))
        .map(([id]) => id)
        .sort();
    expect(ids(peers)).toEqual([expect.stringContaining("ecs-egress-kafka-sg-0kafka00000000001-9094"), expect.stringContaining("ecs-egress-kafka-sg-0kafka00000000002-9094")]);
    expect(ids([...peers].reverse())).toEqual(ids(peers));
    expect(ids([peers[1]])).toEqual([ids(peers)[1]]);
  });

  test("creates VPC endpoints with their own security group when enabled", () => {
    const out = json(synth({ natStrategy: "single", taskSubnets: "private", vpcEndpoints: true }));
    const endpoints = resourcesOf(out, "aws_vpc_endpoint").map(([, e]) => [e.service_name, e.vpc_endpoint_type]);
    expect(endpoints).toHaveLength(7);
    expect(endpoints).toEqual(expect.arrayContaining([
      ["com.amazonaws.us-east-1.s3", "Gateway"],
      ["com.amazonaws.us-east-1.ecr.api", "Interface"],
      ["com.amazonaws.us-east-1.ecr.dkr", "Interface"],
      ["com.amazonaws.us-east-1.logs", "Interface"],
      ["com.amazonaws.us-east-1.ssm", "Interface"],
      ["com.amazonaws.us-east-1.secretsmanager", "Interface"],
      ["com.amazonaws.us-east-1.kms", "Interface"],
    ]));
    const interfaces = resourcesOf(out, "aws_vpc_endpoint").filter(([, e]) => e.vpc_endpoint_type === "Interface");
    expect(interfaces.every(([, e]) => e.private_dns_enabled === true && e.security_group_ids[0].includes("endpoint-security-group"))).toBe(true);
    expect(resourcesOf(out, "aws_security_group").map(([, sg]) => sg.name)).toContain("fargate-develop-endpoints");
  });

  test("creates no endpoints when disabled", () => {
    expect(resourcesOf(json(synth()), "aws_vpc_endpoint")).toEqual([]);
  });

  test("sends all VPC traffic to a KMS-encrypted flow-log group with a scoped role", () => {
    const text = synth();
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_cloudwatch_log_group" }, {
      name: "/fargate/develop/vpc-flow-logs",
      retention_in_days: 7,
      kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/logs",
    });
    expect(text).toHaveResourceWithProperties({ tfResourceType: "aws_flow_log" }, { traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
    const docs = json(text).data.aws_iam_policy_document;
    const trust = Object.values<any>(docs).find((d) => d.statement[0].actions?.includes("sts:AssumeRole"));
    expect(trust.statement[0]).toMatchObject({
      principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["123456789012"] }],
    });
    const write = Object.values<any>(docs).find((d) => d.statement[0].actions?.includes("logs:PutLogEvents"));
    expect(write.statement[0].resources).toHaveLength(2);
    expect(write.statement[0].resources.every((r: string) => r.includes("aws_cloudwatch_log_group"))).toBe(true);
  });

  test("creates a DB subnet group over the database subnets", () => {
    const out = json(synth());
    const [[, group]] = resourcesOf(out, "aws_db_subnet_group");
    expect(group.name).toBe("fargate-develop-database");
    expect(group.subnet_ids).toHaveLength(2);
    expect(group.subnet_ids.every((id: string) => id.includes("database-subnets"))).toBe(true);
  });

  test("exposes task subnets and public-IP flag per layout", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    const publicLayout = new Networking(stack, "public-layout", baseProps);
    const privateLayout = new Networking(stack, "private-layout", { ...baseProps, natStrategy: "single", taskSubnets: "private" });
    expect(publicLayout.assignPublicIp).toBe(true);
    // each `.id` read is a fresh token: compare what they resolve to
    const ids = (values: string[]) => Tokenization.resolve(values, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });
    expect(ids(publicLayout.taskSubnetIds)).toEqual(ids(publicLayout.publicSubnets.map((s) => s.id)));
    expect(privateLayout.assignPublicIp).toBe(false);
    expect(ids(privateLayout.taskSubnetIds)).toEqual(ids(privateLayout.privateSubnets.map((s) => s.id)));
  });

  test.each([
    [{ availabilityZones: ["us-east-1a"] }, "availabilityZones must list 2 or 3 AZs; got 1"],
    [{ taskSubnets: "public" as const, natStrategy: "single" as const }, 'taskSubnets "public" is only for natStrategy "none"; got natStrategy "single"'],
    [{ taskSubnets: "private" as const }, 'private tasks with natStrategy "none" need vpcEndpoints, or they cannot pull images from ECR'],
    [{ appPorts: [70000] }, "appPorts must be TCP ports 1-65535; got 70000"],
  ])("throws on bad props %j", (overrides, message) => {
    expect(() => synth(overrides)).toThrow(`networking: ${message}`);
  });
});
