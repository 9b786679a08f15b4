/**
 * The app: the state-backend bootstrap stack plus one PlatformStack per environment.
 * Every environment is validated before anything is written; bad config prints every
 * problem (`<env>.<path>: ...`) and exits 1 with `cdktf.out` untouched.
 */
import { ConfigError, loadConfig } from "./environments";
import { buildStacks, synthesizeAtomically } from "./src/app";
import { NameError } from "./src/naming";
import { ConstructPropsError } from "./src/errors";

function main(): void {
  const config = loadConfig();
  // cdktf-cli passes its output directory in CDKTF_OUTDIR; plain `node dist/main.js` uses cdktf.out.
  synthesizeAtomically(process.env.CDKTF_OUTDIR ?? "cdktf.out", (app) => buildStacks(app, config));
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError || error instanceof NameError || error instanceof ConstructPropsError) {
    process.stderr.write(`${error.message}\nNothing was written.\n`);
    process.exit(1);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Synthesis failed: ${message}\nNothing was written.\n`);
  process.exit(1);
}
