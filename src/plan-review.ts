/**
 * The review an operator runs before every apply (`npm run plan:review -- <plan.json>`, the
 * output of `terraform show -json <plan>`): what the plan does, grouped by risk, and a
 * refusal (exit 2) when it destroys or replaces something that holds state, unless that
 * address is acknowledged on purpose (`--ack <address>`).
 */

import { STATEFUL_TYPES } from "../lib/stateful";

export { STATEFUL_TYPES };

/** Types whose changes decide who may reach or do what. */
const ACCESS_TYPES = new Set([
  "aws_iam_role",
  "aws_iam_role_policy",
  "aws_iam_policy",
  "aws_iam_role_policy_attachment",
  "aws_kms_key_policy",
  "aws_s3_bucket_policy",
  "aws_sns_topic_policy",
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
  "aws_security_group",
  "aws_security_group_rule",
]);

/** Types that make up a running service. */
const SERVICE_TYPES = new Set([
  "aws_ecs_service",
  "aws_ecs_task_definition",
  "aws_lb_target_group",
  "aws_lb_listener_rule",
  "aws_lb_listener",
  "aws_appautoscaling_target",
  "aws_appautoscaling_policy",
  "aws_codedeploy_deployment_group",
  "aws_codedeploy_app",
]);

/** One `resource_changes[]` entry of `terraform show -json`. */
export interface PlanResourceChange {
  readonly address: string;
  readonly type: string;
  readonly mode?: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: Record<string, unknown> | null;
    readonly after?: Record<string, unknown> | null;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
  };
  readonly action_reason?: string;
}

export interface Finding {
  readonly address: string;
  readonly what: string;
}

export interface PlanReview {
  /** Destroys and replacements of stateful resources (refused unless acknowledged). */
  readonly stateful: readonly (Finding & { readonly acknowledged: boolean })[];
  /** IAM, key-policy and security-group changes that grant more than before. */
  readonly widening: readonly Finding[];
  /** Anything that becomes reachable from the internet. */
  readonly public: readonly Finding[];
  /** Changes to running services (task definitions, ECS services, routing, scaling, deployments). */
  readonly services: readonly Finding[];
  /** Everything else that changes, by action. */
  readonly other: readonly Finding[];
  readonly counts: { readonly create: number; readonly update: number; readonly replace: number; readonly delete: number };
}

const isReplace = (a: readonly string[]) => a.includes("delete") && a.includes("create");
const verb = (a: readonly string[]) => (isReplace(a) ? "replace" : a.includes("delete") ? "destroy" : a.includes("create") ? "create" : a.includes("update") ? "update" : a.join("+"));

/** `Statement`s of a JSON policy string (or []) as `effect action resource` triples. */
function grants(policy: unknown): Set<string> {
  if (typeof policy !== "string" || !policy.trim().startsWith("{")) return new Set();
  try {
    const doc = JSON.parse(policy) as { Statement?: unknown };
    const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
    const out = new Set<string>();
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? ["*"] : [String(v)]);
    for (const st of statements as Record<string, unknown>[]) {
      if (st.Effect !== "Allow") continue;
      const who = st.Principal === undefined ? "" : ` principal ${JSON.stringify(st.Principal)}`;
      const when = st.Condition === undefined ? "" : ` when ${JSON.stringify(st.Condition)}`;
      for (const action of list(st.Action)) for (const resource of list(st.Resource)) out.add(`${action} on ${resource}${who}${when}`);
    }
    return out;
  } catch {
    return new Set();
  }
}

/** What an access-type change adds (empty when it only narrows or is unchanged). */
function widened(rc: PlanResourceChange): string[] {
  const before = rc.change.before ?? {};
  const after = rc.change.after ?? {};
  const out: string[] = [];
  for (const field of ["policy", "assume_role_policy"]) {
    if (!(field in after)) continue;
    const was = grants(before[field]);
    for (const g of grants(after[field])) if (!was.has(g)) out.push(`${field === "assume_role_policy" ? "trust" : "allows"} ${g}`);
  }
  if (rc.type === "aws_iam_role_policy_attachment" && rc.change.actions.includes("create")) out.push(`attaches ${String(after.policy_arn)}`);
  if (rc.type.startsWith("aws_vpc_security_group_") || rc.type === "aws_security_group_rule") {
    const peer = after.cidr_ipv4 ?? after.cidr_ipv6 ?? after.referenced_security_group_id ?? after.cidr_blocks ?? after.source_security_group_id;
    const key = (x: Record<string, unknown>) => JSON.stringify([x.from_port, x.to_port, x.ip_protocol ?? x.protocol, x.cidr_ipv4 ?? x.cidr_blocks, x.referenced_security_group_id ?? x.source_security_group_id]);
    if (rc.change.actions.includes("create") && (!rc.change.before || key(before) !== key(after))) {
      out.push(`${rc.type.includes("egress") ? "egress to" : "ingress from"} ${JSON.stringify(peer)} on ${String(after.ip_protocol ?? after.protocol)}/${String(after.from_port)}-${String(after.to_port)}`);
    }
  }
  return out;
}

