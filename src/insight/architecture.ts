/**
 * The architecture of one synthesized stack as the diagram draws it: VPC, AZs and subnet
 * tiers, the security-group chain with its ports, load balancers and listeners, one entry
 * per application service (its ECS services, target groups and routes folded together),
 * databases, NAT gateways and endpoints, the pipeline per service, and the account-level
 * resources. Derived from resource types, attributes and references only.
 */
import { placeTasks, taskDefinitionOf } from "./cost";
import { blocks, jsonAttr, list, num, StackIndex, str, TfResource, TfStack } from "./terraform-json";

export interface Subnet {
  readonly az: string;
  readonly cidr: string;
}

export interface Tier {
  /** `public`, `private`, `database`, ... (the subnet's Tier tag, else derived from its route). */
  readonly name: string;
  /** Where the tier's default route goes. */
  readonly egress: "internet gateway" | "NAT gateway" | "none";
  readonly subnets: readonly Subnet[];
}

/** Something drawn inside the VPC, placed by its subnets and grouped by its security group. */
export interface Placed {
  readonly id: string;
  readonly tier?: string;
  /** Address of its (first) security group. */
  readonly securityGroup?: string;
}

export interface LoadBalancer extends Placed {
  readonly name: string;
  readonly type: string;
  readonly internal: boolean;
  readonly listeners: readonly string[];
}

export interface TargetGroupView {
  readonly name: string;
  readonly port?: number;
  readonly healthPath?: string;
  /** Forward weight in the listener rule, when the rule splits traffic. */
  readonly weight?: number;
}

export interface Service extends Placed {
  /** The application's name (container name shared by its ECS services). */
  readonly name: string;
  readonly ecsServices: readonly string[];
  readonly deployment: string;
  readonly size: string;
  readonly desiredTasks: number;
  /** Expected tasks on Fargate Spot, from the capacity provider strategy. */
  readonly spotTasks: number;
  readonly routes: readonly string[];
  readonly targetGroups: readonly TargetGroupView[];
  readonly publicIp: boolean;
}

export interface Database extends Placed {
  readonly title: string;
  readonly details: readonly string[];
}

export interface NatGateway extends Placed {
  readonly az: string;
}

export interface Endpoints extends Placed {
  readonly interfaces: readonly string[];
  readonly gateways: readonly string[];
  readonly azCount: number;
}

/** Allowed traffic between security groups (or from a CIDR) with its ports. */
export interface SgEdge {
  /** A security-group address, or `cidr:<block>`. */
  readonly from: string;
  /** A security-group address, or `cidr:<block>` for egress to a CIDR. */
  readonly to: string;
  readonly ports: readonly string[];
}

export interface Pipeline {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly source?: string;
  readonly branches: readonly string[];
  readonly stages: readonly string[];
  /** Ids of the services it deploys. */
  readonly deploys: readonly string[];
}

export interface Architecture {
  readonly stack: string;
  readonly label: string;
  readonly region: string;
  readonly vpc?: { readonly cidr: string; readonly azs: readonly string[] };
  readonly tiers: readonly Tier[];
  readonly loadBalancers: readonly LoadBalancer[];
  readonly services: readonly Service[];
  readonly databases: readonly Database[];
  readonly natGateways: readonly NatGateway[];
  readonly endpoints?: Endpoints;
  readonly sgEdges: readonly SgEdge[];
  /** Security-group address -> its name (for cluster labels). */
  readonly securityGroupNames: Readonly<Record<string, string>>;
  readonly pipelines: readonly Pipeline[];
  /** Account-level and shared resources, one short line each, grouped. */
  readonly account: Readonly<Record<string, readonly string[]>>;
}

const TIER_ORDER = ["public", "private", "database"];

function tierRank(name: string): number {
  const i = TIER_ORDER.indexOf(name);
  return i === -1 ? TIER_ORDER.length : i;
}

