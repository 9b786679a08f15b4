import { compliant, nonCompliant, PolicyRule } from "../types";
import { block, isSet, isTrue } from "../values";

export const dynamodbCmk: PolicyRule = {
  id: "DYNAMODB-CMK",
  description: "DynamoDB tables are encrypted with a customer-managed KMS key (key policy and rotation under our control), not the AWS-owned key.",
  severity: "error",
  controls: ["CKV_AWS_119"],
  resourceTypes: ["aws_dynamodb_table"],
  check(table) {
    const sse = block(table.config.server_side_encryption);
    if (!sse || !isTrue(sse.enabled)) return nonCompliant("server_side_encryption.enabled is not true (the table uses the AWS-owned key)");
    const key = sse.kms_key_arn;
    if (!isSet(key)) return nonCompliant("server_side_encryption has no kms_key_arn (the AWS-managed aws/dynamodb key is used); give a customer-managed key");
    if (/alias\/aws\//.test(String(key))) return nonCompliant(`kms_key_arn is an AWS-managed key; got ${key}`);
    return compliant();
  },
};
