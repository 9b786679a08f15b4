/**
 * Usage assumptions of the cost estimate: what the synthesized JSON cannot say (hours a month,
 * GB of logs, build minutes, ...). The values per environment are plain data in
 * `environments/usage.ts`; this schema is the single source of their meaning and defaults.
 * Unknown keys and negative amounts are errors, reported one per line with their path.
 */
import { z, ZodIssue } from "zod";

const amount = (what: string, fallback: number) =>
  z
    .number({ invalid_type_error: `must be a number (${what})` })
    .finite()
    .nonnegative({ message: `must be zero or more (${what})` })
    .default(fallback);

/** One environment's usage assumptions; every field has a stated default. */
export const usageSchema = z
  .object({
    /** Hours a month every always-on resource runs. @default 730 (8,760 h / 12, as AWS's calculator) */
    hoursPerMonth: z
      .number({ invalid_type_error: "must be a number (hours a month)" })
      .positive({ message: "must be more than 0 (hours a month)" })
      .max(744, { message: "must be at most 744 (31 days x 24 h)" })
      .default(730),
    loadBalancer: z
      .object({
        /** Average LCUs (ALB) or NLCUs (NLB) consumed per hour. @default 1 */
        capacityUnitsPerHour: amount("average LCUs per hour", 1),
      })
      .strict()
      .default({}),
    nat: z
      .object({
        /** GB processed by each NAT gateway a month. @default 20 */
        dataGbPerMonth: amount("GB per NAT gateway a month", 20),
      })
      .strict()
      .default({}),
    vpcEndpoints: z
      .object({
        /** GB processed by each interface endpoint a month. @default 5 */
        dataGbPerMonth: amount("GB per interface endpoint a month", 5),
      })
      .strict()
      .default({}),
    logs: z
      .object({
        /** GB ingested a month by each log group, by what writes to it. */
        ingestedGbPerMonth: z
          .object({
            /** Groups an ECS task definition logs to. @default 1 */
            service: amount("GB a month per service log group", 1),
            /** Groups VPC flow logs deliver to. @default 5 */
            flowLogs: amount("GB a month per flow-log group", 5),
            /** Groups CodeBuild projects log to. @default 0.2 */
            build: amount("GB a month per build log group", 0.2),
            /** Groups a CloudTrail trail delivers to. @default 1 */
            trail: amount("GB a month per trail log group", 1),
            /** Any other group. @default 0.5 */
            other: amount("GB a month per other log group", 0.5),
          })
          .strict()
          .default({}),
        /** Months of logs kept by a group that never expires its logs. @default 12 */
        neverExpireMonths: amount("months kept without retention", 12),
      })
      .strict()
      .default({}),
    database: z
      .object({
        /** GB of changed data a day that automated backups keep for the retention period. @default 0.5 */
        backupChangeGbPerDay: amount("backup GB changed a day", 0.5),
      })
      .strict()
      .default({}),
    storage: z
      .object({
        /** GB stored in each S3 bucket. @default 1 */
        s3GbPerBucket: amount("GB per S3 bucket", 1),
        /** GB of images kept in each ECR repository. @default 1 */
        ecrGbPerRepository: amount("GB per ECR repository", 1),
        /** GB stored in each DynamoDB table. @default 0.1 */
        dynamoDbGbPerTable: amount("GB per DynamoDB table", 0.1),
        /** Million on-demand write request units a month per table. @default 0.01 */
        dynamoDbMillionWritesPerMonth: amount("million writes a month per table", 0.01),
        /** Million on-demand read request units a month per table. @default 0.01 */
        dynamoDbMillionReadsPerMonth: amount("million reads a month per table", 0.01),
      })
      .strict()
      .default({}),
    delivery: z
      .object({
        /** Build minutes a month per CodeBuild project. @default 100 */
        buildMinutesPerMonth: amount("build minutes a month per project", 100),
        /** Action execution minutes a month per CodePipeline V2 pipeline. @default 150 */
        pipelineActionMinutesPerMonth: amount("action minutes a month per pipeline", 150),
      })
      .strict()
      .default({}),
    config: z
      .object({
        /** Configuration items recorded a month per AWS Config recorder. @default 1000 */
        itemsPerMonth: amount("configuration items a month per recorder", 1000),
        /** Evaluations a month per AWS Config rule. @default 500 */
        evaluationsPerRulePerMonth: amount("evaluations a month per rule", 500),
      })
      .strict()
      .default({}),
    cloudTrail: z
      .object({
        /** Management events a month each trail delivers. @default 500000 */
        managementEventsPerMonth: amount("management events a month per trail", 500_000),
        /** Whether the trail is an additional (paid) copy of the account's management events. @default false */
        additionalCopy: z.boolean({ invalid_type_error: "must be true or false" }).default(false),
        /** Data events a month, for trails that select data events. @default 0 */
        dataEventsPerMonth: amount("data events a month per trail", 0),
      })
      .strict()
      .default({}),
    waf: z
      .object({
        /** Million requests a month each web ACL inspects. @default 1 */
        millionRequestsPerMonth: amount("million requests a month per web ACL", 1),
      })
      .strict()
      .default({}),
    route53: z
      .object({
        /** Million standard queries a month per hosted zone. @default 0.1 */
        millionQueriesPerMonth: amount("million queries a month per zone", 0.1),
      })
      .strict()
      .default({}),
  })
  .strict();

/** Usage assumptions with every default applied. */
export type Usage = z.infer<typeof usageSchema>;
/** What `environments/usage.ts` may give per environment (any field may be left out). */
export type UsageInput = z.input<typeof usageSchema>;

/** Invalid usage assumptions; `problems` holds one `<label>.<path>: <message>; got <value>` line each. */
export class UsageError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid usage assumptions (environments/usage.ts, ${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
    this.name = "UsageError";
  }
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), input);
}

function describe(label: string, issue: ZodIssue, input: unknown): string {
  const where = [label, ...issue.path].join(".");
  if (issue.code === "unrecognized_keys") return `${where}: unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((k) => `"${k}"`).join(", ")}; see src/insight/usage.ts for the fields`;
  return `${where}: ${issue.message}; got ${JSON.stringify(valueAt(input, issue.path))}`;
}

/** Validates one environment's assumptions and applies the defaults; throws UsageError. */
export function parseUsage(label: string, input: unknown = {}): Usage {
  const result = usageSchema.safeParse(input ?? {});
  if (!result.success) throw new UsageError(result.error.issues.map((i) => describe(label, i, input)));
  return result.data;
}

/**
 * Validates every environment's assumptions at once (all problems in one error) and returns
 * a lookup by label; labels without an entry get the defaults.
 */
export function usageLookup(byEnvironment: Readonly<Record<string, unknown>>): (label: string) => Usage {
  const problems: string[] = [];
  const parsed = new Map<string, Usage>();
  for (const label of Object.keys(byEnvironment).sort()) {
    try {
      parsed.set(label, parseUsage(label, byEnvironment[label]));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length) throw new UsageError(problems);
  const defaults = parseUsage("defaults");
  return (label) => parsed.get(label) ?? defaults;
}
