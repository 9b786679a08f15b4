import { PolicyRule } from "../types";
import { s3Encryption } from "./s3-encryption";
import { s3Versioning } from "./s3-versioning";
import { s3PublicAccessBlock } from "./s3-public-access-block";
import { s3TlsOnly } from "./s3-tls-only";
import { dynamodbPitr } from "./dynamodb-pitr";
import { dynamodbCmk } from "./dynamodb-cmk";
import { kmsRotation } from "./kms-rotation";
import { vpcFlowLogs } from "./vpc-flow-logs";
import { vpcDefaultSgClosed } from "./vpc-default-sg-closed";
import { sgOpenIngress } from "./sg-open-ingress";
import { logsKms } from "./logs-kms";
import { logsRetention } from "./logs-retention";
import { iamTrustSourceAccount } from "./iam-trust-source-account";
import { iamNoWildcard } from "./iam-no-wildcard";
import { iamNoAdminPolicy } from "./iam-no-admin-policy";
import { albTlsPolicy } from "./alb-tls-policy";
import { albHttpRedirect } from "./alb-http-redirect";
import { albDropInvalidHeaders } from "./alb-drop-invalid-headers";
import { albDesyncMitigation } from "./alb-desync-mitigation";
import { ecsContainerInsights } from "./ecs-container-insights";
import { ecsNoPublicIp } from "./ecs-no-public-ip";
import { ecsNoPrivileged } from "./ecs-no-privileged";
import { ecsNoEnvSecrets } from "./ecs-no-env-secrets";
import { ecsReadonlyRoot } from "./ecs-readonly-root";
import { rdsEncryption } from "./rds-encryption";
import { rdsNotPublic } from "./rds-not-public";
import { rdsManagedPassword } from "./rds-managed-password";
import { rdsMultiAz } from "./rds-multi-az";
import { rdsDeletionProtection } from "./rds-deletion-protection";
import { snsEncryption } from "./sns-encryption";
import { ecrRepository } from "./ecr-repository";
import { cloudtrailIntegrity } from "./cloudtrail-integrity";
import { secretsCmk } from "./secrets-cmk";
import { wafPublicAlb } from "./waf-public-alb";
import { iamTrustMfa } from "./iam-trust-mfa";
import { iamConditionKeys } from "./iam-condition-keys";

export {
  s3Encryption, s3Versioning, s3PublicAccessBlock, s3TlsOnly, dynamodbPitr, dynamodbCmk, kmsRotation, vpcFlowLogs,
  vpcDefaultSgClosed, sgOpenIngress, logsKms, logsRetention, iamTrustSourceAccount, iamNoWildcard, iamNoAdminPolicy, albTlsPolicy,
  albHttpRedirect, albDropInvalidHeaders, albDesyncMitigation, ecsContainerInsights, ecsNoPublicIp, ecsNoPrivileged,
  ecsNoEnvSecrets, ecsReadonlyRoot, rdsEncryption, rdsNotPublic, rdsManagedPassword, rdsMultiAz, rdsDeletionProtection,
  snsEncryption, ecrRepository, cloudtrailIntegrity, secretsCmk, wafPublicAlb, iamTrustMfa, iamConditionKeys,
};

/** Every rule of the pack, in report order. */
export const ALL_RULES: readonly PolicyRule[] = [
  // storage
  s3Encryption, s3Versioning, s3PublicAccessBlock, s3TlsOnly, dynamodbPitr, dynamodbCmk, kmsRotation,
  // network
  vpcFlowLogs, vpcDefaultSgClosed, sgOpenIngress,
  // logs
  logsKms, logsRetention,
  // iam
  iamTrustSourceAccount, iamNoWildcard, iamNoAdminPolicy,
  // alb
  albTlsPolicy, albHttpRedirect, albDropInvalidHeaders, albDesyncMitigation,
  // ecs
  ecsContainerInsights, ecsNoPublicIp, ecsNoPrivileged, ecsNoEnvSecrets, ecsReadonlyRoot,
  // rds
  rdsEncryption, rdsNotPublic, rdsManagedPassword, rdsMultiAz, rdsDeletionProtection,
  // accounts and the edge (issue 10)
  snsEncryption, ecrRepository, cloudtrailIntegrity, secretsCmk, wafPublicAlb, iamTrustMfa, iamConditionKeys,
];