/** Subnet address -> tier name and default-route target. */
function subnetTiers(index: StackIndex): Map<string, { tier: string; egress: Tier["egress"] }> {
  const routeTarget = new Map<string, Tier["egress"]>();
  const defaultRoutes: { attrs: Readonly<Record<string, unknown>> }[] = [
    ...index.ofType("aws_route").filter((r) => r.attrs.destination_cidr_block === "0.0.0.0/0"),
    ...index.ofType("aws_route_table").flatMap((t) => blocks(t.attrs.route).filter((r) => r.cidr_block === "0.0.0.0/0").map((attrs) => ({ ...t, attrs: { ...attrs, route_table_id: `\${${t.address}.id}` } }))),
  ];
  for (const route of defaultRoutes) {
    const table = index.resolve(route.attrs.route_table_id, "aws_route_table")[0];
    if (!table) continue;
    const target = index.resolve(route.attrs.nat_gateway_id, "aws_nat_gateway").length ? "NAT gateway" : index.resolve(route.attrs.gateway_id, "aws_internet_gateway").length ? "internet gateway" : undefined;
    if (target) routeTarget.set(table.address, target);
  }
  const tableOf = new Map<string, string>();
  for (const assoc of index.ofType("aws_route_table_association")) {
    const [subnet, table] = [index.resolve(assoc.attrs.subnet_id, "aws_subnet")[0], index.resolve(assoc.attrs.route_table_id, "aws_route_table")[0]];
    if (subnet && table) tableOf.set(subnet.address, table.address);
  }
  const out = new Map<string, { tier: string; egress: Tier["egress"] }>();
  for (const subnet of index.ofType("aws_subnet")) {
    const table = tableOf.get(subnet.address);
    const egress = (table && routeTarget.get(table)) || "none";
    const tagged = str((subnet.attrs.tags as Record<string, unknown> | undefined)?.Tier);
    const tier = tagged ?? (egress === "internet gateway" ? "public" : egress === "NAT gateway" ? "private" : "isolated");
    out.set(subnet.address, { tier, egress });
  }
  return out;
}

function placement(subnetsValue: unknown, sgValue: unknown, index: StackIndex, tiers: Map<string, { tier: string }>): { tier?: string; securityGroup?: string } {
  const subnet = index.resolve(subnetsValue, "aws_subnet")[0];
  const sg = index.resolve(sgValue, "aws_security_group")[0];
  return { tier: subnet ? tiers.get(subnet.address)?.tier : undefined, securityGroup: sg?.address };
}

function portLabel(protocol: unknown, from: unknown, to: unknown): string {
  const proto = String(protocol ?? "tcp");
  if (proto === "-1" || proto === "all") return "all traffic";
  const [f, t] = [num(from), num(to)];
  return f === undefined ? proto : f === t || t === undefined ? `${f}` : `${f}-${t}`;
}

/** Ingress rules between groups (and from CIDRs), egress rules to CIDRs. */
function securityGroupEdges(index: StackIndex): SgEdge[] {
  const edges = new Map<string, Set<string>>();
  const add = (from: string | undefined, to: string | undefined, port: string) => {
    if (!from || !to || from === to) return;
    const key = `${from}\u0000${to}`;
    edges.set(key, (edges.get(key) ?? new Set()).add(port));
  };
  const sgOf = (value: unknown) => index.resolve(value, "aws_security_group")[0]?.address;
  const cidrs = (...values: unknown[]) => values.flatMap((v) => (typeof v === "string" ? [v] : list(v).filter((c): c is string => typeof c === "string"))).map((c) => `cidr:${c}`);
  for (const rule of index.ofType("aws_vpc_security_group_ingress_rule")) {
    const port = portLabel(rule.attrs.ip_protocol, rule.attrs.from_port, rule.attrs.to_port);
    for (const from of [sgOf(rule.attrs.referenced_security_group_id), ...cidrs(rule.attrs.cidr_ipv4, rule.attrs.cidr_ipv6)]) add(from, sgOf(rule.attrs.security_group_id), port);
  }
  for (const rule of index.ofType("aws_vpc_security_group_egress_rule")) {
    const port = portLabel(rule.attrs.ip_protocol, rule.attrs.from_port, rule.attrs.to_port);
    for (const to of cidrs(rule.attrs.cidr_ipv4, rule.attrs.cidr_ipv6)) add(sgOf(rule.attrs.security_group_id), to, port);
  }
  for (const rule of index.ofType("aws_security_group_rule")) {
    const port = portLabel(rule.attrs.protocol, rule.attrs.from_port, rule.attrs.to_port);
    const own = sgOf(rule.attrs.security_group_id);
    const others = [sgOf(rule.attrs.source_security_group_id), ...(rule.attrs.self === true ? [own] : []), ...cidrs(rule.attrs.cidr_blocks, rule.attrs.ipv6_cidr_blocks)];
    for (const other of others) if (rule.attrs.type === "ingress") add(other, own, port);
    else if (other?.startsWith("cidr:")) add(own, other, port);
  }
  for (const sg of index.ofType("aws_security_group")) {
    for (const rule of blocks(sg.attrs.ingress)) {
      const port = portLabel(rule.protocol, rule.from_port, rule.to_port);
      for (const from of [...index.resolve(rule.security_groups, "aws_security_group").map((s) => s.address), ...cidrs(rule.cidr_blocks)]) add(from, sg.address, port);
    }
    for (const rule of blocks(sg.attrs.egress)) for (const to of cidrs(rule.cidr_blocks)) add(sg.address, to, portLabel(rule.protocol, rule.from_port, rule.to_port));
  }
  const numeric = (p: string) => num(p.split("-")[0]) ?? Number.MAX_SAFE_INTEGER;
  return [...edges.entries()]
    .map(([key, ports]) => {
      const [from, to] = key.split("\u0000");
      return { from, to, ports: [...ports].sort((a, b) => numeric(a) - numeric(b) || (a < b ? -1 : 1)) };
    })
    .sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1));
}

