import { EnvironmentDelta } from "./catalogue";

/** prod: NAT per AZ, private tasks, on-demand only, deletion protection and a manual approval gate. */
export const prod: EnvironmentDelta = {
  name: "prod",
  // Its own account (environments/accounts.ts): MFA for operators, audit trail in its account stack.
  account: "prod",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  network: { vpcCidr: "10.40.0.0/16", natStrategy: "per-az", vpcEndpoints: true },
  tags: { Environment: "prod" },
  logRetentionDays: 90,
  deletionProtection: true,
  scaling: { desiredCount: 3, minCapacity: 3, maxCapacity: 20, fargateSpotPercent: 0 },
  // A manual "Release change" builds a prod/* branch too, never main.
  cicd: { releases: "promote", from: "qa", manualApproval: true, branchPattern: "prod/*", releaseBranch: "prod/1.0.0" },
  alb: {
    // Route 53 in front of the ALB (the write-up): an alias record and an ACM certificate
    // validated through DNS, both in this example hosted zone of the prod account.
    certificate: { domain: "app.example.com", hostedZoneId: "Z0123456789EXAMPLEABC" },
    // WAF is on by default in prod (schema); the rate-based rule blocks one IP above this.
    waf: { rateLimitPer5Min: 2000 },
  },
  // GitHub Actions may start releases of promoted digests (never push images: prod promotes),
  // only from the protected "prod" environment.
  github: { repository: "example-org/fargate-apps", environment: "prod" },
  services: {
    api: { image: { tag: "prod" }, cpu: 512, memoryMiB: 1024 },
    worker: { image: { tag: "prod" } },
  },
  observability: {
    // Pages reach on-call: an example address and an example pager URL (replace both; a pager's
    // SNS integration URL carries its routing key into config and state, see docs/observability.md).
    critical: { emails: ["oncall@example.com"], httpsEndpoints: ["https://pager.example.com/integration/sns"] },
    // On-call looks at target health in Managed Grafana (the troubleshooting notes' setup);
    // sign-in through IAM Identity Center, which must be enabled in the prod account.
    grafana: { enabled: true },
  },
  database: {
    instanceClass: "db.m7g.large",
    multiAz: true,
    backupRetentionDays: 14,
    deletionProtection: true,
  },
};
