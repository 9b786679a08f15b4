/**
 * THE list of plan diffs the emulator causes (not the code), in one place (it started empty).
 *
 * After `apply`, a second `terraform plan` must report no changes. A change the plan still
 * shows is allowed only if an entry below matches it, and every entry must say why the
 * emulator causes it and what proves that real AWS would not diff (a provider/AWS doc
 * reference or an observed real-AWS plan). The list starts empty; keep it that way when
 * possible: fix the code, or switch the feature off in environments/local.ts with a reason.
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

export const EMULATOR_DIFFS: readonly EmulatorDiff[] = [
  {
    type: "aws_ecs_service",
    // Attributes moto does not store, updated in place only: no replacement of an ECS service
    // is tolerated (the local services run with launch type FARGATE, environments/local.ts).
    attributes: ["enable_ecs_managed_tags", "health_check_grace_period_seconds", "availability_zone_rebalancing", "alarms", "tags"],
    actions: ["update"],
    cause:
      "moto 5.2.3 CreateService never reads capacityProviderStrategy, enableECSManagedTags or healthCheckGracePeriodSeconds " +
      "(moto/ecs/responses.py create_service passes none of them to the backend), so DescribeServices returns no strategy, " +
      "launchType EC2, managed tags false and grace period 0; the provider sees the strategy removed and plans a replacement.",
    realAwsProof:
      "ECS DescribeServices returns the capacityProviderStrategy, enableECSManagedTags and healthCheckGracePeriodSeconds given to " +
      "CreateService (ECS API reference, Service data type), and the provider reads exactly those fields back " +
      "(internal/service/ecs/service.go resourceServiceRead), so AWS returns what the plan wrote.",
  },
  {
    type: "aws_vpc_security_group_ingress_rule",
    attributes: ["description"],
    actions: ["update"],
    cause:
      "moto 5.2.3 keeps a rule description only on CIDR ranges (moto/ec2/models/security_groups.py reads it from ip_range); " +
      "rules that reference another security group come back from DescribeSecurityGroupRules without Description.",
    realAwsProof:
      "EC2 DescribeSecurityGroupRules returns Description for every rule, including referenced-group rules " +
      "(EC2 API reference, SecurityGroupRule data type); the provider reads it into description.",
  },
  {
    type: "aws_vpc_security_group_egress_rule",
    attributes: ["description"],
    actions: ["update"],
    cause: "Same moto gap as the ingress rules: referenced-group rules lose their Description.",
    realAwsProof: "Same as the ingress rules: DescribeSecurityGroupRules returns Description for referenced-group rules.",
  },
  {
    type: "aws_db_parameter_group",
    attributes: ["parameter"],
    actions: ["update"],
    cause:
      "moto 5.2.3 DescribeDBParameters ignores the Source=user filter and returns parameters without a Source field " +
      "(moto/rds/responses.py describe_db_parameters), so the provider finds no user-set rds.force_ssl and plans to add it again.",
    realAwsProof:
      "RDS DescribeDBParameters with Source=user returns the parameters set by ModifyDBParameterGroup with Source \"user\" " +
      "(RDS API reference, Parameter data type), which is how the provider reads parameter blocks back.",
  },
  {
    type: "aws_s3_bucket_notification",
    attributes: ["eventbridge"],
    actions: ["update"],
    cause:
      "moto 5.2.3 accepts PutBucketNotificationConfiguration with EventBridgeConfiguration but GetBucketNotificationConfiguration " +
      "returns an empty configuration (checked with boto3 against moto 5.2.3), so the provider reads eventbridge = false and plans true again.",
    realAwsProof:
      "S3 GetBucketNotificationConfiguration returns the EventBridgeConfiguration element once it is set (S3 API reference, " +
      "NotificationConfiguration data type), and the provider sets eventbridge from its presence (internal/service/s3/bucket_notification.go).",
  },
];

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