function listenerLabel(listener: TfResource, index: StackIndex): string {
  const [port, protocol] = [num(listener.attrs.port), str(listener.attrs.protocol) ?? ""];
  const action = blocks(listener.attrs.default_action)[0] ?? {};
  const redirect = blocks(action.redirect)[0];
  const fixed = blocks(action.fixed_response)[0];
  const forward = index.resolve(action, "aws_lb_target_group").length;
  const does = redirect ? `redirect to ${redirect.protocol ?? ""} ${redirect.port ?? ""} (${String(redirect.status_code ?? "").replace("HTTP_", "")})` : fixed ? `default ${fixed.status_code ?? ""}` : forward ? `forward to ${forward} target group(s)` : String(action.type ?? "");
  const tls = str(listener.attrs.ssl_policy) ? `, ${listener.attrs.ssl_policy}` : "";
  return `${protocol} :${port ?? "?"} - ${does.replace(/\s+/g, " ").trim()}${tls}`;
}

/** Short names: drop the `<stack>-` prefix that every physical name here carries. */
function shortName(name: string | undefined, stack: string): string {
  return (name ?? "").replace(new RegExp(`^(alias/)?${stack}[-/]`), "").replace(/-\d{12}$/, "");
}

function ruleRoutes(rule: TfResource, index: StackIndex): string {
  const listener = index.resolve(rule.attrs.listener_arn, "aws_lb_listener")[0];
  const conditions = blocks(rule.attrs.condition).flatMap((c) => [
    ...blocks(c.path_pattern).flatMap((p) => list(p.values)),
    ...blocks(c.host_header).flatMap((h) => list(h.values)),
  ]);
  return `${listener?.attrs.protocol ?? ""} :${listener?.attrs.port ?? "?"} ${conditions.join(" ")}`.trim();
}

