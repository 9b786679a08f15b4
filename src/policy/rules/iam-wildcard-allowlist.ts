/**
 * The one place that says where IAM's `*` is acceptable, each entry with the reason.
 * Read by IAM-NO-WILDCARD; add to it only with a reason a reviewer can check in AWS's
 * service authorization reference ("Resource types: *").
 */

/** Actions AWS only authorizes on Resource "*" (they have no resource-level permissions). */
export const RESOURCE_WILDCARD_ACTIONS: readonly { readonly action: string; readonly reason: string }[] = [
  { action: "ecr:GetAuthorizationToken", reason: "the registry login token is account-wide; the action supports no resource ARN" },
  { action: "logs:CreateLogDelivery", reason: "vended log delivery APIs support no resource-level permissions" },
  { action: "logs:GetLogDelivery", reason: "vended log delivery APIs support no resource-level permissions" },
  { action: "logs:UpdateLogDelivery", reason: "vended log delivery APIs support no resource-level permissions" },
  { action: "logs:DeleteLogDelivery", reason: "vended log delivery APIs support no resource-level permissions" },
  { action: "logs:ListLogDeliveries", reason: "vended log delivery APIs support no resource-level permissions" },
  { action: "xray:PutTraceSegments", reason: "X-Ray trace ingestion supports no resource-level permissions" },
  { action: "xray:PutTelemetryRecords", reason: "X-Ray trace ingestion supports no resource-level permissions" },
  { action: "xray:GetSampling*", reason: "X-Ray sampling rules/targets are read account-wide by the daemon/ADOT sidecar" },
  { action: "ssmmessages:*", reason: "ECS Exec's SSM session channels (Create/OpenControlChannel, Create/OpenDataChannel) support no resource ARN" },
  { action: "ecs:RegisterTaskDefinition", reason: "task definitions are registered by family name; the action supports no resource-level permissions" },
  { action: "ecs:DescribeTaskDefinition", reason: "the action supports no resource-level permissions" },
  { action: "elasticloadbalancing:DescribeTargetGroups", reason: "Elastic Load Balancing Describe* actions support no resource-level permissions (CodeDeploy reads the target groups it swaps)" },
  { action: "elasticloadbalancing:DescribeListeners", reason: "Elastic Load Balancing Describe* actions support no resource-level permissions" },
  { action: "elasticloadbalancing:DescribeRules", reason: "Elastic Load Balancing Describe* actions support no resource-level permissions" },
  { action: "elasticloadbalancing:DescribeTargetHealth", reason: "Elastic Load Balancing Describe* actions support no resource-level permissions" },
  { action: "cloudwatch:PutMetricData", reason: "custom metrics support no resource-level permissions (restrict with the cloudwatch:namespace condition)" },
  { action: "cloudwatch:GetMetricData", reason: "metric reads support no resource-level permissions (Managed Grafana's CloudWatch data source)" },
  { action: "cloudwatch:ListMetrics", reason: "metric listing supports no resource-level permissions (Managed Grafana's CloudWatch data source)" },
  { action: "cloudwatch:DescribeAlarmsForMetric", reason: "the action supports no resource-level permissions (Managed Grafana shows alarm thresholds on panels)" },
];

/**
 * Resource types whose attached policy is a resource policy on the resource itself, where
 * Resource "*" means "this resource" rather than "everything".
 */
export const SELF_SCOPED_POLICY_TYPES: Readonly<Record<string, string>> = {
  aws_kms_key: 'in a KMS key policy, Resource "*" means the key the policy is attached to',
};
