import { Construct } from "constructs";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../lib/naming";
import { cloudWatchLogsKeyGrants, ManagedKey, managedKey } from "./keys";

export { cloudWatchLogsKeyGrants, managedKey } from "./keys";
export type { ManagedKey, ManagedKeySpec } from "./keys";

export { AuditBaseline, CONFIG_MANAGED_RULES, auditTrailName, auditTrailLogGroupName } from "./audit";
export type { AuditBaselineProps } from "./audit";
export { AccountBaseline, accessLogsBucketName, GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, githubOidcProviderArn } from "./account";
export type { AccountBaselineProps } from "./account";
export { DeployRole, MFA_MAX_AGE_SEC, operatorTrust, POWER_USER_POLICY_ARN } from "./deploy-role";
export type { DeployRoleProps } from "./deploy-role";
export { GithubDeployRole } from "./github";
export { StateAccessRole } from "./state-access";
export type { StateAccessRoleProps } from "./state-access";
export type { GithubDeployRoleProps } from "./github";

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
}

/**
 * Customer-managed KMS keys of one environment, one per kind of data, each with yearly
 * rotation: `logs` for CloudWatch Logs (the logs service needs its own key-policy grant) and
 * `data` for everything else that stores data (RDS, Secrets Manager, ECR, SNS, S3). The
 * account-wide audit key, trail and recorder live in the account stack (AccountBaseline).
 */
export class Security extends Construct {
  public readonly logsKey: ManagedKey;
  public readonly dataKey: ManagedKey;

  constructor(scope: Construct, id: string, props: SecurityProps) {
    super(scope, id);
    const { naming, accountId, region } = props;
    const key = (keyId: string, purpose: string, description: string, grants: DataAwsIamPolicyDocumentStatement[]) =>
      managedKey(this, { naming, accountId, id: keyId, purpose, description, grants, deletionWindowDays: props.keyDeletionWindowDays });

    this.logsKey = key("logs-key", "logs", `${naming.stem} CloudWatch Logs encryption`, cloudWatchLogsKeyGrants(region, `arn:aws:logs:${region}:${accountId}:log-group:*`));

    this.dataKey = key("data-key", "data", `${naming.stem} data encryption (RDS, secrets, ECR, SNS, S3)`, [
      {
        // Alarms publish to the encrypted SNS topic as the CloudWatch service, not as a role.
        sid: "CloudWatchAlarmsPublishToEncryptedTopics",
        effect: "Allow",
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
      },
      {
        // Pipeline- and build-failure rules publish to the encrypted topics as the EventBridge service.
        sid: "EventBridgeRulesPublishToEncryptedTopics",
        effect: "Allow",
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
      },
    ]);
  }
}
