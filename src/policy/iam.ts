import { PolicyContext, SynthesizedResource } from "./types";
import { parseJsonAttribute } from "./parse";
import { blocks, strings } from "./values";

/** One IAM policy statement, whichever way it was written (typed data source or JSON). */
export interface Statement {
  readonly sid?: string;
  /** The document the statement was written in (`data.aws_iam_policy_document.x`, `inline JSON`). */
  readonly source?: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  /** `{ type: "Service", identifiers: [...] }`; a JSON `"Principal": "*"` is `{ type: "*", identifiers: ["*"] }`. */
  readonly principals: readonly { type: string; identifiers: readonly string[] }[];
  readonly conditions: readonly { test: string; variable: string; values: readonly string[] }[];
}

/** The statements of a policy attribute, or `inspectable: false` when it is an expression the pack cannot read. */
export interface PolicyStatements {
  readonly inspectable: boolean;
  readonly statements: readonly Statement[];
  /** Where the statements came from, for messages (`data.aws_iam_policy_document.x` or `inline JSON`). */
  readonly source: string;
}

/**
 * Reads a `policy` / `assume_role_policy` value: a `${data.aws_iam_policy_document.<n>.json}`
 * reference (following `source_policy_documents` / `override_policy_documents`), or JSON.
 */
export function policyStatements(value: unknown, ctx: PolicyContext): PolicyStatements {
  const referenced = ctx.resolveReference(value);
  if (referenced && referenced.type === "aws_iam_policy_document" && referenced.mode === "data" && /\.json\}$/.test(String(value))) {
    return documentStatements(referenced, ctx, new Set());
  }
  const parsed = parseJsonAttribute(value) as any;
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    return { inspectable: true, statements: blocks(parsed.Statement).map(fromJson), source: "inline JSON" };
  }
  return { inspectable: false, statements: [], source: typeof value === "string" ? value : JSON.stringify(value) };
}

function documentStatements(doc: SynthesizedResource, ctx: PolicyContext, seen: Set<string>): PolicyStatements {
  seen.add(doc.address);
  const statements: Statement[] = [];
  let inspectable = true;
  for (const attr of ["source_policy_documents", "override_policy_documents"]) {
    for (const other of strings(doc.config[attr])) {
      const ref = ctx.resolveReference(other);
      if (ref && ref.type === "aws_iam_policy_document" && !seen.has(ref.address)) {
        const nested = documentStatements(ref, ctx, seen);
        inspectable &&= nested.inspectable;
        statements.push(...nested.statements);
      } else {
        const parsed = parseJsonAttribute(other) as any;
        if (parsed && typeof parsed === "object") statements.push(...blocks(parsed.Statement).map((st) => ({ ...fromJson(st), source: "inline JSON" })));
        else inspectable = false;
      }
    }
  }
  statements.push(...blocks(doc.config.statement).map((st) => ({ ...fromDataSource(st), source: doc.address })));
  return { inspectable, statements, source: doc.address };
}

function fromDataSource(s: any): Statement {
  return {
    sid: s.sid,
    effect: s.effect === "Deny" ? "Deny" : "Allow",
    actions: strings(s.actions),
    notActions: strings(s.not_actions),
    resources: strings(s.resources),
    notResources: strings(s.not_resources),
    principals: blocks(s.principals).map((p) => ({ type: String(p.type), identifiers: strings(p.identifiers) })),
    conditions: blocks(s.condition).map((c) => ({ test: String(c.test), variable: String(c.variable), values: strings(c.values) })),
  };
}

function fromJson(s: any): Statement {
  const principal = s.Principal;
  const principals =
    principal === undefined
      ? []
      : typeof principal === "string"
        ? [{ type: "*", identifiers: [principal] }]
        : Object.entries(principal).map(([type, ids]) => ({ type, identifiers: strings(ids) }));
  const conditions = Object.entries((s.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap(([test, vars]) =>
    Object.entries(vars ?? {}).map(([variable, values]) => ({ test, variable, values: strings(values) })),
  );
  return {
    sid: s.Sid,
    effect: s.Effect === "Deny" ? "Deny" : "Allow",
    actions: strings(s.Action),
    notActions: strings(s.NotAction),
    resources: strings(s.Resource),
    notResources: strings(s.NotResource),
    principals,
    conditions,
  };
}

/** Case-insensitive IAM wildcard match (`*` any run, `?` one character). */
export function iamGlobMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return re.test(value);
}

/** Short label of a statement for messages: its Sid or its position. */
export function statementLabel(statement: Statement, index: number): string {
  return statement.sid ? `statement "${statement.sid}"` : `statement #${index + 1}`;
}

/**
 * Every IAM policy document a resource carries, with a label: trust and inline policies of
 * roles, identity policies, and the resource policies of keys, buckets, topics, log
 * destinations, repositories and secrets.
 */
export function policyAttributes(resource: SynthesizedResource): { label: string; value: unknown }[] {
  const c = resource.config;
  switch (resource.type) {
    case "aws_iam_role":
      return [
        ...(c.assume_role_policy !== undefined ? [{ label: "assume_role_policy", value: c.assume_role_policy }] : []),
        ...blocks(c.inline_policy)
          .filter((p) => p.policy !== undefined)
          .map((p, i) => ({ label: `inline_policy ${p.name ?? `#${i + 1}`}`, value: p.policy })),
      ];
    case "aws_cloudwatch_log_resource_policy":
      return c.policy_document === undefined ? [] : [{ label: "policy_document", value: c.policy_document }];
    default:
      return c.policy === undefined ? [] : [{ label: "policy", value: c.policy }];
  }
}
