import { EnvironmentDelta } from "./catalogue";

/** develop: feature branches, cheapest layout (no NAT, tasks in public subnets), mostly Spot. */
export const develop: EnvironmentDelta = {
  name: "develop",
  // Non-prod account (environments/accounts.ts): its account stack owns CloudTrail, AWS Config, the deploy role.
  account: "nonprod",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  network: {
    vpcCidr: "10.10.0.0/16",
    // Cost lever: no NAT gateway ($33/month each); tasks get public IPs, the SG chain still
    // admits only the ALB.
    natStrategy: "none",
    vpcEndpoints: false,
  },
  tags: { Environment: "develop" },
  logRetentionDays: 7,
  deletionProtection: false,
  scaling: { desiredCount: 1, minCapacity: 1, maxCapacity: 5, fargateSpotPercent: 70 },
  // The deployment guide: develop deploys feature branches, started by hand only.
  cicd: { releases: "build", manualApproval: false, branchPattern: "feature/*", trigger: "manual", releaseBranch: "feature/integration" },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001" },
  },
  // GitHub Actions may push images and start releases from feature branches of one repository.
  github: { repository: "example-org/fargate-apps", branch: "feature/*" },
  services: {
    // develop: no canary wait; CodeDeploy still proves the green task set healthy first.
    api: { image: { tag: "develop" }, environment: { LOG_LEVEL: "debug" }, deployment: { strategy: "all-at-once", terminationWaitMinutes: 0 } },
    worker: { image: { tag: "develop" } },
  },
};
