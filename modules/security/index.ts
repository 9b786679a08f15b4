import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../lib/naming";
import { accountAdministersKey, keyPolicy } from "../../lib/iam-policy";
import { AuditBaseline } from "./audit";
import { SecureBucket } from "../../lib/secure-bucket";

export { AuditBaseline, CONFIG_MANAGED_RULES } from "./audit";

/** The account-wide audit resources one environment per account owns. */
export interface AccountBaselineProps {
  /** Multi-region CloudTrail trail. */
  readonly cloudTrail: boolean;
  /** AWS Config recorder, delivery channel and managed rules. */
  readonly awsConfig: boolean;
  /** Retention of the trail's log group, in days. */
  readonly logRetentionDays: number;
  /** Bucket receiving the audit bucket's access logs. @default - none */
  readonly accessLogsBucket?: string;
}

export interface SecurityProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** Account that owns the keys; its root principal administers them. */
  readonly accountId: string;
  readonly region: string;
  /**
   * Days a deleted key waits before it is destroyed.
   * @default 30
   */
  readonly keyDeletionWindowDays?: number;
  /**
   * Create a bucket that receives S3 server access logs of the other platform buckets.
   * @default false
   */
  readonly accessLogs?: boolean;
  /**
   * Create the account's audit baseline (CloudTrail, AWS Config) in this environment.
   * @default - none: another environment of the account owns it
   */
  readonly accountBaseline?: AccountBaselineProps;
}

/** Customer-managed KMS key with rotation and an alias. */
export interface ManagedKey {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
}

/**
 * Customer-managed KMS keys, one per kind of data, each with yearly rotation:
 * `logs` for CloudWatch Logs (the logs service needs its own key-policy grant), `data`
 * for everything else that stores data (RDS, Secrets Manager, ECR, SNS, S3) and, where
 * this environment owns the account baseline, `audit` for CloudTrail and AWS Config.
 */
export class Security extends Construct {
  public readonly logsKey: ManagedKey;
  public readonly dataKey: ManagedKey;
  public readonly auditKey?: ManagedKey;
  public readonly audit?: AuditBaseline;
  /** Sink for S3 server access logs, when `accessLogs` is on. */
  public readonly accessLogsBucket?: SecureBucket;

  constructor(scope: Construct, id: string, props: SecurityProps) {
    super(scope, id);
    const { naming, accountId, region } = props;
    const deletionWindowInDays = props.keyDeletionWindowDays ?? 30;

    const rootAdmin = accountAdministersKey(accountId);

    const createKey = (keyId: string, purpose: string, description: string, extra: DataAwsIamPolicyDocumentStatement[]) => {
      const scopeForKey = new Construct(this, keyId);
      const key = new KmsKey(scopeForKey, "key", {
        description,
        enableKeyRotation: true,
        deletionWindowInDays,
        policy: keyPolicy([rootAdmin, ...extra]),
      });
      const alias = new KmsAlias(scopeForKey, "alias", { name: naming.kmsAlias(purpose), targetKeyId: key.keyId });
      return { key, alias };
    };

    this.logsKey = createKey("logs-key", "logs", `${naming.stem} CloudWatch Logs encryption`, [
      {
        sid: "CloudWatchLogsUseKey",
        effect: "Allow",
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
        condition: [
          { test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [`arn:aws:logs:${region}:${accountId}:log-group:*`] },
        ],
      },
    ]);

    this.dataKey = createKey("data-key", "data", `${naming.stem} data encryption (RDS, secrets, ECR, SNS, S3)`, [
      {
        // Alarms publish to the encrypted SNS topic as the CloudWatch service, not as a role.
        sid: "CloudWatchAlarmsPublishToEncryptedTopics",
        effect: "Allow",
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
      },
    ]);

    if (props.accessLogs) {
      this.accessLogsBucket = new SecureBucket(this, "access-logs", {
        bucketName: naming.name("s3Bucket", `access-logs-${accountId}`),
        accessLogSinkForAccount: accountId,
        expirationDays: 90,
      });
    }

    const baseline = props.accountBaseline;
    if (baseline && (baseline.cloudTrail || baseline.awsConfig)) {
      this.auditKey = createKey("audit-key", "audit", `${naming.stem} audit trail and configuration history`, [
        {
          sid: "CloudTrailEncryptLogs",
          effect: "Allow",
          actions: ["kms:GenerateDataKey*"],
          resources: ["*"],
          principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
          condition: [
            { test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: [`arn:aws:cloudtrail:*:${accountId}:trail/*`] },
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
          ],
        },
        {
          sid: "CloudTrailDescribeKey",
          effect: "Allow",
          actions: ["kms:DescribeKey"],
          resources: ["*"],
          principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
        },
      ]);
      this.audit = new AuditBaseline(this, "audit", {
        naming,
        accountId,
        region,
        auditKmsKeyArn: this.auditKey.key.arn,
        logsKmsKeyArn: this.logsKey.key.arn,
        logRetentionDays: baseline.logRetentionDays,
        cloudTrail: baseline.cloudTrail,
        awsConfig: baseline.awsConfig,
        accessLogsBucket: baseline.accessLogsBucket ?? this.accessLogsBucket?.bucket.bucket,
      });
    }
  }
}
