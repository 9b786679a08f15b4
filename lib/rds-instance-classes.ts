/**
 * The memory of the RDS instance classes the platform knows, and what PostgreSQL derives from
 * it. Written once: the config schema refuses a class this table does not know, and the
 * observability construct derives the `db-connections-high` threshold from the same numbers.
 *
 * Memory is the class's nominal GiB from "DB instance class specifications" (RDS User Guide).
 * RDS's `DBInstanceClassMemory` is that memory less what RDS reserves for the OS and its own
 * processes, so the live `max_connections` is somewhat below the value computed here; the
 * runbook (docs/observability.md#db-connections-high) says how to read the live value.
 */
import { Problem } from "./aws-limits";

/** Sizes and their memory in GiB, per memory-per-vCPU ratio. */
const BURSTABLE: Readonly<Record<string, number>> = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };
const GENERAL: Readonly<Record<string, number>> = { large: 8, xlarge: 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192, "16xlarge": 256 };
const MEMORY: Readonly<Record<string, number>> = { large: 16, xlarge: 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256, "12xlarge": 384, "16xlarge": 512 };

/** Families RDS for PostgreSQL offers, by their memory ratio (burstable t, general m, memory r). */
const FAMILIES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  t3: BURSTABLE,
  t4g: BURSTABLE,
  m5: { ...GENERAL, "24xlarge": 384 },
  m6g: GENERAL,
  m6i: { ...GENERAL, "24xlarge": 384, "32xlarge": 512 },
  m7g: GENERAL,
  r5: { ...MEMORY, "24xlarge": 768 },
  r6g: MEMORY,
  r6i: { ...MEMORY, "24xlarge": 768, "32xlarge": 1024 },
  r7g: MEMORY,
};

/** Every class of the table, e.g. `db.t4g.micro`. */
export const KNOWN_INSTANCE_CLASSES: readonly string[] = Object.entries(FAMILIES).flatMap(([family, sizes]) => Object.keys(sizes).map((size) => `db.${family}.${size}`));

/** PostgreSQL's default: `LEAST({DBInstanceClassMemory/9531392}, 5000)` (RDS parameter group default). */
export const MAX_CONNECTIONS_BYTES_PER_CONNECTION = 9531392;
export const MAX_CONNECTIONS_CAP = 5000;

/** Nominal memory of a class in GiB, or undefined when the table does not know it. */
export function instanceClassMemoryGiB(instanceClass: string): number | undefined {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  return m ? FAMILIES[m[1]]?.[m[2]] : undefined;
}

/** Why the platform cannot derive the database alarms for this class (undefined when it can). */
export function instanceClassProblem(instanceClass: string): Problem {
  if (instanceClassMemoryGiB(instanceClass) !== undefined) return undefined;
  const families = Object.keys(FAMILIES).map((f) => `db.${f}.*`).join(", ");
  return `is not in the platform's instance-class table, so max_connections (and the db-connections-high threshold) cannot be derived from its memory; got ${JSON.stringify(instanceClass)}; valid: a size of ${families} (e.g. db.t4g.micro, db.m7g.large), or add the class with its memory to lib/rds-instance-classes.ts`;
}

/** The default `max_connections` of PostgreSQL on this class (nominal memory). Throws for an unknown class. */
export function postgresMaxConnections(instanceClass: string): number {
  const gib = instanceClassMemoryGiB(instanceClass);
  if (gib === undefined) throw new Error(`instance class ${instanceClassProblem(instanceClass)}`);
  return Math.min(Math.floor((gib * 1024 ** 3) / MAX_CONNECTIONS_BYTES_PER_CONNECTION), MAX_CONNECTIONS_CAP);
}
