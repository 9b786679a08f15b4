import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { LoadedConfig, loadConfig } from "../environments";
import { local } from "../environments/local";
import { PlatformStack, platformStackName } from "./stacks/platform-stack";
import { StateBackendStack } from "./stacks/state-backend-stack";
import { applyPolicyPack } from "./policy/aspect";
import { suppressRule } from "./policy/suppressions";
import { EMULATOR_ENDPOINT_VAR, emulatorBackendSettings, emulatorProviderOverrides } from "./emulator";

/** The bootstrap stack's name: `<project>-state`. */
export function stateBackendStackName(project: string): string {
  return `${project}-state`;
}

/** The emulator bootstrap stack's name: `<project>-local-state`. */
export function localStateBackendStackName(project: string): string {
  return `${project}-local-state`;
}

export interface BuildOptions {
  /**
   * Loopback address of the AWS emulator (`https://127.0.0.1:<port>`). When set, the app also
   * builds the `local` environment and its emulator bootstrap, pointed at that address.
   * @default - the PLATFORM_EMULATOR_ENDPOINT environment variable; unset: no local stacks
   */
  readonly emulatorEndpoint?: string;
}

export interface BuiltStacks {
  stateBackend: StateBackendStack;
  environments: PlatformStack[];
  /** Only with an emulator endpoint: `<project>-local-state` and `<project>-local`. */
  local?: { stateBackend: StateBackendStack; environment: PlatformStack };
}

/** Builds every stack into `app` (no I/O besides what App itself does). */
export function buildStacks(app: App, config: LoadedConfig, options: BuildOptions = { emulatorEndpoint: process.env[EMULATOR_ENDPOINT_VAR] }): BuiltStacks {
  const stateBackend = new StateBackendStack(app, stateBackendStackName(config.stateBackend.project), { config: config.stateBackend });
  const environments = config.environments.map((env) => new PlatformStack(app, platformStackName(env), { config: env }));
  const built: BuiltStacks = { stateBackend, environments };
  if (options.emulatorEndpoint) built.local = buildLocalStacks(app, options.emulatorEndpoint);
  applyPolicyPack(app); // errors fail synth, warnings are reported (src/policy)
  return built;
}

/**
 * The `local` environment (environments/local.ts) on the AWS emulator: the same
 * StateBackendStack and PlatformStack code, with every provider endpoint and the S3 backend
 * pointed at the emulator's loopback address. Never part of a plain `npm run synth`.
 */
export function buildLocalStacks(app: App, endpoint: string): { stateBackend: StateBackendStack; environment: PlatformStack } {
  // Validated like every environment, including "its backend matches the bootstrap".
  const config = loadConfig([local]);
  const env = config.environments[0];
  const providerOverrides = emulatorProviderOverrides(endpoint);
  const stateBackendId = localStateBackendStackName(config.stateBackend.project);
  // Emulator gap: moto rejects PutBucketLogging (InvalidTargetBucketForLogging) unless the
  // target grants the legacy LogDelivery ACL, which BucketOwnerEnforced buckets cannot.
  const stateBackend = new StateBackendStack(app, stateBackendId, { config: config.stateBackend, providerOverrides, accessLogging: false });
  // Emulator gap (the only change to the bootstrap): moto evaluates bucket-policy Deny
  // statements without the request's condition context, so the bucket's
  // DenyInsecureTransport statement (aws:SecureTransport = false) denies every object
  // request, even over TLS, and the S3 backend fails with 403 on HeadObject. AWS evaluates
  // the condition; the real bootstrap keeps the policy (checked by checkov and the policy pack).
  stateBackend.stateBucket.policy.addOverride("count", 0);
  suppressRule(stateBackend.bucket, "S3-TLS-ONLY", "emulator bootstrap only: moto denies every object request under a conditional Deny statement, so the TLS-only policy is not created on the emulator (the real bootstrap keeps it)");
  const environment = new PlatformStack(app, platformStackName(env), { config: env, providerOverrides });
  if (environment.alb && !environment.alb.httpsListener) {
    // environments/local.ts says why the emulator ALB has no certificate (moto: CertificateNotFound).
    suppressRule(environment.alb.httpListener, "ALB-HTTP-REDIRECT", "emulator only: moto holds no ACM certificate the config could name, so the local ALB serves plain HTTP on loopback");
  }
  for (const [key, value] of Object.entries(emulatorBackendSettings(endpoint))) {
    environment.addOverride(`terraform.backend.s3.${key}`, value);
  }
  return { stateBackend, environment };
}

/**
 * Synthesizes into a staging directory and swaps it into place only when every stack
 * synthesized, so a failure never leaves a half-written `cdktf.out`.
 */
export function synthesizeAtomically(outdir: string, build: (app: App) => void): void {
  const target = path.resolve(outdir);
  const staging = `${target}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    const app = new App({ outdir: staging, stackTraces: false });
    build(app);
    app.synth();
    const previous = `${target}.previous-${process.pid}`;
    if (fs.existsSync(target)) fs.renameSync(target, previous);
    fs.renameSync(staging, target);
    fs.rmSync(previous, { recursive: true, force: true });
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
