import { Construct } from "constructs";
import { Token } from "cdktf";
import { Wafv2WebAcl, Wafv2WebAclRule } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { checkedName, Naming } from "../../lib/naming";
import { logRetentionProblem, wafRateLimitProblem } from "../../lib/aws-limits";
import { policyDocument } from "../../lib/iam-policy";

/**
 * The AWS managed rule groups every web ACL evaluates, in order: OWASP-style common rules,
 * known bad inputs (Log4j/JNDI lookups, ...), Amazon's IP reputation list, and anonymizers
 * (Tor exits, anonymizing VPNs; with the Log4j rules this is checkov's CKV2_AWS_76 pair).
 */
export const WAF_MANAGED_RULE_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesAnonymousIpList",
] as const;

/**
 * Rules of the groups above that only count: `HostingProviderIPList` would block every client
 * that runs in a cloud (partners' servers, uptime checks), not only anonymizers.
 */
export const WAF_COUNT_ONLY_RULES: Readonly<Partial<Record<(typeof WAF_MANAGED_RULE_GROUPS)[number], readonly string[]>>> = {
  AWSManagedRulesAnonymousIpList: ["HostingProviderIPList"],
};

/** WAF only delivers to CloudWatch log groups whose name starts with this. */
export const WAF_LOG_GROUP_PREFIX = "aws-waf-logs-";

export interface AlbWafProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  /** The load balancer the web ACL protects. */
  readonly loadBalancerArn: string;
  /** Requests one client IP may send in 5 minutes before the rate-based rule blocks it (100-2e9). */
  readonly rateLimitPer5Min: number;
  /** Days the WAF log group keeps request logs (a CloudWatch Logs retention value). */
  readonly logRetentionDays: number;
  /** Customer key (with a CloudWatch Logs grant) for the WAF log group. */
  readonly logsKmsKeyArn: string;
}

/**
 * AWS WAF in front of an ALB: the managed rule groups above, a per-IP rate limit, and full
 * request logging to a KMS-encrypted CloudWatch log group (`aws-waf-logs-<project>-<env>`)
 * with the delivery resource policy WAF needs, owned here rather than created by WAF on the side.
 */
export class AlbWaf extends Construct {
  public readonly webAcl: Wafv2WebAcl;
  public readonly association: Wafv2WebAclAssociation;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly logging: Wafv2WebAclLoggingConfiguration;

  constructor(scope: Construct, id: string, props: AlbWafProps) {
    super(scope, id);
    validate(this, props);
    const { naming, accountId, region } = props;
    const aclName = naming.name("generic", "alb-waf");
    const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

    const managed: Wafv2WebAclRule[] = WAF_MANAGED_RULE_GROUPS.map((group, i) => ({
      name: group,
      priority: (i + 1) * 10,
      // A managed group's own actions apply (block); `none` means "do not override them".
      overrideAction: { none: {} },
      statement: {
        managed_rule_group_statement: {
          name: group,
          vendor_name: "AWS",
          ...(WAF_COUNT_ONLY_RULES[group] ? { rule_action_override: WAF_COUNT_ONLY_RULES[group]!.map((name) => ({ name, action_to_use: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(`${aclName}-${group}`),
    }));
    this.webAcl = new Wafv2WebAcl(this, "web-acl", {
      name: aclName,
      description: `${naming.stem} internet-facing load balancer`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rule: [
        ...managed,
        {
          name: "rate-limit-per-ip",
          priority: (managed.length + 1) * 10,
          action: { block: {} },
          statement: { rate_based_statement: { limit: props.rateLimitPer5Min, aggregate_key_type: "IP" } },
          visibilityConfig: visibility(`${aclName}-rate-limit`),
        },
      ],
      visibilityConfig: visibility(aclName),
    });
    this.association = new Wafv2WebAclAssociation(this, "association", { resourceArn: props.loadBalancerArn, webAclArn: this.webAcl.arn });

    const logGroupName = checkedWafLogGroup(naming);
    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    // The delivery grant WAF would otherwise add on its own (AWS docs: "Permissions to publish logs to CloudWatch Logs").
    const delivery = new CloudwatchLogResourcePolicy(this, "delivery-policy", {
      policyName: naming.name("generic", "waf-log-delivery"),
      policyDocument: policyDocument(this, "delivery-policy-document", [
        {
          sid: "WafLogDelivery",
          effect: "Allow",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}:*`],
          principals: [{ type: "Service", identifiers: ["delivery.logs.amazonaws.com"] }],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:logs:${region}:${accountId}:*`] },
          ],
        },
      ]),
    });
    this.logging = new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [this.logGroup.arn],
      dependsOn: [delivery],
    });
  }
}

/** `aws-waf-logs-<project>-<env>`: the prefix WAF requires, then the environment's stem. */
function checkedWafLogGroup(naming: Naming): string {
  return checkedName("logGroup", `${WAF_LOG_GROUP_PREFIX}${naming.stem}`);
}

function validate(scope: Construct, props: AlbWafProps): void {
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      if (!Token.isUnresolved(props.rateLimitPer5Min)) {
        const rate = wafRateLimitProblem(props.rateLimitPer5Min);
        if (rate) problems.push(`rateLimitPer5Min ${rate}`);
      }
      const retention = logRetentionProblem(props.logRetentionDays);
      if (retention) problems.push(`logRetentionDays ${retention}`);
      return problems;
    },
  });
}
