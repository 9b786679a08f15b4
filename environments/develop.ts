import { EnvironmentDelta } from "./catalogue";

/** develop: feature branches, cheapest layout (no NAT, tasks in public subnets), mostly Spot. */
export const develop: EnvironmentDelta = {
  name: "develop",
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
  // The account audit baseline (Config recorder, CloudTrail) is owned by prod, which shares this account.
  accountBaseline: false,
  scaling: { desiredCount: 1, minCapacity: 1, maxCapacity: 5, fargateSpotPercent: 70 },
  cicd: { manualApproval: false, branchPattern: "feature/*" },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001" },
  },
  services: {
    // develop: no canary wait; CodeDeploy still proves the green task set healthy first.
    api: { image: { tag: "develop" }, environment: { LOG_LEVEL: "debug" }, deployment: { strategy: "all-at-once", terminationWaitMinutes: 0 } },
    worker: { image: { tag: "develop" } },
  },
};
