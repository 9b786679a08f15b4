import { EnvironmentDelta } from "./catalogue";

/** prod: NAT per AZ, private tasks, on-demand only, deletion protection and a manual approval gate. */
export const prod: EnvironmentDelta = {
  name: "prod",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  network: { vpcCidr: "10.40.0.0/16", natStrategy: "per-az", vpcEndpoints: true },
  tags: { Environment: "prod" },
  logRetentionDays: 90,
  deletionProtection: true,
  // Owns the account audit baseline (Config recorder, CloudTrail): all four environments share one account.
  accountBaseline: true,
  scaling: { desiredCount: 3, minCapacity: 3, maxCapacity: 20, fargateSpotPercent: 0 },
  cicd: { manualApproval: true, branchPattern: "prod/*" },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000004" },
  },
  services: {
    api: { image: { tag: "prod" }, cpu: 512, memoryMiB: 1024 },
    worker: { image: { tag: "prod" } },
  },
  database: {
    instanceClass: "db.m7g.large",
    multiAz: true,
    backupRetentionDays: 14,
    deletionProtection: true,
  },
};
