import { ImageRegistry, ImageRegistryProps } from "../../modules/cicd/registry";
import { Naming } from "../../lib/naming";
import { ACCOUNT, DATA_KEY, newStack, problemsOf, resourcesOf, synthJson } from "./fixtures";

const naming = new Naming("fargate", "nonprod");

function registryStack(overrides: Partial<ImageRegistryProps> = {}) {
  const stack = newStack();
  const registry = new ImageRegistry(stack, "registry", { naming, accountId: ACCOUNT, region: "us-east-1", repositories: ["api"], kmsKeyArn: DATA_KEY, ...overrides });
  return { stack, registry, json: synthJson(stack) };
}

describe("ImageRegistry", () => {
  test("creates an immutable, scanned, KMS-encrypted repository per image, named <project>/<image>, with a lifecycle that keeps release tags", () => {
    const { json } = registryStack();
    expect(resourcesOf(json, "aws_ecr_repository").map(([, r]) => r)).toEqual([
      { name: "fargate/api", image_tag_mutability: "IMMUTABLE", image_scanning_configuration: { scan_on_push: true }, encryption_configuration: [{ encryption_type: "KMS", kms_key: DATA_KEY }], force_delete: false },
    ]);
    const [[, lifecycle]] = resourcesOf(json, "aws_ecr_lifecycle_policy");
    expect(lifecycle.repository).toMatch(/aws_ecr_repository\..*\.name/);
    expect(JSON.parse(lifecycle.policy).rules.map((r: any) => [r.selection.tagStatus, r.selection.countNumber])).toEqual([["untagged", 7], ["tagged", 100]]);
  });

  test("one repository per image however often it is named; each addressed by its name, so the order never moves one", () => {
    const forward = registryStack({ repositories: ["api", "api", "worker"] });
    const reversed = registryStack({ repositories: ["worker", "api"] });
    expect(Object.keys(forward.registry.repositories).sort()).toEqual(["api", "worker"]);
    const addresses = (json: any) => resourcesOf(json, "aws_ecr_repository").map(([id, r]) => [id, r.name]).sort();
    expect(addresses(forward.json)).toHaveLength(2);
    expect(addresses(reversed.json)).toEqual(addresses(forward.json));
    expect(addresses(forward.json).map(([id]) => id)).toEqual([expect.stringMatching(/^registry_fargate-api_repository_/), expect.stringMatching(/^registry_fargate-worker_repository_/)]);
  });

  test("replicates nowhere, lets nobody in and creates no connection by default", () => {
    const { json, registry } = registryStack();
    for (const type of ["aws_ecr_replication_configuration", "aws_ecr_registry_policy", "aws_ecr_repository_policy", "aws_codestarconnections_connection"]) expect([type, resourcesOf(json, type)]).toEqual([type, []]);
    expect(registry.connection).toBeUndefined();
  });

  test("creates the account's one Bitbucket connection when asked", () => {
    const { json } = registryStack({ sourceConnection: true });
    expect(resourcesOf(json, "aws_codestarconnections_connection").map(([, c]) => c)).toEqual([{ name: "fargate-bitbucket", provider_type: "Bitbucket" }]);
  });

  test("reports no problem for valid props", () => {
    expect(problemsOf(registryStack({ repositories: ["api", "team/worker"], replicateTo: [{ accountId: "222222222222", region: "us-east-1" }] }).stack)).toEqual([]);
  });

  test.each<[string, Partial<ImageRegistryProps>, RegExp]>([
    ["an image name is not a valid ECR repository name", { repositories: ["API"] }, /^test\/registry: repository of image "API" is not a valid ECR repository name .*got "fargate\/API"/],
    ["the connection name would exceed 32 characters", { naming: new Naming("averyveryverylongprojectname", "nonprod"), repositories: [], sourceConnection: true }, /^test\/registry: connection name "averyveryverylongprojectname-bitbucket" is 38 characters; CodeConnections allows 32; shorten the project name$/],
  ])("refuses when %s", (_what, overrides, message) => {
    const { stack, json } = registryStack(overrides);
    expect(problemsOf(stack)).toEqual([expect.stringMatching(message)]);
    expect(resourcesOf(json, "aws_ecr_repository")).toEqual([]);
  });
});
