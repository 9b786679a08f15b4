/**
 * A service's Terraform addresses depend only on its own name: adding, removing or
 * reordering other services never moves (or changes) anything of it, and resources shared
 * by several services (an ECR repository, a Kafka egress rule) are addressed by what they
 * are, never by the first service that names them.
 */
import { Testing } from "cdktf";
import { loadConfig } from "../../environments";
import { EnvironmentConfig, ServiceConfig } from "../../environments/schema";
import { PlatformStack, platformStackName } from "../../src/stacks/platform-stack";

type Blocks = Record<string, Record<string, unknown>>;
type Json = { resource: Blocks; data?: Blocks };

const prod = loadConfig().environments.find((e) => e.name === "prod")!;
const [api, worker] = ["api", "worker"].map((n) => prod.services.find((s) => s.name === n)!);
const kafka = { brokers: ["b-1.kafka.internal:9094"], securityGroupId: "sg-0123456789abcdef0", port: 9094 };
/** A second public service and a second Kafka client sharing worker's repository. */
const web: ServiceConfig = { ...api, name: "web", image: { ecrRepository: "fargate/web", tag: "prod" }, exposure: { ...(api.exposure as Extract<ServiceConfig["exposure"], { type: "public" }>), paths: ["/web/*"], priority: 200 }, deployment: { strategy: "rolling" } };
const audit: ServiceConfig = { ...worker, name: "audit", exposure: { type: "internal", kafka } };
const kafkaWorker: ServiceConfig = { ...worker, exposure: { type: "internal", kafka } };

function synth(services: ServiceConfig[]): Json {
  const config: EnvironmentConfig = { ...prod, services, database: prod.database && { ...prod.database, clientServices: services.map((s) => s.name) } };
  return JSON.parse(Testing.synth(new PlatformStack(Testing.app(), platformStackName(config), { config })));
}

/** Every block (resource and data) whose address belongs to `service`, as `type.name` -> config. */
function blocksOf(json: Json, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [kind, blocks] of [["resource", json.resource], ["data", json.data ?? {}]] as const) {
    for (const [type, byName] of Object.entries(blocks)) {
      for (const [name, config] of Object.entries(byName)) if (name.startsWith(prefix)) out[`${kind}.${type}.${name}`] = config;
    }
  }
  return out;
}
const serviceBlocks = (json: Json, name: string) => blocksOf(json, `services_${name}_`);

describe("service addresses", () => {
  const base = synth([api, worker]);

  test("the fixture has resources for each service (the comparisons below are not vacuous)", () => {
    expect(Object.keys(serviceBlocks(base, "api")).length).toBeGreaterThan(20);
    expect(Object.keys(serviceBlocks(base, "worker")).length).toBeGreaterThan(10);
  });

  test.each([
    ["reordering the services", [worker, api]],
    ["adding a service", [api, web, worker]],
    ["adding a service first", [web, api, worker]],
  ])("%s changes nothing of the existing services", (_, services) => {
    const changed = synth(services as ServiceConfig[]);
    for (const name of ["api", "worker"]) expect(serviceBlocks(changed, name)).toEqual(serviceBlocks(base, name));
  });

  test("removing a service changes nothing of the others", () => {
    const withWeb = synth([api, web, worker]);
    const withoutApi = synth([web, worker]);
    for (const name of ["web", "worker"]) expect(serviceBlocks(withoutApi, name)).toEqual(serviceBlocks(withWeb, name));
  });

  test("a shared image repository is the account's: no environment address depends on which services name it", () => {
    const sharing = synth([audit, worker]); // both use the worker image
    expect(sharing.resource.aws_ecr_repository).toBeUndefined();
    const pulls = (json: Json) => JSON.stringify(json.data?.aws_iam_policy_document ?? {}).match(/arn:aws:ecr:[^"]+:repository\/fargate\/worker/g) ?? [];
    expect(pulls(sharing).length).toBeGreaterThanOrEqual(2);
    expect(pulls(synth([worker])).length).toBeGreaterThanOrEqual(1);
  });

  test("a Kafka egress rule shared by two clients is addressed by group and port, whoever names it", () => {
    const rules = (json: Json) => Object.keys(json.resource.aws_vpc_security_group_egress_rule ?? {}).filter((n) => n.includes("kafka"));
    const both = rules(synth([audit, kafkaWorker]));
    expect(both).toEqual([expect.stringContaining("ecs-egress-kafka-sg-0123456789abcdef0-9094")]);
    expect(rules(synth([kafkaWorker]))).toEqual(both);
    expect(rules(synth([audit, worker]))).toEqual(both);
  });
});
