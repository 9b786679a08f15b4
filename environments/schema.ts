/**
 * The environment config schema: the single source of the config types (`z.infer`), their
 * defaults and every cross-field rule. Each message says what is wrong, the value received
 * and what would be valid, so `environments/index.ts` can report every problem at once as
 * `<env>.<path>: <message>`.
 */
import { imageRepositoryName } from "../lib/registry";
import { z } from "zod";
import { parseCidr, cidrsOverlap } from "../lib/cidr";
import { nameProblem, NameKind, targetGroupPurpose } from "../lib/naming";
import { defaultSubnetPrefixLength, subnetPlanProblem } from "../lib/subnet-plan";
import { serviceAlarmThresholdProblems } from "../lib/alarm-thresholds";
import { instanceClassProblem } from "../lib/rds-instance-classes";
import {
  certificateRegionProblem,
  containerHealthCheckProblems,
  containerUserProblem,
  deregistrationDelayProblem,
  ecrRepositoryNameProblem,
  fargateSizeProblem,
  gracePeriodProblem,
  hostHeaderProblem,
  LOG_RETENTION_DAYS,
  logRetentionProblem,
  pathPatternProblem,
  portProblem,
  rangeProblem,
  ruleConditionsProblem,
  rulePriorityProblem,
  targetHealthCheckProblems,
  wafRateLimitProblem,
} from "../lib/aws-limits";

export { LOG_RETENTION_DAYS };


export const ENVIRONMENT_NAMES = ["develop", "test", "qa", "prod", "local"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];


/** Commercial regions the platform is prepared for (AZ names are `<region><letter>`). */
export const AWS_REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
  "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
  "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
  "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-east-1", "me-south-1", "me-central-1", "af-south-1", "il-central-1",
] as const;

export const NAT_STRATEGIES = ["none", "single", "per-az"] as const;
export const MANDATORY_TAGS = ["Environment", "Owner", "CostCenter", "Compliance"] as const;

/** Renders a received value for an error message. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Built-in zod issues in the house format: what is wrong; got <value>; what would be valid. */
const errorMap: z.ZodErrorMap = (issue, ctx) => {
  const got = `got ${show(ctx.data)}`;
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      return { message: ctx.data === undefined ? `is required; ${got}; expected ${issue.expected}` : `has the wrong type; ${got}; expected ${issue.expected}` };
    case z.ZodIssueCode.invalid_enum_value:
      return { message: `is not allowed; ${got}; valid: ${issue.options.map((o) => show(o)).join(", ")}` };
    case z.ZodIssueCode.invalid_literal:
      return { message: `is not allowed; ${got}; valid: ${show(issue.expected)}` };
    case z.ZodIssueCode.too_small:
      return { message: `is too small; ${got}; minimum ${issue.minimum}${issue.type === "array" ? " items" : issue.type === "string" ? " characters" : ""}` };
    case z.ZodIssueCode.too_big:
      return { message: `is too big; ${got}; maximum ${issue.maximum}${issue.type === "array" ? " items" : issue.type === "string" ? " characters" : ""}` };
    case z.ZodIssueCode.unrecognized_keys:
      return {
        message: `has unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}; got ${show(Object.fromEntries(issue.keys.map((k) => [k, (ctx.data as Record<string, unknown>)[k]])))}; check the spelling against environments/schema.ts`,
      };
    case z.ZodIssueCode.invalid_union_discriminator: {
      // The issue's path ends at the discriminator; ctx.data is the whole object.
      const key = issue.path[issue.path.length - 1];
      const value = ctx.data !== null && typeof ctx.data === "object" && typeof key === "string" ? (ctx.data as Record<string, unknown>)[key] : ctx.data;
      return { message: `is not allowed; got ${show(value)}; valid: ${issue.options.map((o) => show(o)).join(", ")}` };
    }
    case z.ZodIssueCode.invalid_string:
      return { message: `${ctx.defaultError}; ${got}` };
    case z.ZodIssueCode.not_multiple_of:
      return { message: `must be a multiple of ${issue.multipleOf}; ${got}` };
    default:
      return { message: `${ctx.defaultError}; ${got}` };
  }
};
z.setErrorMap(errorMap);

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const kebab = (max: number) =>
  z.string().regex(/^[a-z][a-z0-9-]*$/, "must be lowercase kebab-case starting with a letter").max(max);

// ---------------------------------------------------------------------------------------
// Services (issue 3 builds the modules that consume these)
// ---------------------------------------------------------------------------------------

const healthCheckSchema = z
  .object({
    /** Path the ALB requests; must start with `/`. */
    path: z.string().default("/health"),
    /** HTTP codes that count as healthy. */
    matcher: z.string().default("200"),
    // Ranges: lib/aws-limits.ts targetHealthCheckProblems (one owner, shared with the service construct).
    intervalSec: z.number().default(30),
    timeoutSec: z.number().default(5),
    healthyThreshold: z.number().default(3),
    unhealthyThreshold: z.number().default(3),
  })
  .strict();

const publicExposureSchema = z
  .object({
    type: z.literal("public"),
    /** Listener rule path patterns; at least one of paths or hosts. */
    paths: z.array(z.string()).default([]),
    hosts: z.array(z.string()).default([]),
    /** Listener rule priority (1-50000); unique per listener. */
    priority: z.number(),
    healthCheck: healthCheckSchema.default({}),
    deregistrationDelaySec: z.number().default(30),
  })
  .strict();

const internalExposureSchema = z
  .object({
    type: z.literal("internal"),
    /** External Kafka the service talks to: its brokers and security group. */
    kafka: z
      .object({
        brokers: z.array(z.string().regex(/^[\w.-]+:\d{1,5}$/, "must be host:port")).min(1),
        securityGroupId: z.string().regex(/^sg-[0-9a-f]{8,17}$/, "must be a security group ID like sg-0123456789abcdef0"),
        port: int(1, 65535).default(9092),
      })
      .strict()
      .optional(),
  })
  .strict();

const secretSchema = z
  .object({
    /** Environment variable the container sees. */
    name: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an UPPER_SNAKE environment variable name"),
    source: z.enum(["ssm", "secretsmanager"]),
    /** Parameter name (`/<project>/<env>/...`) or secret name (`<project>/<env>/...`). */
    path: z.string().min(1),
    /** For Secrets Manager JSON secrets: the key to extract. */
    jsonKey: z.string().optional(),
  })
  .strict();

/**
 * Blue/green through CodeDeploy: the candidate task set runs at full size behind the green
 * target group (and the test listener) before any production traffic moves to it.
 */
