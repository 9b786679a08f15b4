/**
 * Narrowing a secret never leaves a revision in use unable to start a task: the execution
 * role keeps what environments/execution-grants.ts records until the rollout is recorded.
 */
import { Testing } from "cdktf";
import { loadConfig, LOCAL_INPUT } from "../../environments";
import { EXECUTION_GRANTS } from "../../environments/execution-grants";
import { configGrants, grantDrift } from "../../src/grants";
import { PlatformStack, platformStackName } from "../../src/stacks/platform-stack";

const envs = [...loadConfig().environments, ...loadConfig([LOCAL_INPUT]).environments];

describe("execution grants", () => {
  test("the record holds every secret the config references (else run `npm run grants -- --write`)", () => {
    expect(grantDrift(envs, EXECUTION_GRANTS).unrecorded).toEqual([]);
    expect(Object.values(configGrants(envs[0])).flat().length).toBeGreaterThan(0);
  });

  test("reports what the config references unrecorded and what the record still retains", () => {
    const prod = envs.find((e) => e.name === "prod")!;
    const record = { prod: { api: ["arn:aws:ssm:us-east-1:222222222222:parameter/fargate/prod/api/old-key"] } };
    const drift = grantDrift([prod], record);
    expect(drift.retained).toEqual(["prod.api: arn:aws:ssm:us-east-1:222222222222:parameter/fargate/prod/api/old-key"]);
    expect(drift.unrecorded).toEqual(Object.values(configGrants(prod)).flat().length ? [expect.stringMatching(/^prod\.api: arn:aws:ssm:/)] : []);
  });

  test("a secret the config dropped stays readable by the execution role while the record retains it", () => {
    const develop = envs.find((e) => e.name === "develop")!;
    const api = develop.services.find((s) => s.name === "api")!;
    const dropped = { ...develop, services: develop.services.map((s) => (s === api ? { ...s, secrets: [] } : s)) };
    const old = configGrants(develop).api[0];
    const statements = (retained?: Record<string, string[]>) => {
      const json = JSON.parse(Testing.synth(new PlatformStack(Testing.app(), platformStackName(dropped), { config: dropped, retainedSecretArns: retained })));
      return Object.entries<any>(json.data.aws_iam_policy_document).filter(([k]) => k.startsWith("services_api_roles_execution")).flatMap(([, d]) => d.statement);
    };
    expect(statements({ api: [old] })).toEqual(expect.arrayContaining([expect.objectContaining({ sid: "ReadTaskParameters", resources: [old] })]));
    expect(statements().some((s: any) => s.sid === "ReadTaskParameters")).toBe(false);
  });
});
