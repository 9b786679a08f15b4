import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { policyDocument } from "../../lib/iam-policy";
import { operatorTrust } from "./deploy-role";

export interface StateAccessRoleProps {
  /** Role name: `<project>-tfstate-<account>`. */
  readonly name: string;
  /** The state account's region (the bucket, table and key's). */
  readonly region: string;
  /** Human principals that may assume it (the account's operators). */
  readonly operators: readonly string[];
  /** Trust only MFA sessions (the account runs prod). */
  readonly requireMfa: boolean;
  /** The state bucket's name. */
  readonly bucketName: string;
  /** The lock table's ARN. */
  readonly lockTableArn: string;
  /** The state key's ARN. */
  readonly kmsKeyArn: string;
  /** State key prefixes the role may read and write (`fargate/develop/`, `fargate/account-nonprod/`). */
  readonly keyPrefixes: readonly string[];
  /** `Environment` tag of the role: the account's tier (what the policy pack reads for MFA). */
  readonly tier: string;
}

/**
 * The role the S3 backends of one account's stacks assume in the state account: read and
 * write only those stacks' state objects and lock items (the lock ID is `<bucket>/<key>`, so
 * `dynamodb:LeadingKeys` pins the items), and use the state key only through S3 and DynamoDB.
 * Another account's state stays out of reach. Listing the bucket (key names only) is allowed:
 * `terraform init` lists workspaces.
 */
export class StateAccessRole extends Construct {
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: StateAccessRoleProps) {
    super(scope, id);
    const bucketArn = `arn:aws:s3:::${props.bucketName}`;
    this.role = new IamRole(this, "role", {
      name: props.name,
      description: `Terraform state of ${props.keyPrefixes.join(", ")} (S3 backend role)`,
      assumeRolePolicy: policyDocument(this, "trust-policy", [operatorTrust(props.operators, props.requireMfa)]),
      tags: { Environment: props.tier },
    });
    new IamRolePolicy(this, "policy", {
      name: "own-state-only",
      role: this.role.id,
      policy: policyDocument(this, "policy-document", [
        { sid: "ListStateKeys", effect: "Allow", actions: ["s3:ListBucket"], resources: [bucketArn] },
        { sid: "ReadWriteOwnState", effect: "Allow", actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources: props.keyPrefixes.map((p) => `${bucketArn}/${p}*`) },
        {
          sid: "LockOwnState",
          effect: "Allow",
          actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
          resources: [props.lockTableArn],
          condition: [{ test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: props.keyPrefixes.map((p) => `${props.bucketName}/${p}*`) }],
        },
        {
          sid: "UseStateKeyThroughS3AndDynamodb",
          effect: "Allow",
          actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
          resources: [props.kmsKeyArn],
          condition: [{ test: "StringEquals", variable: "kms:ViaService", values: [`s3.${props.region}.amazonaws.com`, `dynamodb.${props.region}.amazonaws.com`] }],
        },
      ]),
    });
  }
}
