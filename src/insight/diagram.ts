/**
 * Draws one stack's architecture (src/insight/architecture.ts) as Graphviz DOT and renders it
 * to SVG with the WebAssembly build of Graphviz (@viz-js/viz, no native install). The DOT is
 * a pure function of the synthesized JSON, sorted everywhere, so the SVG is byte-stable for
 * a given synth and Graphviz version.
 */
import { Architecture, Placed } from "./architecture";

const COLORS = {
  vpc: "#f4f8fb",
  public: "#eaf4ea",
  private: "#eef1fb",
  database: "#fbf1e6",
  other: "#f5f5f5",
  delivery: "#f6f0fa",
  account: "#fafaf0",
  edge: "#3d5a80",
  egress: "#8d99ae",
};

/** Escapes text for a Graphviz HTML-like label. */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A node label: a bold title and left-aligned detail lines. */
function label(title: string, lines: readonly string[]): string {
  return `<<B>${esc(title)}</B>${lines.map((l) => `<BR ALIGN="LEFT"/>${esc(l)}`).join("")}<BR ALIGN="LEFT"/>>`;
}

function id(raw: string): string {
  return `"${raw.replace(/[^A-Za-z0-9_]/g, "_")}"`;
}

function node(nodeId: string, title: string, lines: readonly string[], extra = ""): string {
  return `${id(nodeId)} [label=${label(title, lines)}${extra ? `, ${extra}` : ""}];`;
}

const tierColor = (tier: string): string => (COLORS as Record<string, string>)[tier] ?? COLORS.other;

