import { Construct } from "constructs";
import { Cloudtrail } from "@cdktf/provider-aws/lib/cloudtrail";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { ConfigConfigurationRecorder } from "@cdktf/provider-aws/lib/config-configuration-recorder";
import { ConfigDeliveryChannel } from "@cdktf/provider-aws/lib/config-delivery-channel";
import { ConfigConfigurationRecorderStatus } from "@cdktf/provider-aws/lib/config-configuration-recorder-status";
import { ConfigConfigRule } from "@cdktf/provider-aws/lib/config-config-rule";
import { Naming } from "../../lib/naming";
import { SecureBucket } from "../../lib/secure-bucket";
import { policyDocument, serviceRole, serviceTrustPolicy } from "../../lib/iam-policy";
import { skipShortRetention } from "../../lib/checkov";

export interface AuditBaselineProps {
  /** Names for the account (`<project>-<account>-...`). */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** Customer key (with a CloudTrail grant) for the audit bucket and the trail. */
  readonly auditKmsKeyArn: string;
  /** Customer key (with a CloudWatch Logs grant for the trail's group) for the trail's log group. */
  readonly logsKmsKeyArn: string;
  /**
   * Days the trail's CloudWatch log group and the audit bucket keep records; a regulated
   * compliance tag needs 365 or more (environments/accounts.ts).
   * @default 365
   */
  readonly auditRetentionDays?: number;
  /** Record API activity with a multi-region CloudTrail trail. */
  readonly cloudTrail: boolean;
  /** Record resource configuration with AWS Config and evaluate managed rules. */
  readonly awsConfig: boolean;
  /** Bucket receiving the audit bucket's server access logs. @default - none */
  readonly accessLogsBucket?: string;
}

/** The trail's name in an account: `<project>-<account>-audit-trail`. */
export function auditTrailName(naming: Naming): string {
  return naming.name("generic", "audit-trail");
}

/** The trail's CloudWatch log group: `/<project>/<account>/cloudtrail`. */
export function auditTrailLogGroupName(naming: Naming): string {
  return naming.logGroup("cloudtrail");
}

/** AWS Config managed rules evaluated on the account: each mirrors a promise the platform makes. */
export const CONFIG_MANAGED_RULES = {
  "s3-ssl-only": "S3_BUCKET_SSL_REQUESTS_ONLY",
  "s3-public-read-prohibited": "S3_BUCKET_PUBLIC_READ_PROHIBITED",
  "rds-storage-encrypted": "RDS_STORAGE_ENCRYPTED",
  "rds-not-public": "RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
  "vpc-flow-logs": "VPC_FLOW_LOGS_ENABLED",
  "vpc-default-sg-closed": "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
  "cloudtrail-enabled": "CLOUD_TRAIL_ENABLED",
  "kms-rotation": "CMK_BACKING_KEY_ROTATION_ENABLED",
  "ecs-no-privileged": "ECS_CONTAINERS_NONPRIVILEGED",
} as const;

/**
 * The account's audit baseline: an encrypted audit bucket, a multi-region CloudTrail trail
 * (log file validation, KMS, CloudWatch Logs) and the AWS Config recorder with managed rules.
 * These are one-per-account(-region) resources, so the account stack owns them
 * (src/stacks/account-stack.ts), never an environment.
 */
export class AuditBaseline extends Construct {
  public readonly bucket: SecureBucket;
  public readonly trail?: Cloudtrail;
  public readonly trailLogGroup?: CloudwatchLogGroup;
  /** Log-file delivery notifications of the trail (KMS-encrypted with the audit key). */
  public readonly trailTopic?: SnsTopic;
  public readonly configRecorder?: ConfigConfigurationRecorder;
  public readonly configRules: ConfigConfigRule[] = [];