const blueGreenFields = {
  /** Minutes the old task set keeps running after traffic moved (the rollback window). */
  terminationWaitMinutes: z.number().default(5),
  /**
   * Wait for the operator (`platform switch <service> --to green`) before any production
   * traffic moves: the write-up's manual switch, run by CodeDeploy. Minutes to wait before
   * the deployment stops on its own.
   * @default - no wait: traffic moves as soon as the green task set is healthy
   */
  waitForOperatorMinutes: z.number().optional(),
};

/** How a release reaches running tasks; every strategy is run by AWS's own engine. */
export const DEPLOYMENT_STRATEGIES = ["rolling", "canary", "linear", "all-at-once"] as const;

const deploymentSchema = z.discriminatedUnion("strategy", [
  /** ECS rolling update with the deployment circuit breaker and CloudWatch-alarm rollback. */
  z.object({ strategy: z.literal("rolling") }).strict(),
  /** CodeDeploy: `percent` of traffic for `intervalMinutes`, then the rest. */
  z.object({ strategy: z.literal("canary"), percent: z.number().default(10), intervalMinutes: z.number().default(5), ...blueGreenFields }).strict(),
  /** CodeDeploy: `percent` more traffic every `intervalMinutes`. */
  z.object({ strategy: z.literal("linear"), percent: z.number().default(10), intervalMinutes: z.number().default(1), ...blueGreenFields }).strict(),
  /** CodeDeploy: all traffic at once, once the green task set is healthy. */
  z.object({ strategy: z.literal("all-at-once"), ...blueGreenFields }).strict(),
]);

export const serviceSchema = z
  .object({
    name: kebab(20),
    image: z
      .object({
        /** Repository `<project>/<name>` of the account's registry (the account stack creates it; shared by the account's environments) ... */
        ecrRepository: z.string().optional(),
        /** ... or an external image URI without tag. Exactly one of the two. */
        uri: z.string().optional(),
        tag: z.string().regex(/^[\w][\w.-]{0,127}$/, "must be a Docker tag"),
      })
      .strict(),
    containerPort: z.number(),
    /** Fargate CPU units. */
    cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096), z.literal(8192), z.literal(16384)]),
    memoryMiB: z.number().int(),
    /** Tasks to run; defaults to the environment's `scaling.desiredCount`. */
    desiredCount: int(0, 1000).optional(),
    autoscaling: z
      .object({
        cpuTargetPercent: int(10, 95).default(70),
        /** Memory target tracking, opt-in: most services scale on CPU (the deployment guide's policy). */
        memoryTargetPercent: int(10, 95).optional(),
        /** ALB requests per target (public services only). */
        requestsPerTarget: int(1, 100000).optional(),
      })
      .strict()
      .default({}),
    exposure: z.discriminatedUnion("type", [publicExposureSchema, internalExposureSchema]),
    /** Non-secret environment variables. Secrets go in `secrets`. */
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    secrets: z.array(secretSchema).default([]),
    /** Container health check; runs inside the container, so use a binary the image has. */
    healthCheck: z
      .object({
        command: z.array(z.string()),
        // Ranges: lib/aws-limits.ts containerHealthCheckProblems.
        intervalSec: z.number().default(30),
        timeoutSec: z.number().default(5),
        retries: z.number().default(3),
        startPeriodSec: z.number().default(60),
      })
      .strict()
      .optional(),
    xraySidecar: z.boolean().default(false),
    enableExecuteCommand: z.boolean().default(false),
    readonlyRootFilesystem: z.boolean().default(true),
    /** Container user (uid or uid:gid); must not be root. */
    user: z.string().optional(),
    deployment: deploymentSchema.default({ strategy: "rolling" }),
    /** Whether the task role may read parameters under the service's own path. */
    readOwnParameters: z.boolean().default(false),
    /**
     * Seconds ECS ignores failing ALB health checks after a task starts (public services only).
     * @default 60 for public services
     */
    healthCheckGracePeriodSec: z.number().optional(),
    /**
     * Where the pipeline builds the service from (`workspace/repo` on Bitbucket). Services with
     * a source and an ECR repository get a CodePipeline; others are deployed by apply only.
     */
    source: z
      .object({
        repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be "workspace/repo"'),
      })
      .strict()
      .optional(),
    /**
     * The service's alarm thresholds (lib/alarm-thresholds.ts); the ALB ones only for public
     * services. @default - the guide's: 5% errors, p95 1 s prod / 2 s else, 80% CPU and memory
     */
    alarms: z
      .object({ errorRatePercent: z.number().optional(), latencyP95Sec: z.number().optional(), cpuPercent: z.number().optional(), memoryPercent: z.number().optional() })
      .strict()
      .default({}),
    /**
     * Database clients: what the one-off migrations task runs in the service's image (creates
     * the service's database user, its grants and the schema; docs/observability.md#database-access).
     */
    migration: z.object({ command: z.array(z.string().min(1)).min(1) }).strict().optional(),
  })
  .strict();

export const databaseSchema = z
  .object({
    /** PostgreSQL major version only, so AWS can retire minors without breaking apply. */
    engineVersion: z.string().regex(/^\d{2}$/, 'must be a PostgreSQL major version such as "15" (minors are retired by AWS)'),
    instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class like db.t4g.micro"),
    allocatedStorageGiB: int(20, 65536).default(20),
    maxAllocatedStorageGiB: int(20, 65536).default(100),
    multiAz: z.boolean(),
    backupRetentionDays: int(1, 35),
    /** Defaults to the environment's deletionProtection. */
    deletionProtection: z.boolean().optional(),
    databaseName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a PostgreSQL identifier").default("app"),
    masterUsername: z.string().regex(/^[a-z][a-z0-9_]{0,15}$/, "must be a PostgreSQL user name of up to 16 characters").default("app_admin"),
    /** Services that use the database: each connects as its own IAM-authenticated user (never the master). */
    clientServices: z.array(z.string()).default([]),
    performanceInsights: z.boolean().default(true),
  })
  .strict();

const certificateSchema = z.union([
  z.object({ arn: z.string().regex(/^arn:aws[\w-]*:acm:[\w-]+:\d{12}:certificate\/[\w-]+$/, "must be an ACM certificate ARN") }).strict(),
  z
    .object({
      domain: z.string().regex(/^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$/, "must be a DNS name"),
      hostedZoneId: z.string().regex(/^Z[A-Z0-9]{4,32}$/, "must be a Route 53 hosted zone ID"),
    })
    .strict(),
]);

