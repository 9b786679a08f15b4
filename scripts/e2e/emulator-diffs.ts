/**
 * THE list of plan diffs the emulator causes (not the code), in one place (empty today).
 *
 * After `apply`, a second `terraform plan` must report no changes. A change the plan still
 * shows is allowed only if an entry below matches it, and every entry must say why the
 * emulator causes it and what proves that real AWS would not diff (a provider/AWS doc
 * reference or an observed real-AWS plan). The list starts empty; keep it that way when
 * possible: fix the code, repair the moto gap with a shim (scripts/emulator-shims.ts), or switch
 * the feature off in environments/local.ts with a reason.
 */

export interface EmulatorDiff {
  /** Resource type, e.g. `aws_lb_target_group`. */
  readonly type: string;
  /** Attribute paths whose change is tolerated (top-level names); empty = any attribute. */
  readonly attributes: readonly string[];
  /** Plan actions tolerated (`update`, `create`, `delete`, ...). */
  readonly actions: readonly string[];
  /** What the emulator does that makes the provider see a change. */
  readonly cause: string;
  /** Why real AWS would not show this diff (reference or observation). */
  readonly realAwsProof: string;
}

// Empty: the five moto gaps once listed here (ECS service fields, referenced-group rule
// descriptions, DB parameter Source, S3 EventBridge notifications) are repaired by shims in
// scripts/emulator-shims.ts (ecs-service-fields, ec2-referenced-rule-descriptions,
// rds-db-parameter-source, s3-eventbridge-notification), each with a probe that fails once moto fixes it.
export const EMULATOR_DIFFS: readonly EmulatorDiff[] = [];

/** What makes an entry unacceptable: no cause or no real-AWS proof worth the name, or "any attribute" of a type. */
export function emulatorDiffProblems(list: readonly EmulatorDiff[]): string[] {
  return list.flatMap((d) => [
    ...(d.cause.length < 60 ? [`${d.type}: the cause must say what the emulator does (60+ characters)`] : []),
    ...(d.realAwsProof.length < 60 ? [`${d.type}: the real-AWS proof must name a reference or an observed plan (60+ characters)`] : []),
    ...(d.attributes.length === 0 ? [`${d.type}: list the attributes; an entry never tolerates any attribute of a type`] : []),
  ]);
}

/** The parts of a `terraform show -json` resource change this module reads. */
export interface PlannedChange {
  readonly address: string;
  readonly type: string;
  readonly mode?: string;
  readonly change: { readonly actions: readonly string[]; readonly before?: unknown; readonly after?: unknown; readonly after_unknown?: unknown };
}

/** Top-level attributes whose value differs between before and after (unknown-after counts). */
export function changedAttributes(change: PlannedChange["change"]): string[] {
  const before = (change.before ?? {}) as Record<string, unknown>;
  const after = (change.after ?? {}) as Record<string, unknown>;
  const unknown = (change.after_unknown ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => unknown[k] === true || JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .sort();
}

export interface DiffVerdict {
  /** Changes no entry explains: these fail the e2e. */
  readonly unexplained: { address: string; actions: string[]; attributes: string[] }[];
  /** Changes an entry explains, with the entry. */
  readonly explained: { address: string; entry: EmulatorDiff }[];
}

/** Splits the managed, non-no-op changes of a plan into explained and unexplained. */
export function classifyDiffs(changes: readonly PlannedChange[], list: readonly EmulatorDiff[] = EMULATOR_DIFFS): DiffVerdict {
  const unexplained: DiffVerdict["unexplained"] = [];
  const explained: DiffVerdict["explained"] = [];
  for (const rc of changes) {
    if (rc.mode && rc.mode !== "managed") continue;
    const actions = [...rc.change.actions];
    if (actions.length === 1 && (actions[0] === "no-op" || actions[0] === "read")) continue;
    const attributes = changedAttributes(rc.change);
    const entry = list.find(
      (e) =>
        e.type === rc.type &&
        actions.every((a) => e.actions.includes(a)) &&
        (e.attributes.length === 0 || attributes.every((a) => e.attributes.includes(a))),
    );
    if (entry) explained.push({ address: rc.address, entry });
    else unexplained.push({ address: rc.address, actions, attributes });
  }
  return { unexplained, explained };
}
