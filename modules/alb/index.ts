import { Construct } from "constructs";
import { Token } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule, LbListenerRuleAction, LbListenerRuleCondition } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Naming, targetGroupPurpose } from "../../lib/naming";
import { ConstructPropsError } from "../../lib/errors";
import {
  certificateRegionProblem,
  deregistrationDelayProblem,
  hostHeaderProblem,
  pathPatternProblem,
  portProblem,
  ruleConditionsProblem,
  rulePriorityProblem,
  targetHealthCheckProblems,
  TargetHealthCheck,
} from "../../lib/aws-limits";
import { SecureBucket } from "../../lib/secure-bucket";
import { skipCheckov } from "../../lib/checkov";
import { AlbWaf, AlbWafProps } from "./waf";

export { AlbWaf, WAF_LOG_GROUP_PREFIX, WAF_MANAGED_RULE_GROUPS } from "./waf";
export type { AlbWafProps } from "./waf";

/** Key prefix of the access logs inside their bucket. */
export const ACCESS_LOG_PREFIX = "alb";

/** TLS policy of the HTTPS listener: TLS 1.3 and 1.2 only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * Elastic Load Balancing accounts that deliver access logs in regions that existed before
 * August 2022. Newer regions use the `logdelivery.elasticloadbalancing.amazonaws.com`
 * service principal instead (AWS docs: "Enable access logs for your Application Load Balancer").
 */
export const ELB_LOG_DELIVERY_ACCOUNTS: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-southeast-3": "589379963580",
  "ap-south-1": "718504428378",
  "ap-northeast-3": "383597477331",
  "ap-northeast-2": "600734575887",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-northeast-1": "582318560864",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-south-1": "635631232127",
  "eu-west-3": "009996457667",
  "eu-north-1": "897822967062",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
};

/** The ALB's certificate: an existing ACM certificate, or one created for a domain. */
export type AlbCertificate =
  | { readonly arn: string }
  | {
      /** Domain the certificate and the alias record are for. */
      readonly domain: string;
      /** Route 53 zone that holds the DNS validation records and the alias record. */
      readonly hostedZoneId: string;
    };

/** ALB target-group health check (from the service's exposure config; limits in lib/aws-limits.ts). */
export type AlbHealthCheck = TargetHealthCheck;

/** One public service's routing: its listener rule and target group(s) on the shared ALB. */
export interface ServiceRoutingProps {
  /** Names for this environment. */
  readonly naming: Naming;
  /** The environment's load balancer: the rule goes on its serving listener. */
  readonly alb: Alb;
  readonly vpcId: string;
  /** Service name (kebab-case); part of the target-group names. */
  readonly serviceName: string;
  /** Container port the target groups send to. */
  readonly containerPort: number;
  /** Listener rule path patterns (at least one of paths or hosts). */
  readonly paths: readonly string[];
  /** Listener rule host headers. */
  readonly hosts: readonly string[];
  /** Listener rule priority, unique per listener (1-50000). */
  readonly priority: number;
  readonly healthCheck: AlbHealthCheck;
  /**
   * Seconds a deregistering target keeps its in-flight requests.
   * @default 30
   */
  readonly deregistrationDelaySec?: number;
  /**
   * `rolling`: one target group. `blue-green`: blue and green target groups, both in the
   * rule's forward action with the given weights.
   */
  readonly deployment: "rolling" | "blue-green";
}