// ---------------------------------------------------------------------------------------
// Accounts and the edge (issue 10): the role a provider assumes, GitHub OIDC, WAF
// ---------------------------------------------------------------------------------------

/** The account of an IAM ARN (`arn:aws:iam::<account>:...`), or `"none"`. */
export function iamArnAccount(arn: string): string {
  return /^arn:aws[\w-]*:iam::(\d{12}):/.exec(arn)?.[1] ?? "none";
}

/** A role Terraform assumes (provider or backend `assume_role`). */
export const assumeRoleSchema = z
  .object({
    roleArn: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,64}$/, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
    /** Shows in CloudTrail as who acted (`assumed-role/<role>/<session>`). */
    sessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, "must be 2-64 characters of letters, digits and +=,.@_-"),
    /** Required by the role's trust policy when set (`sts:ExternalId`). @default - none */
    externalId: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2-1224 characters of letters, digits and +=,.@:/_-").optional(),
  })
  .strict();

/**
 * GitHub Actions deploys through OIDC: a role trusted only by tokens of one repository and one
 * branch pattern or GitHub environment (`sub`), for the STS audience (`aud`).
 */
const githubSchema = z
  .object({
    /** `owner/repo`; never a wildcard (that would trust every repository of the owner). */
    repository: z.string(),
    /** Branch (pattern) the workflow runs on, e.g. "main" or "release/*"; or give `environment`. */
    branch: z.string().min(1).optional(),
    /** GitHub environment the job runs in (its protection rules gate the deploy). */
    environment: z.string().regex(/^[\w.-]+$/, "must be a GitHub environment name").optional(),
  })
  .strict();

/** AWS WAF on the internet-facing ALB. */
const wafSchema = z
  .object({
    /** @default true in prod (required there), false elsewhere */
    enabled: z.boolean().optional(),
    /** Requests one client IP may send in 5 minutes before it is blocked (rate-based rule). @default 2000 */
    rateLimitPer5Min: z.number().int().default(2000),
  })
  .strict();

/** When an environment's own pipeline runs (cicd `build` and `promote`). */
const pipelineTriggerFields = {
  manualApproval: z.boolean(),
  /** Branches the pipeline takes (the deployment guide: feature/*, release/*.*.*, prod/*). */
  branchPattern: z.string().min(1),
  /**
   * `push`: a push to a matching branch starts the pipeline. `manual`: only an operator
   * starts it ("Release change", or a start with a source revision of a matching branch).
   */
  trigger: z.enum(["push", "manual"]).default("push"),
  /** The branch a manual "Release change" builds; must match branchPattern (never main by accident). */
  releaseBranch: z.string().min(1),
};

// ---------------------------------------------------------------------------------------
// Observability (issue 11): alarm routing and Managed Grafana
// ---------------------------------------------------------------------------------------

const emailSchema = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "must be an email address");

/** Who the alarms of one severity reach. */
const destinationsSchema = {
  /** Each address confirms the subscription mail once (docs/observability.md#confirm-the-alarm-subscriptions). */
  emails: z.array(emailSchema).default([]),
};

