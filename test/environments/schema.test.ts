import { ConfigError, ENVIRONMENT_INPUTS, loadConfig } from "../../environments";
import { EnvironmentInput } from "../../environments/schema";
import { stateBackendInput } from "../../environments/state-backend";
import { baseInput } from "../helpers";

/** Every problem loadConfig reports for the given environments (empty when valid). */
function problemsOf(...inputs: unknown[]): string[] {
  try {
    loadConfig(inputs);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

/** develop with a change applied. */
function developWith(change: (env: EnvironmentInput) => void): EnvironmentInput {
  const env = baseInput();
  change(env);
  return env;
}

function prodWith(change: (env: EnvironmentInput) => void): EnvironmentInput {
  const env = structuredClone(ENVIRONMENT_INPUTS.find((e) => e.name === "prod")!);
  change(env);
  return env;
}

describe("environment configs", () => {
  test("all four shipped environments are valid", () => {
    const { environments } = loadConfig();
    expect(environments.map((e) => e.name)).toEqual(["develop", "test", "qa", "prod"]);
  });

  test("carry the deployment guide's per-environment values", () => {
    const byName = Object.fromEntries(loadConfig().environments.map((e) => [e.name, e]));
    const table = (name: string) => {
      const e = byName[name];
      const delivery = e.cicd.releases === "delivered" ? [`delivered by ${e.cicd.by}`] : [e.cicd.releases, e.cicd.manualApproval, e.cicd.branchPattern, e.cicd.trigger];
      return [e.scaling.desiredCount, e.scaling.minCapacity, e.scaling.maxCapacity, e.logRetentionDays, e.deletionProtection, e.scaling.fargateSpotPercent, ...delivery];
    };
    expect(table("develop")).toEqual([1, 1, 5, 7, false, 70, "build", false, "feature/*", "manual"]);
    expect(table("test")).toEqual([2, 2, 10, 30, false, 30, "build", false, "release/*.*.*", "push"]);
    expect(table("qa")).toEqual([2, 2, 10, 30, false, 30, "delivered by test"]);
    expect(table("prod")).toEqual([3, 3, 20, 90, true, 0, "promote", true, "prod/*", "push"]);
  });

  test("reports every problem of every environment at once", () => {
    const problems = problemsOf(
      developWith((e) => {
        e.accountId = "12345";
        e.logRetentionDays = 10;
      }),
      prodWith((e) => {
        e.deletionProtection = false;
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^develop\.accountId: must be a 12-digit AWS account ID; got "12345"/),
        expect.stringMatching(/^develop\.logRetentionDays: is not a retention CloudWatch Logs accepts; got 10; valid: 1, 3, 5, 7/),
        "prod.deletionProtection: prod must have deletion protection; got false; set true",
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  test("the error message lists every problem, one per line", () => {
    expect(() => loadConfig([developWith((e) => (e.accountId = "x")), prodWith((e) => (e.deletionProtection = false))])).toThrow(
      /Invalid environment configuration \(2 problems\):\n {2}develop\.accountId: .*\n {2}prod\.deletionProtection: /,
    );
  });

  // Each bad input: the change, the path and the message it must produce.
  const cases: [string, (e: EnvironmentInput) => void, RegExp][] = [
    ["bad CIDR", (e) => (e.network.vpcCidr = "10.0.0.300/16"), /^develop\.network\.vpcCidr: is not a valid CIDR \(an octet is above 255\); got "10\.0\.0\.300\/16"; valid: a network like 10\.0\.0\.0\/16$/],
    ["CIDR with host bits", (e) => (e.network.vpcCidr = "10.0.1.0/16"), /^develop\.network\.vpcCidr: is not a valid CIDR \(host bits are set; the network address is 10\.0\.0\.0\/16\)/],
    ["VPC prefix AWS refuses", (e) => (e.network.vpcCidr = "10.0.0.0/8"), /^develop\.network\.vpcCidr: has prefix \/8; got "10\.0\.0\.0\/8"; AWS allows VPCs from \/16 to \/28$/],
    ["public address range", (e) => (e.network.vpcCidr = "11.0.0.0/16"), /^develop\.network\.vpcCidr: is not in an RFC 1918 private range; got "11\.0\.0\.0\/16"/],
    ["subnet plan that does not fit", (e) => (e.network.subnetPrefixLength = 18), /^develop\.network\.subnetPrefixLength: subnet plan does not fit the VPC 10\.10\.0\.0\/16: a \/16 VPC holds 4 subnets of \/18; the plan needs 12 \(3 tiers x 4 AZ slots\), so use \/20 or longer, up to \/28; got 18$/],
    ["subnets below the AWS minimum", (e) => (e.network.subnetPrefixLength = 29), /^develop\.network\.subnetPrefixLength: subnet plan does not fit .*smaller than the AWS minimum \/28; got 29$/],
    ["one AZ", (e) => (e.availabilityZones = ["us-east-1a"]), /^develop\.availabilityZones: needs 2 or 3 availability zones; got 1 \(\["us-east-1a"\]\); list 2-3 AZs of us-east-1$/],
    ["four AZs", (e) => (e.availabilityZones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]), /^develop\.availabilityZones: needs 2 or 3 availability zones; got 4/],
    ["AZ of another region", (e) => (e.availabilityZones = ["us-east-1a", "eu-west-1b"]), /^develop\.availabilityZones\[1\]: is not an availability zone of region us-east-1; got "eu-west-1b"; valid: us-east-1a \.\. us-east-1f$/],
    ["duplicate AZs", (e) => (e.availabilityZones = ["us-east-1a", "us-east-1a"]), /^develop\.availabilityZones\[1\]: repeats an availability zone; got "us-east-1a"; each AZ may appear once$/],
    ["account ID not 12 digits", (e) => (e.accountId = "1234567890123"), /^develop\.accountId: must be a 12-digit AWS account ID; got "1234567890123"$/],
    ["unknown region", (e) => ((e as { region: string }).region = "us-east-9"), /^develop\.region: is not allowed; got "us-east-9"; valid: "us-east-1", /],
    ["unknown NAT strategy", (e) => ((e.network as { natStrategy: string }).natStrategy = "gateway"), /^develop\.network\.natStrategy: is not allowed; got "gateway"; valid: "none", "single", "per-az"$/],
    [
      "private tasks without NAT or endpoints",
      (e) => (e.network.taskSubnets = "private"),
      /^develop\.network\.natStrategy: private task subnets with no NAT and no VPC endpoints cannot reach ECR, so tasks could not pull images .*; got natStrategy "none", vpcEndpoints false; use natStrategy "single"\/"per-az", set vpcEndpoints true, or taskSubnets "public"$/,
    ],
    ["public tasks behind a NAT", (e) => ((e.network.natStrategy = "single"), (e.network.taskSubnets = "public")), /^develop\.network\.taskSubnets: public task subnets are only for the cost-optimised layout without NAT; got "public" with natStrategy "single"; use "private"$/],
    ["min above max", (e) => (e.scaling = { desiredCount: 1, minCapacity: 6, maxCapacity: 5, fargateSpotPercent: 70 }), /^develop\.scaling\.minCapacity: must not exceed maxCapacity \(5\); got 6; lower minCapacity or raise maxCapacity$/],
    ["desired outside min..max", (e) => (e.scaling = { desiredCount: 9, minCapacity: 1, maxCapacity: 5, fargateSpotPercent: 70 }), /^develop\.scaling\.desiredCount: must be between minCapacity \(1\) and maxCapacity \(5\); got 9$/],
    ["Spot share above 100", (e) => (e.scaling.fargateSpotPercent = 120), /^develop\.scaling\.fargateSpotPercent: must be a share between 0 and 100; got 120$/],
    ["Spot share below 0", (e) => (e.scaling.fargateSpotPercent = -5), /^develop\.scaling\.fargateSpotPercent: must be a share between 0 and 100; got -5$/],
    ["missing mandatory tag", (e) => delete (e.tags as Record<string, string>).CostCenter, /^develop\.tags\.CostCenter: mandatory tag is missing; got nothing; every environment needs Environment, Owner, CostCenter, Compliance$/],
    ["Environment tag of another environment", (e) => (e.tags.Environment = "prod"), /^develop\.tags\.Environment: must match the environment name; got "prod"; valid: "develop"$/],
    ["retention CloudWatch refuses", (e) => (e.logRetentionDays = 45), /^develop\.logRetentionDays: is not a retention CloudWatch Logs accepts; got 45; valid: 1, 3, 5, 7, 14, 30, 60, 90/],
    ["unknown field", (e) => ((e as Record<string, unknown>).logRetention = 7), /^develop: has unknown field\(s\) "logRetention"; got {"logRetention":7}; check the spelling against environments\/schema\.ts$/],
    ["missing field", (e) => delete (e as Partial<EnvironmentInput>).deletionProtection, /^develop\.deletionProtection: is required; got nothing; expected boolean$/],
    ["project name over the ALB name limit", (e) => (e.project = "averylongproj"), /^develop\.project: is too big; got "averylongproj"; maximum 12 characters$/],
    ["state bucket of another stack", (e) => (e.stateBackend.bucket = "someone-elses-bucket"), /^develop\.stateBackend\.bucket: does not match the state-backend stack; got "someone-elses-bucket"; valid: "fargate-tfstate-123456789012-us-east-1"/],
    ["lock table of another stack", (e) => (e.stateBackend.lockTable = "terraform-locks"), /^develop\.stateBackend\.lockTable: does not match the state-backend stack; got "terraform-locks"/],
  ];

  test.each(cases)("rejects %s with a clear message", (_label, change, expected) => {
    const problems = problemsOf(developWith(change));
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  const prodCases: [string, (e: EnvironmentInput) => void, string][] = [
    ["prod without deletion protection", (e) => (e.deletionProtection = false), "prod.deletionProtection: prod must have deletion protection; got false; set true"],
    ["prod without manual approval", (e) => ((e.cicd as { manualApproval: boolean }).manualApproval = false), 'prod.cicd.manualApproval: prod releases need a manual approval gate; got false; set true (with releases "promote" or "build")'],
    ["prod without a gate of its own", (e) => (e.cicd = { releases: "delivered", by: "qa" }), 'prod.cicd.manualApproval: prod releases need a manual approval gate; got releases "delivered" (no gate of its own); set true (with releases "promote" or "build")'],
    [
      "prod tasks in public subnets",
      (e) => ((e.network.natStrategy = "none"), (e.network.taskSubnets = "public")),
      'prod.network.taskSubnets: prod tasks must run in private subnets; got "public"; set natStrategy "per-az" (or "single") and taskSubnets "private"',
    ],
  ];

  test.each(prodCases)("rejects %s", (_label, change, expected) => {
    expect(problemsOf(prodWith(change))).toContain(expected);
  });

  test("rejects the same environment twice", () => {
    expect(problemsOf(baseInput(), baseInput())).toContain('develop.name: is used by environments[0] too; got "develop"; each environment appears once');
  });

  test("labels an environment without a name by its position", () => {
    const env = developWith((e) => delete (e as Partial<EnvironmentInput>).name);
    expect(problemsOf(env)).toContain("environments[0].name: is required; got nothing; expected 'develop' | 'test' | 'qa' | 'prod' | 'local'");
  });

  test("a service built by the pipeline must push to the platform's ECR", () => {
    const env = developWith((e) => {
      e.services![0].image = { uri: "public.ecr.aws/acme/api", tag: "1.0.0" };
    });
    expect(problemsOf(env)).toContain(
      'develop.services.api.source: a pipeline pushes to the platform\'s ECR, so a service with a source needs image.ecrRepository; got image.uri "public.ecr.aws/acme/api"; set image.ecrRepository or remove source',
    );
  });

  test("rejects a malformed source repository and alarm email, and a connection ARN per environment (it is the account's)", () => {
    const env = developWith((e) => {
      e.services![0].source = { repository: "just-a-name" };
      (e.cicd as Record<string, unknown>).connectionArn = "arn:aws:codeconnections:us-east-1:1:connection/a";
      e.observability = { warning: { emails: ["oncall"] } };
    });
    expect(problemsOf(env)).toEqual(
      expect.arrayContaining([
        'develop.services.api.source.repository: must be "workspace/repo"; got "just-a-name"',
        'develop.cicd: has unknown field(s) "connectionArn"; got {"connectionArn":"arn:aws:codeconnections:us-east-1:1:connection/a"}; check the spelling against environments/schema.ts',
        'develop.observability.warning.emails[0]: must be an email address; got "oncall"',
      ]),
    );
  });

  test("the audit baseline is no environment's: an old accountBaseline field is refused by name", () => {
    // CloudTrail and AWS Config live in the account stacks now (test/environments/accounts.test.ts).
    expect(problemsOf({ ...baseInput(), accountBaseline: true } as EnvironmentInput)).toEqual([
      'develop: has unknown field(s) "accountBaseline"; got {"accountBaseline":true}; check the spelling against environments/schema.ts',
    ]);
  });

  test("validates the state-backend config too", () => {
    expect(() => loadConfig([baseInput()], { ...stateBackendInput, bucketName: "Bad_Bucket" })).toThrow(
      /state-backend\.bucketName: state-backend: s3Bucket name "Bad_Bucket" may only contain lowercase letters, digits, dots and hyphens/,
    );
  });

  test("applies defaults: task placement follows the NAT strategy", () => {
    const { environments } = loadConfig();
    const develop = environments.find((e) => e.name === "develop")!;
    expect(develop.network.taskSubnets).toBeUndefined();
    expect(develop.stateBackend.useLockfile).toBe(false);
    expect(develop.features).toMatchObject({ autoscaling: true, cicd: true, s3AccessLogging: true });
    expect(develop.features).not.toHaveProperty("cloudTrail"); // the account stack's (environments/accounts.ts)
  });
});
