/**
 * The config rules of issue 11, each with a failing case: prod alarms must reach someone,
 * destinations are valid and listed once, Grafana has no custom domain, a service's alarm
 * thresholds fit the metrics it has, every database client migrates, and the database class
 * is one whose max_connections the platform can derive.
 */
import { ConfigError, ENVIRONMENT_INPUTS, loadConfig } from "../../environments";
import { EnvironmentInput } from "../../environments/schema";
import { configWarnings } from "../../environments/warnings";

const input = (name: string): any => structuredClone(ENVIRONMENT_INPUTS.find((e) => e.name === name)!);

/** Every problem of one environment input, as `npm run synth` prints them (without the `<env>.` prefix). */
function problemsOf(e: EnvironmentInput): string[] {
  try {
    loadConfig([e]);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => p.replace(/^\w+\./, ""));
  }
}

describe("observability config", () => {
  test("the shipped environments are valid, and only prod pages someone", () => {
    const { environments } = loadConfig();
    expect(environments.map((e) => [e.name, e.observability.critical.emails.length + e.observability.critical.httpsEndpoints.length > 0])).toEqual([
      ["develop", false],
      ["test", false],
      ["qa", false],
      ["prod", true],
    ]);
    expect(environments.flatMap(configWarnings)).toHaveLength(3);
  });

  test("refuses prod without a critical destination", () => {
    const prod = input("prod");
    prod.observability.critical = { emails: [], httpsEndpoints: [] };
    expect(problemsOf(prod)).toEqual([
      "observability.critical: prod's critical alarms must reach someone; got no email and no HTTPS endpoint; add observability.critical.emails or observability.critical.httpsEndpoints (a pager's SNS integration URL)",
    ]);
    prod.observability.critical = { httpsEndpoints: ["https://pager.example.com/x"] };
    expect(problemsOf(prod)).toEqual([]);
  });

  test("refuses a destination that is not an address or an https URL, one listed twice, and every problem at once", () => {
    const develop = input("develop");
    develop.observability = {
      critical: { emails: ["oncall"], httpsEndpoints: ["http://pager.example.com/x", "https://user:secret@pager.example.com/x"] },
      warning: { emails: ["team@example.com", "team@example.com"] },
    };
    expect(problemsOf(develop)).toEqual([
      'observability.critical.emails[0]: must be an email address; got "oncall"',
      'observability.critical.httpsEndpoints[0]: must be an https:// URL without credentials; got "http://pager.example.com/x"',
      'observability.critical.httpsEndpoints[1]: must be an https:// URL without credentials; got "https://user:secret@pager.example.com/x"',
      'observability.warning.emails[1]: is listed twice; got "team@example.com"; list each destination once',
    ]);
  });

  test("refuses a custom domain for Managed Grafana (AWS-provided URL only)", () => {
    const prod = input("prod");
    prod.observability.grafana = { enabled: true, customDomain: "grafana.example.com" };
    expect(problemsOf(prod)).toEqual([
      'observability.grafana.customDomain: Amazon Managed Grafana does not support custom domains or TLS certificates (behind HSTS the browser refuses with ERR_CERT_COMMON_NAME_INVALID); got "grafana.example.com"; remove it and use the workspace URL (output grafana_url)',
    ]);
  });

  test("refuses an alarm on a metric the service cannot have, and thresholds out of range", () => {
    const develop = input("develop");
    const worker = develop.services.findIndex((s: any) => s.name === "worker");
    const api = develop.services.findIndex((s: any) => s.name === "api");
    develop.services[worker].alarms = { errorRatePercent: 2, latencyP95Sec: 1 };
    develop.services[api].alarms = { cpuPercent: 120, errorRatePercent: 1 };
    expect(problemsOf(develop).sort()).toEqual([
      `services.api.alarms.cpuPercent: must be a percentage above 0 and at most 100; got 120`,
      `services.worker.alarms.errorRatePercent: needs ALB metrics (HTTPCode_Target_5XX_Count, RequestCount, TargetResponseTime), which a service without a target group does not have; got 2 on an internal service; remove it or expose the service publicly`,
      `services.worker.alarms.latencyP95Sec: needs ALB metrics (HTTPCode_Target_5XX_Count, RequestCount, TargetResponseTime), which a service without a target group does not have; got 1 on an internal service; remove it or expose the service publicly`,
    ].sort());
  });

  test("refuses a database client without a migration; warns about a migration of a service that is no client here", () => {
    const develop = input("develop");
    const api = develop.services.findIndex((s: any) => s.name === "api");
    delete develop.services[api].migration;
    develop.database.clientServices = ["api"];
    expect(problemsOf(develop)).toEqual([
      `services.api.migration: database clients connect as their own user, which their migration creates; got no migration, so user "svc_api" would never exist; add migration: { command: [...] } (docs/observability.md#database-access)`,
    ]);
    const [config] = loadConfig([{ ...input("develop"), database: { ...input("develop").database, clientServices: ["api"] } }]).environments;
    expect(configWarnings(config)).toEqual([
      expect.stringMatching(/^develop\.observability\.critical: /),
      "develop.services.worker.migration: worker is not a database client here (database.clientServices), so no migration task is created; add it there if it uses the database",
    ]);
  });

  test("refuses the variables the platform injects into database clients", () => {
    const develop = input("develop");
    const api = develop.services.findIndex((s: any) => s.name === "api");
    develop.services[api].environment = { ...develop.services[api].environment, DB_USER: "admin" };
    expect(problemsOf(develop)).toEqual([expect.stringMatching(new RegExp(`^services\\.api\\.environment\\.DB_USER: is set by the platform for database clients; .*DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_AUTH, DB_MASTER_USERNAME, DB_MASTER_PASSWORD\\)$`))]);
  });

  test("refuses a database class whose memory the platform does not know", () => {
    const prod = input("prod");
    prod.database.instanceClass = "db.x2g.large";
    expect(problemsOf(prod)).toEqual([expect.stringMatching(/^database\.instanceClass: is not in the platform's instance-class table, so max_connections .*got "db\.x2g\.large"; valid: a size of db\.t3\.\*, db\.t4g\.\*/)]);
  });

  test("refuses service names the environment's own dashboards and alarms use", () => {
    const develop = input("develop");
    const api = develop.services.findIndex((s: any) => s.name === "api");
    develop.services[api].name = "pipelines";
    develop.database.clientServices = ["pipelines", "worker"];
    expect(problemsOf(develop)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^services\\.pipelines\\.name: is reserved \\(platform alarms and dashboards use it\\); got "pipelines"`))]));
  });
});