export const observabilitySchema = z
  .object({
    /** Pages, 24/7: the guide's "Critical Alarms (PagerDuty)". prod needs at least one destination. */
    critical: z
      .object({
        ...destinationsSchema,
        /**
         * A pager's SNS integration URL (PagerDuty, Opsgenie confirm automatically). The URL lands
         * in config and state; when its key must stay out of both, subscribe it out of band.
         */
        httpsEndpoints: z.array(z.string().regex(/^https:\/\/[^\s/@]+(\/\S*)?$/, "must be an https:// URL without credentials")).default([]),
      })
      .strict()
      .default({}),
    /** Email, business hours: the guide's "Warning Alarms (Email)"; also pipeline approvals. */
    warning: z.object(destinationsSchema).strict().default({}),
    /** Amazon Managed Grafana (docs/observability.md#grafana). */
    grafana: z
      .object({
        enabled: z.boolean().default(false),
        /** IAM Identity Center must be enabled in the account for AWS_SSO. */
        authenticationProviders: z.array(z.enum(["AWS_SSO", "SAML"])).min(1).default(["AWS_SSO"]),
        /** Refused: Managed Grafana serves only its AWS-provided URL (the troubleshooting notes' failure 4). */
        customDomain: z.string().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

// ---------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------

const baseEnvironmentSchema = z
  .object({
    name: z.enum(ENVIRONMENT_NAMES),
    /** Short project name: the first part of every physical name. */
    project: kebab(12),
    /** The account this environment runs in, by name (environments/accounts.ts): it has an account stack. */
    account: z.string().min(1),
    /**
     * The only account this environment may be applied to (`allowed_account_ids`); taken from
     * the account by environments/index.ts.
     */
    accountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account ID"),
    /** The role the provider assumes there (the account's deploy role); taken from the account. @default - none */
    assumeRole: assumeRoleSchema.optional(),
    region: z.enum(AWS_REGIONS),
    /** 2-3 AZs of the region, e.g. ["us-east-1a", "us-east-1b"]. */
    availabilityZones: z.array(z.string()),
    network: z
      .object({
        vpcCidr: z.string(),
        /** Subnet size; defaults to 4 bits more than the VPC. */
        subnetPrefixLength: z.number().int().optional(),
        /** none: no NAT, tasks in public subnets with public IPs; single: one NAT; per-az: one NAT per AZ. */
        natStrategy: z.enum(NAT_STRATEGIES),
        /** S3 gateway + ECR/Logs/SSM/Secrets Manager/KMS interface endpoints. */
        vpcEndpoints: z.boolean(),
        /** Where tasks run; defaults to public for NAT none, private otherwise. */
        taskSubnets: z.enum(["public", "private"]).optional(),
      })
      .strict(),
    /** Mandatory compliance tags, plus any extra tags; applied to everything via default_tags. */
    tags: z.record(z.string()),
    logRetentionDays: z.number().int(),
    deletionProtection: z.boolean(),
    /**
     * `prevent_destroy` on everything code cannot rebuild (database, buckets, KMS keys, ECR
     * repositories, tables): a plan that would destroy or replace one fails. Lift it only as
     * a reviewed change (README "Destroy guard").
     * @default - the value of deletionProtection (on in prod)
     */
    destroyGuard: z.boolean().optional(),
    scaling: z
      .object({
        desiredCount: int(0, 1000),
        minCapacity: int(0, 1000),
        maxCapacity: int(1, 1000),
        /** Share of tasks on FARGATE_SPOT in the default capacity provider strategy. */
        fargateSpotPercent: z.number().int(),
      })
      .strict(),
    /**
     * How releases reach this environment (docs/releases.md#release-flow):
     * - `build`: its own pipeline builds the image once from `branchPattern` branches, deploys
     *   here, then to each environment of `then` in order (same account, same image digest);
     * - `delivered`: no pipeline of its own; the pipeline of environment `by` deploys here;
     * - `promote`: no build; its pipeline takes the digest environment `from` released (the
     *   immutable `release-x.y.z` tag, x.y.z from the `branchPattern` branch) and deploys it.
     */
    cicd: z.discriminatedUnion("releases", [
      z.object({ releases: z.literal("build"), ...pipelineTriggerFields, then: z.array(z.enum(ENVIRONMENT_NAMES)).default([]) }).strict(),
      z.object({ releases: z.literal("delivered"), by: z.enum(ENVIRONMENT_NAMES) }).strict(),
      z.object({ releases: z.literal("promote"), from: z.enum(ENVIRONMENT_NAMES), ...pipelineTriggerFields }).strict(),
    ]),
    /** Who alarms reach, and optional Managed Grafana (docs/observability.md). */
    observability: observabilitySchema.default({}),
    /** Where this environment's state lives (created by the state-backend stack). */
    stateBackend: z
      .object({
        bucket: z.string(),
        lockTable: z.string(),
        region: z.enum(AWS_REGIONS),
        /** KMS key alias that encrypts the state objects. */
        kmsKeyAlias: z.string(),
        /** S3-native lock file (Terraform >= 1.10) in addition to the DynamoDB table. */
        useLockfile: z.boolean().default(false),
        /** The state account (bucket, table and key live there). */
        accountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account ID"),
        /** The role the backend assumes in the state account when it is not this one. @default - none */
        assumeRole: assumeRoleSchema.optional(),
      })
      .strict(),
    alb: z
      .object({
        certificate: certificateSchema.optional(),
        /** Serve plain HTTP without a certificate; must be said explicitly, never in prod. */
        allowHttpOnly: z.boolean().default(false),
        accessLogs: z.boolean().default(true),
        idleTimeoutSec: int(1, 4000).default(60),
        /**
         * The test listener CodeDeploy routes the replacement task set through before any
         * production traffic moves (created when a service deploys with canary, linear or
         * all-at-once). Reachable only from `allowedCidrs` (default: the VPC itself).
         */
        testListener: z
          .object({
            port: int(1, 65535).default(8443),
            allowedCidrs: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR")).min(1).optional(),
          })
          .strict()
          .default({}),
        /** AWS WAF in front of the ALB: on in prod, optional elsewhere. */
        waf: wafSchema.default({}),
      })
      .strict()
      .default({}),
    /** GitHub Actions OIDC deploy role (start releases; push images unless the environment promotes). @default - none */
    github: githubSchema.optional(),
    services: z.array(serviceSchema).default([]),
    database: databaseSchema.optional(),
    /**
     * Switches for features an environment may leave out. Real environments keep the
     * defaults; the `local` emulator environment turns off only what the emulator cannot
     * serve, each with its reason in environments/local.ts.
     */
    features: z
      .object({
        /** Application Auto Scaling targets and policies for services. */
        autoscaling: z.boolean().default(true),
        /** CodePipeline / CodeBuild / CodeStar connection delivery. */
        cicd: z.boolean().default(true),
        /** Services run on the cluster's FARGATE/FARGATE_SPOT strategy (the Spot share); off: launch type FARGATE. */
        capacityProviders: z.boolean().default(true),
        /** S3 server access logging on platform buckets. */
        s3AccessLogging: z.boolean().default(true),
        /** Saved CloudWatch Logs Insights queries (aws_cloudwatch_query_definition). */
        savedQueries: z.boolean().default(true),
      })
      .strict()
      .default({}),
  })
  .strict();

type BaseEnvironment = z.infer<typeof baseEnvironmentSchema>;
type Ctx = z.RefinementCtx;

function issue(ctx: Ctx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
}

/** A lib/aws-limits.ts check result as an issue at `path` (nothing when valid). */
function report(ctx: Ctx, path: (string | number)[], problem: string | undefined): void {
  if (problem) issue(ctx, path, problem);
}

function checkNetwork(env: BaseEnvironment, ctx: Ctx): void {
  const azs = env.availabilityZones;
  if (azs.length < 2 || azs.length > 3) {
    issue(ctx, ["availabilityZones"], `needs 2 or 3 availability zones; got ${azs.length} (${show(azs)}); list 2-3 AZs of ${env.region}`);
  }
  azs.forEach((az, i) => {
    if (!new RegExp(`^${env.region}[a-f]$`).test(az)) {
      issue(ctx, ["availabilityZones", i], `is not an availability zone of region ${env.region}; got ${show(az)}; valid: ${env.region}a .. ${env.region}f`);
    }
    if (azs.indexOf(az) !== i) {
      issue(ctx, ["availabilityZones", i], `repeats an availability zone; got ${show(az)}; each AZ may appear once`);
    }
  });

  const vpc = parseCidr(env.network.vpcCidr);
  if (typeof vpc === "string") {
    issue(ctx, ["network", "vpcCidr"], `is not a valid CIDR (${vpc}); got ${show(env.network.vpcCidr)}; valid: a network like 10.0.0.0/16`);
  } else if (vpc.prefixLength < 16 || vpc.prefixLength > 28) {
    issue(ctx, ["network", "vpcCidr"], `has prefix /${vpc.prefixLength}; got ${show(env.network.vpcCidr)}; AWS allows VPCs from /16 to /28`);
  } else {
    const prefix = env.network.subnetPrefixLength ?? defaultSubnetPrefixLength(vpc.prefixLength);
    const problem = subnetPlanProblem(vpc, prefix);
    if (problem) {
      issue(ctx, ["network", "subnetPrefixLength"], `subnet plan does not fit the VPC ${env.network.vpcCidr}: ${problem}; got ${show(env.network.subnetPrefixLength ?? `default /${prefix}`)}`);
    }
    const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((c) => parseCidr(c)).filter((c): c is Exclude<typeof c, string> => typeof c !== "string");
    if (!privateRanges.some((r) => cidrsOverlap(r, vpc) && r.prefixLength <= vpc.prefixLength)) {
      issue(ctx, ["network", "vpcCidr"], `is not in an RFC 1918 private range; got ${show(env.network.vpcCidr)}; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
    }
  }

  const taskSubnets = env.network.taskSubnets ?? (env.network.natStrategy === "none" ? "public" : "private");
  if (taskSubnets === "private" && env.network.natStrategy === "none" && !env.network.vpcEndpoints) {
    issue(
      ctx,
      ["network", "natStrategy"],
      `private task subnets with no NAT and no VPC endpoints cannot reach ECR, so tasks could not pull images ("unable to pull registry auth from Amazon ECR"); got natStrategy "none", vpcEndpoints false; use natStrategy "single"/"per-az", set vpcEndpoints true, or taskSubnets "public"`,
    );
  }
  if (taskSubnets === "public" && env.network.natStrategy !== "none") {
    issue(ctx, ["network", "taskSubnets"], `public task subnets are only for the cost-optimised layout without NAT; got "public" with natStrategy ${show(env.network.natStrategy)}; use "private"`);
  }
  if (env.name === "prod" && taskSubnets === "public") {
    issue(ctx, ["network", "taskSubnets"], `prod tasks must run in private subnets; got "public"; set natStrategy "per-az" (or "single") and taskSubnets "private"`);
  }
}

function checkOperations(env: BaseEnvironment, ctx: Ctx): void {
  for (const tag of MANDATORY_TAGS) {
    if (!env.tags[tag]) {
      issue(ctx, ["tags", tag], `mandatory tag is missing; got ${show(env.tags[tag])}; every environment needs ${MANDATORY_TAGS.join(", ")}`);
    }
  }
  if (env.tags.Environment && env.tags.Environment !== env.name) {
    issue(ctx, ["tags", "Environment"], `must match the environment name; got ${show(env.tags.Environment)}; valid: ${show(env.name)}`);
  }
  report(ctx, ["logRetentionDays"], logRetentionProblem(env.logRetentionDays));
  const s = env.scaling;
  if (s.minCapacity > s.maxCapacity) {
    issue(ctx, ["scaling", "minCapacity"], `must not exceed maxCapacity (${s.maxCapacity}); got ${s.minCapacity}; lower minCapacity or raise maxCapacity`);
  } else if (s.desiredCount < s.minCapacity || s.desiredCount > s.maxCapacity) {
    issue(ctx, ["scaling", "desiredCount"], `must be between minCapacity (${s.minCapacity}) and maxCapacity (${s.maxCapacity}); got ${s.desiredCount}`);
  }
  if (s.fargateSpotPercent < 0 || s.fargateSpotPercent > 100) {
    issue(ctx, ["scaling", "fargateSpotPercent"], `must be a share between 0 and 100; got ${s.fargateSpotPercent}`);
  }
  const cicd = env.cicd;
  if (cicd.releases !== "delivered" && !branchMatches(cicd.branchPattern, cicd.releaseBranch)) {
    issue(ctx, ["cicd", "releaseBranch"], `does not match branchPattern ${show(cicd.branchPattern)}, so a manual release would build a branch this environment never takes; got ${show(cicd.releaseBranch)}; name a branch the pattern matches`);
  }
  if (cicd.releases === "promote" && !RELEASE_VERSION.test(cicd.releaseBranch)) {
    issue(ctx, ["cicd", "releaseBranch"], `a promotion deploys the image tagged release-<x.y.z>, x.y.z read from the branch name; got ${show(cicd.releaseBranch)}; e.g. "prod/1.0.0"`);
  }
  if (cicd.releases !== "delivered" && cicd.manualApproval && env.observability.warning.emails.length === 0) {
    issue(ctx, ["observability", "warning", "emails"], `the approval gate notifies the warning topic, which would have no subscriber; got []; add an approver address`);
  }
  if (env.name === "prod") {
    if (!env.deletionProtection) issue(ctx, ["deletionProtection"], `prod must have deletion protection; got false; set true`);
    if (cicd.releases === "delivered" || !cicd.manualApproval) issue(ctx, ["cicd", "manualApproval"], `prod releases need a manual approval gate; got ${cicd.releases === "delivered" ? `releases "delivered" (no gate of its own)` : "false"}; set true (with releases "promote" or "build")`);
  }
  if (env.stateBackend.useLockfile === false && !env.stateBackend.lockTable) {
    issue(ctx, ["stateBackend", "lockTable"], `state needs a lock; got an empty lock table and useLockfile false; name the LockID table or set useLockfile true`);
  }
  checkNames(ctx, [
    [["stateBackend", "bucket"], "s3Bucket", env.stateBackend.bucket],
    [["stateBackend", "lockTable"], "dynamodbTable", env.stateBackend.lockTable],
    [["stateBackend", "kmsKeyAlias"], "kmsAlias", env.stateBackend.kmsKeyAlias],
    [["project"], "alb", `${env.project}-${env.name}-alb`],
  ]);
}

/** A branch that names a version: `<anything>/<x.y.z>` (the release tag is `release-x.y.z`). */
export const RELEASE_VERSION = /\/\d+\.\d+\.\d+$/;

/** Whether a branch matches a CodePipeline trigger glob (`*` is any run of characters but "/"). */
export function branchMatches(pattern: string, branch: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]").replace(/\u0000/g, ".*");
  return new RegExp(`^${re}$`).test(branch);
}

function checkNames(ctx: Ctx, names: [(string | number)[], NameKind, string][]): void {
  for (const [path, kind, name] of names) {
    const problem = nameProblem(kind, name);
    if (problem) issue(ctx, path, `${problem}; got ${show(name)}; shorten it`);
  }
}

function checkAlb(env: BaseEnvironment, ctx: Ctx): void {
  const hasPublic = env.services.some((s) => s.exposure.type === "public");
  const cert = env.alb.certificate;
  if (cert && "arn" in cert) report(ctx, ["alb", "certificate", "arn"], certificateRegionProblem(cert.arn, env.region));
  const test = env.alb.testListener;
  if ([80, 443].includes(test.port)) issue(ctx, ["alb", "testListener", "port"], `is a production listener port; got ${test.port}; use another port, e.g. 8443`);
  (test.allowedCidrs ?? []).forEach((cidr, i) => {
    if (cidr.endsWith("/0")) issue(ctx, ["alb", "testListener", "allowedCidrs", i], `would open the test listener to the internet; got ${show(cidr)}; give the VPC, VPN or office ranges that may test a release`);
  });
  if (env.name === "prod" && !env.alb.certificate) {
    issue(ctx, ["alb", "certificate"], `prod must serve HTTPS; got no certificate; give { arn } or { domain, hostedZoneId }`);
  }
  if (env.name === "prod" && env.alb.allowHttpOnly) {
    issue(ctx, ["alb", "allowHttpOnly"], `prod may not serve plain HTTP; got true; set false and give a certificate`);
  }
  if (hasPublic && !env.alb.certificate && !env.alb.allowHttpOnly && env.name !== "prod") {
    issue(ctx, ["alb", "certificate"], `public services need HTTPS; got no certificate; give { arn } or { domain, hostedZoneId }, or say allowHttpOnly: true (not in prod)`);
  }
}

/** Names the platform's own alarms use (`<project>-<env>-alb-...`, `-db-...`). */
export const RESERVED_SERVICE_NAMES = ["alb", "db", "cluster", "cluster-overview", "logs", "pipelines"] as const;

/** Variables the platform injects into database clients and their migration task (never the master password into a service). */
export const DATABASE_CLIENT_VARIABLES = ["DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_AUTH", "DB_MASTER_USERNAME", "DB_MASTER_PASSWORD"] as const;

function checkServices(env: BaseEnvironment, ctx: Ctx): void {
  const names = new Map<string, number>();
  const routes = new Map<string, string>();
  const priorities = new Map<number, string>();
  const parameterPrefix = `/${env.project}/${env.name}/`;
  const secretPrefix = `${env.project}/${env.name}/`;

  env.services.forEach((svc, i) => {
    const at = (...p: (string | number)[]) => ["services", i, ...p];
    if ((RESERVED_SERVICE_NAMES as readonly string[]).includes(svc.name)) {
      issue(ctx, at("name"), `is reserved (platform alarms and dashboards use it); got ${show(svc.name)}; valid: any kebab-case name except ${RESERVED_SERVICE_NAMES.map((n) => show(n)).join(", ")}`);
    }
    if (names.has(svc.name)) {
      issue(ctx, at("name"), `is listed twice; got ${show(svc.name)} at positions ${names.get(svc.name)} and ${i}; service names must be unique`);
    }
    names.set(svc.name, i);

    report(ctx, at("memoryMiB"), fargateSizeProblem(svc.cpu, svc.memoryMiB));
    report(ctx, at("containerPort"), portProblem(svc.containerPort));
    if (svc.healthCheckGracePeriodSec !== undefined) report(ctx, at("healthCheckGracePeriodSec"), gracePeriodProblem(svc.healthCheckGracePeriodSec));
    if (svc.user !== undefined) report(ctx, at("user"), containerUserProblem(svc.user));
    if (svc.healthCheck) {
      for (const [field, problem] of Object.entries(containerHealthCheckProblems(svc.healthCheck))) issue(ctx, at("healthCheck", field), problem);
    }
    const img = svc.image;
    if ((img.ecrRepository === undefined) === (img.uri === undefined)) {
      issue(ctx, at("image"), `give either ecrRepository or uri, not both or neither; got ${show({ ecrRepository: img.ecrRepository, uri: img.uri })}`);
    }
    if (img.uri !== undefined && img.uri.includes(":") && !img.uri.includes("@") && /:[^/]+$/.test(img.uri)) {
      issue(ctx, at("image", "uri"), `must not carry a tag (use image.tag); got ${show(img.uri)}`);
    }

    if (img.ecrRepository !== undefined) report(ctx, at("image", "ecrRepository"), ecrRepositoryNameProblem(imageRepositoryName(env.project, img.ecrRepository)));
    if (svc.source && img.ecrRepository === undefined) {
      issue(ctx, at("source"), `a pipeline pushes to the platform's ECR, so a service with a source needs image.ecrRepository; got image.uri ${show(img.uri)}; set image.ecrRepository or remove source`);
    }

    const desired = svc.desiredCount ?? env.scaling.desiredCount;
    if (desired < env.scaling.minCapacity || desired > env.scaling.maxCapacity) {
      issue(ctx, at("desiredCount"), `must be between autoscaling min (${env.scaling.minCapacity}) and max (${env.scaling.maxCapacity}); got ${desired}`);
    }

    const exp = svc.exposure;
    if (exp.type === "public") {
      report(ctx, at("exposure", exp.paths.length ? "paths" : "hosts"), ruleConditionsProblem(exp.paths, exp.hosts));
      report(ctx, at("exposure", "priority"), rulePriorityProblem(exp.priority));
      report(ctx, at("exposure", "deregistrationDelaySec"), deregistrationDelayProblem(exp.deregistrationDelaySec));
      for (const [field, problem] of Object.entries(targetHealthCheckProblems(exp.healthCheck))) issue(ctx, at("exposure", "healthCheck", field), problem);
      exp.paths.forEach((p, j) => report(ctx, at("exposure", "paths", j), pathPatternProblem(p)));
      exp.hosts.forEach((h, j) => report(ctx, at("exposure", "hosts", j), hostHeaderProblem(h)));
      const hosts = exp.hosts.length ? exp.hosts : ["*"];
      const paths = exp.paths.length ? exp.paths : ["*"];
      for (const h of hosts) {
        for (const p of paths) {
          const key = `${h} ${p}`;
          const owner = routes.get(key);
          if (owner) issue(ctx, at("exposure"), `duplicates a route of service ${show(owner)}; got host ${show(h)} path ${show(p)}; give each public service its own path or host`);
          routes.set(key, svc.name);
        }
      }
      const other = priorities.get(exp.priority);
      if (other) issue(ctx, at("exposure", "priority"), `listener rule priority ${exp.priority} is already used by service ${show(other)}; got ${exp.priority}; priorities must be unique`);
      priorities.set(exp.priority, svc.name);
    } else if (svc.autoscaling.requestsPerTarget !== undefined) {
      issue(ctx, at("autoscaling", "requestsPerTarget"), `internal services have no ALB to count requests; got ${svc.autoscaling.requestsPerTarget}; remove it`);
    }

    const d = svc.deployment;
    if (d.strategy !== "rolling") {
      if (exp.type !== "public") {
        issue(ctx, at("deployment", "strategy"), `${d.strategy} is a CodeDeploy blue/green deployment, which needs ALB target groups, so only public services can use it; got ${show(d.strategy)} on an internal service; use "rolling"`);
      }
      report(ctx, at("deployment", "terminationWaitMinutes"), rangeProblem(d.terminationWaitMinutes, 0, 2880, " minutes"));
      if (d.waitForOperatorMinutes !== undefined) report(ctx, at("deployment", "waitForOperatorMinutes"), rangeProblem(d.waitForOperatorMinutes, 1, 2880, " minutes"));
      if (d.strategy !== "all-at-once") {
        report(ctx, at("deployment", "percent"), rangeProblem(d.percent, 1, 99, " percent"));
        report(ctx, at("deployment", "intervalMinutes"), rangeProblem(d.intervalMinutes, 1, 2880, " minutes"));
      }
    }
    if (d.strategy !== "rolling" && svc.autoscaling.requestsPerTarget !== undefined) {
      issue(ctx, at("autoscaling", "requestsPerTarget"), `cannot follow a CodeDeploy blue/green service: the policy names one target group, and every deployment moves traffic to the other; got ${svc.autoscaling.requestsPerTarget} with strategy ${show(d.strategy)}; scale on CPU and memory, or use "rolling"`);
    }
    if (exp.type === "internal" && svc.healthCheckGracePeriodSec !== undefined) {
      issue(ctx, at("healthCheckGracePeriodSec"), `only applies to services behind the ALB (ECS ignores it without a load balancer); got ${svc.healthCheckGracePeriodSec} on an internal service; remove it`);
    }

    for (const [key, value] of Object.entries(svc.environment)) {
      if (/(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY)/i.test(key)) {
        issue(ctx, at("environment", key), `looks like a secret in a plaintext environment variable; got ${show(key)}=${show(value.length ? "<redacted>" : "")}; move it to secrets (SSM or Secrets Manager)`);
      }
    }
    const secretNames = new Set<string>();
    svc.secrets.forEach((secret, j) => {
      const prefix = secret.source === "ssm" ? parameterPrefix : secretPrefix;
      if (!secret.path.startsWith(prefix) || secret.path.length <= prefix.length) {
        issue(ctx, at("secrets", j, "path"), `is outside this environment's ${secret.source === "ssm" ? "parameter" : "secret"} path; got ${show(secret.path)}; use a name under ${show(prefix)}`);
      }
      if (secret.source === "ssm" && secret.jsonKey !== undefined) {
        issue(ctx, at("secrets", j, "jsonKey"), `only Secrets Manager secrets have JSON keys; got ${show(secret.jsonKey)} on an SSM parameter; remove it`);
      }
      if (secretNames.has(secret.name) || svc.environment[secret.name] !== undefined) {
        issue(ctx, at("secrets", j, "name"), `is defined twice (secrets and/or environment); got ${show(secret.name)}`);
      }
      secretNames.add(secret.name);
    });

    if (svc.enableExecuteCommand && svc.readonlyRootFilesystem) {
      issue(ctx, at("enableExecuteCommand"), `ECS Exec needs a writable root filesystem (the SSM agent writes into it); got true with readonlyRootFilesystem true; set readonlyRootFilesystem false or turn ECS Exec off`);
    }
    if (env.database?.clientServices.includes(svc.name)) {
      for (const name of DATABASE_CLIENT_VARIABLES) {
        if (svc.environment[name] !== undefined || svc.secrets.some((s) => s.name === name)) {
          issue(ctx, at("environment", name), `is set by the platform for database clients; got ${show(name)} defined by the service; remove it (the platform injects ${DATABASE_CLIENT_VARIABLES.join(", ")})`);
        }
      }
    }

    // The longest physical names the service path builds for this service.
    const stem = `${env.project}-${env.name}`;
    const colours = svc.deployment.strategy === "rolling" ? (["rolling"] as const) : (["blue", "green"] as const);
    checkNames(ctx, [
      ...(exp.type === "public" ? colours.map((c): [(string | number)[], NameKind, string] => [at("name"), "targetGroup", `${stem}-${targetGroupPurpose(svc.name, c, svc.containerPort)}`]) : []),
      [at("name"), "ecsService", `${stem}-${svc.name}`],
      [at("name"), "iamRole", `${stem}-${svc.name}-execution`],
      ...(svc.image.ecrRepository !== undefined ? [[at("image", "ecrRepository"), "generic", imageRepositoryName(env.project, svc.image.ecrRepository)] as [(string | number)[], NameKind, string]] : []),
    ]);
  });

  if (env.database) {
    env.database.clientServices.forEach((name, j) => {
      if (!names.has(name)) {
        issue(ctx, ["database", "clientServices", j], `names no service of this environment; got ${show(name)}; valid: ${[...names.keys()].map((n) => show(n)).join(", ") || "(no services)"}`);
      }
    });
  }
}

function checkDatabase(env: BaseEnvironment, ctx: Ctx): void {
  const db = env.database;
  if (!db) return;
  if (db.maxAllocatedStorageGiB < db.allocatedStorageGiB) {
    issue(ctx, ["database", "maxAllocatedStorageGiB"], `must be at least allocatedStorageGiB (${db.allocatedStorageGiB}); got ${db.maxAllocatedStorageGiB}`);
  }
  if (env.name === "prod") {
    if (!db.multiAz) issue(ctx, ["database", "multiAz"], `the prod database must be Multi-AZ; got false; set true`);
    if ((db.deletionProtection ?? env.deletionProtection) === false) {
      issue(ctx, ["database", "deletionProtection"], `the prod database must have deletion protection; got false; set true`);
    }
  }
  checkNames(ctx, [[["database"], "dbInstance", `${env.project}-${env.name}-postgres`]]);
}

/** Issue 10: the assumed roles stay in their accounts, GitHub trust is one repository, prod has WAF. */
function checkAccessAndEdge(env: BaseEnvironment, ctx: Ctx): void {
  // An invalid account ID is reported on its own; comparing ARNs against it would only repeat it.
  const knownAccount = /^\d{12}$/.test(env.accountId);
  if (env.assumeRole && knownAccount) {
    const other = iamArnAccount(env.assumeRole.roleArn);
    if (other !== env.accountId) {
      issue(ctx, ["assumeRole", "roleArn"], `is in account ${other}, not in this environment's account ${env.accountId}; the provider would act in another account; got ${show(env.assumeRole.roleArn)}; use the deploy role arn:aws:iam::${env.accountId}:role/... of account ${show(env.account)}`);
    }
  }
  const backendRole = env.stateBackend.assumeRole;
  if (backendRole && iamArnAccount(backendRole.roleArn) !== env.stateBackend.accountId) {
    issue(ctx, ["stateBackend", "assumeRole", "roleArn"], `is not in the state account ${env.stateBackend.accountId}; got ${show(backendRole.roleArn)}; use arn:aws:iam::${env.stateBackend.accountId}:role/...`);
  }
  const gh = env.github;
  if (gh) {
    const [owner, repo, ...rest] = gh.repository.split("/");
    if (gh.repository.includes("*") || gh.repository.includes("?")) {
      issue(ctx, ["github", "repository"], `a wildcard would trust every repository of ${show(owner)} (a subject wildcarded to the whole organisation); got ${show(gh.repository)}; name one repository "owner/repo"`);
    } else if (!owner || !repo || rest.length || !/^[\w.-]+$/.test(owner) || !/^[\w.-]+$/.test(repo)) {
      issue(ctx, ["github", "repository"], `must be one GitHub repository "owner/repo"; got ${show(gh.repository)}`);
    }
    if ((gh.branch === undefined) === (gh.environment === undefined)) {
      issue(ctx, ["github"], `give either branch or environment (what the token's sub is pinned to), not both or neither; got ${show({ branch: gh.branch, environment: gh.environment })}`);
    }
    if (gh.branch !== undefined && !/^[\w.*/-]+$/.test(gh.branch)) {
      issue(ctx, ["github", "branch"], `must be a branch name or pattern (letters, digits, . _ - / *); got ${show(gh.branch)}`);
    }
  }
  const cert = env.alb.certificate;
  const certAccount = cert && "arn" in cert ? /^arn:aws[\w-]*:acm:[\w-]+:(\d{12}):/.exec(cert.arn)?.[1] : undefined;
  if (certAccount && knownAccount && certAccount !== env.accountId) {
    issue(ctx, ["alb", "certificate", "arn"], `is in account ${certAccount}; a load balancer can only use certificates of its own account ${env.accountId}; got ${JSON.stringify(cert && "arn" in cert ? cert.arn : undefined)}; import or request it in account ${env.accountId}, or give { domain, hostedZoneId }`);
  }
  const waf = env.alb.waf;
  if (env.name === "prod" && waf.enabled === false && env.services.some((s) => s.exposure.type === "public")) {
    issue(ctx, ["alb", "waf", "enabled"], `prod's internet-facing load balancer must sit behind AWS WAF; got false; remove it or set true`);
  }
  report(ctx, ["alb", "waf", "rateLimitPer5Min"], wafRateLimitProblem(waf.rateLimitPer5Min));
}

/** Issue 11: alarms reach someone in prod, thresholds fit the service, every database client migrates (a migration of a non-client is a synth warning, environments/warnings.ts). */
function checkObservability(env: BaseEnvironment, ctx: Ctx): void {
  const o = env.observability;
  if (env.name === "prod" && o.critical.emails.length + o.critical.httpsEndpoints.length === 0) {
    issue(ctx, ["observability", "critical"], `prod's critical alarms must reach someone; got no email and no HTTPS endpoint; add observability.critical.emails or observability.critical.httpsEndpoints (a pager's SNS integration URL)`);
  }
  for (const [path, list] of [[["critical", "emails"], o.critical.emails], [["critical", "httpsEndpoints"], o.critical.httpsEndpoints], [["warning", "emails"], o.warning.emails]] as const) {
    list.forEach((value, i) => {
      if (list.indexOf(value) !== i) issue(ctx, ["observability", ...path, i], `is listed twice; got ${show(value)}; list each destination once`);
    });
  }
  if (o.grafana.customDomain !== undefined) {
    issue(ctx, ["observability", "grafana", "customDomain"], `Amazon Managed Grafana does not support custom domains or TLS certificates (behind HSTS the browser refuses with ERR_CERT_COMMON_NAME_INVALID); got ${show(o.grafana.customDomain)}; remove it and use the workspace URL (output grafana_url)`);
  }
  const clients = new Set(env.database?.clientServices ?? []);
  const stem = `${env.project}-${env.name}`;
  env.services.forEach((svc, i) => {
    for (const [field, problem] of Object.entries(serviceAlarmThresholdProblems(svc.alarms, svc.exposure.type === "public"))) issue(ctx, ["services", i, "alarms", field], problem);
    if (clients.has(svc.name) && !svc.migration) {
      issue(ctx, ["services", i, "migration"], `database clients connect as their own user, which their migration creates; got no migration, so user ${show(`svc_${svc.name.replace(/-/g, "_")}`)} would never exist; add migration: { command: [...] } (docs/observability.md#database-access)`);
    }
    if (clients.has(svc.name)) checkNames(ctx, [[["services", i, "name"], "iamRole", `${stem}-${svc.name}-migration-execution`]]);
  });
  if (env.database) report(ctx, ["database", "instanceClass"], instanceClassProblem(env.database.instanceClass));
}

export const environmentSchema = baseEnvironmentSchema.superRefine((env, ctx) => {
  checkNetwork(env, ctx);
  checkOperations(env, ctx);
  checkAlb(env, ctx);
  checkServices(env, ctx);
  checkDatabase(env, ctx);
  checkAccessAndEdge(env, ctx);
  checkObservability(env, ctx);
});

/** What an environment file writes (defaults optional). */
export type EnvironmentInput = z.input<typeof environmentSchema>;
/** A validated environment with defaults applied. */
export type EnvironmentConfig = z.output<typeof environmentSchema> & {
  /**
   * Derived by loadConfig from every environment and the account (never written in an
   * environment file): this environment's pipeline (environments/delivery.ts) and the
   * account's Bitbucket connection.
   */
  readonly delivery?: { readonly pipeline?: import("./delivery").PipelinePlan; readonly connectionArn?: string };
};
export type ServiceConfig = EnvironmentConfig["services"][number];
export type DatabaseConfig = NonNullable<EnvironmentConfig["database"]>;

/** Derived values every consumer would otherwise recompute. */
export function taskSubnetTier(env: EnvironmentConfig): "public" | "private" {
  return env.network.taskSubnets ?? (env.network.natStrategy === "none" ? "public" : "private");
}

export function subnetPrefixLength(env: EnvironmentConfig): number {
  const vpc = parseCidr(env.network.vpcCidr);
  if (typeof vpc === "string") throw new Error(`${env.name}.network.vpcCidr: ${vpc}`);
  return env.network.subnetPrefixLength ?? defaultSubnetPrefixLength(vpc.prefixLength);
}

/** Whether the ALB gets AWS WAF: always in prod, where the config says elsewhere. */
export function wafEnabled(env: EnvironmentConfig): boolean {
  return env.alb.waf.enabled ?? env.name === "prod";
}

/** The GitHub OIDC `sub` the deploy role trusts: one repository, one branch (pattern) or environment. */
export function githubSubject(github: NonNullable<EnvironmentConfig["github"]>): string {
  return github.environment !== undefined ? `repo:${github.repository}:environment:${github.environment}` : `repo:${github.repository}:ref:refs/heads/${github.branch}`;
}

/** Desired task count of a service (its own or the environment's). */
export function serviceDesiredCount(env: EnvironmentConfig, svc: ServiceConfig): number {
  return svc.desiredCount ?? env.scaling.desiredCount;
}
