/**
 * What a valid config may do but an operator should hear about at every synth: one line per
 * environment and concern, printed by `npm run synth` (src/cli.ts) after the stacks are written.
 * What must not happen at all is a schema problem instead (environments/schema.ts).
 */
import { EnvironmentConfig } from "./schema";

/** Warnings of one validated environment, each `<env>.<path>: <what>; <what to do>`. */
export function configWarnings(env: EnvironmentConfig): string[] {
  const warnings: string[] = [];
  const critical = env.observability.critical;
  // prod without a destination is refused by the schema; elsewhere it is allowed, and said.
  if (critical.emails.length + critical.httpsEndpoints.length === 0) {
    warnings.push(`${env.name}.observability.critical: critical alarms reach nobody (no email, no HTTPS endpoint); they still change state and show on the dashboards; add a destination to be paged`);
  }
  // The catalogue defines a service's migration once; an environment that does not make the
  // service a database client runs no migration task for it.
  const clients = new Set(env.database?.clientServices ?? []);
  for (const svc of env.services) {
    if (svc.migration && !clients.has(svc.name)) {
      warnings.push(`${env.name}.services.${svc.name}.migration: ${svc.name} is not a database client here (database.clientServices), so no migration task is created; add it there if it uses the database`);
    }
  }
  return warnings;
}
