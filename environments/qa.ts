import { EnvironmentDelta } from "./catalogue";

/** qa: pre-production acceptance, single NAT, private tasks, 30% Spot, 3 AZs like prod. */
export const qa: EnvironmentDelta = {
  name: "qa",
  // Non-prod account (environments/accounts.ts): its account stack owns CloudTrail, AWS Config, the deploy role.
  account: "nonprod",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  network: { vpcCidr: "10.30.0.0/16", natStrategy: "single", vpcEndpoints: true },
  tags: { Environment: "qa" },
  logRetentionDays: 30,
  deletionProtection: false,
  scaling: { desiredCount: 2, minCapacity: 2, maxCapacity: 10, fargateSpotPercent: 30 },
  cicd: { releases: "delivered", by: "test" },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000003" },
    // Pre-production acceptance behind the same WAF as prod: false positives of the managed
    // rules show here, before a release reaches prod.
    waf: { enabled: true },
  },
  services: {
    api: { image: { tag: "qa" } },
    worker: { image: { tag: "qa" } },
  },
};
