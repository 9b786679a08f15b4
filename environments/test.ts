import { EnvironmentDelta } from "./catalogue";

/** test: release candidates, single NAT, tasks in private subnets, 30% Spot. */
export const test: EnvironmentDelta = {
  name: "test",
  // Non-prod account (environments/accounts.ts): its account stack owns CloudTrail, AWS Config, the deploy role.
  account: "nonprod",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  network: { vpcCidr: "10.20.0.0/16", natStrategy: "single", vpcEndpoints: false },
  tags: { Environment: "test" },
  logRetentionDays: 30,
  deletionProtection: false,
  scaling: { desiredCount: 2, minCapacity: 2, maxCapacity: 10, fargateSpotPercent: 30 },
  cicd: { releases: "build", manualApproval: false, branchPattern: "release/*.*.*", releaseBranch: "release/1.0.0", then: ["qa"] },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000002" },
  },
  services: {
    api: { image: { tag: "test" } },
    worker: { image: { tag: "test" } },
  },
};