export interface AlbProps {
  /** Names for this environment. */
  readonly naming: Naming;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  /** Public subnets (one per AZ) the internet-facing ALB lives in. */
  readonly publicSubnetIds: readonly string[];
  /** The networking ALB security group (HTTP/HTTPS in, app ports to the ECS SG out). */
  readonly securityGroupId: string;
  /**
   * The HTTPS certificate.
   * @default - none: only allowed with `allowHttpOnly`
   */
  readonly certificate?: AlbCertificate;
  /**
   * Serve plain HTTP (no HTTPS listener) when there is no certificate. Must be said explicitly.
   * @default false
   */
  readonly allowHttpOnly?: boolean;
  /** ALB deletion protection (on in prod); also keeps the access-log bucket from force-destroy. */
  readonly deletionProtection: boolean;
  /**
   * Write access logs to an S3 bucket created here.
   * @default true
   */
  readonly accessLogs?: boolean;
  /**
   * Days access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /**
   * Bucket that receives the access-log bucket's own S3 server access logs.
   * @default - none
   */
  readonly serverAccessLogsBucket?: string;
  /**
   * Idle connection timeout.
   * @default 60
   */
  readonly idleTimeoutSec?: number;
  /**
   * The test listener CodeDeploy blue/green deployments route test traffic through (the green
   * task set, before any production traffic moves). Reachable only from inside: the
   * networking ALB security group admits its port only from the VPC or the configured CIDRs.
   * @default - no test listener (no service uses CodeDeploy)
   */
  readonly testListenerPort?: number;
  /**
   * AWS WAF in front of the load balancer: managed rule groups, a per-IP rate limit, request
   * logs to a KMS-encrypted `aws-waf-logs-...` log group (modules/alb/waf.ts).
   * @default - no WAF (the schema requires it in prod)
   */
  readonly waf?: Pick<AlbWafProps, "rateLimitPer5Min" | "logRetentionDays" | "logsKmsKeyArn">;
}

/** The target group(s) of one public service. */
export interface ServiceTargetGroups {
  /** The only target group of a rolling service; the blue one of a blue/green service. */
  readonly blue: LbTargetGroup;
  /** Blue/green services only. */
  readonly green?: LbTargetGroup;
}

/**
 * Internet-facing ALB: HTTP redirects to HTTPS (301), HTTPS on 443 with a TLS 1.3 policy and
 * a fixed 404 default, one listener rule per public service forwarding to its target
 * group(s). Blue/green rules carry the config weights at creation only: their action is under
 * `ignore_changes`, because the operator tool (scripts/traffic-switch.ts) owns the weights
 * afterwards and an apply must never revert a switch.
 */
export class Alb extends Construct {
  public readonly loadBalancer: Lb;
  /** Port 80: a 301 to HTTPS, or the serving listener when HTTP-only. */
  public readonly httpListener: LbListener;
  /** Port 443; absent only for an explicit HTTP-only environment. */
  public readonly httpsListener?: LbListener;
  /** The listener the service rules are attached to (HTTPS unless HTTP-only). */
  public readonly serviceListener: LbListener;
  /** ARN of the serving certificate (given or created and validated). */
  public readonly certificateArn?: string;
  public readonly certificate?: AcmCertificate;
  public readonly aliasRecord?: Route53Record;
  public readonly accessLogsBucket?: S3Bucket;
  /** The web ACL and its logging, when `waf` is given. */
  public readonly waf?: AlbWaf;
  /** The blue/green test listener (HTTPS with the serving certificate, or HTTP when HTTP-only). */
  public readonly testListener?: LbListener;
  /** Listener rule priorities claimed by services (unique per listener). */
  private readonly priorities = new Map<number, string[]>();

