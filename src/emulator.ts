/**
 * Settings that point a stack at the AWS emulator (moto_server on a loopback address), used
 * only by the `local` stacks that src/app.ts adds when `PLATFORM_EMULATOR_ENDPOINT` is set.
 *
 * Every one of the provider's ~300 service endpoints is set to the emulator, so a module
 * that starts using a new service can never reach real AWS by accident; the backend's
 * S3/DynamoDB/STS/IAM endpoints too. The credentials are fixed fake ones so a developer's
 * real AWS credentials (environment, ~/.aws) are never used, not even to sign.
 */
import { AwsProviderConfig, AwsProviderEndpoints, awsProviderEndpointsToTerraform } from "@cdktf/provider-aws/lib/provider";

/** The environment variable that holds the emulator endpoint at synth time. */
export const EMULATOR_ENDPOINT_VAR = "PLATFORM_EMULATOR_ENDPOINT";

/** Fake credentials moto accepts; never real ones. */
export const EMULATOR_CREDENTIALS = { accessKey: "AKIAEMULATOR00000000", secretKey: "emulator-fake-secret-not-real" } as const;

/** Hosts an emulator endpoint may name: loopback only, so nothing can leave the machine. */
const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/;

/**
 * Validates `PLATFORM_EMULATOR_ENDPOINT`: `https://127.0.0.1:<port>` (or localhost / [::1]; http too).
 * @returns the normalized endpoint, or throws with what is wrong
 */
export function parseEmulatorEndpoint(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, "");
  const match = LOOPBACK.exec(trimmed);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(
      `${EMULATOR_ENDPOINT_VAR} must be a loopback emulator address like https://127.0.0.1:5000; got "${value}" ` +
        `(only 127.0.0.1, localhost or [::1] are allowed, so the local stack can never reach real AWS)`,
    );
  }
  return trimmed;
}

/** The camelCase names of every service endpoint the provider binding knows. */
export function providerEndpointKeys(): string[] {
  const keys = new Set<string>();
  // The binding's own converter reads every endpoint field once: record which.
  awsProviderEndpointsToTerraform(
    new Proxy({} as AwsProviderEndpoints, {
      get: (_target, key) => {
        if (typeof key === "string") keys.add(key);
        return "x";
      },
    }),
  );
  keys.delete("resolve"); // cdktf's token check, not an endpoint
  return [...keys].sort();
}

/** Every provider service endpoint set to `endpoint`. */
export function allProviderEndpoints(endpoint: string): AwsProviderEndpoints {
  return Object.fromEntries(providerEndpointKeys().map((k) => [k, endpoint])) as AwsProviderEndpoints;
}

/** AwsProvider arguments for the emulator (merged over the stack's own provider arguments). */
export function emulatorProviderOverrides(endpoint: string): Partial<AwsProviderConfig> {
  const url = parseEmulatorEndpoint(endpoint);
  return {
    accessKey: EMULATOR_CREDENTIALS.accessKey,
    secretKey: EMULATOR_CREDENTIALS.secretKey,
    endpoints: [allProviderEndpoints(url)],
    s3UsePathStyle: true,
    // moto -s serves a self-signed certificate made at start; only ever for a loopback address.
    insecure: true,
    // The emulator answers STS GetCallerIdentity with account 123456789012, so the
    // allowed_account_ids guard is still checked for real; only the extra calls are skipped.
    skipCredentialsValidation: true,
    skipMetadataApiCheck: "true",
    skipRegionValidation: true,
    // An API the emulator lacks answers with an error; without a low limit the SDK retries
    // it with back-off for minutes before Terraform reports it.
    maxRetries: 1,
  };
}

/**
 * S3 backend settings for the emulator (snake_case, as Terraform reads them): state in the
 * emulated bucket, lock in the emulated table. src/app.ts merges them into the synthesized
 * `terraform.backend.s3` block of the local stack, so `cdktf deploy` and `terraform init`
 * use the real S3 backend code against the emulator.
 */
export function emulatorBackendSettings(endpoint: string): Record<string, unknown> {
  const url = parseEmulatorEndpoint(endpoint);
  return {
    access_key: EMULATOR_CREDENTIALS.accessKey,
    secret_key: EMULATOR_CREDENTIALS.secretKey,
    endpoints: { s3: url, dynamodb: url, sts: url, iam: url },
    use_path_style: true,
    insecure: true,
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    skip_requesting_account_id: true,
    max_retries: 1,
  };
}
