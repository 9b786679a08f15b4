/**
 * The `local` stacks exist only when an emulator endpoint is given, and then every URL in
 * their provider and backend configuration is that loopback address.
 */
import { Testing } from "cdktf";
import { loadConfig, ENVIRONMENT_INPUTS, LOCAL_INPUT } from "../../environments";
import { buildStacks } from "../../src/app";
import { buildLocalStacks } from "../../src/emulator";

const ENDPOINT = "https://127.0.0.1:45678";

function urls(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string" && /^[a-z]+:\/\//.test(value)) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => urls(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => urls(v, out));
  return out;
}

describe("local environment", () => {
  test("is valid, is not one of the synthesized environments, and switches features off with reasons", () => {
    expect(() => loadConfig([LOCAL_INPUT])).not.toThrow();
    expect(ENVIRONMENT_INPUTS.map((e) => e.name)).not.toContain("local");
    expect(LOCAL_INPUT.accountId).toBe("123456789012"); // moto's account: allowed_account_ids is checked for real
  });

  test("the production composition builds exactly the bootstrap, the two account stacks and the four environments", () => {
    const app = Testing.app();
    const built = buildStacks(app, loadConfig());
    expect([built.stateBackend, ...built.accounts, ...built.environments].map((s) => s.node.id)).toEqual(["fargate-state", "fargate-account-nonprod", "fargate-account-prod", "fargate-develop", "fargate-test", "fargate-qa", "fargate-prod"]);
    expect(app.node.children.map((c) => c.node.id).filter((id) => id.includes("local"))).toEqual([]);
  });

  test("with an endpoint every provider and backend URL of the local stacks is that loopback address", () => {
    const app = Testing.app();
    const built = buildStacks(app, loadConfig());
    const local = buildLocalStacks(app, ENDPOINT);
    const bootstrap = JSON.parse(Testing.synth(local.stateBackend));
    const account = JSON.parse(Testing.synth(local.account));
    const platform = JSON.parse(Testing.synth(local.environment));
    expect(local.account.node.id).toBe("fargate-account-local");
    for (const json of [bootstrap, account, platform]) {
      const found = urls({ provider: json.provider, terraform: json.terraform });
      expect(found.length).toBeGreaterThan(250);
      expect(new Set(found)).toEqual(new Set([ENDPOINT]));
      expect(json.provider.aws[0].max_retries).toBeLessThanOrEqual(3);
    }
    expect(platform.terraform.backend.s3).toEqual(expect.objectContaining({ bucket: "fargate-tfstate-123456789012-us-east-1", dynamodb_table: "fargate-tfstate-lock", key: "fargate/local/terraform.tfstate", use_path_style: true }));
    expect(account.terraform.backend.s3).toEqual(expect.objectContaining({ key: "fargate/account-local/terraform.tfstate", use_path_style: true }));
    // moto's one account holds the state too: no backend role; the provider assumes the deploy role the account stack creates.
    expect(platform.terraform.backend.s3.assume_role).toBeUndefined();
    expect(platform.provider.aws[0].assume_role).toEqual([{ role_arn: "arn:aws:iam::123456789012:role/fargate-deploy", session_name: "fargate-local" }]);
    expect(account.provider.aws[0].assume_role).toBeUndefined();
    expect(bootstrap.terraform.backend.local.path).toBe("../../../terraform.fargate-local-state.tfstate");
    // The real environments are untouched by the emulator settings.
    const develop = JSON.parse(Testing.synth(built.environments[0]));
    expect(urls({ provider: develop.provider, terraform: develop.terraform })).toEqual([]);
  });
});
