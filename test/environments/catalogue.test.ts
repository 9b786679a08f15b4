import { ConfigError, ENVIRONMENT_DELTAS, loadConfig, resolve } from "../../environments";
import { EnvironmentDelta, mergeConfig, resolveEnvironment, ServiceDefinition } from "../../environments/catalogue";
import { SERVICE_CATALOGUE } from "../../environments/services";
import { SHARED } from "../../environments/shared";

const develop = ENVIRONMENT_DELTAS.find((d) => d.name === "develop")!;

describe("mergeConfig", () => {
  test("merges objects key by key, the override winning, without touching its inputs", () => {
    const base = { a: 1, nested: { x: 1, y: 2 } };
    const over = { nested: { y: 3 } };
    expect(mergeConfig(base, over)).toEqual({ a: 1, nested: { x: 1, y: 3 } });
    expect(base).toEqual({ a: 1, nested: { x: 1, y: 2 } });
  });

  test("replaces arrays and scalars instead of merging them", () => {
    expect(mergeConfig({ paths: ["/a/*", "/b/*"], n: 1 }, { paths: ["/c/*"], n: 2 })).toEqual({ paths: ["/c/*"], n: 2 });
  });

  test("replaces an object whose discriminator changes (no stale fields of the other variant)", () => {
    const blueGreen = { deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 0 } };
    expect(mergeConfig(blueGreen, { deployment: { strategy: "rolling" } })).toEqual({ deployment: { strategy: "rolling" } });
    expect(mergeConfig(blueGreen, { deployment: { greenWeight: 10 } })).toEqual({ deployment: { strategy: "blue-green", blueWeight: 100, greenWeight: 10 } });
  });

  test("ignores undefined in the override", () => {
    expect(mergeConfig({ a: 1 }, { a: undefined })).toEqual({ a: 1 });
  });
});

describe("resolveEnvironment", () => {
  test("a catalogue service runs with the environment's deltas and the catalogue's other fields", () => {
    const { input, problems } = resolve(develop);
    expect(problems).toEqual([]);
    const api = input.services!.find((s) => s.name === "api")!;
    expect(api.image).toEqual({ ecrRepository: SERVICE_CATALOGUE.api.image.ecrRepository, tag: "develop" });
    expect(api.environment).toEqual({ LOG_LEVEL: "debug" });
    expect(api.containerPort).toBe(SERVICE_CATALOGUE.api.containerPort);
  });

  test("catalogue secret keys become this environment's own parameter and secret names", () => {
    const catalogue: Record<string, ServiceDefinition> = {
      api: { ...SERVICE_CATALOGUE.api, secrets: [{ name: "A", source: "ssm", key: "api/a" }, { name: "B", source: "secretsmanager", key: "api/b", jsonKey: "k" }] },
    };
    const { input } = resolveEnvironment({ ...develop, services: { api: {} } }, SHARED, catalogue);
    expect(input.services![0].secrets).toEqual([
      { name: "A", source: "ssm", path: "/fargate/develop/api/a" },
      { name: "B", source: "secretsmanager", path: "fargate/develop/api/b", jsonKey: "k" },
    ]);
  });

  test("services come out in catalogue order whatever the environment file's order", () => {
    const reversed: EnvironmentDelta = { ...develop, services: { worker: develop.services.worker, api: develop.services.api } };
    expect(resolve(reversed).input.services!.map((s) => s.name)).toEqual(resolve(develop).input.services!.map((s) => s.name));
  });

  test("an environment runs only the services it names", () => {
    const { input } = resolve({ ...develop, services: { worker: {} } });
    expect(input.services!.map((s) => s.name)).toEqual(["worker"]);
  });

  test("a service the catalogue does not define is refused with the valid names", () => {
    const { problems } = resolve({ ...develop, services: { ...develop.services, payments: {} } });
    expect(problems).toEqual([`develop.services.payments: is not in the service catalogue; got "payments"; valid: "api", "worker" (add it to environments/services.ts first)`]);
    expect(() => loadConfig([resolve(develop).input], undefined, problems)).toThrow(ConfigError);
  });

  test("every shipped environment resolves without problems and validates", () => {
    expect(ENVIRONMENT_DELTAS.flatMap((d) => resolve(d).problems)).toEqual([]);
    expect(loadConfig().environments.map((e) => e.name)).toEqual(["develop", "test", "qa", "prod"]);
  });
});
