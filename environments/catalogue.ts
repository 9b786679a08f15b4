/**
 * How an environment file and the service catalogue become one full environment input:
 * `shared.ts` (what every environment has in common) + `<env>.ts` (only what differs) +
 * `services.ts` (each application service defined once) -> an EnvironmentInput, which the
 * schema then validates. `npm run config -- <env>` prints the result.
 *
 * Merge rules, kept deliberately small so the effective value is easy to predict:
 * - plain objects merge key by key, the environment's value winning;
 * - arrays and scalars replace (an environment that lists `paths` lists all of them);
 * - an object whose discriminator (`type`, `strategy`) differs replaces instead of merging
 *   (switching a service from blue-green to rolling drops the blue-green fields).
 */
import { EnvironmentInput, show } from "./schema";

type ServiceInput = NonNullable<EnvironmentInput["services"]>[number];
type SecretInput = NonNullable<ServiceInput["secrets"]>[number];

/** A secret in the catalogue: `key` is relative to the environment's own path. */
export type CatalogueSecret = Omit<SecretInput, "path"> & {
  /**
   * Under `/<project>/<env>/` (SSM) or `<project>/<env>/` (Secrets Manager), so a catalogue
   * entry can never point one environment at another's secret.
   */
  readonly key: string;
};

/** One application service, as every environment runs it unless its file says otherwise. */
export type ServiceDefinition = Omit<ServiceInput, "name" | "secrets"> & { readonly secrets?: readonly CatalogueSecret[] };

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** What an environment may change about a catalogue service. */
export type ServiceDelta = DeepPartial<Omit<ServiceInput, "name" | "secrets">> & { readonly secrets?: readonly CatalogueSecret[] };

/** What every environment shares (shared.ts). */
export type SharedSettings = DeepPartial<Omit<EnvironmentInput, "name" | "services">>;

/** An environment file: its name, what differs from shared.ts, and the services it runs. */
export type EnvironmentDelta = DeepPartial<Omit<EnvironmentInput, "name" | "services">> & {
  readonly name: EnvironmentInput["name"];
  /** Catalogue services this environment runs, each with what differs here (`{}`: as catalogued). */
  readonly services: Readonly<Record<string, ServiceDelta>>;
};

const DISCRIMINATORS = ["type", "strategy"] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `over` merged onto `base` by the rules above; neither input is modified. */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (over === undefined) return structuredClone(base);
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over) as T;
  if (DISCRIMINATORS.some((d) => d in base && d in over && base[d] !== over[d])) return structuredClone(over) as T;
  const out: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = key in out ? mergeConfig(out[key], value) : structuredClone(value);
  }
  return out as T;
}

/** Full secret names from catalogue keys: `/<project>/<env>/<key>` or `<project>/<env>/<key>`. */
function resolveSecrets(secrets: readonly CatalogueSecret[], project: string, env: string): SecretInput[] {
  return secrets.map(({ key, ...rest }) => ({
    ...rest,
    path: rest.source === "ssm" ? `/${project}/${env}/${key}` : `${project}/${env}/${key}`,
  }));
}

export interface Resolved {
  readonly input: EnvironmentInput;
  /** Problems the schema cannot see (a service the catalogue does not define). */
  readonly problems: readonly string[];
}

/**
 * One environment's full input. Services come out in catalogue order whatever the order of
 * the environment file; a service's resources are addressed by its name alone, so order never
 * moves anything.
 */
export function resolveEnvironment(delta: EnvironmentDelta, shared: SharedSettings, catalogue: Readonly<Record<string, ServiceDefinition>>): Resolved {
  const { services: serviceDeltas, ...rest } = delta;
  const base = mergeConfig(shared, rest) as Omit<EnvironmentInput, "services">;
  const project = typeof base.project === "string" ? base.project : "";
  const problems: string[] = [];
  for (const name of Object.keys(serviceDeltas)) {
    if (!catalogue[name]) {
      problems.push(`${delta.name}.services.${name}: is not in the service catalogue; got ${show(name)}; valid: ${Object.keys(catalogue).map((n) => show(n)).join(", ")} (add it to environments/services.ts first)`);
    }
  }
  const services: ServiceInput[] = Object.entries(catalogue)
    .filter(([name]) => name in serviceDeltas)
    .map(([name, definition]) => {
      const { secrets: catalogueSecrets, ...merged } = mergeConfig(definition, { ...serviceDeltas[name], secrets: undefined });
      const secrets = serviceDeltas[name].secrets ?? catalogueSecrets ?? [];
      return { name, ...merged, secrets: resolveSecrets(secrets, project, delta.name) } as ServiceInput;
    });
  return { input: { ...base, name: delta.name, services } as EnvironmentInput, problems };
}
