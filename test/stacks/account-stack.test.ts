/**
 * The account layout as synthesized: one account stack per account beside the state stack,
 * environments that reach their account and the state account only through config-computed
 * names and roles (no remote state, no cross-stack reference), WAF and DNS at the edge.
 */
import { Testing, TerraformStack } from "cdktf";
import { loadConfig } from "../../environments";
import { buildStacks } from "../../src/app";
import { evaluateStack } from "../../src/policy/aspect";
import { resourcesOf } from "../helpers";

const config = loadConfig();
const app = Testing.app();
const built = buildStacks(app, config);
const json = (stack: TerraformStack) => JSON.parse(Testing.synth(stack));
const byId = Object.fromEntries([built.stateBackend, ...built.accounts, ...built.environments].map((s) => [s.node.id, json(s)]));
const statementsOf = (stack: any, ref: string) => stack.data.aws_iam_policy_document[/data\.aws_iam_policy_document\.([^.]+)\.json/.exec(ref)![1]].statement;

describe("AccountStack", () => {
  test("one account stack per account, beside the state stack and before the environments", () => {
    expect(app.node.children.map((c) => c.node.id)).toEqual(["fargate-state", "fargate-account-nonprod", "fargate-account-prod", "fargate-develop", "fargate-test", "fargate-qa", "fargate-prod"]);
  });

  test.each(["nonprod", "prod"])("%s: applied through the bootstrap role, state next to the environments' in the state account", (name) => {
    const account = config.accounts.find((a) => a.name === name)!;
    const stack = byId[`fargate-account-${name}`];
    expect(stack.provider.aws[0]).toMatchObject({
      allowed_account_ids: [account.id],
      assume_role: [{ role_arn: account.bootstrapRole!.roleArn, session_name: account.bootstrapRole!.sessionName }],
      default_tags: [{ tags: expect.objectContaining({ Environment: account.tier, Account: name, Compliance: "NIST-SOC2" }) }],
    });
    expect(stack.terraform.backend.s3).toEqual({
      bucket: "fargate-tfstate-123456789012-us-east-1",
      key: `fargate/account-${name}/terraform.tfstate`,
      region: "us-east-1",
      dynamodb_table: "fargate-tfstate-lock",
      encrypt: true,
      kms_key_id: "arn:aws:kms:us-east-1:123456789012:alias/fargate-tfstate",
      assume_role: { role_arn: `arn:aws:iam::123456789012:role/fargate-tfstate-${name}`, session_name: account.assumeRole.sessionName },
    });
  });

  test.each(["nonprod", "prod"])("%s: the trail, the recorder, the audit key, the access-logs bucket, the deploy role and the OIDC provider", (name) => {
    const stack = byId[`fargate-account-${name}`];
    expect(resourcesOf(stack, "aws_cloudtrail")).toHaveLength(1);
    expect(resourcesOf(stack, "aws_config_configuration_recorder")).toHaveLength(1);
    expect(resourcesOf(stack, "aws_kms_alias").map(([, a]) => a.name).sort()).toEqual([`alias/fargate-${name}-audit`, `alias/fargate-${name}-registry`]);
    expect(resourcesOf(stack, "aws_s3_bucket").map(([, b]) => b.bucket).sort()).toEqual([`fargate-${name}-access-logs-${config.accounts.find((a) => a.name === name)!.id}`, `fargate-${name}-audit-${config.accounts.find((a) => a.name === name)!.id}`]);
    expect(resourcesOf(stack, "aws_iam_openid_connect_provider")).toHaveLength(1);
    expect(resourcesOf(stack, "aws_cloudwatch_log_group").map(([, g]) => g.retention_in_days)).toEqual([365]);
  });

  test.each(["nonprod", "prod"])("%s: one registry for the account's environments: a repository per image, immutable tags, scanned, on the account's own key", (name) => {
    const stack = byId[`fargate-account-${name}`];
    const repositories = resourcesOf(stack, "aws_ecr_repository").map(([, r]) => r);
    expect(repositories.map((r) => r.name).sort()).toEqual(["fargate/api", "fargate/worker"]);
    for (const r of repositories) {
      expect(r).toMatchObject({ image_tag_mutability: "IMMUTABLE", image_scanning_configuration: { scan_on_push: true }, encryption_configuration: [{ encryption_type: "KMS", kms_key: expect.stringMatching(/aws_kms_key\.registry-key_\w+\.arn/) }], force_delete: false });
    }
    // Release tags never expire: prod may still promote or roll back to them.
    for (const [, policy] of resourcesOf(stack, "aws_ecr_lifecycle_policy")) {
      expect(JSON.parse(policy.policy).rules.map((r: any) => r.selection.tagStatus)).toEqual(["untagged", "tagged"]);
    }
    // Environment stacks create no repository of their own.
    for (const env of ["develop", "test", "qa", "prod"]) expect(resourcesOf(byId[`fargate-${env}`], "aws_ecr_repository")).toEqual([]);
  });

  test("build once, promote the digest: nonprod replicates every image into prod's repositories; prod reads nonprod's release tags", () => {
    const nonprod = byId["fargate-account-nonprod"];
    const prod = byId["fargate-account-prod"];
    const [[, replication]] = resourcesOf(nonprod, "aws_ecr_replication_configuration");
    expect(replication.replication_configuration.rule).toEqual([{ destination: [{ registry_id: "222222222222", region: "us-east-1" }], repository_filter: [{ filter: "fargate/", filter_type: "PREFIX_MATCH" }] }]);
    for (const [, p] of resourcesOf(nonprod, "aws_ecr_repository_policy")) {
      expect(JSON.parse(p.policy).Statement).toEqual([{ Sid: "PromotingAccountsReadReleaseTags", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::222222222222:root"] }, Action: ["ecr:DescribeImages"] }]);
    }
    expect(resourcesOf(nonprod, "aws_ecr_repository_policy")).toHaveLength(2);
    const [[, registryPolicy]] = resourcesOf(prod, "aws_ecr_registry_policy");
    expect(JSON.parse(registryPolicy.policy).Statement).toEqual([
      { Sid: "ReplicateReleasesFromSourceAccounts", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::111111111111:root"] }, Action: ["ecr:ReplicateImage"], Resource: ["arn:aws:ecr:us-east-1:222222222222:repository/fargate/*"] },
    ]);
    // Prod replicates nowhere and lets nobody read.
    expect(resourcesOf(prod, "aws_ecr_replication_configuration")).toEqual([]);
    expect(resourcesOf(prod, "aws_ecr_repository_policy")).toEqual([]);
    expect(resourcesOf(nonprod, "aws_ecr_registry_policy")).toEqual([]);
  });

  test("one Bitbucket connection per account, named once; environments use the account's ARN and create none", () => {
    for (const name of ["nonprod", "prod"]) {
      expect(resourcesOf(byId[`fargate-account-${name}`], "aws_codestarconnections_connection").map(([, c]) => c)).toEqual([{ name: "fargate-bitbucket", provider_type: "Bitbucket" }]);
    }
    for (const env of ["develop", "test", "prod"]) {
      const stack = byId[`fargate-${env}`];
      expect(resourcesOf(stack, "aws_codestarconnections_connection")).toEqual([]);
      const account = config.accounts.find((a) => a.name === config.environments.find((e) => e.name === env)!.account)!;
      for (const [, p] of resourcesOf(stack, "aws_codepipeline")) expect(p.stage[0].action[0].configuration.ConnectionArn).toBe(account.sourceConnectionArn);
    }
  });

  test("a prod account guards what code cannot rebuild (audit bucket, keys, release images); nonprod does not", () => {
    const guardedTypes = (name: string) => [...new Set(Object.entries(byId[`fargate-account-${name}`].resource as Record<string, Record<string, any>>).flatMap(([type, byName]) => Object.values(byName).filter((r) => r.lifecycle?.prevent_destroy).map(() => type)))].sort();
    expect(guardedTypes("prod")).toEqual(["aws_ecr_repository", "aws_kms_key", "aws_s3_bucket"]);
    expect(guardedTypes("nonprod")).toEqual([]);
  });

  test("the prod deploy role trusts the operators only with MFA; the non-prod one without", () => {
    const trust = (name: string) => {
      const stack = byId[`fargate-account-${name}`];
      const [, role] = resourcesOf(stack, "aws_iam_role").find(([, r]) => r.name === "fargate-deploy")!;
      return statementsOf(stack, role.assume_role_policy)[0];
    };
    expect(trust("prod").condition.map((c: any) => c.variable)).toEqual(["aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "sts:ExternalId"]);
    expect(trust("nonprod").condition).toBeUndefined();
    expect(trust("prod").principals).toEqual([{ type: "AWS", identifiers: config.accounts.find((a) => a.name === "prod")!.operators }]);
  });

  test("each deploy role manages IAM only under its own environments' names", () => {
    const scope = (name: string) => {
      const stack = byId[`fargate-account-${name}`];
      const [, policy] = resourcesOf(stack, "aws_iam_role_policy").find(([, p]) => p.name === "environment-iam-and-audit-guard")!;
      return statementsOf(stack, policy.policy).find((s: any) => s.sid === "ManageEnvironmentRoles").resources;
    };
    expect(scope("nonprod")).toEqual(["develop", "test", "qa"].map((e) => `arn:aws:iam::111111111111:role/fargate-${e}-*`));
    expect(scope("prod")).toEqual(["arn:aws:iam::222222222222:role/fargate-prod-*"]);
  });

  test("the deploy role's PowerUserAccess is a written, reported suppression, not a silent pass", () => {
    const findings = evaluateStack(built.accounts[1]).filter((f) => f.ruleId === "IAM-NO-ADMIN-POLICY" && f.status === "suppressed");
    expect(findings).toHaveLength(1);
    expect(findings[0].suppressionReason).toMatch(/only the operators \(prod: with MFA\) can assume it/);
  });
});

describe("StateBackendStack: one backend role per other account", () => {
  const state = byId["fargate-state"];
  const roles = Object.fromEntries(resourcesOf(state, "aws_iam_role").map(([, r]) => [r.name, r]));

  test("nonprod's role reaches only the nonprod stacks' state; prod's only prod's, and only with MFA", () => {
    expect(Object.keys(roles).sort()).toEqual(["fargate-tfstate-nonprod", "fargate-tfstate-prod"]);
    const objects = (name: string) => {
      const [, policy] = resourcesOf(state, "aws_iam_role_policy").find(([, p]) => p.role.includes(name.replace(/-/g, "")) || p.role.includes(name))!;
      return statementsOf(state, policy.policy).find((s: any) => s.sid === "ReadWriteOwnState").resources;
    };
    const bucket = "arn:aws:s3:::fargate-tfstate-123456789012-us-east-1";
    expect(objects("fargate-tfstate-nonprod")).toEqual(["account-nonprod", "develop", "test", "qa"].map((k) => `${bucket}/fargate/${k}/*`));
    expect(objects("fargate-tfstate-prod")).toEqual(["account-prod", "prod"].map((k) => `${bucket}/fargate/${k}/*`));
    expect(statementsOf(state, roles["fargate-tfstate-prod"].assume_role_policy)[0].sid).toBe("OperatorsWithMfa");
    expect(statementsOf(state, roles["fargate-tfstate-nonprod"].assume_role_policy)[0].sid).toBe("Operators");
    expect(roles["fargate-tfstate-prod"].tags).toEqual({ Environment: "prod" });
  });
});

describe("environments in their accounts", () => {
  test.each(config.environments.map((e) => [e.name, e] as const))("%s: the provider assumes its account's deploy role and only that account is allowed", (name, env) => {
    const account = config.accounts.find((a) => a.name === env.account)!;
    expect(byId[`fargate-${name}`].provider.aws[0]).toMatchObject({
      allowed_account_ids: [account.id],
      assume_role: [{ role_arn: account.assumeRole.roleArn, session_name: account.assumeRole.sessionName, ...(account.assumeRole.externalId ? { external_id: account.assumeRole.externalId } : {}) }],
    });
  });

  test("buckets log into their account stack's access-logs bucket by name: no remote state, no cross-stack reference", () => {
    for (const env of config.environments) {
      const stack = byId[`fargate-${env.name}`];
      const targets = new Set(resourcesOf(stack, "aws_s3_bucket_logging").map(([, l]) => l.target_bucket));
      expect(targets).toEqual(new Set([`fargate-${env.account}-access-logs-${env.accountId}`]));
      expect(stack.data?.terraform_remote_state).toBeUndefined();
    }
  });

  test("WAF on prod's (and qa's) internet-facing ALB: managed rule groups, a per-IP rate limit, KMS-encrypted logs", () => {
    const withWaf = config.environments.filter((e) => resourcesOf(byId[`fargate-${e.name}`], "aws_wafv2_web_acl").length).map((e) => e.name);
    expect(withWaf).toEqual(["qa", "prod"]);
    const prod = byId["fargate-prod"];
    const [[, acl]] = resourcesOf(prod, "aws_wafv2_web_acl");
    expect(acl.rule.map((r: any) => r.statement.managed_rule_group_statement?.name ?? `rate ${r.statement.rate_based_statement.limit}`)).toEqual([
      "AWSManagedRulesCommonRuleSet",
      "AWSManagedRulesKnownBadInputsRuleSet",
      "AWSManagedRulesAmazonIpReputationList",
      "AWSManagedRulesAnonymousIpList",
      "rate 2000",
    ]);
    const [[, association]] = resourcesOf(prod, "aws_wafv2_web_acl_association");
    expect(association.resource_arn).toMatch(/^\$\{aws_lb\.alb_load-balancer_[0-9A-F]+\.arn\}$/);
    const group = resourcesOf(prod, "aws_cloudwatch_log_group").find(([, g]) => g.name === "aws-waf-logs-fargate-prod")![1];
    expect(group).toMatchObject({ retention_in_days: 365, kms_key_id: expect.stringContaining("aws_kms_key.security_logs-key") });
    expect(resourcesOf(prod, "aws_wafv2_web_acl_logging_configuration")[0][1].log_destination_configs).toEqual([expect.stringContaining("aws_cloudwatch_log_group.alb_waf_log-group")]);
  });

  test("prod is reached through Route 53: an alias record to the ALB and an ACM certificate validated through DNS", () => {
    const prod = byId["fargate-prod"];
    const records = resourcesOf(prod, "aws_route53_record").map(([, r]) => r);
    expect(records.find((r) => r.type === "A")).toMatchObject({ name: "app.example.com", zone_id: "Z0123456789EXAMPLEABC", alias: expect.objectContaining({ evaluate_target_health: true }) });
    expect(records.some((r) => r.allow_overwrite === true && r.zone_id === "Z0123456789EXAMPLEABC")).toBe(true);
    expect(resourcesOf(prod, "aws_acm_certificate")[0][1]).toMatchObject({ domain_name: "app.example.com", validation_method: "DNS" });
    expect(resourcesOf(prod, "aws_lb_listener").find(([, l]) => l.port === 443)![1].certificate_arn).toContain("aws_acm_certificate_validation");
  });

  test("GitHub deploy roles in develop (feature branches) and prod (the protected environment) through the account's OIDC provider", () => {
    const trust = (name: string) => {
      const stack = byId[`fargate-${name}`];
      const [, role] = resourcesOf(stack, "aws_iam_role").find(([, r]) => r.name === `fargate-${name}-github-deploy`)!;
      return statementsOf(stack, role.assume_role_policy)[0];
    };
    expect(trust("prod").principals).toEqual([{ type: "Federated", identifiers: ["arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"] }]);
    expect(trust("prod").condition[1]).toEqual({ test: "StringEquals", variable: "token.actions.githubusercontent.com:sub", values: ["repo:example-org/fargate-apps:environment:prod"] });
    expect(trust("develop").condition[1]).toEqual({ test: "StringLike", variable: "token.actions.githubusercontent.com:sub", values: ["repo:example-org/fargate-apps:ref:refs/heads/feature/*"] });
    expect(resourcesOf(byId["fargate-test"], "aws_iam_role").some(([, r]) => r.name.endsWith("github-deploy"))).toBe(false);
    // Build once: develop's role may push to the account registry; prod's may only release what was promoted.
    const sids = (name: string) => {
      const stack = byId[`fargate-${name}`];
      const [, policy] = resourcesOf(stack, "aws_iam_role_policy").find(([, p]) => JSON.stringify(p.role).includes("github"))!;
      return statementsOf(stack, policy.policy).map((st: any) => st.sid);
    };
    expect(sids("develop")).toContain("PushOwnImages");
    expect(sids("prod")).not.toContain("PushOwnImages");
    expect(sids("prod")).toContain("ReleaseOwnServices");
  });
});
