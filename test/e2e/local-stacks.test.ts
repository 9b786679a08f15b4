/**
 * The `local` stacks exist only when an emulator endpoint is given, and then every URL in
 * their provider and backend configuration is that loopback address.
 */
import { Testing } from "cdktf";
import { loadConfig, ENVIRONMENT_INPUTS } from "../../environments";
import { local } from "../../environments/local";
import { buildStacks } from "../../src/app";

const ENDPOINT = "https://127.0.0.1:45678";

function urls(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string" && /^[a-z]+:\/\//.test(value)) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => urls(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => urls(v, out));
  return out;
}

describe("local environment", () => {
  test("is valid, is not one of the synthesized environments, and switches features off with reasons", () => {
    expect(() => loadConfig([local])).not.toThrow();
    expect(ENVIRONMENT_INPUTS.map((e) => e.name)).not.toContain("local");
    expect(local.accountId).toBe("123456789012"); // moto's account: allowed_account_ids is checked for real
  });

  test("without an endpoint the app builds exactly the bootstrap and the four environments", () => {
    const built = buildStacks(Testing.app(), loadConfig(), { emulatorEndpoint: undefined });
    expect(built.local).toBeUndefined();
    expect([built.stateBackend, ...built.environments].map((s) => s.node.id)).toEqual(["fargate-state", "fargate-develop", "fargate-test", "fargate-qa", "fargate-prod"]);
  });

  test("with an endpoint every provider and backend URL of the local stacks is that loopback address", () => {
    const built = buildStacks(Testing.app(), loadConfig(), { emulatorEndpoint: ENDPOINT });
    expect(built.local).toBeDefined();
    const bootstrap = JSON.parse(Testing.synth(built.local!.stateBackend));
    const platform = JSON.parse(Testing.synth(built.local!.environment));
    for (const json of [bootstrap, platform]) {
      const found = urls({ provider: json.provider, terraform: json.terraform });
      expect(found.length).toBeGreaterThan(250);
      expect(new Set(found)).toEqual(new Set([ENDPOINT]));
      expect(json.provider.aws[0].max_retries).toBeLessThanOrEqual(3);
    }
    expect(platform.terraform.backend.s3).toEqual(expect.objectContaining({ bucket: "fargate-tfstate-123456789012-us-east-1", dynamodb_table: "fargate-tfstate-lock", key: "fargate/local/terraform.tfstate", use_path_style: true }));
    expect(bootstrap.terraform.backend.local.path).toBe("../../../terraform.fargate-local-state.tfstate");
    // The real environments are untouched by the emulator settings.
    const develop = JSON.parse(Testing.synth(built.environments[0]));
    expect(urls({ provider: develop.provider, terraform: develop.terraform })).toEqual([]);
  });
});
