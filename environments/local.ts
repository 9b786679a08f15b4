import { EnvironmentDelta } from "./catalogue";
import { AccountInput } from "./accounts";

/**
 * local: the platform on the AWS emulator (moto_server on 127.0.0.1), for `npm run local:up`
 * and `npm run test:e2e`. Same schema, same modules, same code paths as the real
 * environments; only what the emulator cannot serve is switched off below, each switch with
 * the reason (checked against the pinned moto in requirements-tools.txt and provider 5.100.0).
 *
 * Not part of ENVIRONMENT_INPUTS: `npm run synth` never writes it. src/app.ts adds the
 * `fargate-local` stack (and its emulator bootstrap `fargate-local-state`) only when
 * PLATFORM_EMULATOR_ENDPOINT=http://127.0.0.1:<port> is set at synth time; then every
 * provider and backend endpoint points at that address.
 *
 * The account is moto's fixed account 123456789012, so `allowed_account_ids` is checked
 * against the emulator's STS answer exactly as in AWS. It has its own account stack,
 * `fargate-account-local` (LOCAL_ACCOUNT_INPUT below), applied before the environment.
 */
export const local: EnvironmentDelta = {
  name: "local",
  account: "local",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  network: {
    vpcCidr: "10.50.0.0/16",
    // The emulator charges nothing: take the richer layout (NAT, private task subnets,
    // VPC endpoints) so those code paths are applied too.
    natStrategy: "single",
    vpcEndpoints: true,
  },
  tags: { Environment: "local" },
  logRetentionDays: 7,
  deletionProtection: false,
  scaling: { desiredCount: 1, minCapacity: 1, maxCapacity: 2, fargateSpotPercent: 50 },
  cicd: { releases: "build", manualApproval: true, branchPattern: "feature/*", trigger: "manual", releaseBranch: "feature/integration" },
  alb: {
    // Emulator gap: moto rejects a listener whose certificate ARN it does not hold
    // (CertificateNotFound, which the provider retries for minutes); an imported certificate
    // gets a random ARN the config cannot name, and a certificate for a domain needs DNS
    // validation in a hosted zone that does not exist here. So the ALB serves HTTP only.
    allowHttpOnly: true,
    // moto models WAFv2 (web ACL, association, logging configuration): the prod path is applied here too.
    waf: { enabled: true },
  },
  // moto models IAM OIDC providers and roles: the GitHub deploy role is applied here too.
  github: { repository: "example-org/fargate-apps", branch: "main" },
  services: {
    // The api releases with CodeDeploy blue/green as in every other environment: moto's
    // CodeDeploy cannot update or delete anything, so the codedeploy shim of
    // scripts/emulator-shims.ts serves it (its probe says when moto catches up).
    api: { image: { tag: "local" }, environment: { LOG_LEVEL: "debug" } },
    worker: { image: { tag: "local" }, desiredCount: 2 },
  },
  database: {
    // moto does not model Performance Insights: DescribeDBInstances never returns it, so
    // every plan after apply would want to turn it on again.
    performanceInsights: false,
  },
  features: {
    // Each switch was rechecked against moto 5.2.3 + hashicorp/aws 5.100.0 (a one-resource
    // apply each). Everything else (RDS, ALB, WAF, ECS, VPC endpoints, NAT, KMS, flow logs,
    // alarms, the GitHub role; CloudTrail and AWS Config in the account stack) applies on the emulator.
    //
    // On: moto has no Application Auto Scaling ListTagsForResource/TagResource (HTTP 500),
    // which the provider calls right after creating aws_appautoscaling_target; the
    // appautoscaling-tags shim of scripts/emulator-shims.ts serves the tags.
    autoscaling: true,
    // On: the pipelines (CodePipeline, the build and release projects, their roles, the artifact
    // bucket, the pipeline rules and dashboard) apply here too. moto has no CodeConnections, so
    // the local account names an existing connection (LOCAL_ACCOUNT_INPUT.sourceConnectionArn);
    // the codepipeline-timestamps and codebuild shims of scripts/emulator-shims.ts serve what
    // moto 5.2.3 gets wrong.
    cicd: true,
    // moto 5.2.3 CreateService never reads capacityProviderStrategy (moto/ecs/responses.py
    // create_service) and reports launchType EC2, so every plan after apply would replace each
    // service (launch_type forces a new one) and a replacement drops what a release deployed.
    // The emulator's services run with launch type FARGATE; the cluster still gets the
    // FARGATE/FARGATE_SPOT strategy of the Spot share, and real environments use it.
    capacityProviders: false,
    // moto rejects PutBucketLogging (InvalidTargetBucketForLogging) unless the target bucket
    // grants the legacy LogDelivery ACL; the platform's log buckets use BucketOwnerEnforced
    // (no ACLs) and a bucket policy for logging.s3.amazonaws.com, which is what AWS expects.
    s3AccessLogging: false,
    // moto's CloudWatch Logs implements no query-definition API (PutQueryDefinition is not in
    // moto/logs/responses.py), so aws_cloudwatch_query_definition cannot be created.
    savedQueries: false,
  },
  observability: {
    // Off, as everywhere by default, and it must stay off here: moto has no Amazon Managed
    // Grafana service at all (no moto/grafana backend), so aws_grafana_workspace cannot apply.
    grafana: { enabled: false },
  },
};

/**
 * The emulator's account: moto's only account, with its own account stack
 * (`fargate-account-local`, built only with PLATFORM_EMULATOR_ENDPOINT, src/emulator). Same
 * schema and code paths as environments/accounts.ts; the switches below say what moto cannot serve.
 */
export const LOCAL_ACCOUNT_INPUT: AccountInput = {
  name: "local",
  id: "123456789012",
  region: "us-east-1",
  tier: "nonprod",
  // moto's STS answers AssumeRole for roles of its account, so the provider's assume_role path
  // runs on the emulator as in AWS (the account stack creates this role first).
  assumeRole: { roleArn: "arn:aws:iam::123456789012:role/fargate-deploy", sessionName: "fargate-local" },
  // No bootstrapRole: the emulator's credentials are already in the account.
  operators: ["arn:aws:iam::123456789012:root"],
  requireMfa: false,
  githubOidc: true,
  auditRetentionDays: 365,
  tags: { Owner: "platform-team", CostCenter: "engineering", Compliance: "NIST-SOC2" },
  features: {
    // moto rejects PutBucketLogging (InvalidTargetBucketForLogging) unless the target bucket
    // grants the legacy LogDelivery ACL; the access-logs bucket is BucketOwnerEnforced (no ACLs)
    // with a bucket policy for logging.s3.amazonaws.com, which is what AWS expects.
    s3AccessLogging: false,
    // moto has no CodeConnections (CreateConnection: HTTP 500): the emulator's pipelines name
    // an existing connection instead, as an account whose handshake was done elsewhere would.
    sourceConnection: false,
  },
  sourceConnectionArn: "arn:aws:codeconnections:us-east-1:123456789012:connection/00000000-emulator",
};
