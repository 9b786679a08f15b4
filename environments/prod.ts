import { EnvironmentInput } from "./schema";
import { sharedStateBackend } from "./state-backend";

/** prod: NAT per AZ, private tasks, on-demand only, deletion protection and a manual approval gate. */
export const prod: EnvironmentInput = {
  name: "prod",
  project: "fargate",
  accountId: "123456789012",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  network: {
    vpcCidr: "10.40.0.0/16",
    natStrategy: "per-az",
    vpcEndpoints: true,
  },
  tags: { Environment: "prod", Owner: "platform-team", CostCenter: "engineering", Compliance: "NIST-SOC2" },
  logRetentionDays: 90,
  deletionProtection: true,
  // Owns the account audit baseline (Config recorder, CloudTrail): all four environments share one account.
  accountBaseline: true,
  scaling: { desiredCount: 3, minCapacity: 3, maxCapacity: 20, fargateSpotPercent: 0 },
  cicd: { manualApproval: true, branchPattern: "prod/*" },
  stateBackend: { ...sharedStateBackend, useLockfile: false },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000004" },
  },
  services: [
    {
      name: "api",
      image: { ecrRepository: "fargate/api", tag: "prod" },
      source: { repository: "platform-team/api" },
      containerPort: 8000,
      cpu: 512,
      memoryMiB: 1024,
      exposure: { type: "public", paths: ["/*"], priority: 100, healthCheck: { path: "/health" } },
      autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80, requestsPerTarget: 1000 },
      environment: { LOG_LEVEL: "info" },
      secrets: [{ name: "API_SIGNING_KEY", source: "ssm", path: "/fargate/prod/api/signing-key" }],
      healthCheck: { command: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health', timeout=2)"] },
      deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 0, standbyDesiredCount: 0 },
      user: "1000",
    },
    {
      name: "worker",
      image: { ecrRepository: "fargate/worker", tag: "prod" },
      source: { repository: "platform-team/worker" },
      containerPort: 9000,
      cpu: 256,
      memoryMiB: 512,
      exposure: { type: "internal" },
      healthCheck: { command: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:9000/health', timeout=2)"] },
      user: "1000",
    },
  ],
  database: {
    engineVersion: "15",
    instanceClass: "db.m7g.large",
    multiAz: true,
    backupRetentionDays: 14,
    deletionProtection: true,
    clientServices: ["api", "worker"],
  },
};
