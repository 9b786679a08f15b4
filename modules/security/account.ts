import { Construct } from "constructs";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { Naming } from "../../lib/naming";
import { SecureBucket } from "../../lib/secure-bucket";
import { AuditBaseline, auditTrailLogGroupName, auditTrailName } from "./audit";
import { DeployRole, DeployRoleProps } from "./deploy-role";
import { cloudWatchLogsKeyGrants, ManagedKey, managedKey } from "./keys";

/** GitHub Actions' OIDC issuer host (tokens carry `<host>:aud` and `<host>:sub`). */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience GitHub's `aws-actions/configure-aws-credentials` requests. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

/** The account's GitHub OIDC provider ARN: fixed by AWS from the issuer host, so environments compute it. */
export function githubOidcProviderArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

/**
 * The account's S3 access-logs bucket: `<project>-<account>-access-logs-<id>`. Environment
 * stacks in the account point their buckets' access logging at this name (no lookup).
 */
export function accessLogsBucketName(naming: Naming, accountId: string): string {
  return naming.name("s3Bucket", `access-logs-${accountId}`);
}

export interface AccountBaselineProps {
  /** Names for the account: `<project>-<account name>-...`. */
  readonly naming: Naming;
  readonly accountId: string;
  /** Home region (the trail's home, the one region AWS Config records). */
  readonly region: string;
  /** The multi-region CloudTrail trail. */
  readonly cloudTrail: boolean;
  /** The AWS Config recorder, delivery channel and managed rules. */
  readonly awsConfig: boolean;
  /** Create the access-logs bucket (and log the audit bucket's access into it). */
  readonly accessLogs: boolean;
  /**
   * Days the audit trail (log group and bucket) keeps records.
   * @default 365
   */
  readonly auditRetentionDays?: number;
  /**
   * The deploy role environment stacks' providers assume (DeployRoleProps; its audit guard is
   * this construct's trail, buckets and key), with the name stems (`<project>-<env>`) of the
   * environments it deploys.
   */
  readonly deployRole: Pick<DeployRoleProps, "name" | "operators" | "requireMfa" | "externalId"> & { readonly environmentStems: readonly string[] };
  /**
   * Create the GitHub Actions OIDC identity provider.
   * @default false
   */
  readonly githubOidc?: boolean;
  /**
   * Days a deleted audit key waits before it is destroyed.
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
}

/**
 * Everything that exists once per AWS account: the audit key, the access-logs bucket, the
 * audit trail and AWS Config (AuditBaseline), the deploy role operators assume, and the
 * GitHub OIDC provider. Used only by the account stack; environments reference these by the
 * names the exported functions compute.
 */
export class AccountBaseline extends Construct {
  /** Encrypts the audit bucket, the trail and its log group, and Config snapshots. */
  public readonly auditKey?: ManagedKey;
  /** Sink for the S3 server access logs of every bucket in the account. */
  public readonly accessLogsBucket?: SecureBucket;
  public readonly audit?: AuditBaseline;
  public readonly deployRole: DeployRole;
  public readonly githubOidcProvider?: IamOpenidConnectProvider;

  constructor(scope: Construct, id: string, props: AccountBaselineProps) {
    super(scope, id);
    const { naming, accountId, region } = props;

    if (props.accessLogs) {
      this.accessLogsBucket = new SecureBucket(this, "access-logs", {
        bucketName: accessLogsBucketName(naming, accountId),
        accessLogSinkForAccount: accountId,
        expirationDays: 90,
      });
    }

    if (props.cloudTrail || props.awsConfig) {
      const trailLogGroupArn = `arn:aws:logs:${region}:${accountId}:log-group:${auditTrailLogGroupName(naming)}`;
      this.auditKey = managedKey(this, {
        naming,
        accountId,
        id: "audit-key",
        purpose: "audit",
        description: `${naming.stem} audit trail and configuration history`,
        deletionWindowDays: props.keyDeletionWindowDays,
        grants: [
          {
            sid: "CloudTrailEncryptLogs",
            effect: "Allow",
            actions: ["kms:GenerateDataKey*"],
            resources: ["*"],
            principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
            condition: [
              { test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: [`arn:aws:cloudtrail:*:${accountId}:trail/*`] },
              { test: "StringEquals", variable: "aws:SourceArn", values: [`arn:aws:cloudtrail:${region}:${accountId}:trail/${auditTrailName(naming)}`] },
            ],
          },
          {
            // The trail's log-file notifications: SNS encrypts them with this key on CloudTrail's behalf.
            sid: "CloudTrailPublishEncryptedNotifications",
            effect: "Allow",
            actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
            resources: ["*"],
            principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
            condition: [{ test: "StringEquals", variable: "aws:SourceArn", values: [`arn:aws:cloudtrail:${region}:${accountId}:trail/${auditTrailName(naming)}`] }],
          },
          {
            sid: "CloudTrailDescribeKey",
            effect: "Allow",
            actions: ["kms:DescribeKey"],
            resources: ["*"],
            principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
            condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
          },
          // The trail's log group only: this key encrypts nothing else of CloudWatch Logs.
          ...cloudWatchLogsKeyGrants(region, trailLogGroupArn),
        ],
      });
      this.audit = new AuditBaseline(this, "audit", {
        naming,
        accountId,
        region,
        auditKmsKeyArn: this.auditKey.key.arn,
        logsKmsKeyArn: this.auditKey.key.arn,
        auditRetentionDays: props.auditRetentionDays,
        cloudTrail: props.cloudTrail,
        awsConfig: props.awsConfig,
        accessLogsBucket: this.accessLogsBucket?.bucket.bucket,
      });
    }

    const d = props.deployRole;
    this.deployRole = new DeployRole(this, "deploy-role", {
      name: d.name,
      accountId,
      operators: d.operators,
      requireMfa: d.requireMfa,
      externalId: d.externalId,
      managedNamePrefixes: d.environmentStems.map((stem) => `${stem}-`),
      protectedTrailArn: this.audit?.trail?.arn,
      protectedBucketArns: [this.audit?.bucket.bucket.arn, this.accessLogsBucket?.bucket.arn].filter((a): a is string => a !== undefined),
      protectedKeyArns: this.auditKey ? [this.auditKey.key.arn] : [],
    });

    if (props.githubOidc) {
      // No thumbprints: IAM trusts GitHub's issuer through its certificate authority (the
      // thumbprint list is optional since 2024 and ignored for this issuer).
      this.githubOidcProvider = new IamOpenidConnectProvider(this, "github-oidc", {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIdList: [GITHUB_OIDC_AUDIENCE],
      });
    }
  }
}