  constructor(scope: Construct, id: string, props: AuditBaselineProps) {
    super(scope, id);
    const { naming, accountId, region } = props;
    const bucketName = naming.name("s3Bucket", `audit-${accountId}`);
    const bucketArn = `arn:aws:s3:::${bucketName}`;
    const trailName = auditTrailName(naming);
    const retentionDays = props.auditRetentionDays ?? 365;
    // Built from parts (not the trail's attribute) so the bucket policy does not depend on the trail.
    const trailArn = `arn:aws:cloudtrail:${region}:${accountId}:trail/${trailName}`;

    this.bucket = new SecureBucket(this, "bucket", {
      bucketName,
      kmsKeyArn: props.auditKmsKeyArn,
      expirationDays: retentionDays,
      accessLogsBucket: props.accessLogsBucket,
      policyStatements: [
        ...(props.cloudTrail
          ? [
              {
                sid: "CloudTrailAclCheck",
                effect: "Allow",
                actions: ["s3:GetBucketAcl"],
                resources: [bucketArn],
                principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
                condition: [{ test: "StringEquals", variable: "aws:SourceArn", values: [trailArn] }],
              },
              {
                sid: "CloudTrailWrite",
                effect: "Allow",
                actions: ["s3:PutObject"],
                resources: [`${bucketArn}/cloudtrail/AWSLogs/${accountId}/*`],
                principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
                condition: [{ test: "StringEquals", variable: "aws:SourceArn", values: [trailArn] }],
              },
            ]
          : []),
        ...(props.awsConfig
          ? [
              {
                sid: "ConfigBucketCheck",
                effect: "Allow",
                actions: ["s3:GetBucketAcl", "s3:ListBucket"],
                resources: [bucketArn],
                principals: [{ type: "Service", identifiers: ["config.amazonaws.com"] }],
                condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
              },
              {
                sid: "ConfigDelivery",
                effect: "Allow",
                actions: ["s3:PutObject"],
                resources: [`${bucketArn}/config/AWSLogs/${accountId}/Config/*`],
                principals: [{ type: "Service", identifiers: ["config.amazonaws.com"] }],
                condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
              },
            ]
          : []),
      ],
    });

    if (props.cloudTrail) {
      const trailScope = new Construct(this, "cloudtrail");
      this.trailLogGroup = new CloudwatchLogGroup(trailScope, "log-group", {
        name: auditTrailLogGroupName(naming),
        retentionInDays: retentionDays,
        kmsKeyId: props.logsKmsKeyArn,
      });
      skipShortRetention(this.trailLogGroup, retentionDays, `audit retention is ${retentionDays} days by account config (no compliance tag that requires a year)`);
      const role = serviceRole(trailScope, {
        name: naming.name("iamRole", "cloudtrail-logs"),
        description: "CloudTrail delivery to CloudWatch Logs",
        service: "cloudtrail.amazonaws.com",
        accountId,
        policyName: "deliver-to-log-group",
        statements: [
          { sid: "WriteTrailLogGroup", effect: "Allow", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${this.trailLogGroup.arn}:*`] },
        ],
      });
      // One notification per delivered log file: what a SIEM subscribes to, to ingest the trail
      // from S3 as it lands (encrypted with the audit key, published only by this trail).
      this.trailTopic = new SnsTopic(trailScope, "notifications", { name: trailName, kmsMasterKeyId: props.auditKmsKeyArn });
      const topicPolicy = new SnsTopicPolicy(trailScope, "notifications-policy", {
        arn: this.trailTopic.arn,
        policy: policyDocument(trailScope, "notifications-policy-document", [
          {
            sid: "CloudTrailPublishes",
            effect: "Allow",
            actions: ["sns:Publish"],
            resources: [this.trailTopic.arn],
            principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
            condition: [{ test: "StringEquals", variable: "aws:SourceArn", values: [trailArn] }],
          },
        ]),
      });
      this.trail = new Cloudtrail(trailScope, "trail", {
        name: trailName,
        snsTopicName: this.trailTopic.name,
        s3BucketName: this.bucket.bucket.id,
        s3KeyPrefix: "cloudtrail",
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
        kmsKeyId: props.auditKmsKeyArn,
        cloudWatchLogsGroupArn: `${this.trailLogGroup.arn}:*`,
        cloudWatchLogsRoleArn: role.arn,
        dependsOn: [this.bucket.policy, topicPolicy],
      });
    }

    if (props.awsConfig) {
      const configScope = new Construct(this, "config");
      const role = new IamRole(configScope, "role", {
        name: naming.name("iamRole", "aws-config"),
        description: "AWS Config recorder",
        assumeRolePolicy: serviceTrustPolicy(configScope, "trust-policy", "config.amazonaws.com", accountId),
      });
      new IamRolePolicyAttachment(configScope, "managed-policy", {
        role: role.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole",
      });
      new IamRolePolicy(configScope, "delivery-policy", {
        name: "deliver-to-audit-bucket",
        role: role.id,
        policy: policyDocument(configScope, "delivery-policy-document", [
          { sid: "DeliverSnapshots", effect: "Allow", actions: ["s3:PutObject"], resources: [`${this.bucket.bucket.arn}/config/AWSLogs/${accountId}/Config/*`] },
          { sid: "CheckBucket", effect: "Allow", actions: ["s3:GetBucketAcl"], resources: [this.bucket.bucket.arn] },
          { sid: "EncryptSnapshots", effect: "Allow", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [props.auditKmsKeyArn] },
        ]),
      });
      this.configRecorder = new ConfigConfigurationRecorder(configScope, "recorder", {
        name: naming.name("generic", "config"),
        roleArn: role.arn,
        recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
      });
      const channel = new ConfigDeliveryChannel(configScope, "delivery-channel", {
        name: naming.name("generic", "config"),
        s3BucketName: this.bucket.bucket.id,
        s3KeyPrefix: "config",
        s3KmsKeyArn: props.auditKmsKeyArn,
        snapshotDeliveryProperties: { deliveryFrequency: "TwentyFour_Hours" },
        dependsOn: [this.configRecorder, this.bucket.policy],
      });
      const status = new ConfigConfigurationRecorderStatus(configScope, "recorder-status", {
        name: this.configRecorder.name,
        isEnabled: true,
        dependsOn: [channel],
      });
      for (const [ruleId, identifier] of Object.entries(CONFIG_MANAGED_RULES)) {
        this.configRules.push(
          new ConfigConfigRule(configScope, `rule-${ruleId}`, {
            name: naming.name("generic", ruleId),
            source: { owner: "AWS", sourceIdentifier: identifier },
            dependsOn: [status],
          }),
        );
      }
    }
  }
}
