import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../src/naming";
import { policyDocument } from "../../src/iam-policy";

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

/** Customer-managed KMS key with rotation and an alias. */
export interface ManagedKey {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
}

/**
 * Customer-managed KMS keys, one per kind of data, each with yearly rotation:
 * `logs` for CloudWatch Logs (the logs service needs its own key-policy grant) and `data`
 * for everything else that stores data (RDS, Secrets Manager, ECR, SNS, S3).
 */
export class Security extends Construct {
  public readonly logsKey: ManagedKey;
  public readonly dataKey: ManagedKey;

  constructor(scope: Construct, id: string, props: SecurityProps) {
    super(scope, id);
    const { naming, accountId, region } = props;
    const deletionWindowInDays = props.keyDeletionWindowDays ?? 30;

    const rootAdmin: DataAwsIamPolicyDocumentStatement = {
      sid: "AccountAdministersKey",
      effect: "Allow",
      actions: ["kms:*"],
      resources: ["*"], // in a key policy "*" means this key
      principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${accountId}:root`] }],
    };

    const createKey = (keyId: string, purpose: string, description: string, extra: DataAwsIamPolicyDocumentStatement[]) => {
      const scopeForKey = new Construct(this, keyId);
      const key = new KmsKey(scopeForKey, "key", {
        description,
        enableKeyRotation: true,
        deletionWindowInDays,
        policy: policyDocument(scopeForKey, "policy", [rootAdmin, ...extra]),
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

    this.dataKey = createKey("data-key", "data", `${naming.stem} data encryption (RDS, secrets, ECR, SNS, S3)`, []);
  }
}
