import { EnvironmentInput } from "./schema";
import { sharedStateBackend } from "./state-backend";

/** develop: feature branches, cheapest layout (no NAT, tasks in public subnets), mostly Spot. */
export const develop: EnvironmentInput = {
  name: "develop",
  project: "fargate",
  accountId: "123456789012",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  network: {
    vpcCidr: "10.10.0.0/16",
    // Cost lever: no NAT gateway ($33/month each); tasks get public IPs, the SG chain still
    // admits only the ALB.
    natStrategy: "none",
    vpcEndpoints: false,
  },
  tags: { Environment: "develop", Owner: "platform-team", CostCenter: "engineering", Compliance: "NIST-SOC2" },
  logRetentionDays: 7,
  deletionProtection: false,
  // The account audit baseline (Config recorder, CloudTrail) is owned by prod, which shares this account.
  accountBaseline: false,
  scaling: { desiredCount: 1, minCapacity: 1, maxCapacity: 5, fargateSpotPercent: 70 },
  cicd: { manualApproval: false, branchPattern: "feature/*" },
  stateBackend: { ...sharedStateBackend, useLockfile: false },
  alb: {
    certificate: { arn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001" },
  },
  services: [
    {
      name: "api",
      image: { ecrRepository: "fargate/api", tag: "develop" },
      source: { repository: "platform-team/api" },
      containerPort: 8000,
      cpu: 256,
      memoryMiB: 512,
      exposure: { type: "public", paths: ["/*"], priority: 100, healthCheck: { path: "/health" } },
      autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80, requestsPerTarget: 1000 },
      environment: { LOG_LEVEL: "debug" },
      secrets: [{ name: "API_SIGNING_KEY", source: "ssm", path: "/fargate/develop/api/signing-key" }],
      healthCheck: { command: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health', timeout=2)"] },
      deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 0, standbyDesiredCount: 0 },
      user: "1000",
    },
    {
      name: "worker",
      image: { ecrRepository: "fargate/worker", tag: "develop" },
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
    instanceClass: "db.t4g.micro",
    multiAz: false,
    backupRetentionDays: 1,
    clientServices: ["api", "worker"],
  },
};