function services(index: StackIndex, tiers: Map<string, { tier: string }>, stack: string): Service[] {
  const rules = index.ofType("aws_lb_listener_rule");
  const groups = new Map<string, TfResource[]>();
  for (const svc of index.ofType("aws_ecs_service")) {
    const taskDef = taskDefinitionOf(svc, index);
    const containers = jsonAttr(taskDef?.attrs.container_definitions);
    const container = str(blocks(svc.attrs.load_balancer)[0]?.container_name) ?? str(blocks(containers)[0]?.name) ?? shortName(str(svc.attrs.name), stack);
    groups.set(container, [...(groups.get(container) ?? []), svc]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, ecsServices]) => {
      const first = ecsServices[0];
      const taskDef = taskDefinitionOf(first, index);
      const own = ecsServices.flatMap((s) => index.resolve(s.attrs.load_balancer, "aws_lb_target_group"));
      const myRules = rules.filter((r) => index.resolve(r.attrs.action, "aws_lb_target_group").some((tg) => own.includes(tg)));
      const weights = new Map<string, number>();
      for (const r of myRules) for (const a of blocks(r.attrs.action)) for (const f of blocks(a.forward)) for (const tg of blocks(f.target_group)) {
        const target = index.resolve(tg.arn, "aws_lb_target_group")[0];
        if (target && num(tg.weight) !== undefined) weights.set(target.address, num(tg.weight) ?? 0);
      }
      // CodeDeploy blue/green: the deployment group holds the target-group pair and the listeners.
      const deploymentGroups = ecsServices.flatMap((s) => index.referrers(s, "aws_codedeploy_deployment_group"));
      const listenerRoutes = deploymentGroups.flatMap((g) => blocks(g.attrs.load_balancer_info).flatMap((info) => blocks(info.target_group_pair_info))).flatMap((pair) => [
        ...index.resolve(blocks(pair.prod_traffic_route), "aws_lb_listener").map((l) => `${l.attrs.protocol ?? ""} :${l.attrs.port ?? "?"} (production)`),
        ...index.resolve(blocks(pair.test_traffic_route), "aws_lb_listener").map((l) => `${l.attrs.protocol ?? ""} :${l.attrs.port ?? "?"} (test)`),
      ]);
      const tgs = [...new Set([...own, ...myRules.flatMap((r) => index.resolve(r.attrs.action, "aws_lb_target_group")), ...deploymentGroups.flatMap((g) => index.resolve(g.attrs.load_balancer_info, "aws_lb_target_group"))])];
      const network = blocks(first.attrs.network_configuration)[0] ?? {};
      const controller = str(blocks(first.attrs.deployment_controller)[0]?.type) ?? "ECS";
      const deployment = controller === "CODE_DEPLOY" ? "CodeDeploy blue/green" : tgs.length > 1 ? `blue/green, ${ecsServices.length} ECS services` : "rolling";
      const desired = ecsServices.reduce((sum, s) => sum + (num(s.attrs.desired_count) ?? 0), 0);
      const spot = ecsServices.reduce((sum, s) => sum + (placeTasks(num(s.attrs.desired_count) ?? 0, blocks(s.attrs.capacity_provider_strategy).map((b) => ({ capacityProvider: str(b.capacity_provider) ?? "", base: num(b.base) ?? 0, weight: num(b.weight) ?? 0 }))).FARGATE_SPOT ?? 0), 0);
      const [cpu, memory] = [num(taskDef?.attrs.cpu), num(taskDef?.attrs.memory)];
      return {
        id: `service_${name}`,
        name,
        ecsServices: ecsServices.map((s) => s.address),
        deployment,
        size: cpu !== undefined && memory !== undefined ? `${cpu / 1024} vCPU / ${memory / 1024} GB` : "size unknown",
        desiredTasks: desired,
        spotTasks: Math.round(spot * 10) / 10,
        routes: [...new Set([...myRules.map((r) => ruleRoutes(r, index)), ...listenerRoutes])].sort(),
        targetGroups: tgs.map((tg) => {
          const health = blocks(tg.attrs.health_check)[0];
          return { name: shortName(str(tg.attrs.name), stack).replace(new RegExp(`^${name}-`), ""), port: num(tg.attrs.port), healthPath: str(health?.path), weight: weights.get(tg.address) };
        }),
        publicIp: network.assign_public_ip === true,
        ...placement(network.subnets, network.security_groups, index, tiers),
      };
    });
}

function databases(index: StackIndex, tiers: Map<string, { tier: string }>): Database[] {
  return index.ofType("aws_db_instance").map((db, i) => {
    const group = index.resolve(db.attrs.db_subnet_group_name, "aws_db_subnet_group")[0];
    const a = db.attrs;
    const storage = `${a.allocated_storage ?? "?"} GB ${a.storage_type ?? "gp2"}${a.max_allocated_storage ? ` (autoscaling to ${a.max_allocated_storage})` : ""}`;
    return {
      id: `database_${i}`,
      title: `RDS ${a.engine ?? ""} ${a.engine_version ?? ""}`.trim(),
      details: [`${a.instance_class ?? "?"}, ${a.multi_az === true ? "Multi-AZ (standby in another AZ)" : "Single-AZ"}`, `${storage}, backups ${a.backup_retention_period ?? 0} d`, `port ${a.port ?? "default"}, ${a.storage_encrypted === true ? "encrypted" : "unencrypted"}`],
      ...placement(group?.attrs.subnet_ids, a.vpc_security_group_ids, index, tiers),
    };
  });
}