/** What in a change makes something reachable from the internet. */
function publicExposure(rc: PlanResourceChange): string[] {
  const after = rc.change.after ?? {};
  const before = rc.change.before ?? {};
  const became = (field: string, value: unknown) => after[field] === value && before[field] !== value;
  const out: string[] = [];
  if (rc.type === "aws_db_instance" && became("publicly_accessible", true)) out.push("database becomes publicly accessible");
  if (rc.type === "aws_lb" && became("internal", false)) out.push("internet-facing load balancer");
  if (rc.type === "aws_s3_bucket_public_access_block") {
    for (const f of ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]) if (became(f, false)) out.push(`${f} turned off`);
  }
  if ((rc.type === "aws_vpc_security_group_ingress_rule" && (after.cidr_ipv4 === "0.0.0.0/0" || after.cidr_ipv6 === "::/0")) && rc.change.actions.includes("create")) {
    out.push(`ingress from the internet on ${String(after.ip_protocol)}/${String(after.from_port)}`);
  }
  if (rc.type === "aws_ecs_service") {
    const ip = (x: Record<string, unknown>) => ((x.network_configuration as { assign_public_ip?: boolean }[] | undefined)?.[0]?.assign_public_ip ?? false);
    if (ip(after) && !ip(before)) out.push("tasks get public IPs");
  }
  return out;
}

/** The attributes that force a replacement, as dotted paths. */
function forcing(rc: PlanResourceChange): string {
  const paths = (rc.change.replace_paths ?? []).map((p) => p.join("."));
  return paths.length ? `forced by ${paths.join(", ")}` : rc.action_reason ? `reason ${rc.action_reason}` : "";
}

export function reviewPlan(plan: { resource_changes?: readonly PlanResourceChange[] }, acknowledged: readonly string[] = []): PlanReview {
  const stateful: (Finding & { acknowledged: boolean })[] = [];
  const widening: Finding[] = [];
  const exposed: Finding[] = [];
  const services: Finding[] = [];
  const other: Finding[] = [];
  const counts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === "data") continue;
    const actions = rc.change.actions;
    if (actions.length === 1 && (actions[0] === "no-op" || actions[0] === "read")) continue;
    const v = verb(actions);
    if (v === "replace") counts.replace++;
    else if (v === "destroy") counts.delete++;
    else if (v === "create") counts.create++;
    else counts.update++;
    if (STATEFUL_TYPES[rc.type] && actions.includes("delete")) {
      stateful.push({ address: rc.address, what: `${v} ${STATEFUL_TYPES[rc.type]}${forcing(rc) ? ` (${forcing(rc)})` : ""}`, acknowledged: acknowledged.includes(rc.address) });
      continue;
    }
    const pub = publicExposure(rc);
    if (pub.length) exposed.push({ address: rc.address, what: pub.join("; ") });
    if (ACCESS_TYPES.has(rc.type)) {
      const more = widened(rc);
      if (more.length) widening.push({ address: rc.address, what: more.join("; ") });
      else if (!pub.length) other.push({ address: rc.address, what: v });
      continue;
    }
    if (SERVICE_TYPES.has(rc.type)) services.push({ address: rc.address, what: `${v}${v === "replace" && forcing(rc) ? ` (${forcing(rc)})` : ""}` });
    else if (!pub.length) other.push({ address: rc.address, what: v });
  }
  return { stateful, widening, public: exposed, services, other, counts };
}

/** Exit code of a review: 2 when a stateful destroy/replace is not acknowledged, else 0. */
export function reviewExitCode(review: PlanReview): number {
  return review.stateful.some((f) => !f.acknowledged) ? 2 : 0;
}

export function formatReview(review: PlanReview): string {
  const c = review.counts;
  const lines = [`plan: ${c.create} to create, ${c.update} to update, ${c.replace} to replace, ${c.delete} to destroy`];
  const group = (title: string, findings: readonly (Finding & { acknowledged?: boolean })[]) => {
    if (!findings.length) return;
    lines.push("", `${title} (${findings.length})`);
    for (const f of findings) lines.push(`  ${f.address}: ${f.what}${f.acknowledged ? "  [acknowledged]" : ""}`);
  };
  group("STATEFUL DESTROY OR REPLACE", review.stateful);
  group("WIDENS ACCESS", review.widening);
  group("BECOMES PUBLIC", review.public);
  group("SERVICE CHANGES", review.services);
  group("OTHER CHANGES", review.other);
  const refused = review.stateful.filter((f) => !f.acknowledged);
  if (refused.length) {
    lines.push("", `REFUSED: ${refused.length} stateful resource(s) would be destroyed or replaced. If that is intended, rerun with ${refused.map((f) => `--ack ${f.address}`).join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}
