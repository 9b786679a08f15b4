/**
 * The app: the state-backend bootstrap stack plus one PlatformStack per environment.
 * Every environment is validated before anything is written; bad config prints every
 * problem (`<env>.<path>: ...`) and exits 1 with `cdktf.out` untouched.
 */
import { buildStacks } from "./src/app";
import { runSynth } from "./src/cli";

process.exitCode = runSynth({ build: (app, config) => void buildStacks(app, config) });