function pipelines(index: StackIndex, svcs: readonly Service[]): Pipeline[] {
  const serviceOf = new Map<string, string>();
  for (const s of svcs) for (const address of s.ecsServices) serviceOf.set(address, s.id);
  return index.ofType("aws_codepipeline").map((p, i) => {
    const stages = blocks(p.attrs.stage);
    const actions = stages.flatMap((s) => blocks(s.action));
    // Deploy targets: ECS services referenced by an action, directly or through one hop (a CodeDeploy deployment group).
    const direct = index.resolve(actions);
    const reached = [...direct, ...direct.filter((r) => r.type !== "aws_ecs_cluster").flatMap((r) => index.resolve(r.attrs))].filter((r) => r.type === "aws_ecs_service");
    const source = actions.find((a) => a.category === "Source");
    const config = (source?.configuration ?? {}) as Record<string, unknown>;
    const connection = index.resolve(config.ConnectionArn)[0];
    const provider = str(connection?.attrs.provider_type) ?? str(source?.provider) ?? "";
    const repo = str(config.FullRepositoryId) ?? str(config.RepositoryName) ?? str(config.S3Bucket);
    const branches = blocks(p.attrs.trigger).flatMap((t) => blocks(t.git_configuration)).flatMap((g) => blocks(g.push)).flatMap((push) => blocks(push.branches)).flatMap((b) => list(b.includes).map(String));
    return {
      id: `pipeline_${i}`,
      name: str((p.attrs.tags as Record<string, unknown> | undefined)?.Service) ?? str(p.attrs.name) ?? p.name,
      type: str(p.attrs.pipeline_type) ?? "V1",
      source: repo ? `${provider} ${repo}`.trim() : undefined,
      branches,
      stages: stages.map((s) => String(s.name)),
      deploys: [...new Set(reached.map((r) => serviceOf.get(r.address)).filter((id): id is string => id !== undefined))].sort(),
    };
  });
}

function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function accountResources(index: StackIndex, stack: string): Record<string, string[]> {
  const count = (type: string) => index.ofType(type).length;
  const names = (type: string, attr: string) => index.ofType(type).map((r) => shortName(str(r.attrs[attr]), stack)).filter(Boolean).sort();
  const security: string[] = [];
  const keys = names("aws_kms_alias", "name");
  if (count("aws_kms_key")) security.push(`KMS keys: ${keys.length ? keys.join(", ") : counted(count("aws_kms_key"), "key")}`);
  for (const trail of index.ofType("aws_cloudtrail")) {
    const to = [trail.attrs.s3_bucket_name ? "S3" : "", trail.attrs.cloud_watch_logs_group_arn ? "CloudWatch Logs" : ""].filter(Boolean).join(" + ");
    security.push(`CloudTrail${trail.attrs.is_multi_region_trail === true ? " multi-region" : ""} trail -> ${to}`);
  }
  if (count("aws_config_configuration_recorder")) security.push(`AWS Config recorder + ${counted(count("aws_config_config_rule"), "rule")}`);
  if (count("aws_wafv2_web_acl")) security.push(`WAF: ${counted(count("aws_wafv2_web_acl"), "web ACL")}`);
  const secrets = count("aws_secretsmanager_secret") + index.ofType("aws_db_instance").filter((d) => d.attrs.manage_master_user_password === true).length;
  if (secrets) security.push(`Secrets Manager: ${counted(secrets, "secret")}`);
  const observability: string[] = [];
  if (count("aws_sns_topic")) observability.push(`SNS: ${names("aws_sns_topic", "name").join(", ")}`);
  const alarms = count("aws_cloudwatch_metric_alarm") + count("aws_cloudwatch_composite_alarm");
  if (alarms || count("aws_cloudwatch_dashboard")) observability.push(`${counted(alarms, "alarm")}, ${counted(count("aws_cloudwatch_dashboard"), "dashboard")}`);
  if (count("aws_cloudwatch_log_group")) observability.push(`${counted(count("aws_cloudwatch_log_group"), "log group")}${count("aws_flow_log") ? ", VPC flow logs" : ""}`);
  const storage: string[] = [];
  if (count("aws_s3_bucket")) storage.push(`S3: ${names("aws_s3_bucket", "bucket").join(", ")}`);
  if (count("aws_ecr_repository")) storage.push(`ECR: ${names("aws_ecr_repository", "name").join(", ")}`);
  if (count("aws_dynamodb_table")) storage.push(`DynamoDB: ${names("aws_dynamodb_table", "name").join(", ")}`);
  const dns: string[] = [];
  if (count("aws_route53_zone")) dns.push(`Route 53: ${names("aws_route53_zone", "name").join(", ")}`);
  if (count("aws_acm_certificate")) dns.push(counted(count("aws_acm_certificate"), "ACM certificate"));
  const out: Record<string, string[]> = {};
  for (const [title, lines] of Object.entries({ "security and audit": security, observability, storage, dns })) if (lines.length) out[title] = lines;
  return out;
}

