/**
 * The service catalogue: each application service defined once. An environment runs a
 * service by naming it under `services` in its own file, with only what differs there
 * (image tag, size, log level, ...). Adding a service: one entry here, then one line per
 * environment that runs it (README "How to add a service").
 *
 * A service's Terraform addresses depend only on its name (the key below), never on its
 * position here or on the other services.
 */
import { ServiceDefinition } from "./catalogue";

/** Container health check that works in slim Python images (no curl). */
const pythonHealthCheck = (port: number) => ({
  command: ["CMD", "python", "-c", `import urllib.request; urllib.request.urlopen('http://localhost:${port}/health', timeout=2)`],
});

export const SERVICE_CATALOGUE: Readonly<Record<string, ServiceDefinition>> = {
  /** The public HTTP API behind the ALB; canary releases through CodeDeploy. */
  api: {
    image: { ecrRepository: "api", tag: "bootstrap" },
    source: { repository: "platform-team/api" },
    containerPort: 8000,
    cpu: 256,
    memoryMiB: 512,
    exposure: { type: "public", paths: ["/*"], priority: 100, healthCheck: { path: "/health" } },
    // No request-count policy: it would name one target group, and CodeDeploy alternates them.
    autoscaling: { cpuTargetPercent: 70, memoryTargetPercent: 80 },
    environment: { LOG_LEVEL: "info" },
    secrets: [{ name: "API_SIGNING_KEY", source: "ssm", key: "api/signing-key" }],
    healthCheck: pythonHealthCheck(8000),
    // CodeDeploy blue/green: 10% of traffic for 5 minutes, alarm rollback (the prod standard).
    deployment: { strategy: "canary", percent: 10, intervalMinutes: 5 },
    user: "1000",
    // Creates the service's database user (svc_api) and its grants, then the schema.
    migration: { command: ["python", "-m", "app.migrate"] },
  },
  /** Background worker: no load balancer, rolling releases. */
  worker: {
    image: { ecrRepository: "worker", tag: "bootstrap" },
    source: { repository: "platform-team/worker" },
    containerPort: 9000,
    cpu: 256,
    memoryMiB: 512,
    exposure: { type: "internal" },
    healthCheck: pythonHealthCheck(9000),
    user: "1000",
    migration: { command: ["python", "-m", "worker.migrate"] },
  },
};
