/**
 * The synth entry point's logic, separate from main.ts so tests can drive it: load and
 * validate every config, then synthesize atomically. Known input errors become one clear
 * report on stderr and exit code 1; nothing is written in that case.
 */
import { App } from "cdktf";
import { ConfigError, LoadedConfig, loadConfig } from "../environments";
import { configWarnings } from "../environments/warnings";
import { synthesizeAtomically } from "./app";
import { NameError } from "../lib/naming";
import { ConstructPropsError, ConstructValidationError } from "../lib/errors";
import { printSynthCosts } from "./insight";

export interface RunOptions {
  /** Output directory. @default - CDKTF_OUTDIR (set by cdktf-cli) or cdktf.out */
  readonly outdir?: string;
  /** Loads and validates the configs. @default loadConfig */
  readonly load?: () => LoadedConfig;
  /** Adds the stacks to the app. */
  readonly build: (app: App, config: LoadedConfig) => void;
  /** Where problems are reported. @default process.stderr */
  readonly stderr?: Pick<NodeJS.WritableStream, "write">;
  /** Where the cost line per stack is printed after a synth (src/insight). @default process.stdout */
  readonly stdout?: Pick<NodeJS.WritableStream, "write">;
}

/** @returns the process exit code: 0 when every stack was written, 1 otherwise */
export function runSynth(options: RunOptions): number {
  const stderr = options.stderr ?? process.stderr;
  const outdir = options.outdir ?? process.env.CDKTF_OUTDIR ?? "cdktf.out";
  try {
    const config = (options.load ?? loadConfig)();
    synthesizeAtomically(outdir, (app) => options.build(app, config));
    // One cost line per stack; an estimate that fails only warns (the synth output is complete).
    printSynthCosts(outdir, options.stdout ?? process.stdout, stderr);
    // What the config allows but someone should hear about (e.g. critical alarms reaching nobody outside prod).
    for (const warning of config.environments.flatMap(configWarnings)) stderr.write(`warning: ${warning}\n`);
    return 0;
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof NameError || error instanceof ConstructPropsError || error instanceof ConstructValidationError;
    const message = error instanceof Error ? error.message : String(error);
    // Known input errors already say what and where; anything else gets a short header, no stack.
    stderr.write(`${known ? message : `Synthesis failed: ${message}`}\nNothing was written to ${outdir}.\n`);
    return 1;
  }
}
