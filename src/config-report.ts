/**
 * What the operator sees of the resolved config: `npm run config -- <env>` prints one
 * environment's effective values (shared.ts + catalogue + the environment file, defaults
 * applied), and the README's environment table is generated from the same values (a test
 * keeps the README in step).
 */
import { EnvironmentConfig, wafEnabled } from "../environments/schema";
import { AccountConfig } from "../environments/accounts";

/** The deployment guide's table, one column per environment (`accounts`: where they run). */
export function environmentTable(envs: readonly EnvironmentConfig[], accounts: readonly AccountConfig[]): string {
  const account = (e: EnvironmentConfig) => accounts.find((a) => a.name === e.account);
  const rows: [string, (e: EnvironmentConfig) => string][] = [
    ["desired tasks", (e) => String(e.scaling.desiredCount)],
    ["autoscaling min / max", (e) => `${e.scaling.minCapacity} / ${e.scaling.maxCapacity}`],
    ["log retention (days)", (e) => String(e.logRetentionDays)],
    ["deletion protection", (e) => (e.deletionProtection ? "on" : "off")],
    ["Fargate Spot share", (e) => `${e.scaling.fargateSpotPercent}%`],
    ["releases", (e) => (e.cicd.releases === "build" ? `build once${e.cicd.then.length ? `, then ${e.cicd.then.join(", ")}` : ""}` : e.cicd.releases === "delivered" ? `by ${e.cicd.by}'s pipeline` : `promote ${e.cicd.from}'s digest`)],
    ["manual approval", (e) => (e.cicd.releases === "delivered" ? "-" : e.cicd.manualApproval ? "yes" : "no")],
    ["source branches", (e) => (e.cicd.releases === "delivered" ? "-" : `${e.cicd.branchPattern} (${e.cicd.trigger})`)],
    ["MFA for humans", (e) => (account(e)?.requireMfa ? "yes" : "no")],
    ["account", (e) => `${e.account} (${e.accountId})`],
    ["WAF", (e) => (wafEnabled(e) ? "on" : "off")],
    ["NAT strategy", (e) => (e.network.natStrategy === "none" ? "none (tasks in public subnets)" : e.network.natStrategy)],
    ["AZs / VPC endpoints", (e) => `${e.availabilityZones.length} / ${e.network.vpcEndpoints ? "on" : "off"}`],
    ["database", (e) => (e.database ? `${e.database.instanceClass}${e.database.multiAz ? ", Multi-AZ" : ""}` : "none")],
    ["services (cpu/MiB, image tag)", (e) => e.services.map((s) => `${s.name} ${s.cpu}/${s.memoryMiB} :${s.image.tag}`).join("; ")],
  ];
  const header = `| | ${envs.map((e) => e.name).join(" | ")} |`;
  const rule = `|---|${envs.map(() => "---").join("|")}|`;
  return [header, rule, ...rows.map(([label, cell]) => `| ${label} | ${envs.map(cell).join(" | ")} |`)].join("\n");
}

/** Markers around the generated table in README.md. */
export const TABLE_MARKERS = { start: "<!-- environment-table:start (npm run config -- --table) -->", end: "<!-- environment-table:end -->" } as const;

/** The README text with the generated table between the markers; throws when the markers are missing. */
export function withEnvironmentTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_MARKERS.start);
  const end = readme.indexOf(TABLE_MARKERS.end);
  if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_MARKERS.start} ... ${TABLE_MARKERS.end} block`);
  return `${readme.slice(0, start + TABLE_MARKERS.start.length)}\n${table}\n${readme.slice(end)}`;
}