  constructor(scope: Construct, id: string, props: AlbProps) {
    super(scope, id);
    validate(this, props);
    const { naming } = props;
    const accessLogs = props.accessLogs ?? true;

    let logsDependency: S3BucketPolicy | undefined;
    if (accessLogs) {
      const logs = this.createAccessLogsBucket(props);
      this.accessLogsBucket = logs.bucket;
      logsDependency = logs.policy;
    }

    this.loadBalancer = new Lb(this, "load-balancer", {
      name: naming.name("alb", "alb"),
      loadBalancerType: "application",
      internal: false,
      subnets: [...props.publicSubnetIds],
      securityGroups: [props.securityGroupId],
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: props.deletionProtection,
      idleTimeout: props.idleTimeoutSec ?? 60,
      accessLogs: this.accessLogsBucket ? { bucket: this.accessLogsBucket.bucket, prefix: ACCESS_LOG_PREFIX, enabled: true } : undefined,
      // The bucket policy must exist before the ALB tests its write access.
      dependsOn: logsDependency ? [logsDependency] : undefined,
    });

    if (!accessLogs) skipCheckov(this.loadBalancer, "CKV_AWS_91", "access logs are off by environment config (alb.accessLogs false)");
    if (props.waf) {
      this.waf = new AlbWaf(this, "waf", { ...props.waf, naming, accountId: props.accountId, region: props.region, loadBalancerArn: this.loadBalancer.arn });
    } else {
      skipCheckov(this.loadBalancer, "CKV2_AWS_28", "WAF is off by environment config (optional outside prod; the schema requires it in prod)");
    }
    if (!props.deletionProtection) {
      skipCheckov(this.loadBalancer, "CKV_AWS_150", "deletion protection is off by environment config (non-prod, torn down at will); prod keeps it on");
    }

    if (props.certificate && "arn" in props.certificate) {
      this.certificateArn = props.certificate.arn;
    } else if (props.certificate) {
      const cert = this.createCertificate(props.certificate.domain, props.certificate.hostedZoneId);
      this.certificate = cert.certificate;
      this.certificateArn = cert.validatedArn;
    }

    const notFound: LbListenerRuleAction = {
      type: "fixed-response",
      fixedResponse: { contentType: "text/plain", messageBody: "Not Found", statusCode: "404" },
    };

    if (this.certificateArn) {
      this.httpListener = new LbListener(this, "http-listener", {
        loadBalancerArn: this.loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultAction: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      });
      this.httpsListener = new LbListener(this, "https-listener", {
        loadBalancerArn: this.loadBalancer.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn: this.certificateArn,
        defaultAction: [notFound],
      });
      this.serviceListener = this.httpsListener;
    } else {
      // Explicit HTTP-only environment (never prod; the config schema enforces it).
      this.httpListener = new LbListener(this, "http-listener", {
        loadBalancerArn: this.loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultAction: [notFound],
      });
      this.serviceListener = this.httpListener;
      const why = "plain HTTP by explicit environment config (allowHttpOnly, no certificate); never allowed in prod";
      skipCheckov(this.httpListener, "CKV_AWS_2", why);
      skipCheckov(this.httpListener, "CKV_AWS_103", why);
      skipCheckov(this.loadBalancer, "CKV2_AWS_20", why);
    }

    if (props.certificate && "domain" in props.certificate) {
      this.aliasRecord = new Route53Record(this, "alias-record", {
        zoneId: props.certificate.hostedZoneId,
        name: props.certificate.domain,
        type: "A",
        alias: { name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true },
      });
    }

    if (props.testListenerPort !== undefined) {
      this.testListener = new LbListener(this, "test-listener", {
        loadBalancerArn: this.loadBalancer.arn,
        port: props.testListenerPort,
        protocol: this.certificateArn ? "HTTPS" : "HTTP",
        sslPolicy: this.certificateArn ? TLS_POLICY : undefined,
        certificateArn: this.certificateArn,
        defaultAction: [notFound],
      });
      if (!this.certificateArn) {
        const why = "plain HTTP by explicit environment config (allowHttpOnly, no certificate); never allowed in prod";
        skipCheckov(this.testListener, "CKV_AWS_2", why);
        skipCheckov(this.testListener, "CKV_AWS_103", why);
      }
    }

    this.node.addValidation({
      validate: () =>
        [...this.priorities]
          .filter(([, owners]) => owners.length > 1)
          .map(([priority, owners]) => `listener rule priority ${priority} is claimed by services ${owners.map((o) => `"${o}"`).join(", ")}; got ${priority} ${owners.length} times; priorities must be unique per listener`),
    });
  }

  /** Records that `serviceName` routes at `priority` (duplicates fail synth with every owner named). */
  public claimPriority(priority: number, serviceName: string): void {
    this.priorities.set(priority, [...(this.priorities.get(priority) ?? []), serviceName]);
  }

