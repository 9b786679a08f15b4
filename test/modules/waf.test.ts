import { AlbWaf, WAF_MANAGED_RULE_GROUPS } from "../../modules/alb";
import { checkovSkips } from "../../lib/checkov";
import { Naming } from "../../lib/naming";
import { documentOf, LOGS_KEY, makeAlb, newStack, problemsOf, resourcesOf, synthJson } from "./fixtures";

const waf = { rateLimitPer5Min: 2000, logRetentionDays: 365, logsKmsKeyArn: LOGS_KEY };

describe("AlbWaf", () => {
  const stack = newStack();
  const alb = makeAlb(stack, { naming: new Naming("fargate", "prod"), waf });
  const json = synthJson(stack);

  test("creates a regional web ACL with the AWS managed rule groups and a per-IP rate limit, allowing the rest", () => {
    const [[, acl]] = resourcesOf(json, "aws_wafv2_web_acl");
    expect(acl).toMatchObject({ name: "fargate-prod-alb-waf", scope: "REGIONAL", default_action: { allow: {} } });
    expect(acl.rule.map((r: any) => [r.priority, r.name])).toEqual([
      [10, "AWSManagedRulesCommonRuleSet"],
      [20, "AWSManagedRulesKnownBadInputsRuleSet"],
      [30, "AWSManagedRulesAmazonIpReputationList"],
      [40, "AWSManagedRulesAnonymousIpList"],
      [50, "rate-limit-per-ip"],
    ]);
    expect(acl.rule.slice(0, 4).map((r: any) => r.statement.managed_rule_group_statement.name)).toEqual([...WAF_MANAGED_RULE_GROUPS]);
    // Anonymizers are blocked; clients hosted in a cloud only counted.
    expect(acl.rule[3].statement.managed_rule_group_statement.rule_action_override).toEqual([{ name: "HostingProviderIPList", action_to_use: { count: {} } }]);
    expect(acl.rule[4]).toMatchObject({ action: { block: {} }, statement: { rate_based_statement: { limit: 2000, aggregate_key_type: "IP" } } });
  });

  test("protects the load balancer, so checkov's WAF check needs no skip", () => {
    const [[, association]] = resourcesOf(json, "aws_wafv2_web_acl_association");
    expect(association.resource_arn).toContain("aws_lb.alb_load-balancer");
    expect(checkovSkips(alb.loadBalancer).has("CKV2_AWS_28")).toBe(false);
    expect(checkovSkips(makeAlb(newStack()).loadBalancer).get("CKV2_AWS_28")).toMatch(/WAF is off by environment config/);
  });

  test("logs every request to a KMS-encrypted aws-waf-logs-* group, with the delivery grant it needs", () => {
    const group = resourcesOf(json, "aws_cloudwatch_log_group").find(([, g]) => g.name.startsWith("aws-waf-logs-"))![1];
    expect(group).toEqual(expect.objectContaining({ name: "aws-waf-logs-fargate-prod", retention_in_days: 365, kms_key_id: LOGS_KEY }));
    const [[, logging]] = resourcesOf(json, "aws_wafv2_web_acl_logging_configuration");
    expect(logging.log_destination_configs).toEqual([expect.stringContaining("aws_cloudwatch_log_group.alb_waf_log-group")]);
    const [[, policy]] = resourcesOf(json, "aws_cloudwatch_log_resource_policy");
    expect(documentOf(json, policy.policy_document).statement[0]).toMatchObject({
      principals: [{ type: "Service", identifiers: ["delivery.logs.amazonaws.com"] }],
      resources: ["arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-fargate-prod:*"],
    });
  });

  test("throws when the rate limit or the log retention is outside what AWS accepts", () => {
    const bad = newStack();
    new AlbWaf(bad, "waf", { ...waf, naming: new Naming("fargate", "prod"), accountId: "123456789012", region: "us-east-1", loadBalancerArn: "arn", rateLimitPer5Min: 10, logRetentionDays: 100 });
    expect(problemsOf(bad)).toEqual([
      "test/waf: rateLimitPer5Min must be a whole number from 100 to 2000000000 requests per 5 minutes; got 10",
      "test/waf: logRetentionDays is not a retention CloudWatch Logs accepts; got 100; valid: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ]);
  });
});
