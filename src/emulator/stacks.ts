/**
 * The `local` environment (environments/local.ts) on the AWS emulator: the same
 * StateBackendStack and PlatformStack code as production, with every provider endpoint and
 * the S3 backend pointed at the emulator's loopback address. Kept out of src/app.ts (the
 * production composition); main.ts adds these stacks only when PLATFORM_EMULATOR_ENDPOINT is set.
 */
import { App } from "cdktf";
import { LOCAL_INPUT, loadConfig } from "../../environments";
import { EXECUTION_GRANTS } from "../../environments/execution-grants";
import { PlatformStack, platformStackName } from "../stacks/platform-stack";
import { StateBackendStack } from "../stacks/state-backend-stack";
import { AccountStack } from "../stacks/account-stack";
import { buildAccountStacks } from "../app";
import { suppressRule } from "../policy/suppressions";
import { emulatorBackendSettings, emulatorProviderOverrides } from "./endpoints";

/** The emulator bootstrap stack's name: `<project>-local-state`. */
export function localStateBackendStackName(project: string): string {
  return `${project}-local-state`;
}

export interface LocalStacks {
  readonly stateBackend: StateBackendStack;
  /** `<project>-account-local`: the emulated account's trail, recorder, deploy role, OIDC provider. */
  readonly account: AccountStack;
  readonly environment: PlatformStack;
}

/** Adds `<project>-local-state` and `<project>-local`, pointed at `endpoint`. */
export function buildLocalStacks(app: App, endpoint: string, input: unknown = LOCAL_INPUT, retainedSecretArns?: Readonly<Record<string, readonly string[]>>): LocalStacks {
  // Validated like every environment, including "its backend matches the bootstrap".
  const config = loadConfig([input]);
  const env = config.environments[0];
  const providerOverrides = emulatorProviderOverrides(endpoint);
  const stateBackendId = localStateBackendStackName(config.stateBackend.project);
  // Emulator gap: moto rejects PutBucketLogging (InvalidTargetBucketForLogging) unless the
  // target grants the legacy LogDelivery ACL, which BucketOwnerEnforced buckets cannot.
  const stateBackend = new StateBackendStack(app, stateBackendId, { config: config.stateBackend, providerOverrides, accessLogging: false, destroyGuard: false });
  // Emulator gap (the only change to the bootstrap): moto evaluates bucket-policy Deny
  // statements without the request's condition context, so the bucket's
  // DenyInsecureTransport statement (aws:SecureTransport = false) denies every object
  // request, even over TLS, and the S3 backend fails with 403 on HeadObject. AWS evaluates
  // the condition; the real bootstrap keeps the policy (checked by checkov and the policy pack).
  stateBackend.stateBucket.policy.addOverride("count", 0);
  suppressRule(stateBackend.bucket, "S3-TLS-ONLY", "emulator bootstrap only: moto denies every object request under a conditional Deny statement, so the TLS-only policy is not created on the emulator (the real bootstrap keeps it)");
  // The account stack, applied after the bootstrap and before the environment (same code as production).
  const [account] = buildAccountStacks(app, config, providerOverrides);
  const environment = new PlatformStack(app, platformStackName(env), { config: env, providerOverrides, retainedSecretArns: retainedSecretArns ?? EXECUTION_GRANTS[env.name] });
  if (environment.alb && !environment.alb.httpsListener) {
    // environments/local.ts says why the emulator ALB has no certificate (moto: CertificateNotFound).
    suppressRule(environment.alb.httpListener, "ALB-HTTP-REDIRECT", "emulator only: moto holds no ACM certificate the config could name, so the local ALB serves plain HTTP on loopback");
  }
  for (const [key, value] of Object.entries(emulatorBackendSettings(endpoint))) {
    for (const stack of [account, environment]) stack.addOverride(`terraform.backend.s3.${key}`, value);
  }
  return { stateBackend, account, environment };
}
