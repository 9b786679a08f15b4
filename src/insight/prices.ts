/**
 * The one price table of the cost estimate (`npm run cost`): AWS public on-demand list prices
 * in USD, per region, each row with its unit, the public AWS pricing page it comes from and
 * the date it was read. There is no offline pricing API (Infracost needs its online one), so
 * the project keeps its own table: when AWS changes a price, change the row and its date.
 *
 * A key the table lacks for a region is reported by the estimate as "not priced" (never
 * dropped); a region the table lacks is an error (PriceError) naming the regions it has.
 * Free tiers are not applied: the estimate is what the resources cost on a paying account.
 */

/** One price: `usd` per `unit`, read from `source` on `read` (YYYY-MM-DD). */
export interface PriceRow {
  readonly usd: number;
  /** What one `usd` buys, e.g. `vCPU-hour`, `GB-month`, `100,000 events`. */
  readonly unit: string;
  /** The public AWS pricing page the figure was read from. */
  readonly source: string;
  /** The date the figure was read, YYYY-MM-DD. */
  readonly read: string;
  /** What the figure assumes, where that is not obvious from the unit. */
  readonly note?: string;
}

/** The date every row below was read (the table is re-read as a whole). */
export const PRICES_READ_ON = "2026-12-01";

const FARGATE = "https://aws.amazon.com/fargate/pricing/";
const VPC = "https://aws.amazon.com/vpc/pricing/";
const ELB = "https://aws.amazon.com/elasticloadbalancing/pricing/";
const PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/";
const RDS_POSTGRES = "https://aws.amazon.com/rds/postgresql/pricing/";
const SECRETS = "https://aws.amazon.com/secrets-manager/pricing/";
const KMS = "https://aws.amazon.com/kms/pricing/";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const CONFIG = "https://aws.amazon.com/config/pricing/";
const CLOUDTRAIL = "https://aws.amazon.com/cloudtrail/pricing/";
const WAF = "https://aws.amazon.com/waf/pricing/";
const CODEPIPELINE = "https://aws.amazon.com/codepipeline/pricing/";
const CODEBUILD = "https://aws.amazon.com/codebuild/pricing/";
const ROUTE53 = "https://aws.amazon.com/route53/pricing/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const ECR = "https://aws.amazon.com/ecr/pricing/";
const DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
const GRAFANA = "https://aws.amazon.com/grafana/pricing/";

function p(usd: number, unit: string, source: string, note?: string): PriceRow {
  return note === undefined ? { usd, unit, source, read: PRICES_READ_ON } : { usd, unit, source, read: PRICES_READ_ON, note };
}

