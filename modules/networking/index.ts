import { Construct } from "constructs";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { Naming } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import { skipCheckov, skipShortRetention } from "../../lib/checkov";
import { planSubnets, SubnetTier } from "../../lib/subnet-plan";
import { serviceRole } from "../../lib/iam-policy";

export type NatStrategy = "none" | "single" | "per-az";

export interface NetworkingProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** 2-3 AZs; subnets of every tier are created in each. */
  readonly availabilityZones: readonly string[];
  readonly vpcCidr: string;
  /** Prefix length of every subnet (the plan is validated by the config schema). */
  readonly subnetPrefixLength: number;
  /** none: no NAT; single: one NAT in the first AZ; per-az: one NAT and route table per AZ. */
  readonly natStrategy: NatStrategy;
  /** Create the S3 gateway endpoint and the ECR/Logs/SSM/Secrets Manager/KMS interface endpoints. */
  readonly vpcEndpoints: boolean;
  /** Subnets ECS tasks run in: `public` (with public IPs) is only for natStrategy none. */
  readonly taskSubnets: "public" | "private";
  /** Container ports the ALB forwards to; the ECS SG admits each only from the ALB SG. */
  readonly appPorts: readonly number[];
  /**
   * External Kafka clusters the tasks talk to: one ECS SG egress rule per (group, port),
   * addressed by the group and port (never by the service that names it). The platform
   * never writes onto the Kafka group, which it does not own: the Kafka owner admits the
   * ECS security group (output `ecs_security_group_id`) on their side.
   * @default []
   */
  readonly kafkaPeers?: readonly { readonly securityGroupId: string; readonly port: number }[];
  /**
   * The ALB's blue/green test listener: its port is admitted only from these CIDRs (the
   * VPC's own range by default), never from the internet.
   * @default - no test listener
   */
  readonly testListener?: { readonly port: number; readonly allowedCidrs?: readonly string[] };
  /** PostgreSQL port the RDS SG admits from the ECS SG.
   * @default 5432 */
  readonly databasePort?: number;
  /** Retention of the flow-log group, in days (a CloudWatch-allowed value). */
  readonly flowLogRetentionDays: number;
  /** KMS key that encrypts the flow-log group. */
  readonly logsKmsKeyArn: string;
}

/** Interface endpoints tasks need to start without internet access. */
export const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager", "kms"] as const;

/**
 * The VPC and everything in it that later modules attach to: subnets of three tiers in
 * each AZ, routing per NAT strategy, optional VPC endpoints, flow logs, the default SG
 * stripped, and the security-group chain internet -> ALB -> ECS -> RDS.
 */