/** Reads the architecture of one stack. */
export function readArchitecture(stack: TfStack): Architecture {
  const index = new StackIndex(stack);
  const tiers = subnetTiers(index);
  const vpc = index.ofType("aws_vpc")[0];
  const subnetRows = index.ofType("aws_subnet").map((s) => ({ ...tiers.get(s.address)!, az: str(s.attrs.availability_zone) ?? "?", cidr: str(s.attrs.cidr_block) ?? "?" }));
  const tierList: Tier[] = [...new Set(subnetRows.map((s) => s.tier))]
    .sort((a, b) => tierRank(a) - tierRank(b) || (a < b ? -1 : 1))
    .map((name) => {
      const rows = subnetRows.filter((s) => s.tier === name).sort((a, b) => (a.az < b.az ? -1 : 1));
      return { name, egress: rows[0].egress, subnets: rows.map(({ az, cidr }) => ({ az, cidr })) };
    });
  const svcs = services(index, tiers, stack.name);
  const interfaces = index.ofType("aws_vpc_endpoint").filter((e) => e.attrs.vpc_endpoint_type === "Interface");
  const gateways = index.ofType("aws_vpc_endpoint").filter((e) => e.attrs.vpc_endpoint_type !== "Interface");
  const serviceName = (e: TfResource) => str(e.attrs.service_name)?.split(".").slice(3).join(".") ?? e.name;
  const sgNames: Record<string, string> = {};
  for (const sg of index.ofType("aws_security_group")) sgNames[sg.address] = shortName(str(sg.attrs.name), stack.name) || sg.name;
  return {
    stack: stack.name,
    label: stack.label,
    region: stack.region,
    vpc: vpc ? { cidr: str(vpc.attrs.cidr_block) ?? "?", azs: [...new Set(subnetRows.map((s) => s.az))].sort() } : undefined,
    tiers: tierList,
    loadBalancers: index.ofType("aws_lb").map((lb, i) => ({
      id: `lb_${i}`,
      name: shortName(str(lb.attrs.name), stack.name) || lb.name,
      type: str(lb.attrs.load_balancer_type) ?? "application",
      internal: lb.attrs.internal === true,
      listeners: index.referrers(lb, "aws_lb_listener").map((l) => listenerLabel(l, index)).sort(),
      ...placement(lb.attrs.subnets, lb.attrs.security_groups, index, tiers),
    })),
    services: svcs,
    databases: databases(index, tiers),
    natGateways: index.ofType("aws_nat_gateway").map((nat, i) => {
      const subnet = index.resolve(nat.attrs.subnet_id, "aws_subnet")[0];
      return { id: `nat_${i}`, az: str(subnet?.attrs.availability_zone) ?? "?", tier: subnet ? tiers.get(subnet.address)?.tier : undefined };
    }),
    endpoints:
      interfaces.length || gateways.length
        ? {
            id: "endpoints",
            interfaces: interfaces.map(serviceName).sort(),
            gateways: gateways.map(serviceName).sort(),
            azCount: Math.max(0, ...interfaces.map((e) => list(e.attrs.subnet_ids).length)),
            ...placement(interfaces[0]?.attrs.subnet_ids, interfaces[0]?.attrs.security_group_ids, index, tiers),
          }
        : undefined,
    sgEdges: securityGroupEdges(index),
    securityGroupNames: sgNames,
    pipelines: pipelines(index, svcs),
    account: accountResources(index, stack.name),
  };
}