/** Prices that are the same in every region the table covers. */
const GLOBAL: Readonly<Record<string, PriceRow>> = {
  "ipv4.public-address": p(0.005, "address-hour", VPC, "every public IPv4 address, attached or not (EIPs, task public IPs, internet-facing load balancer nodes)"),
  "secretsmanager.secret": p(0.4, "secret-month", SECRETS),
  "kms.customer-managed-key": p(1.0, "key-month", KMS, "first year; each yearly rotation adds $1/month for the first two rotations"),
  "cloudwatch.alarm-metric": p(0.1, "alarm metric-month", CLOUDWATCH, "standard resolution (period >= 60 s); a metric-math alarm pays per metric it reads"),
  "cloudwatch.alarm-metric-high-resolution": p(0.3, "alarm metric-month", CLOUDWATCH, "high resolution (period < 60 s)"),
  "cloudwatch.composite-alarm": p(0.5, "alarm-month", CLOUDWATCH),
  "cloudwatch.dashboard": p(3.0, "dashboard-month", CLOUDWATCH, "the free tier's first 3 dashboards not applied"),
  "grafana.editor": p(9.0, "active editor-month", GRAFANA, "one editor or admin assumed; each viewer adds $5/month"),
  "cloudwatch.custom-metric": p(0.3, "metric-month", CLOUDWATCH, "first 10,000 metrics tier"),
  "config.configuration-item": p(0.003, "configuration item", CONFIG, "continuous recording"),
  "config.rule-evaluation": p(0.001, "rule evaluation", CONFIG, "first 100,000 evaluations tier"),
  "cloudtrail.management-events-first-copy": p(0, "100,000 events", CLOUDTRAIL, "the first copy of management events in each region is free"),
  "cloudtrail.management-events-additional-copy": p(2.0, "100,000 events", CLOUDTRAIL),
  "cloudtrail.data-events": p(0.1, "100,000 events", CLOUDTRAIL),
  "waf.web-acl": p(5.0, "web ACL-month", WAF),
  "waf.rule": p(1.0, "rule-month", WAF, "each rule or rule group in a web ACL"),
  "waf.requests": p(0.6, "million requests", WAF),
  "codepipeline.v2.action-minute": p(0.002, "action execution minute", CODEPIPELINE, "V2 pipelines; the 100 free minutes per account not applied"),
  "codepipeline.v1.pipeline": p(1.0, "active pipeline-month", CODEPIPELINE),
  "route53.hosted-zone": p(0.5, "hosted zone-month", ROUTE53, "first 25 zones"),
  "route53.queries": p(0.4, "million queries", ROUTE53, "standard queries; alias queries to AWS resources are free"),
  "fargate.ephemeral-storage": p(0.000111, "GB-hour", FARGATE, "ephemeral storage above the 20 GiB included in every task"),
  "ecr.storage": p(0.1, "GB-month", ECR),
};

/** Fargate rows: the same list price in us-east-1 and eu-west-1. */
const FARGATE_ROWS: Readonly<Record<string, PriceRow>> = {
  "fargate.linux-x86.vcpu": p(0.04048, "vCPU-hour", FARGATE),
  "fargate.linux-x86.memory": p(0.004445, "GB-hour", FARGATE),
  "fargate.linux-arm.vcpu": p(0.03238, "vCPU-hour", FARGATE),
  "fargate.linux-arm.memory": p(0.00356, "GB-hour", FARGATE),
  "fargate-spot.linux-x86.vcpu": p(0.012144, "vCPU-hour", FARGATE, "Spot prices float; this is the 70%-off level the page quotes"),
  "fargate-spot.linux-x86.memory": p(0.0013335, "GB-hour", FARGATE, "Spot prices float; this is the 70%-off level the page quotes"),
};

/** An RDS instance-class row (the page quotes Single-AZ; Multi-AZ is billed as two instances). */
const rdsInstance = (usd: number): PriceRow => p(usd, "instance-hour", RDS_POSTGRES, "Single-AZ; a Multi-AZ instance is billed as two");