export class Networking extends Construct {
  public readonly vpc: Vpc;
  public readonly publicSubnets: Subnet[];
  public readonly privateSubnets: Subnet[];
  public readonly databaseSubnets: Subnet[];
  /** Subnet IDs ECS tasks run in. */
  public readonly taskSubnetIds: string[];
  /** True when tasks run in public subnets and need public IPs (NAT none). */
  public readonly assignPublicIp: boolean;
  public readonly internetGateway: InternetGateway;
  public readonly natGateways: NatGateway[];
  public readonly publicRouteTable: RouteTable;
  public readonly privateRouteTables: RouteTable[];
  public readonly databaseRouteTable: RouteTable;
  public readonly albSecurityGroup: SecurityGroup;
  public readonly ecsSecurityGroup: SecurityGroup;
  public readonly rdsSecurityGroup: SecurityGroup;
  public readonly endpointSecurityGroup?: SecurityGroup;
  public readonly interfaceEndpoints: VpcEndpoint[];
  public readonly s3GatewayEndpoint?: VpcEndpoint;
  public readonly dbSubnetGroup: DbSubnetGroup;
  public readonly flowLogGroup: CloudwatchLogGroup;
  public readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: NetworkingProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;
    const azs = props.availabilityZones;
    const databasePort = props.databasePort ?? 5432;

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: naming.name("generic", "vpc") },
    });

    // Subnets: tier t, AZ i -> block t*4+i of the VPC (see lib/subnet-plan.ts).
    const plan = planSubnets(props.vpcCidr, props.subnetPrefixLength, azs.length);
    const subnetsOf = (tier: SubnetTier): Subnet[] => {
      const tierScope = new Construct(this, `${tier}-subnets`);
      return plan
        .filter((entry) => entry.tier === tier)
        .map(
          (entry) =>
            new Subnet(tierScope, `subnet-${entry.azIndex}`, {
              vpcId: this.vpc.id,
              cidrBlock: entry.cidr,
              availabilityZone: azs[entry.azIndex],
              // Public IPs are given by the ECS service (assign_public_ip) only where needed.
              mapPublicIpOnLaunch: false,
              tags: { Name: naming.name("generic", `${tier}-${azs[entry.azIndex]}`), Tier: tier },
            }),
        );
    };
    this.publicSubnets = subnetsOf("public");
    this.privateSubnets = subnetsOf("private");
    this.databaseSubnets = subnetsOf("database");

    this.internetGateway = new InternetGateway(this, "internet-gateway", {
      vpcId: this.vpc.id,
      tags: { Name: naming.name("generic", "igw") },
    });

    this.publicRouteTable = new RouteTable(this, "public-route-table", {
      vpcId: this.vpc.id,
      tags: { Name: naming.name("generic", "public"), Tier: "public" },
    });
    new Route(this, "public-internet-route", {
      routeTableId: this.publicRouteTable.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: this.internetGateway.id,
    });
    this.publicSubnets.forEach(
      (subnet, i) => new RouteTableAssociation(this, `public-association-${i}`, { subnetId: subnet.id, routeTableId: this.publicRouteTable.id }),
    );

    // NAT: none, one in the first AZ, or one per AZ (each AZ keeps egress if another AZ fails).
    const natCount = props.natStrategy === "per-az" ? azs.length : props.natStrategy === "single" ? 1 : 0;
    this.natGateways = [];
    for (let i = 0; i < natCount; i++) {
      const natScope = new Construct(this, `nat-${i}`);
      const eip = new Eip(natScope, "eip", { domain: "vpc", tags: { Name: naming.name("generic", `nat-${azs[i]}`) } });
      this.natGateways.push(
        new NatGateway(natScope, "gateway", {
          allocationId: eip.allocationId,
          subnetId: this.publicSubnets[i].id,
          tags: { Name: naming.name("generic", `nat-${azs[i]}`) },
          dependsOn: [this.internetGateway],
        }),
      );
    }

    const privateTableCount = props.natStrategy === "per-az" ? azs.length : 1;
    this.privateRouteTables = [];
    for (let i = 0; i < privateTableCount; i++) {
      const table = new RouteTable(this, `private-route-table-${i}`, {
        vpcId: this.vpc.id,
        tags: { Name: naming.name("generic", privateTableCount > 1 ? `private-${azs[i]}` : "private"), Tier: "private" },
      });
      if (this.natGateways.length) {
        new Route(this, `private-nat-route-${i}`, {
          routeTableId: table.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: this.natGateways[Math.min(i, this.natGateways.length - 1)].id,
        });
      }
      this.privateRouteTables.push(table);
    }
    this.privateSubnets.forEach(
      (subnet, i) =>
        new RouteTableAssociation(this, `private-association-${i}`, {
          subnetId: subnet.id,
          routeTableId: this.privateRouteTables[Math.min(i, privateTableCount - 1)].id,
        }),
    );

    // Database subnets have no route out of the VPC at all.
    this.databaseRouteTable = new RouteTable(this, "database-route-table", {
      vpcId: this.vpc.id,
      tags: { Name: naming.name("generic", "database"), Tier: "database" },
    });
    this.databaseSubnets.forEach(
      (subnet, i) => new RouteTableAssociation(this, `database-association-${i}`, { subnetId: subnet.id, routeTableId: this.databaseRouteTable.id }),
    );

    // The default SG admits nothing: declaring it without rules strips AWS's defaults.
    new DefaultSecurityGroup(this, "default-security-group", {
      vpcId: this.vpc.id,
      tags: { Name: naming.name("generic", "default-closed") },
    });

    // The chain: internet -> ALB -> ECS -> RDS, each group admitting only the layer before it.
    const securityGroup = (sgId: string, purpose: string, description: string) =>
      new SecurityGroup(this, sgId, {
        name: naming.name("securityGroup", purpose),
        description,
        vpcId: this.vpc.id,
        revokeRulesOnDelete: true,
        tags: { Name: naming.name("securityGroup", purpose) },
      });
    this.albSecurityGroup = securityGroup("alb-security-group", "alb", "ALB: HTTP/HTTPS from the internet, app ports to ECS tasks");
    this.ecsSecurityGroup = securityGroup("ecs-security-group", "ecs-tasks", "ECS tasks: app ports from the ALB only");
    this.rdsSecurityGroup = securityGroup("rds-security-group", "rds", "RDS: PostgreSQL from ECS tasks only; no egress");

    const rulesScope = new Construct(this, "security-group-rules");
    for (const port of [80, 443]) {
      const rule = new VpcSecurityGroupIngressRule(rulesScope, `alb-ingress-${port}`, {
        securityGroupId: this.albSecurityGroup.id,
        description: port === 443 ? "HTTPS from the internet" : "HTTP from the internet (redirected to HTTPS)",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      });
      if (port === 80) skipCheckov(rule, "CKV_AWS_260", "the internet-facing ALB answers port 80 only with a 301 redirect to HTTPS");
    }
    if (props.testListener) {
      const port = props.testListener.port;
      for (const cidr of props.testListener.allowedCidrs ?? [props.vpcCidr]) {
        new VpcSecurityGroupIngressRule(rulesScope, `alb-ingress-test-${port}-${cidr.replace(/[./]/g, "-")}`, {
          securityGroupId: this.albSecurityGroup.id,
          description: `Blue/green test listener from ${cidr} only (never the internet)`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: cidr,
        });
      }
    }
    for (const port of [...new Set(props.appPorts)].sort((a, b) => a - b)) {
      new VpcSecurityGroupEgressRule(rulesScope, `alb-egress-ecs-${port}`, {
        securityGroupId: this.albSecurityGroup.id,
        description: `To ECS tasks on app port ${port}`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: this.ecsSecurityGroup.id,
      });
      new VpcSecurityGroupIngressRule(rulesScope, `ecs-ingress-alb-${port}`, {
        securityGroupId: this.ecsSecurityGroup.id,
        description: `App port ${port} from the ALB only`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: this.albSecurityGroup.id,
      });
    }
    const peers = new Map((props.kafkaPeers ?? []).map((k) => [`${k.securityGroupId}-${k.port}`, k]));
    for (const [key, peer] of [...peers].sort(([a], [b]) => a.localeCompare(b))) {
      new VpcSecurityGroupEgressRule(rulesScope, `ecs-egress-kafka-${key}`, {
        securityGroupId: this.ecsSecurityGroup.id,
        description: `Kafka brokers in ${peer.securityGroupId} (admitted by the Kafka owner)`,
        ipProtocol: "tcp",
        fromPort: peer.port,
        toPort: peer.port,
        referencedSecurityGroupId: peer.securityGroupId,
      });
    }
    new VpcSecurityGroupEgressRule(rulesScope, "ecs-egress-rds", {
      securityGroupId: this.ecsSecurityGroup.id,
      description: "PostgreSQL to RDS",
      ipProtocol: "tcp",
      fromPort: databasePort,
      toPort: databasePort,
      referencedSecurityGroupId: this.rdsSecurityGroup.id,
    });
    new VpcSecurityGroupEgressRule(rulesScope, "ecs-egress-https", {
      securityGroupId: this.ecsSecurityGroup.id,
      description: "HTTPS to AWS APIs and ECR (via NAT, IGW or VPC endpoints)",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });
    new VpcSecurityGroupIngressRule(rulesScope, "rds-ingress-ecs", {
      securityGroupId: this.rdsSecurityGroup.id,
      description: "PostgreSQL from ECS tasks only",
      ipProtocol: "tcp",
      fromPort: databasePort,
      toPort: databasePort,
      referencedSecurityGroupId: this.ecsSecurityGroup.id,
    });

    this.interfaceEndpoints = [];
    if (props.vpcEndpoints) {
      const endpointScope = new Construct(this, "endpoints");
      this.endpointSecurityGroup = securityGroup("endpoint-security-group", "endpoints", "VPC interface endpoints: HTTPS from ECS tasks only");
      new VpcSecurityGroupIngressRule(rulesScope, "endpoints-ingress-ecs", {
        securityGroupId: this.endpointSecurityGroup.id,
        description: "HTTPS from ECS tasks",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: this.ecsSecurityGroup.id,
      });
      this.s3GatewayEndpoint = new VpcEndpoint(endpointScope, "s3", {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${props.region}.s3`,
        vpcEndpointType: "Gateway",
        // ECR image layers are served from S3.
        routeTableIds: [this.publicRouteTable.id, ...this.privateRouteTables.map((t) => t.id)],
        tags: { Name: naming.name("generic", "s3") },
      });
      const endpointSubnets = props.taskSubnets === "public" ? this.publicSubnets : this.privateSubnets;
      for (const service of INTERFACE_ENDPOINT_SERVICES) {
        this.interfaceEndpoints.push(
          new VpcEndpoint(endpointScope, service.replace(".", "-"), {
            vpcId: this.vpc.id,
            serviceName: `com.amazonaws.${props.region}.${service}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds: endpointSubnets.map((s) => s.id),
            securityGroupIds: [this.endpointSecurityGroup.id],
            tags: { Name: naming.name("generic", service.replace(".", "-")) },
          }),
        );
      }
    }

    this.dbSubnetGroup = new DbSubnetGroup(this, "db-subnet-group", {
      name: naming.name("dbSubnetGroup", "database"),
      description: `${naming.stem} database subnets (no internet route)`,
      subnetIds: this.databaseSubnets.map((s) => s.id),
    });

    // Flow logs: every accepted and rejected flow, to a KMS-encrypted group.
    const flowScope = new Construct(this, "flow-logs");
    this.flowLogGroup = new CloudwatchLogGroup(flowScope, "log-group", {
      name: naming.logGroup("vpc-flow-logs"),
      retentionInDays: props.flowLogRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    skipShortRetention(this.flowLogGroup, props.flowLogRetentionDays, "retention is the environment config value from the deployment guide (7, 30 or 90 days)");
    const flowRole = serviceRole(flowScope, {
      name: naming.name("iamRole", "vpc-flow-logs"),
      description: "VPC flow logs delivery to CloudWatch Logs",
      service: "vpc-flow-logs.amazonaws.com",
      accountId: props.accountId,
      policyName: "deliver-flow-logs",
      statements: [
        {
          sid: "WriteFlowLogGroup",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [this.flowLogGroup.arn, `${this.flowLogGroup.arn}:*`],
        },
      ],
    });
    this.flowLog = new FlowLog(flowScope, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: this.flowLogGroup.arn,
      iamRoleArn: flowRole.arn,
      maxAggregationInterval: 60,
      tags: { Name: naming.name("generic", "flow-log") },
    });

    this.assignPublicIp = props.taskSubnets === "public";
    this.taskSubnetIds = (this.assignPublicIp ? this.publicSubnets : this.privateSubnets).map((s) => s.id);
  }
}

function validate(scope: Construct, props: NetworkingProps): void {
  const azCount = props.availabilityZones.length;
  if (azCount < 2 || azCount > 3) {
    throw new ConstructPropsError(scope, `availabilityZones must list 2 or 3 AZs; got ${azCount}`);
  }
  if (props.taskSubnets === "public" && props.natStrategy !== "none") {
    throw new ConstructPropsError(scope, `taskSubnets "public" is only for natStrategy "none"; got natStrategy "${props.natStrategy}"`);
  }
  if (props.taskSubnets === "private" && props.natStrategy === "none" && !props.vpcEndpoints) {
    throw new ConstructPropsError(scope, `private tasks with natStrategy "none" need vpcEndpoints, or they cannot pull images from ECR`);
  }
  for (const port of props.appPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConstructPropsError(scope, `appPorts must be TCP ports 1-65535; got ${port}`);
    }
  }
}
