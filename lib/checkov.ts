/**
 * Declares a checkov skip on one resource, in code, with the reason.
 *
 *   skipCheckov(bucket, "CKV_AWS_144", "state is replicated by the backup plan, not CRR");
 *
 * checkov reads `checkov:skip=<ID>:<reason>` from the lines of a resource block. In the
 * synthesized JSON that line is a Terraform JSON comment (a "//" key, ignored by Terraform)
 * next to cdktf's own metadata:
 *
 *   "//": { "metadata": {...}, "checkov": ["checkov:skip=CKV_AWS_144:state is replicated ..."] }
 *
 * `npm run scan` applies the same skips to the plan JSON (which has no comments) by resource
 * address, and prints every skip with its reason. Skip one check on one resource, never a
 * check ID across the board, and only with a reason a reviewer would accept; a real
 * finding is fixed in the module instead.
 */
import { TerraformDataSource, TerraformResource } from "cdktf";

/** A resource or a data source (checkov also checks aws_iam_policy_document data sources). */
export type CheckovTarget = TerraformResource | TerraformDataSource;

const CHECK_ID = /^CKV2?_[A-Z0-9]+_\d+$/;
const skips = new WeakMap<CheckovTarget, Map<string, string>>();

export class CheckovSkipError extends Error {}

export function skipCheckov(resource: CheckovTarget, checkId: string, reason: string): void {
  if (!CHECK_ID.test(checkId)) throw new CheckovSkipError(`checkov skip on ${resource.node.path}: "${checkId}" is not a check ID like CKV_AWS_18 or CKV2_AWS_62`);
  const why = reason.trim();
  if (why.length < 15 || /["\n\\]/.test(why)) {
    throw new CheckovSkipError(`checkov skip ${checkId} on ${resource.node.path}: give a reason of at least 15 characters on one line, without quotes or backslashes; got "${reason}"`);
  }
  const mine = skips.get(resource) ?? new Map<string, string>();
  if (mine.has(checkId)) throw new CheckovSkipError(`checkov skip ${checkId} on ${resource.node.path} is declared twice`);
  mine.set(checkId, why);
  skips.set(resource, mine);
  resource.addOverride("//.checkov", [...mine].map(([id, r]) => `checkov:skip=${id}:${r}`));
}

/** The skips declared on a resource (check ID -> reason). */
export function checkovSkips(resource: CheckovTarget): ReadonlyMap<string, string> {
  return skips.get(resource) ?? new Map();
}

/** Parses the skips out of a synthesized resource body (`"//".checkov`). */
export function skipsInResourceJson(body: unknown): Map<string, string> {
  const list = (body as { "//"?: { checkov?: unknown } } | undefined)?.["//"]?.checkov;
  const out = new Map<string, string>();
  if (!Array.isArray(list)) return out;
  for (const entry of list) {
    const m = /^checkov:skip=([A-Za-z0-9_-]+):(.*)$/.exec(String(entry));
    if (m) out.set(m[1], m[2].trim());
  }
  return out;
}

/** CKV_AWS_338: CloudWatch log groups keep their events at least a year. */
export const CHECKOV_MIN_LOG_RETENTION_DAYS = 365;

/**
 * Declares the CKV_AWS_338 skip on a log group only while its retention is shorter than a
 * year (config says so, with `reason`); a group kept a year or more needs none, so the skip
 * never goes stale when the config changes.
 */
export function skipShortRetention(group: CheckovTarget, retentionDays: number, reason: string): void {
  if (retentionDays > 0 && retentionDays < CHECKOV_MIN_LOG_RETENTION_DAYS) skipCheckov(group, "CKV_AWS_338", reason);
}
