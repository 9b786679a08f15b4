/**
 * How a stack reaches its account and the state account, from config alone (plans run
 * offline, so nothing is looked up): the provider's `allowed_account_ids` and `assume_role`,
 * and the S3 backend's key ARN and `assume_role` in the state account. Used by every
 * environment stack and every account stack.
 */
import { AwsProviderAssumeRole } from "@cdktf/provider-aws/lib/provider";
import { S3BackendConfig } from "cdktf";
import { Naming } from "../../lib/naming";
import { accessLogsBucketName } from "../../modules/security";

/** A role to assume, as the config gives it. */
export interface AssumedRole {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId?: string;
}

/** The state bucket, table and key, and how to reach them. */
export interface StateLocation {
  readonly bucket: string;
  readonly lockTable: string;
  readonly region: string;
  readonly kmsKeyAlias: string;
  /** The account the bucket, table and key live in. */
  readonly accountId: string;
  /** Assumed by the backend when the state account is not the stack's account. */
  readonly assumeRole?: AssumedRole;
}

/** Provider settings: only `accountId`, reached through `role` when given. */
export function providerAccess(accountId: string, role?: AssumedRole): { allowedAccountIds: string[]; assumeRole?: AwsProviderAssumeRole[] } {
  return {
    // A prod config can never be applied with credentials of another account.
    allowedAccountIds: [accountId],
    ...(role ? { assumeRole: [{ roleArn: role.roleArn, sessionName: role.sessionName, ...(role.externalId ? { externalId: role.externalId } : {}) }] } : {}),
  };
}

/**
 * The S3 backend of a stack whose state key is `key`: the shared bucket and LockID table, the
 * state key's alias ARN in the STATE account (not the stack's), and the state-access role
 * when the state lives in another account.
 */
export function s3BackendConfig(state: StateLocation, key: string): S3BackendConfig {
  return {
    bucket: state.bucket,
    key,
    region: state.region,
    dynamodbTable: state.lockTable,
    encrypt: true,
    kmsKeyId: `arn:aws:kms:${state.region}:${state.accountId}:${state.kmsKeyAlias}`,
    ...(state.assumeRole ? { assumeRole: { roleArn: state.assumeRole.roleArn, sessionName: state.assumeRole.sessionName } } : {}),
  };
}

/** The account stack's access-logs bucket, which an environment's buckets log into. */
export function accountAccessLogsBucket(project: string, accountName: string, accountId: string): string {
  return accessLogsBucketName(new Naming(project, accountName), accountId);
}
