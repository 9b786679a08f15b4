import { ConfigError, ENVIRONMENT_INPUTS, loadConfig } from "../../environments";
import { EnvironmentInput, environmentSchema } from "../../environments/schema";
import { baseInput } from "../helpers";

/** Every problem loadConfig reports for the given environments (empty when valid). */
function problemsOf(...inputs: unknown[]): string[] {
  try {
    loadConfig(inputs);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

type Mutable = any; // inputs are edited freely to build bad configs
const developWith = (change: (env: Mutable) => void): EnvironmentInput => {
  const env = baseInput();
  change(env);
  return env;
};
const prodWith = (change: (env: Mutable) => void): EnvironmentInput => {
  const env = structuredClone(ENVIRONMENT_INPUTS.find((e) => e.name === "prod")!);
  change(env);
  return env;
};

describe("service and database config", () => {
  test("the shipped environments declare services and a database", () => {
    for (const env of loadConfig().environments) {
      expect(env.services.map((s) => s.name)).toEqual(["api", "worker"]);
      expect(env.database?.engineVersion).toBe("15");
    }
  });

  test("applies service defaults", () => {
    const env = environmentSchema.parse(baseInput());
    const worker = env.services[1];
    expect(worker.deployment).toEqual({ strategy: "rolling" });
    // No grace period on an internal service: ECS would ignore it (public services default to 60 s in the construct).
    expect([worker.readonlyRootFilesystem, worker.enableExecuteCommand, worker.xraySidecar, worker.healthCheckGracePeriodSec]).toEqual([true, false, false, undefined]);
    expect(env.services[0].deployment).toEqual({ strategy: "all-at-once", terminationWaitMinutes: 0 });
    expect(env.alb.testListener).toEqual({ port: 8443 });
    const api = env.services[0];
    expect(api.exposure).toEqual(expect.objectContaining({ deregistrationDelaySec: 30, healthCheck: expect.objectContaining({ path: "/health", matcher: "200" }) }));
  });

  test("rejects an invalid Fargate cpu/memory pair", () => {
    expect(problemsOf(developWith((e) => (e.services[0].memoryMiB = 4096)))).toEqual([
      "develop.services.api.memoryMiB: 256 CPU units need 512 or 1024-2048 MiB in steps of 1024 of memory on Fargate; got 4096",
    ]);
  });

  test("rejects duplicate service names", () => {
    expect(problemsOf(developWith((e) => (e.services[1].name = "api")))).toContain(
      'develop.services.api.name: is listed twice; got "api" at positions 0 and 1; service names must be unique',
    );
  });

  test("rejects two public services with the same path and host", () => {
    const problems = problemsOf(
      developWith((e) => e.services.push({ ...structuredClone(e.services[1]), name: "web", exposure: { type: "public", paths: ["/*"], priority: 200 } })),
    );
    expect(problems).toEqual(['develop.services.web.exposure: duplicates a route of service "api"; got host "*" path "/*"; give each public service its own path or host']);
  });

  test("rejects a duplicate listener rule priority", () => {
    const problems = problemsOf(developWith((e) => e.services.push({ ...structuredClone(e.services[1]), name: "web", exposure: { type: "public", paths: ["/web/*"], priority: 100 } })));
    expect(problems).toEqual(['develop.services.web.exposure.priority: listener rule priority 100 is already used by service "api"; got 100; priorities must be unique']);
  });

  test("rejects a health check path without a leading /", () => {
    expect(problemsOf(developWith((e) => (e.services[0].exposure.healthCheck.path = "health")))).toEqual([
      'develop.services.api.exposure.healthCheck.path: must start with "/"; got "health"; e.g. "/health"',
    ]);
  });

  test("rejects a port out of range", () => {
    expect(problemsOf(developWith((e) => (e.services[0].containerPort = 70000)))).toEqual(["develop.services.api.containerPort: must be a whole number from 1 to 65535; got 70000"]);
    expect(problemsOf(developWith((e) => (e.services[0].containerPort = 0)))).toEqual(["develop.services.api.containerPort: must be a whole number from 1 to 65535; got 0"]);
  });

  test("rejects canary and linear settings CodeDeploy would refuse, every field at once", () => {
    expect(problemsOf(developWith((e) => (e.services[0].deployment = { strategy: "canary", percent: 100, intervalMinutes: 0, terminationWaitMinutes: 3000, waitForOperatorMinutes: 0 })))).toEqual([
      "develop.services.api.deployment.terminationWaitMinutes: must be a whole number from 0 to 2880 minutes; got 3000",
      "develop.services.api.deployment.waitForOperatorMinutes: must be a whole number from 1 to 2880 minutes; got 0",
      "develop.services.api.deployment.percent: must be a whole number from 1 to 99 percent; got 100",
      "develop.services.api.deployment.intervalMinutes: must be a whole number from 1 to 2880 minutes; got 0",
    ]);
    expect(problemsOf(developWith((e) => (e.services[0].deployment = { strategy: "blue-green" })))).toEqual([
      'develop.services.api.deployment.strategy: is not allowed; got "blue-green"; valid: "rolling", "canary", "linear", "all-at-once"',
    ]);
  });

  test("rejects a test listener open to the internet or on a production port", () => {
    expect(problemsOf(developWith((e) => (e.alb.testListener = { port: 443, allowedCidrs: ["0.0.0.0/0"] })))).toEqual([
      "develop.alb.testListener.port: is a production listener port; got 443; use another port, e.g. 8443",
      'develop.alb.testListener.allowedCidrs[0]: would open the test listener to the internet; got "0.0.0.0/0"; give the VPC, VPN or office ranges that may test a release',
    ]);
  });

  test("rejects a grace period on an internal service (ECS would silently ignore it)", () => {
    expect(problemsOf(developWith((e) => (e.services[1].healthCheckGracePeriodSec = 120)))).toEqual([
      "develop.services.worker.healthCheckGracePeriodSec: only applies to services behind the ALB (ECS ignores it without a load balancer); got 120 on an internal service; remove it",
    ]);
  });

  test("rejects prod without HTTPS", () => {
    expect(problemsOf(prodWith((e) => delete e.alb.certificate))).toEqual([
      "prod.alb.certificate: prod must serve HTTPS; got no certificate; give { arn } or { domain, hostedZoneId }",
    ]);
    expect(problemsOf(prodWith((e) => (e.alb.allowHttpOnly = true)))).toEqual([
      "prod.alb.allowHttpOnly: prod may not serve plain HTTP; got true; set false and give a certificate",
    ]);
  });

  test("rejects a non-prod public service without HTTPS unless HTTP-only is said explicitly", () => {
    expect(problemsOf(developWith((e) => delete e.alb.certificate))).toEqual([
      "develop.alb.certificate: public services need HTTPS; got no certificate; give { arn } or { domain, hostedZoneId }, or say allowHttpOnly: true (not in prod)",
    ]);
    expect(problemsOf(developWith((e) => ((e.alb = { allowHttpOnly: true }))))).toEqual([]);
  });

  test("rejects a prod database without Multi-AZ or deletion protection", () => {
    expect(
      problemsOf(
        prodWith((e) => {
          e.database.multiAz = false;
          e.database.deletionProtection = false;
        }),
      ),
    ).toEqual([
      "prod.database.multiAz: the prod database must be Multi-AZ; got false; set true",
      "prod.database.deletionProtection: the prod database must have deletion protection; got false; set true",
    ]);
  });

  test("rejects secret names outside the environment's parameter or secret path", () => {
    expect(problemsOf(developWith((e) => (e.services[0].secrets[0].path = "/fargate/prod/api/signing-key")))).toEqual([
      'develop.services.api.secrets[0].path: is outside this environment\'s parameter path; got "/fargate/prod/api/signing-key"; use a name under "/fargate/develop/"',
    ]);
    expect(problemsOf(developWith((e) => (e.services[0].secrets = [{ name: "X", source: "secretsmanager", path: "other/develop/x" }])))).toEqual([
      'develop.services.api.secrets[0].path: is outside this environment\'s secret path; got "other/develop/x"; use a name under "fargate/develop/"',
    ]);
  });

  test("rejects a name over an AWS limit", () => {
    const problems = problemsOf(
      developWith((e) => {
        e.services[0].name = "payments-gateway-v2";
        e.database.clientServices = ["worker"];
      }),
    );
    expect(problems).toEqual([
      'develop.services.payments-gateway-v2.name: targetGroup name "fargate-develop-payments-gateway-v2-b8000" is 41 characters; the AWS limit is 32; got "fargate-develop-payments-gateway-v2-b8000"; shorten it',
      'develop.services.payments-gateway-v2.name: targetGroup name "fargate-develop-payments-gateway-v2-g8000" is 41 characters; the AWS limit is 32; got "fargate-develop-payments-gateway-v2-g8000"; shorten it',
    ]);
  });

  test("rejects a desired count outside the autoscaling range", () => {
    expect(problemsOf(developWith((e) => (e.services[0].desiredCount = 9)))).toEqual(["develop.services.api.desiredCount: must be between autoscaling min (1) and max (5); got 9"]);
  });

  test("rejects CodeDeploy blue/green on an internal service and request scaling without an ALB", () => {
    expect(problemsOf(developWith((e) => (e.services[1].deployment = { strategy: "canary" })))).toEqual([
      'develop.services.worker.deployment.strategy: canary is a CodeDeploy blue/green deployment, which needs ALB target groups, so only public services can use it; got "canary" on an internal service; use "rolling"',
    ]);
    expect(problemsOf(developWith((e) => (e.services[1].autoscaling = { requestsPerTarget: 100 })))).toEqual([
      "develop.services.worker.autoscaling.requestsPerTarget: internal services have no ALB to count requests; got 100; remove it",
    ]);
  });

  test("rejects a listener rule with more than 5 conditions", () => {
    expect(problemsOf(developWith((e) => (e.services[0].exposure.paths = ["/a", "/b", "/c", "/d", "/e", "/f"])))).toEqual([
      "develop.services.api.exposure.paths: a listener rule condition matches at most 3 values; got 6 paths; split the routes or use wildcards",
    ]);
  });

  test("rejects ECS Exec on a read-only root filesystem", () => {
    expect(problemsOf(developWith((e) => (e.services[0].enableExecuteCommand = true)))).toEqual([
      "develop.services.api.enableExecuteCommand: ECS Exec needs a writable root filesystem (the SSM agent writes into it); got true with readonlyRootFilesystem true; set readonlyRootFilesystem false or turn ECS Exec off",
    ]);
    expect(problemsOf(developWith((e) => Object.assign(e.services[0], { enableExecuteCommand: true, readonlyRootFilesystem: false })))).toEqual([]);
  });

  test("rejects secrets in plaintext environment variables and variables the platform injects", () => {
    expect(problemsOf(developWith((e) => (e.services[0].environment.STRIPE_API_KEY = "sk_live")))).toEqual([
      'develop.services.api.environment.STRIPE_API_KEY: looks like a secret in a plaintext environment variable; got "STRIPE_API_KEY"="<redacted>"; move it to secrets (SSM or Secrets Manager)',
    ]);
    expect(problemsOf(developWith((e) => (e.services[0].environment.DB_HOST = "db.internal")))).toEqual([
      'develop.services.api.environment.DB_HOST: is set by the platform for database clients; got "DB_HOST" defined by the service; remove it (the platform injects DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_AUTH, DB_MASTER_USERNAME, DB_MASTER_PASSWORD)',
    ]);
  });

  test("rejects a database client that is not a service, and a pinned minor version", () => {
    expect(problemsOf(developWith((e) => (e.database.clientServices = ["api", "billing"])))).toEqual([
      'develop.database.clientServices[1]: names no service of this environment; got "billing"; valid: "api", "worker"',
    ]);
    expect(problemsOf(developWith((e) => (e.database.engineVersion = "15.4")))).toEqual([
      'develop.database.engineVersion: must be a PostgreSQL major version such as "15" (minors are retired by AWS); got "15.4"',
    ]);
  });

  test("rejects an image with both or neither of ecrRepository and uri, and a tagged uri", () => {
    expect(problemsOf(developWith((e) => (e.services[0].image = { ecrRepository: "fargate/api", uri: "public.ecr.aws/x/api", tag: "1" })))).toEqual([
      'develop.services.api.image: give either ecrRepository or uri, not both or neither; got {"ecrRepository":"fargate/api","uri":"public.ecr.aws/x/api"}',
    ]);
    expect(problemsOf(developWith((e) => ((e.services[0].image = { uri: "public.ecr.aws/x/api:1.0", tag: "1" }), delete e.services[0].source)))).toEqual([
      'develop.services.api.image.uri: must not carry a tag (use image.tag); got "public.ecr.aws/x/api:1.0"',
    ]);
  });

  test("reports every service problem at once", () => {
    const problems = problemsOf(
      developWith((e) => {
        e.services[0].memoryMiB = 4096;
        e.services[0].containerPort = 70000;
        e.services[1].name = "api";
      }),
    );
    expect(problems).toHaveLength(4); // cpu/memory, port, duplicate name, unknown DB client "worker"
  });

  test("rejects a host header given as a URL, and a host AWS would refuse", () => {
    const problems = problemsOf(developWith((e) => (e.services[0].exposure.hosts = ["https://api.example.com", "localhost", "api.example.123"])));
    expect(problems).toEqual([
      'develop.services.api.exposure.hosts[0]: is a URL, not a host name; got "https://api.example.com"; give the host alone, e.g. "api.example.com"',
      'develop.services.api.exposure.hosts[1]: must contain at least one "."; got "localhost"; e.g. "api.example.com"',
      'develop.services.api.exposure.hosts[2]: may have only letters after the last "."; got "api.example.123"; e.g. "api.example.com"',
    ]);
  });

  test("rejects a certificate from another region than the load balancer", () => {
    const problems = problemsOf(developWith((e) => (e.alb.certificate = { arn: "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001" })));
    expect(problems).toEqual([
      'develop.alb.certificate.arn: is in region eu-west-1, but the load balancer is in us-east-1 (ACM certificates are regional); got "arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-1111-4e5f-8a9b-000000000001"; request or import the certificate in us-east-1',
    ]);
  });

  test("rejects container and target health checks outside AWS's limits, every field at once", () => {
    const problems = problemsOf(
      developWith((e) => {
        e.services[0].healthCheck = { command: ["curl", "-f", "http://localhost/"], intervalSec: 4, timeoutSec: 61, retries: 11, startPeriodSec: 301 };
        e.services[0].exposure.healthCheck = { path: "/health", matcher: "600", intervalSec: 301, timeoutSec: 1, healthyThreshold: 1, unhealthyThreshold: 11 };
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^develop\.services\.api\.healthCheck\.command: must start with "CMD" or "CMD-SHELL"/),
        "develop.services.api.healthCheck.intervalSec: must be a whole number from 5 to 300 seconds; got 4",
        "develop.services.api.healthCheck.timeoutSec: must be a whole number from 2 to 60 seconds; got 61",
        "develop.services.api.healthCheck.retries: must be a whole number from 1 to 10; got 11",
        "develop.services.api.healthCheck.startPeriodSec: must be a whole number from 0 to 300 seconds; got 301",
        expect.stringMatching(/^develop\.services\.api\.exposure\.healthCheck\.matcher: must be HTTP codes from 200 to 499/),
        "develop.services.api.exposure.healthCheck.intervalSec: must be a whole number from 5 to 300 seconds; got 301",
        "develop.services.api.exposure.healthCheck.timeoutSec: must be a whole number from 2 to 120 seconds; got 1",
        "develop.services.api.exposure.healthCheck.healthyThreshold: must be a whole number from 2 to 10; got 1",
        "develop.services.api.exposure.healthCheck.unhealthyThreshold: must be a whole number from 2 to 10; got 11",
      ]),
    );
    expect(problems).toHaveLength(10);
  });

  test("rejects a service name that would collide with a platform alarm", () => {
    const problems = problemsOf(developWith((e) => (e.services[1].name = "db")));
    expect(problems).toContain('develop.services.db.name: is reserved (platform alarms and dashboards use it); got "db"; valid: any kebab-case name except "alb", "db", "cluster", "cluster-overview", "logs", "pipelines"');
  });

  test("refuses a release branch the trigger pattern does not match (a manual release building main)", () => {
    expect(problemsOf(prodWith((e) => ((e.cicd as { releaseBranch: string }).releaseBranch = "main")))).toEqual([
      'prod.cicd.releaseBranch: does not match branchPattern "prod/*", so a manual release would build a branch this environment never takes; got "main"; name a branch the pattern matches',
      'prod.cicd.releaseBranch: a promotion deploys the image tagged release-<x.y.z>, x.y.z read from the branch name; got "main"; e.g. "prod/1.0.0"',
    ]);
  });
});
