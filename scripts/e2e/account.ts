/**
 * The account stack on the emulator (issue 10): `fargate-account-local` is applied after the
 * bootstrap and before the environment, on its real S3 backend, as an operator runs it
 * (README "Bootstrap order": state, accounts, environments). The environment starts as soon
 * as the deploy role it assumes exists; the rest of the account apply (the audit buckets'
 * lifecycle-consistency waits) finishes alongside, and is checked on its own.
 */
import * as https from "https";
import { GetRoleCommand, IAMClient, ListOpenIDConnectProvidersCommand } from "@aws-sdk/client-iam";
import { EMULATOR_CREDENTIALS, parseEmulatorEndpoint } from "../../src/emulator";
import { assertOk, TerraformResult } from "../lib/terraform";
import { stateResources } from "./spot-checks";
import { classifyDiffs, PlannedChange } from "./emulator-diffs";

export interface AccountIo {
  /** The emulator's endpoint and the account's region (for the SDK checks). */
  readonly endpoint: string;
  readonly region: string;
  /** Runs terraform in the account stack's directory (the caller keeps the logs). */
  readonly tf: (args: string[]) => Promise<TerraformResult>;
  readonly say: (line: string) => void;
}

export interface StartedAccountStack {
  /** Resolves once the deploy role exists: the environment's provider can assume it. */
  readonly ready: Promise<void>;
  /** The whole apply. */
  readonly applied: Promise<TerraformResult>;
  readonly iam: IAMClient;
}

export function emulatorIam(endpoint: string, region: string): IAMClient {
  return new IAMClient({
    endpoint: parseEmulatorEndpoint(endpoint),
    region,
    credentials: { accessKeyId: EMULATOR_CREDENTIALS.accessKey, secretAccessKey: EMULATOR_CREDENTIALS.secretKey },
    maxAttempts: 2,
    requestHandler: { httpsAgent: new https.Agent({ rejectUnauthorized: false, keepAlive: true }) },
  });
}

/** `terraform init` on the real S3 backend, then the apply; `ready` when `deployRoleName` exists. */
export async function startAccountStack(io: AccountIo, deployRoleName: string): Promise<StartedAccountStack> {
  assertOk(await io.tf(["init", "-input=false", "-no-color"]));
  const iam = emulatorIam(io.endpoint, io.region);
  const applied = io.tf(["apply", "-auto-approve", "-input=false", "-no-color"]);
  let done = false;
  void applied.finally(() => (done = true));
  const ready = (async () => {
    for (;;) {
      if (await iam.send(new GetRoleCommand({ RoleName: deployRoleName })).then(() => true, () => false)) return;
      if (done) {
        assertOk(await applied);
        throw new Error(`the account stack applied but the deploy role ${deployRoleName} does not exist`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return { ready, applied, iam };
}

/**
 * What the applied account stack holds, read from its state and through the SDK: the trail
 * (multi-region, validated, KMS, CloudWatch Logs), the recorder and its rules, the deploy
 * role's trust and the GitHub OIDC provider. Returns one line per check; throws on a failure.
 */
export async function checkAccountStack(io: AccountIo, started: StartedAccountStack, deployRoleName: string, operators: readonly string[]): Promise<string[]> {
  const state = JSON.parse(assertOk(await io.tf(["state", "pull"])).stdout);
  const resources = stateResources(state);
  const one = (type: string) => resources.filter((r) => r.type === type);
  const problems: string[] = [];
  const lines: string[] = [];

  const [trail] = one("aws_cloudtrail");
  if (!trail) problems.push("no aws_cloudtrail in the account stack's state");
  else {
    const t = trail.values;
    if (!(t.is_multi_region_trail && t.enable_log_file_validation && t.kms_key_id && t.cloud_watch_logs_group_arn)) problems.push(`trail ${t.name}: ${JSON.stringify({ multiRegion: t.is_multi_region_trail, validation: t.enable_log_file_validation, kms: t.kms_key_id, logs: t.cloud_watch_logs_group_arn })}`);
    else lines.push(`trail ${t.name}: multi-region, log-file validation, KMS ${String(t.kms_key_id).replace(/^.*key\//, "key/")}, CloudWatch Logs`);
  }
  const recorders = one("aws_config_configuration_recorder");
  const rules = one("aws_config_config_rule");
  if (recorders.length !== 1 || rules.length === 0) problems.push(`AWS Config: ${recorders.length} recorder(s), ${rules.length} rule(s)`);
  else lines.push(`AWS Config recorder ${recorders[0].values.name} with ${rules.length} managed rules, delivering to the KMS-encrypted audit bucket`);

  const role = await started.iam.send(new GetRoleCommand({ RoleName: deployRoleName }));
  const trust = JSON.stringify(JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? "{}")));
  const missing = operators.filter((o) => !trust.includes(o));
  if (missing.length) problems.push(`deploy role ${deployRoleName} does not trust ${missing.join(", ")}: ${trust}`);
  else lines.push(`deploy role ${role.Role?.Arn}: trusted by ${operators.join(", ")}`);

  const providers = (await started.iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList ?? [];
  if (!providers.some((p) => p.Arn?.endsWith("oidc-provider/token.actions.githubusercontent.com"))) problems.push(`no GitHub OIDC provider: ${JSON.stringify(providers)}`);
  else lines.push("GitHub OIDC provider token.actions.githubusercontent.com");

  // A second plan changes nothing but the emulator diffs listed (with their proof) in emulator-diffs.ts.
  const plan = await io.tf(["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=second.tfplan"]);
  if (plan.exitCode === 1) problems.push(`second plan failed:\n${plan.stderr.slice(-3000)}`);
  else if (plan.exitCode === 2) {
    const shown = JSON.parse(assertOk(await io.tf(["show", "-json", "-no-color", "second.tfplan"])).stdout);
    const verdict = classifyDiffs((shown.resource_changes ?? []) as PlannedChange[]);
    if (verdict.unexplained.length) problems.push(`the plan after apply is not empty:\n    ${verdict.unexplained.map((u) => `${u.address}: ${u.actions.join("+")} (${u.attributes.join(", ")})`).join("\n    ")}`);
    else lines.push(`second plan: no changes but ${verdict.explained.length} listed emulator diff(s) (${[...new Set(verdict.explained.map((x) => x.entry.type))].join(", ")})`);
  } else lines.push("second plan: no changes");

  if (problems.length) throw new Error(`the account stack is not what its config says:\n  ${problems.join("\n  ")}`);
  return lines;
}

/** Destroys the account stack (after every environment of the account is gone). */
export async function destroyAccountStack(io: AccountIo): Promise<TerraformResult> {
  const destroyed = assertOk(await io.tf(["destroy", "-auto-approve", "-input=false", "-no-color"]));
  const remaining = assertOk(await io.tf(["state", "list"])).stdout.trim();
  if (remaining) throw new Error(`the account stack's state still lists:\n${remaining}`);
  return destroyed;
}
