/**
 * `npm run config -- <env>`: the effective config of one environment as JSON (shared.ts +
 * the service catalogue + the environment file, with the schema's defaults applied).
 * `npm run config -- --table`: the README's environment table. `--write-readme` refreshes it.
 * Invalid config prints every problem and exits 1, as synth does.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError, loadConfig, LOCAL_INPUT, ENVIRONMENT_INPUTS } from "../environments";
import { environmentTable, withEnvironmentTable } from "../src/config-report";

function main(args: readonly string[]): number {
  try {
    const { environments, accounts } = loadConfig();
    if (args.includes("--table") || args.includes("--write-readme")) {
      const table = environmentTable(environments, accounts);
      if (args.includes("--write-readme")) {
        const readme = path.join(__dirname, "..", "..", "README.md");
        fs.writeFileSync(readme, withEnvironmentTable(fs.readFileSync(readme, "utf8"), table));
      } else process.stdout.write(`${table}\n`);
      return 0;
    }
    const names = [...ENVIRONMENT_INPUTS.map((e) => e.name), "local"];
    const name = args.find((a) => !a.startsWith("-"));
    if (!name || !names.includes(name as never)) {
      process.stderr.write(`usage: npm run config -- <environment> | --table | --write-readme\n  environment: one of ${names.join(", ")}; got ${name === undefined ? "nothing" : JSON.stringify(name)}\n`);
      return 2;
    }
    const env = name === "local" ? loadConfig([LOCAL_INPUT]).environments[0] : environments.find((e) => e.name === name)!;
    process.stdout.write(`${JSON.stringify(env, undefined, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
