/**
 * Settings that point a stack at the AWS emulator (moto_server on a loopback address), used
 * only by the `local` stacks that src/emulator/stacks.ts adds when `PLATFORM_EMULATOR_ENDPOINT` is set.
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

/**
 * Endpoint names that are aliases of one another in hashicorp/aws 5.100.0 (setting more than
 * one of a group warns "Only one of the following attributes should be set", an error in a
 * later release). Read from the provider's own warnings; one name per group is kept.
 */
export const ENDPOINT_ALIAS_GROUPS: readonly (readonly string[])[] = [
  ["amg","grafana","managedgrafana"],
  ["amp","prometheus","prometheusservice"],
  ["appautoscaling","applicationautoscaling"],
  ["appintegrations","appintegrationsservice"],
  ["appregistry","servicecatalogappregistry"],
  ["beanstalk","elasticbeanstalk"],
  ["ce","costexplorer"],
  ["cloudcontrol","cloudcontrolapi"],
  ["cloudhsm","cloudhsmv2"],
  ["cloudwatchevents","eventbridge","events"],
  ["cloudwatchevidently","evidently"],
  ["cloudwatchlog","cloudwatchlogs","logs"],
  ["cloudwatchobservabilityaccessmanager","oam"],
  ["cloudwatchrum","rum"],
  ["codedeploy","deploy"],
  ["cognitoidentityprovider","cognitoidp"],
  ["config","configservice"],
  ["costandusagereportservice","cur"],
  ["databasemigration","databasemigrationservice","dms"],
  ["databrew","gluedatabrew"],
  ["directoryservice","ds"],
  ["elasticloadbalancing","elb"],
  ["elasticloadbalancingv2","elbv2"],
  ["elasticsearch","elasticsearchservice","es"],
  ["inspector2","inspectorv2"],
  ["kafka","msk"],
  ["lex","lexmodelbuilding","lexmodelbuildingservice","lexmodels"],
  ["lexmodelsv2","lexv2models"],
  ["location","locationservice"],
  ["opensearch","opensearchservice"],
  ["opensearchingestion","osis"],
  ["rbin","recyclebin"],
  ["redshiftdata","redshiftdataapiservice"],
  ["resourcegroupstagging","resourcegroupstaggingapi"],
  ["s3","s3api"],
  ["sdb","simpledb"],
  ["serverlessapplicationrepository","serverlessapprepo","serverlessrepo"],
  ["sfn","stepfunctions"],
  ["transcribe","transcribeservice"],
];

/** The endpoint names an alias group does not keep (all but its shortest name). */
function droppedAliases(): Set<string> {
  const dropped = new Set<string>();
  for (const group of ENDPOINT_ALIAS_GROUPS) {
    const keep = [...group].sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
    for (const name of group) if (name !== keep) dropped.add(name);
  }
  return dropped;
}

/** One endpoint name per service the provider binding knows (aliases collapsed). */
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
  // Aliases are known by their Terraform names (`s3api`), the binding uses camelCase (`s3Api`).
  const terraformName = (key: string): string => {
    const out = awsProviderEndpointsToTerraform({ [key]: "x" } as AwsProviderEndpoints) as Record<string, unknown>;
    return Object.keys(out).find((k) => out[k] === "x") ?? key;
  };
  const dropped = droppedAliases();
  return [...keys].filter((k) => !dropped.has(terraformName(k))).sort();
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
    // it with back-off for minutes before Terraform reports it. 3 attempts (not 1): the
    // emulator sometimes drops a connection under load ("use of closed network connection").
    maxRetries: 3,
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
    max_retries: 3,
  };
}