/** The DOT source of one stack's diagram. */
export function toDot(arch: Architecture): string {
  const lines: string[] = [];
  const out = (s: string) => lines.push(s);
  out(`digraph ${id(arch.stack)} {`);
  out(`  graph [fontname="Arial", fontsize=12, rankdir=TB, compound=true, newrank=true, nodesep=0.25, ranksep=0.4, labelloc=t, label="${esc(arch.stack)} (${esc(arch.region)}): drawn from cdk.tf.json by npm run diagram"];`);
  out(`  node [shape=box, style="rounded,filled", fillcolor=white, color="#5c677d", fontname="Arial", fontsize=11, margin="0.2,0.08"];`);
  out(`  edge [fontname="Arial", fontsize=9, color="${COLORS.edge}", fontcolor="${COLORS.edge}", arrowsize=0.7];`);
  const internetNeeded = arch.sgEdges.some((e) => e.from === "cidr:0.0.0.0/0" || e.to === "cidr:0.0.0.0/0") || arch.natGateways.length > 0;
  if (internetNeeded) out(`  ${id("internet")} [label="Internet", shape=ellipse, style=filled, fillcolor="#ffffff"];`);

  // Everything placed in the VPC, by tier, then by security group.
  type Item = Placed & { dot: string };
  const items: Item[] = [
    ...arch.loadBalancers.map((lb) => ({ ...lb, dot: node(lb.id, `${lb.type === "application" ? "ALB" : lb.type === "network" ? "NLB" : "LB"} ${lb.name}`, [lb.internal ? "internal" : "internet-facing", ...lb.listeners]) })),
    ...arch.natGateways.map((nat) => ({ ...nat, dot: node(nat.id, "NAT gateway", [nat.az]) })),
    ...arch.services.map((s) => {
      const capacity = s.spotTasks > 0 ? `${s.desiredTasks} task(s), ~${s.spotTasks} on Spot` : `${s.desiredTasks} task(s), on-demand`;
      const tgs = s.targetGroups.map((tg) => `  target group ${tg.name}${tg.port ? ` :${tg.port}` : ""}${tg.healthPath ? ` ${tg.healthPath}` : ""}${tg.weight !== undefined ? ` (weight ${tg.weight})` : ""}`);
      const routes = s.routes.map((r) => `route ${r}`);
      return { ...s, dot: node(s.id, `service ${s.name}`, [`${s.deployment}`, `${s.size}, ${capacity}${s.publicIp ? ", public IPs" : ""}`, ...routes, ...tgs]) };
    }),
    ...(arch.endpoints ? [{ ...arch.endpoints, dot: node(arch.endpoints.id, "VPC endpoints", [...(arch.endpoints.interfaces.length ? [`interface, ENI in ${arch.endpoints.azCount} AZs:`, ...chunk(arch.endpoints.interfaces, 3).map((c) => `  ${c.join(", ")}`)] : []), ...(arch.endpoints.gateways.length ? [`gateway: ${arch.endpoints.gateways.join(", ")}`] : [])]) }] : []),
    ...arch.databases.map((db) => ({ ...db, dot: node(db.id, db.title, db.details) })),
  ];
  const anchorOfSg = new Map<string, { node: string; cluster: string }>();
  const clusterOf = (tier: string | undefined, sg: string | undefined) => `cluster_${(tier ?? "vpc").replace(/\W/g, "_")}_${(sg ?? "none").replace(/\W/g, "_")}`;
  const emitGroup = (tier: string | undefined, members: Item[], indent: string) => {
    const bySg = new Map<string, Item[]>();
    for (const m of members) bySg.set(m.securityGroup ?? "", [...(bySg.get(m.securityGroup ?? "") ?? []), m]);
    for (const [sg, group] of [...bySg.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!sg) {
        group.forEach((m) => out(`${indent}${m.dot}`));
        continue;
      }
      const cluster = clusterOf(tier, sg);
      if (!anchorOfSg.has(sg)) anchorOfSg.set(sg, { node: group[0].id, cluster });
      out(`${indent}subgraph ${cluster} {`);
      out(`${indent}  label="security group ${esc(arch.securityGroupNames[sg] ?? sg)}"; labeljust=l; style="dashed,rounded"; color="#7d8597"; fontsize=10;`);
      group.forEach((m) => out(`${indent}  ${m.dot}`));
      out(`${indent}}`);
    }
  };
  if (arch.vpc) {
    out(`  subgraph cluster_vpc {`);
    out(`    label="VPC ${esc(arch.vpc.cidr)} over ${arch.vpc.azs.length} AZs: ${esc(arch.vpc.azs.join(", "))}"; labeljust=l; style="rounded,filled"; fillcolor="${COLORS.vpc}"; color="#98a6b5";`);
    for (const tier of arch.tiers) {
      const subnets = tier.subnets.map((s) => `${s.cidr} (${s.az.slice(-1)})`).join(", ");
      out(`    subgraph ${id(`cluster_tier_${tier.name}`)} {`);
      out(`      label=<${esc(tier.name)} subnets, route out: ${esc(tier.egress)}<BR ALIGN="LEFT"/>${esc(subnets)}<BR ALIGN="LEFT"/>>; labeljust=l; style="rounded,filled"; fillcolor="${tierColor(tier.name)}"; color="#b0b8c4";`);
      const members = items.filter((m) => m.tier === tier.name);
      if (!members.length) out(`      ${id(`empty_${tier.name}`)} [label="no resources", shape=plaintext, style="", fontcolor="#7d8597"];`);
      emitGroup(tier.name, members, "      ");
      out(`    }`);
    }
    emitGroup(undefined, items.filter((m) => !arch.tiers.some((t) => t.name === m.tier)), "    ");
    out(`  }`);
  }

  const groups = Object.entries(arch.account);
  // Tiers stack top to bottom (public, private, database), then delivery, then the account box.
  const layers = arch.tiers.map((t) => {
    const ids = items.filter((m) => m.tier === t.name).map((m) => m.id);
    return ids.length ? ids : [`empty_${t.name}`];
  });
  // Delivery and the account box share the layer below the VPC.
  layers.push([...arch.pipelines.map((p) => p.id), ...(groups.length ? ["account"] : [])]);
  const stacked = layers.filter((ids) => ids.length);
  for (let i = 1; i < stacked.length; i++) for (const below of stacked[i]) out(`  ${id(stacked[i - 1][0])} -> ${id(below)} [style=invis];`);

  // The security-group chain: who may talk to whom, on which ports.
  for (const edge of arch.sgEdges) {
    const to = anchorOfSg.get(edge.to);
    const from = anchorOfSg.get(edge.from);
    const ports = edge.ports.join(", ");
    if (edge.from === "cidr:0.0.0.0/0" && to) out(`  ${id("internet")} -> ${id(to.node)} [label=" ${esc(ports)}", lhead=${to.cluster}, penwidth=1.4];`);
    else if (from && to) out(`  ${id(from.node)} -> ${id(to.node)} [label=" ${esc(ports)}", ltail=${from.cluster}, lhead=${to.cluster}, penwidth=1.4];`);
    else if (from && edge.to === "cidr:0.0.0.0/0") {
      // Egress to anywhere leaves through the tier's route: NAT gateways or the internet gateway.
      const tier = arch.tiers.find((t) => items.some((m) => m.securityGroup === edge.from && m.tier === t.name));
      const viaNat = tier?.egress === "NAT gateway" && arch.natGateways.length > 0;
      const target = viaNat ? arch.natGateways[0].id : "internet";
      if (target === "internet" && !internetNeeded) continue;
      out(`  ${id(from.node)} -> ${id(target)} [label=" ${esc(ports)} out${viaNat ? " via NAT" : ""}", ltail=${from.cluster}, style=dashed, color="${COLORS.egress}", fontcolor="${COLORS.egress}", constraint=false];`);
    }
  }

  if (arch.pipelines.length) {
    out(`  subgraph cluster_delivery {`);
    out(`    label="delivery: one pipeline per service"; labeljust=l; style="rounded,filled"; fillcolor="${COLORS.delivery}"; color="#b8a6c9";`);
    for (const p of arch.pipelines) {
      const stages = chunk(p.stages, 4).map((c, i) => `${i ? "  " : ""}${c.join(" > ")}`);
      out(`    ${node(p.id, `pipeline ${p.name} (${p.type})`, [...(p.source ? [p.source] : []), ...(p.branches.length ? [`on push to ${p.branches.join(", ")}`] : []), ...stages])}`);
    }
    out(`  }`);
    for (const p of arch.pipelines) for (const target of p.deploys) out(`  ${id(target)} -> ${id(p.id)} [dir=back, style=dotted, color="#7b5ea7", fontcolor="#7b5ea7", label=" deploys"];`);
  }

  if (groups.length) {
    // One box, one section per group: narrower than a row of boxes.
    const body = groups.map(([title, ls]) => `<B>${esc(title)}</B>${ls.map((l) => `<BR ALIGN="LEFT"/>  ${esc(l)}`).join("")}`).join(`<BR ALIGN="LEFT"/>`);
    out(`  ${id("account")} [label=<${body}<BR ALIGN="LEFT"/>>, fillcolor="${COLORS.account}"];`);
  }
  out(`}`);
  return lines.join("\n") + "\n";
}

function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

type Viz = { renderString(dot: string, options: { format: string; engine?: string }): string };
let vizPromise: Promise<Viz> | undefined;

/** Renders DOT to SVG with the WebAssembly Graphviz (loaded once per process). */
export async function renderSvg(dot: string): Promise<string> {
  vizPromise ??= (require("@viz-js/viz") as { instance(): Promise<Viz> }).instance();
  const viz = await vizPromise;
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}
