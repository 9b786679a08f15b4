import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming } from "../../lib/naming";
import { accountAdministersKey, keyPolicy } from "../../lib/iam-policy";

/** Customer-managed KMS key with rotation and an alias. */
export interface ManagedKey {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
}

/** What a customer key is for: its construct ID, alias purpose, description and service grants. */
export interface ManagedKeySpec {
  readonly naming: Naming;
  readonly accountId: string;
  /** Construct ID of the key's scope (`logs-key`, `audit-key`). */
  readonly id: string;
  /** Alias purpose: `alias/<project>-<env>-<purpose>`. */
  readonly purpose: string;
  readonly description: string;
  /** Key-policy statements beyond the account's administration of the key. */
  readonly grants: readonly DataAwsIamPolicyDocumentStatement[];
  /** @default 30 */
  readonly deletionWindowDays?: number;
}

/** A rotating customer key with its alias, created in `<scope>/<id>/key` and `.../alias`. */
export function managedKey(scope: Construct, spec: ManagedKeySpec): ManagedKey {
  const keyScope = new Construct(scope, spec.id);
  const key = new KmsKey(keyScope, "key", {
    description: spec.description,
    enableKeyRotation: true,
    deletionWindowInDays: spec.deletionWindowDays ?? 30,
    policy: keyPolicy([accountAdministersKey(spec.accountId), ...spec.grants]),
  });
  const alias = new KmsAlias(keyScope, "alias", { name: spec.naming.kmsAlias(spec.purpose), targetKeyId: key.keyId });
  return { key, alias };
}

/**
 * Key-policy grants for CloudWatch Logs of `region` on log groups matching `logGroupArn`
 * (a pattern or one group). The crypto actions carry the log group in their encryption
 * context; DescribeKey carries none, so it has its own statement (a context condition on it
 * would never match and leave that part of the grant dead).
 */
export function cloudWatchLogsKeyGrants(region: string, logGroupArn: string): DataAwsIamPolicyDocumentStatement[] {
  const principals = [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }];
  return [
    {
      sid: "CloudWatchLogsUseKey",
      effect: "Allow",
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
      resources: ["*"],
      principals,
      condition: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [logGroupArn] }],
    },
    {
      // Key metadata only (no data): the logs service checks the key when a group is associated.
      sid: "CloudWatchLogsDescribeKey",
      effect: "Allow",
      actions: ["kms:DescribeKey"],
      resources: ["*"],
      principals,
    },
  ];
}