  private createCertificate(domain: string, hostedZoneId: string): { certificate: AcmCertificate; validatedArn: string } {
    const certScope = new Construct(this, "certificate");
    const certificate = new AcmCertificate(certScope, "certificate", {
      domainName: domain,
      validationMethod: "DNS",
      keyAlgorithm: "RSA_2048",
      lifecycle: { createBeforeDestroy: true },
    });
    // One domain, so one validation option (tolist()[0] of the set).
    const option = certificate.domainValidationOptions.get(0);
    const record = new Route53Record(certScope, "validation-record", {
      zoneId: hostedZoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 60,
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(certScope, "validation", {
      certificateArn: certificate.arn,
      validationRecordFqdns: [record.fqdn],
    });
    return { certificate, validatedArn: validation.certificateArn };
  }

  private createAccessLogsBucket(props: AlbProps): SecureBucket {
    const { naming, accountId, region } = props;
    // Bucket names are global: the account ID keeps them unique.
    const bucketName = naming.name("s3Bucket", `alb-logs-${accountId}`);
    const objects = `arn:aws:s3:::${bucketName}/${ACCESS_LOG_PREFIX}/AWSLogs/${accountId}/*`;
    const elbAccount = ELB_LOG_DELIVERY_ACCOUNTS[region];
    const delivery: DataAwsIamPolicyDocumentStatement = {
      sid: "ElbLogDelivery",
      effect: "Allow",
      actions: ["s3:PutObject"],
      resources: [objects],
      principals: elbAccount
        ? [{ type: "AWS", identifiers: [`arn:aws:iam::${elbAccount}:root`] }]
        : [{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }],
    };
    const logs = new SecureBucket(this, "access-logs", {
      bucketName,
      // ALB access-log delivery supports SSE-S3 only (SSE-KMS is rejected), so this bucket
      // uses AES256 rather than the platform's data key.
      sseS3Reason: "ALB access-log delivery supports SSE-S3 only",
      expirationDays: props.accessLogRetentionDays ?? 90,
      noncurrentVersionDays: 7,
      accessLogsBucket: props.serverAccessLogsBucket,
      policyStatements: [delivery],
      forceDestroy: !props.deletionProtection,
    });
    // SSE-S3, replication and event-notification skips are SecureBucket's (with sseS3Reason).
    return logs;
  }
}


/**
 * One public service on the shared ALB: its target group (rolling) or blue and green target
 * groups, and its listener rule. Blue/green rules carry the config weights at creation only:
 * their action is under `ignore_changes`, because the operator tool (scripts/traffic-switch.ts)
 * owns the weights afterwards and an apply must never revert a switch.
 */
export class ServiceRouting extends Construct {
  public readonly targetGroups: ServiceTargetGroups;
  public readonly listenerRule: LbListenerRule;
  /** Blue/green only: the same route on the test listener (to the replacement task set). */
  public readonly testListenerRule?: LbListenerRule;
  private readonly alb: Alb;

  constructor(scope: Construct, id: string, props: ServiceRoutingProps) {
    super(scope, id);
    this.alb = props.alb;
    validateRouting(this, props);
    props.alb.claimPriority(props.priority, props.serviceName);
    const targetGroup = (tgId: string, purpose: string) => {
      const tg = new LbTargetGroup(this, tgId, {
        name: props.naming.name("targetGroup", purpose),
        port: props.containerPort,
        protocol: "HTTP",
        protocolVersion: "HTTP1",
        targetType: "ip",
        vpcId: props.vpcId,
        deregistrationDelay: String(props.deregistrationDelaySec ?? 30),
        healthCheck: {
          enabled: true,
          protocol: "HTTP",
          port: "traffic-port",
          path: props.healthCheck.path,
          matcher: props.healthCheck.matcher,
          interval: props.healthCheck.intervalSec,
          timeout: props.healthCheck.timeoutSec,
          healthyThreshold: props.healthCheck.healthyThreshold,
          unhealthyThreshold: props.healthCheck.unhealthyThreshold,
        },
      });
      skipCheckov(tg, "CKV_AWS_378", "TLS ends at the ALB; targets get HTTP inside the VPC, admitted only from the ALB security group");
      // A port change replaces the group: the new one (new name, see targetGroupPurpose) exists
      // before the rule and the service move to it, so the replacement can complete.
      tg.lifecycle = { createBeforeDestroy: true };
      return tg;
    };

    const condition: LbListenerRuleCondition[] = [];
    if (props.paths.length) condition.push({ pathPattern: { values: [...props.paths] } });
    if (props.hosts.length) condition.push({ hostHeader: { values: [...props.hosts] } });

    if (props.deployment === "blue-green") {
      const testListener = props.alb.testListener;
      if (!testListener) throw new ConstructPropsError(this, `a blue/green service needs the ALB's test listener; got an Alb without testListenerPort; set it where a service uses CodeDeploy`);
      const blue = targetGroup("blue-target-group", targetGroupPurpose(props.serviceName, "blue", props.containerPort));
      const green = targetGroup("green-target-group", targetGroupPurpose(props.serviceName, "green", props.containerPort));
      this.targetGroups = { blue, green };
      // Always the full forward config (never a bare target_group_arn): CodeDeploy shifts
      // weights on it, and the ALB rejects mixing the two syntaxes once weights were used.
      const forward = (first: LbTargetGroup, second: LbTargetGroup): LbListenerRuleAction[] => [
        { type: "forward", forward: { targetGroup: [{ arn: first.arn, weight: 100 }, { arn: second.arn, weight: 0 }] } },
      ];
      this.listenerRule = new LbListenerRule(this, "listener-rule", {
        listenerArn: props.alb.serviceListener.arn,
        priority: props.priority,
        action: forward(blue, green),
        condition,
        // Owner of the action after creation: CodeDeploy. Each deployment moves the weights to
        // the replacement target group; an apply must never move them back (ALB + CodeDeploy tests).
        lifecycle: { ignoreChanges: ["action"] },
      });
      this.testListenerRule = new LbListenerRule(this, "test-listener-rule", {
        listenerArn: testListener.arn,
        priority: props.priority,
        action: forward(green, blue),
        condition,
        // Owner of the action after creation: CodeDeploy routes the test listener to the replacement task set.
        lifecycle: { ignoreChanges: ["action"] },
      });
    } else {
      const only = targetGroup("target-group", targetGroupPurpose(props.serviceName, "rolling", props.containerPort));
      this.targetGroups = { blue: only };
      this.listenerRule = new LbListenerRule(this, "listener-rule", {
        listenerArn: props.alb.serviceListener.arn,
        priority: props.priority,
        // Rolling services never use weighted routing, so the plain form stays valid.
        action: [{ type: "forward", targetGroupArn: only.arn }],
        condition,
      });
    }
  }

  /** `<alb arn_suffix>/<target group arn_suffix>`: the ALBRequestCountPerTarget resource label. */
  public resourceLabel(tg: LbTargetGroup): string {
    return `${this.albArnSuffix}/${tg.arnSuffix}`;
  }

  private get albArnSuffix(): string {
    return this.alb.loadBalancer.arnSuffix;
  }
}

function validate(scope: Construct, props: AlbProps): void {
  props.naming.name("alb", "alb");
  if (props.accessLogs ?? true) props.naming.name("s3Bucket", `alb-logs-${props.accountId}`);
  scope.node.addValidation({
    validate: () => {
      const problems: string[] = [];
      if (!props.certificate && !props.allowHttpOnly) problems.push(`an HTTPS certificate is required; got none; give certificate { arn } or { domain, hostedZoneId }, or set allowHttpOnly (not in prod)`);
      if (props.certificate && props.allowHttpOnly) problems.push(`give either a certificate or allowHttpOnly, not both; got both`);
      if (props.publicSubnetIds.length < 2) problems.push(`an ALB needs public subnets in at least 2 AZs; got ${props.publicSubnetIds.length}`);
      if (props.certificate && "arn" in props.certificate && !Token.isUnresolved(props.certificate.arn)) {
        const problem = certificateRegionProblem(props.certificate.arn, props.region);
        if (problem) problems.push(`certificate.arn ${problem}`);
      }
      return problems;
    },
  });
}

function validateRouting(scope: Construct, props: ServiceRoutingProps): void {
  // Names first: a NameError before anything is created.
  for (const colour of props.deployment === "blue-green" ? (["blue", "green"] as const) : (["rolling"] as const)) {
    props.naming.name("targetGroup", targetGroupPurpose(props.serviceName, colour, props.containerPort));
  }
  scope.node.addValidation({
    validate: () => {
      const known = <T>(v: T) => !Token.isUnresolved(v);
      const problems: (string | undefined)[] = [
        ruleConditionsProblem(props.paths, props.hosts),
        ...props.paths.map((p) => pathPatternProblem(p)).map((p) => p && `paths: ${p}`),
        ...props.hosts.map((h) => hostHeaderProblem(h)).map((p) => p && `hosts: ${p}`),
        known(props.priority) ? prefixed("priority", rulePriorityProblem(props.priority)) : undefined,
        known(props.containerPort) ? prefixed("containerPort", portProblem(props.containerPort)) : undefined,
        prefixed("deregistrationDelaySec", deregistrationDelayProblem(props.deregistrationDelaySec ?? 30)),
        ...Object.entries(targetHealthCheckProblems(props.healthCheck)).map(([field, p]) => `healthCheck.${field} ${p}`),
      ];
      return problems.filter((p): p is string => p !== undefined);
    },
  });
}

function prefixed(field: string, problem: string | undefined): string | undefined {
  return problem && `${field} ${problem}`;
}
