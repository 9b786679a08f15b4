/**
 * The policy pack's vocabulary: a rule is a pure function over one synthesized resource
 * (plus a read-only index of the whole stack), in the spirit of cdk-nag rule packs.
 */

export type Severity = "error" | "warning";

export type RuleStatus = "compliant" | "non-compliant" | "not-applicable";

/** What a rule says about one resource; `reason` says what is wrong (or why it does not apply). */
export interface RuleResult {
  readonly status: RuleStatus;
  readonly reason?: string;
}

/** One resource or data source exactly as it lands in cdk.tf.json (snake_case, tokens resolved). */
export interface SynthesizedResource {
  /** `managed` for `resource` blocks, `data` for `data` blocks. */
  readonly mode: "managed" | "data";
  /** Terraform type, e.g. `aws_s3_bucket`. */
  readonly type: string;
  /** Terraform name (the construct's friendly unique ID). */
  readonly name: string;
  /** `type.name`, or `data.type.name` for data sources: what `${...}` references start with. */
  readonly address: string;
  /** The resolved JSON body without the `//` metadata key (that is `path`). */
  readonly config: Readonly<Record<string, any>>;
  /** Construct path, e.g. `fargate-develop/networking/vpc`. */
  readonly path: string;
}

/** A read-only index over every resource and data source of one stack. */
export interface PolicyContext {
  /** Every resource and data source of the stack. */
  readonly all: readonly SynthesizedResource[];
  /** Managed resources of one type. */
  ofType(type: string): SynthesizedResource[];
  /** Data sources of one type. */
  dataOfType(type: string): SynthesizedResource[];
  /** A resource or data source by address (`aws_vpc.x`, `data.aws_iam_policy_document.y`). */
  get(address: string): SynthesizedResource | undefined;
  /**
   * Managed resources of `type` whose config (or only `attribute`, when given) contains a
   * `${<resource.address>.` reference, e.g. the SSE configuration whose `bucket` is
   * `${aws_s3_bucket.state.id}`.
   */
  referencing(resource: SynthesizedResource, type: string, attribute?: string): SynthesizedResource[];
  /** True when `value` (any JSON) contains a reference to `resource`. */
  mentions(value: unknown, resource: SynthesizedResource): boolean;
  /** The resource a single-reference string like `${aws_kms_key.k.arn}` points at. */
  resolveReference(value: unknown): SynthesizedResource | undefined;
  /**
   * The stack's AWS provider `default_tags` (e.g. `Environment: "prod"`), which every resource
   * carries but no resource block shows. Empty when the stack has none.
   */
  readonly stackTags: Readonly<Record<string, string>>;
}

export interface PolicyRule {
  /** Stable ID, e.g. `S3-ENCRYPTION`; suppressions name it. */
  readonly id: string;
  /** One line: what the rule demands and why. */
  readonly description: string;
  readonly severity: Severity;
  /** Matching public controls: checkov `CKV_AWS_*`/`CKV2_AWS_*`, Security Hub `ECS.5`, ... (empty when none exists). */
  readonly controls: readonly string[];
  /** Terraform resource types (managed) the rule is checked against. */
  readonly resourceTypes: readonly string[];
  check(resource: SynthesizedResource, ctx: PolicyContext): RuleResult;
}

/** An explicit, reasoned exemption of one resource from one rule. */
export interface Suppression {
  readonly address: string;
  readonly ruleId: string;
  readonly reason: string;
}

export type FindingStatus = RuleStatus | "suppressed" | "stale-suppression";

/** The outcome of one rule on one resource (or of one suppression that never fired). */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly controls: readonly string[];
  readonly address: string;
  readonly path: string;
  readonly status: FindingStatus;
  /** What is wrong, or why the rule does not apply. */
  readonly reason?: string;
  /** For `suppressed` and `stale-suppression`: the written reason of the suppression. */
  readonly suppressionReason?: string;
  /** For `non-compliant` and `stale-suppression`: the line reported at synth. */
  readonly message?: string;
}

export const compliant = (): RuleResult => ({ status: "compliant" });
export const nonCompliant = (reason: string): RuleResult => ({ status: "non-compliant", reason });
export const notApplicable = (reason?: string): RuleResult => ({ status: "not-applicable", reason });
