/**
 * `npm run grants`: what the execution roles keep reading beyond the config (pending
 * narrowings) and what the config references unrecorded. `npm run grants -- --write` records
 * the config's grants (after `platform rollout`; see src/grants.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { loadConfig, LOCAL_INPUT } from "../environments";
import { EXECUTION_GRANTS } from "../environments/execution-grants";
import { grantDrift, grantRecordSource } from "../src/grants";

const envs = [...loadConfig().environments, ...loadConfig([LOCAL_INPUT]).environments];
if (process.argv.includes("--write")) {
  const file = path.join(__dirname, "..", "..", "environments", "execution-grants.ts");
  fs.writeFileSync(file, grantRecordSource(envs));
  process.stdout.write(`recorded the execution grants of ${envs.map((e) => e.name).join(", ")} in environments/execution-grants.ts\n`);
} else {
  const { unrecorded, retained } = grantDrift(envs, EXECUTION_GRANTS);
  for (const line of retained) process.stdout.write(`still granted (pending narrowing; record after the rollout): ${line}\n`);
  for (const line of unrecorded) process.stdout.write(`not recorded: ${line}\n`);
  process.stdout.write(retained.length + unrecorded.length ? "run `npm run grants -- --write` once every running task has the new config\n" : "execution grants match the config\n");
}
