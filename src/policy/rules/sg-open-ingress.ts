import { PolicyContext, SynthesizedResource, compliant, nonCompliant, PolicyRule, notApplicable } from "../types";
import { blocks, strings } from "../values";

const WORLD = ["0.0.0.0/0", "::/0"];
/** The only ports the internet may reach, and only on the ALB's security group. */
export const PUBLIC_ALB_PORTS = [80, 443];

interface Ingress {
  readonly protocol: string;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly worldCidrs: string[];
}

/**
 * True for the ALB's security group: referenced by an aws_lb's security_groups; while the
 * stack has no aws_lb yet, a name or Name tag containing "alb" identifies it.
 */
export function isAlbSecurityGroup(sg: SynthesizedResource, ctx: PolicyContext): boolean {
  const lbs = [...ctx.ofType("aws_lb"), ...ctx.ofType("aws_alb")];
  if (lbs.length) return lbs.some((lb) => ctx.mentions(lb.config.security_groups, sg));
  const names = [sg.config.name, sg.config.name_prefix, sg.config.tags?.Name].filter((n) => typeof n === "string");
  return names.some((n) => /(^|[^a-z])alb([^a-z]|$)/i.test(n));
}

function describe(rule: Ingress): string {
  const ports = rule.protocol === "-1" ? "all protocols and ports" : rule.fromPort === rule.toPort ? `${rule.protocol}/${rule.fromPort}` : `${rule.protocol}/${rule.fromPort}-${rule.toPort}`;
  return `${ports} from ${rule.worldCidrs.join(", ")}`;
}

function onlyAlbPorts(rule: Ingress): boolean {
  return (rule.protocol === "tcp" || rule.protocol === "6") && rule.fromPort !== undefined && rule.fromPort === rule.toPort && PUBLIC_ALB_PORTS.includes(rule.fromPort);
}

const port = (value: unknown) => (value === undefined || value === null ? undefined : Number(value));

/** The ingress rules a resource declares, with the world-open CIDRs of each. */
function ingressRules(resource: SynthesizedResource): Ingress[] {
  const c = resource.config;
  switch (resource.type) {
    case "aws_vpc_security_group_ingress_rule":
      return [{ protocol: String(c.ip_protocol), fromPort: port(c.from_port), toPort: port(c.to_port), worldCidrs: [c.cidr_ipv4, c.cidr_ipv6].filter((x) => WORLD.includes(x)) }];
    case "aws_security_group_rule":
      if (c.type !== "ingress") return [];
      return [{ protocol: String(c.protocol), fromPort: port(c.from_port), toPort: port(c.to_port), worldCidrs: [...strings(c.cidr_blocks), ...strings(c.ipv6_cidr_blocks)].filter((x) => WORLD.includes(x)) }];
    default: // aws_security_group inline ingress
      return blocks(c.ingress).map((i) => ({
        protocol: String(i.protocol),
        fromPort: port(i.from_port),
        toPort: port(i.to_port),
        worldCidrs: [...strings(i.cidr_blocks), ...strings(i.ipv6_cidr_blocks)].filter((x) => WORLD.includes(x)),
      }));
  }
}

/** The security group a rule resource belongs to (the group itself for inline rules). */
function groupOf(resource: SynthesizedResource, ctx: PolicyContext): SynthesizedResource | undefined {
  if (resource.type === "aws_security_group") return resource;
  return ctx.resolveReference(resource.config.security_group_id);
}

export const sgOpenIngress: PolicyRule = {
  id: "SG-OPEN-INGRESS",
  description: "No security group admits the internet (0.0.0.0/0 or ::/0) except TCP 80/443 on the ALB's group; everything else is reached only through the layer before it.",
  severity: "error",
  controls: ["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277", "EC2.18", "EC2.19"],
  resourceTypes: ["aws_vpc_security_group_ingress_rule", "aws_security_group_rule", "aws_security_group"],
  check(resource, ctx) {
    const open = ingressRules(resource).filter((r) => r.worldCidrs.length);
    if (!ingressRules(resource).length) return notApplicable();
    if (!open.length) return compliant();
    const group = groupOf(resource, ctx);
    const isAlb = group !== undefined && isAlbSecurityGroup(group, ctx);
    const bad = open.filter((r) => !(isAlb && onlyAlbPorts(r)));
    if (!bad.length) return compliant();
    const where = isAlb ? "the ALB security group admits only TCP 80/443 from the internet" : `${group?.address ?? "this security group"} is not the ALB's security group`;
    return nonCompliant(`ingress ${bad.map(describe).join("; ")}: ${where}`);
  },
};
