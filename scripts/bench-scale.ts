/**
 * The scale fixture of `npm run bench`: synthesizes prod with N extra public services (each
 * a catalogue-shaped service with its own image (its repository is the account stack's), a
 * secret, prod's promotion pipeline, rolling releases and CPU/memory scaling) and prints
 * `{"services": N, "resources": <count>}`.
 *
 *   node dist/scripts/bench-scale.js --services 40 --out <dir>
 */
import * as fs from "fs";
import * as path from "path";
import { ENVIRONMENT_INPUTS, loadConfig } from "../environments";
import { EnvironmentInput } from "../environments/schema";
import { PlatformStack, platformStackName } from "../src/stacks/platform-stack";
import { applyPolicyPack } from "../src/policy/aspect";
import { synthesizeAtomically } from "../src/app";

/** prod plus `count` generated public services `svc-1` ... `svc-<count>`. */
export function scaledProd(count: number): EnvironmentInput {
  const prod = structuredClone(ENVIRONMENT_INPUTS.find((e) => e.name === "prod")!);
  const extra = Array.from({ length: count }, (_, i) => ({
    name: `svc-${i + 1}`,
    image: { ecrRepository: `svc-${i + 1}`, tag: "prod" },
    source: { repository: `platform-team/svc-${i + 1}` },
    containerPort: 8080,
    cpu: 256 as const,
    memoryMiB: 512,
    exposure: { type: "public" as const, paths: [`/svc-${i + 1}/*`], priority: 1000 + i },
    environment: { LOG_LEVEL: "info" },
    secrets: [{ name: "SIGNING_KEY", source: "ssm" as const, path: `/fargate/prod/svc-${i + 1}/signing-key` }],
    user: "1000",
  }));
  return { ...prod, services: [...(prod.services ?? []), ...extra] };
}

function main(argv: readonly string[]): void {
  const value = (flag: string) => argv[argv.indexOf(flag) + 1];
  const count = Number(value("--services"));
  const out = value("--out");
  if (!Number.isInteger(count) || count < 0 || !out) throw new Error("usage: bench-scale --services N --out <dir>");
  // Loaded with the other environments: prod promotes what QA released.
  const config = loadConfig(ENVIRONMENT_INPUTS.map((e) => (e.name === "prod" ? scaledProd(count) : e))).environments.find((e) => e.name === "prod")!;
  synthesizeAtomically(out, (app) => {
    new PlatformStack(app, platformStackName(config), { config });
    applyPolicyPack(app);
  });
  const json = JSON.parse(fs.readFileSync(path.join(out, "stacks", platformStackName(config), "cdk.tf.json"), "utf8"));
  const resources = Object.values<Record<string, unknown>>(json.resource).reduce((n, byName) => n + Object.keys(byName).length, 0);
  process.stdout.write(`${JSON.stringify({ services: count, resources })}\n`);
}

main(process.argv.slice(2));
