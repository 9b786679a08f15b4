import { TerraformStack } from "cdktf";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { sgOpenIngress, vpcDefaultSgClosed, vpcFlowLogs } from "../../src/policy/rules";
import { findingAt, onlyFinding, statuses } from "./fixtures";

describe("VPC-FLOW-LOGS", () => {
  test("passes a VPC with a flow log", () => {
    const f = onlyFinding(vpcFlowLogs, (s) => {
      const vpc = new Vpc(s, "vpc", { cidrBlock: "10.0.0.0/16" });
      new FlowLog(s, "flow", { vpcId: vpc.id, trafficType: "ALL", logDestination: "arn:aws:logs:us-east-1:123456789012:log-group:x" });
    });
    expect(f.status).toBe("compliant");
  });
  test("fails a VPC whose only flow log belongs to another VPC", () => {
    const found = statuses(vpcFlowLogs, (s) => {
      new Vpc(s, "vpc", { cidrBlock: "10.0.0.0/16" });
      const other = new Vpc(s, "other", { cidrBlock: "10.1.0.0/16" });
      new FlowLog(s, "flow", { vpcId: other.id, trafficType: "ALL", logDestination: "arn:aws:logs:us-east-1:123456789012:log-group:x" });
    });
    expect(found).toEqual({ "aws_vpc.vpc": "non-compliant", "aws_vpc.other": "compliant" });
  });
});

describe("VPC-DEFAULT-SG-CLOSED", () => {
  test("passes a VPC whose default SG is declared without rules", () => {
    const f = onlyFinding(vpcDefaultSgClosed, (s) => {
      const vpc = new Vpc(s, "vpc", { cidrBlock: "10.0.0.0/16" });
      new DefaultSecurityGroup(s, "default", { vpcId: vpc.id });
    });
    expect(f.status).toBe("compliant");
  });
  test("fails a VPC without a managed default SG", () => {
    expect(onlyFinding(vpcDefaultSgClosed, (s) => new Vpc(s, "vpc", { cidrBlock: "10.0.0.0/16" })).reason).toMatch(/aws_default_security_group/);
  });
  test("fails a default SG that declares ingress", () => {
    const f = onlyFinding(vpcDefaultSgClosed, (s) => {
      const vpc = new Vpc(s, "vpc", { cidrBlock: "10.0.0.0/16" });
      new DefaultSecurityGroup(s, "default", { vpcId: vpc.id, ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/16"] }] });
    });
    expect(f).toMatchObject({ status: "non-compliant", reason: expect.stringMatching(/aws_default_security_group\.default declares/) });
  });
});

describe("SG-OPEN-INGRESS", () => {
  const RULE_443 = "aws_vpc_security_group_ingress_rule.https";
  const group = (s: TerraformStack, id: string, name: string) => new SecurityGroup(s, id, { name, description: id, vpcId: "vpc-1" });
  const world = (s: TerraformStack, id: string, sg: SecurityGroup, port: number, cidr: { cidrIpv4?: string; cidrIpv6?: string } = { cidrIpv4: "0.0.0.0/0" }) =>
    new VpcSecurityGroupIngressRule(s, id, { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, ...cidr });

  test("passes 80/443 from the internet on the security group attached to an aws_lb", () => {
    const found = statuses(sgOpenIngress, (s) => {
      const sg = group(s, "web", "fargate-develop-web");
      new Lb(s, "lb", { securityGroups: [sg.id], subnets: ["subnet-1", "subnet-2"] });
      world(s, "https", sg, 443);
      world(s, "http6", sg, 80, { cidrIpv6: "::/0" });
    });
    expect(found).toMatchObject({ "aws_vpc_security_group_ingress_rule.https": "compliant", "aws_vpc_security_group_ingress_rule.http6": "compliant" });
  });

  test("falls back to an \"alb\" name while the stack has no aws_lb", () => {
    expect(findingAt(sgOpenIngress, (s) => world(s, "https", group(s, "alb", "fargate-develop-alb"), 443), RULE_443).status).toBe("compliant");
  });

  test("fails 443 from the internet on a group that is not the ALB's", () => {
    const f = findingAt(sgOpenIngress, (s) => world(s, "https", group(s, "ecs", "fargate-develop-ecs-tasks"), 443), RULE_443);
    expect(f.message).toMatch(/^\[SG-OPEN-INGRESS\] aws_vpc_security_group_ingress_rule\.https: ingress tcp\/443 from 0\.0\.0\.0\/0: aws_security_group\.ecs is not the ALB's security group \(CKV_AWS_24/);
  });

  test("fails another port from the internet even on the ALB group", () => {
    const found = statuses(sgOpenIngress, (s) => {
      const sg = group(s, "alb", "fargate-develop-alb");
      new Lb(s, "lb", { securityGroups: [sg.id], subnets: ["subnet-1", "subnet-2"] });
      world(s, "ssh", sg, 22, { cidrIpv6: "::/0" });
    });
    expect(found["aws_vpc_security_group_ingress_rule.ssh"]).toBe("non-compliant");
  });

  test("fails a name-only \"alb\" group once an aws_lb exists that does not use it", () => {
    const found = statuses(sgOpenIngress, (s) => {
      const used = group(s, "lb-sg", "fargate-develop-lb");
      new Lb(s, "lb", { securityGroups: [used.id], subnets: ["subnet-1", "subnet-2"] });
      world(s, "https", group(s, "alb", "fargate-develop-alb"), 443);
    });
    expect(found["aws_vpc_security_group_ingress_rule.https"]).toBe("non-compliant");
  });

  test("passes ingress from another security group", () => {
    const f = findingAt(
      sgOpenIngress,
      (s) => {
        const alb = group(s, "alb", "fargate-develop-alb");
        new VpcSecurityGroupIngressRule(s, "app", { securityGroupId: group(s, "ecs", "ecs").id, ipProtocol: "tcp", fromPort: 8000, toPort: 8000, referencedSecurityGroupId: alb.id });
      },
      "aws_vpc_security_group_ingress_rule.app",
    );
    expect(f.status).toBe("compliant");
  });

  test("reads inline ingress of aws_security_group and legacy aws_security_group_rule", () => {
    const found = statuses(sgOpenIngress, (s) => {
      const sg = new SecurityGroup(s, "inline", { name: "db", vpcId: "vpc-1", ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] });
      new SecurityGroupRule(s, "legacy", { type: "ingress", securityGroupId: sg.id, protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"] });
      new SecurityGroupRule(s, "egress", { type: "egress", securityGroupId: sg.id, protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] });
    });
    expect(found).toEqual({ "aws_security_group.inline": "non-compliant", "aws_security_group_rule.legacy": "non-compliant", "aws_security_group_rule.egress": "not-applicable" });
  });
});