/** Region -> price key -> row. Keys: `<service>.<dimension>`; RDS: `rds.<engine>.<class>`. */
export const PRICE_TABLE: Readonly<Record<string, Readonly<Record<string, PriceRow>>>> = {
  "us-east-1": {
    ...GLOBAL,
    ...FARGATE_ROWS,
    "nat.hour": p(0.045, "NAT gateway-hour", VPC),
    "nat.data": p(0.045, "GB processed", VPC),
    "alb.hour": p(0.0225, "ALB-hour", ELB),
    "alb.lcu": p(0.008, "LCU-hour", ELB),
    "nlb.hour": p(0.0225, "NLB-hour", ELB),
    "nlb.nlcu": p(0.006, "NLCU-hour", ELB),
    "vpce.interface.az-hour": p(0.01, "endpoint ENI-hour (per AZ)", PRIVATELINK),
    "vpce.interface.data": p(0.01, "GB processed", PRIVATELINK, "first PB tier"),
    "rds.postgres.db.t3.micro": rdsInstance(0.018),
    "rds.postgres.db.t3.small": rdsInstance(0.036),
    "rds.postgres.db.t3.medium": rdsInstance(0.072),
    "rds.postgres.db.t4g.micro": rdsInstance(0.016),
    "rds.postgres.db.t4g.small": rdsInstance(0.032),
    "rds.postgres.db.t4g.medium": rdsInstance(0.065),
    "rds.postgres.db.m6g.large": rdsInstance(0.159),
    "rds.postgres.db.m7g.large": rdsInstance(0.168),
    "rds.storage.general-purpose": p(0.115, "GB-month", RDS_POSTGRES, "gp2 and gp3, per copy (Multi-AZ stores two)"),
    "rds.backup": p(0.095, "GB-month", RDS_POSTGRES, "backup storage beyond the free amount (100% of provisioned storage)"),
    "logs.ingestion": p(0.5, "GB ingested", CLOUDWATCH, "standard log class; vended logs (VPC flow logs) cost the same in the first 10 TB"),
    "logs.storage": p(0.03, "GB-month", CLOUDWATCH),
    "codebuild.linux.BUILD_GENERAL1_SMALL": p(0.005, "build minute", CODEBUILD, "on-demand EC2 compute, Linux x86"),
    "codebuild.linux.BUILD_GENERAL1_MEDIUM": p(0.01, "build minute", CODEBUILD, "on-demand EC2 compute, Linux x86"),
    "codebuild.linux.BUILD_GENERAL1_LARGE": p(0.02, "build minute", CODEBUILD, "on-demand EC2 compute, Linux x86"),
    "s3.standard.storage": p(0.023, "GB-month", S3, "first 50 TB tier"),
    "dynamodb.on-demand.writes": p(0.625, "million write request units", DYNAMODB),
    "dynamodb.on-demand.reads": p(0.125, "million read request units", DYNAMODB),
    "dynamodb.storage": p(0.25, "GB-month", DYNAMODB, "Standard table class"),
    "dynamodb.pitr": p(0.2, "GB-month", DYNAMODB, "continuous backups (point-in-time recovery)"),
  },
  "eu-west-1": {
    ...GLOBAL,
    ...FARGATE_ROWS,
    "nat.hour": p(0.048, "NAT gateway-hour", VPC),
    "nat.data": p(0.048, "GB processed", VPC),
    "alb.hour": p(0.0252, "ALB-hour", ELB),
    "alb.lcu": p(0.008, "LCU-hour", ELB),
    "nlb.hour": p(0.0252, "NLB-hour", ELB),
    "nlb.nlcu": p(0.006, "NLCU-hour", ELB),
    "vpce.interface.az-hour": p(0.011, "endpoint ENI-hour (per AZ)", PRIVATELINK),
    "vpce.interface.data": p(0.01, "GB processed", PRIVATELINK, "first PB tier"),
    "rds.storage.general-purpose": p(0.127, "GB-month", RDS_POSTGRES, "gp2 and gp3, per copy (Multi-AZ stores two)"),
    "rds.backup": p(0.095, "GB-month", RDS_POSTGRES, "backup storage beyond the free amount (100% of provisioned storage)"),
    "logs.ingestion": p(0.57, "GB ingested", CLOUDWATCH, "standard log class; vended logs (VPC flow logs) cost the same in the first 10 TB"),
    "logs.storage": p(0.03, "GB-month", CLOUDWATCH),
    "s3.standard.storage": p(0.023, "GB-month", S3, "first 50 TB tier"),
  },
};

/** An estimate asked for a region the table has no prices for. */
export class PriceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PriceError";
  }
}

/** The rows of one region; throws PriceError naming the covered regions when there are none. */
export function regionPrices(region: string, table: Readonly<Record<string, Readonly<Record<string, PriceRow>>>> = PRICE_TABLE): Readonly<Record<string, PriceRow>> {
  const rows = Object.prototype.hasOwnProperty.call(table, region) ? table[region] : undefined;
  if (!rows) {
    throw new PriceError(`no prices for region "${region}" in src/insight/prices.ts; it covers ${Object.keys(table).sort().join(", ")}; add that region's rows (price, unit, source page, date read)`);
  }
  return rows;
}
