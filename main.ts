/**
 * The app: the state-backend bootstrap stack plus one PlatformStack per environment.
 * Every environment is validated before anything is written; bad config prints every
 * problem (`<env>.<path>: ...`) and exits 1 with `cdktf.out` untouched.
 */
import { buildStacks } from "./src/app";
import { runSynth } from "./src/cli";
import { buildLocalStacks, EMULATOR_ENDPOINT_VAR } from "./src/emulator";

const emulator = process.env[EMULATOR_ENDPOINT_VAR];
process.exitCode = runSynth({
  build: (app, config) => {
    buildStacks(app, config);
    // Only with an emulator endpoint (npm run local:up, test:e2e): the `local` stacks.
    if (emulator) buildLocalStacks(app, emulator);
  },
});
