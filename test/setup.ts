/**
 * Cheap creation stacks. cdktf records a full stack trace for every token it creates
 * (`Error.captureStackTrace` into a plain `{ stack }` object, read at once; it only ever shows
 * up in the message of a token that fails to resolve), some of them while its modules load.
 * Under jest, `Error.prepareStackTrace` is source-map-support's, which parses the source maps
 * of every file on the stack and clones every call site: a third of the CPU of a whole-app
 * synth in a test (profiled: 2.5 s of 7.4 s for three synths), plus ~30 ms per test file for
 * cdktf's inline source maps at import. Stacks captured into plain objects of this realm get
 * V8's own format (compiled positions); every real error (any `Error`, any realm) keeps the
 * source-mapped trace jest prints on failure. Installed before cdktf is first required.
 */
const sourceMapped = Error.prepareStackTrace;
if (sourceMapped) {
  Error.prepareStackTrace = (target: unknown, callSites: NodeJS.CallSite[]) => {
    if (target !== null && typeof target === "object" && Object.getPrototypeOf(target) === Object.prototype) {
      return `Error${callSites.map((site) => `\n    at ${site}`).join("")}`;
    }
    return sourceMapped(target as Error, callSites);
  };
}

// Adds toHaveResource, toHaveResourceWithProperties, toBeValidTerraform, ... to expect().
// (A require, not an import: imports are hoisted above the hook.)
(require("cdktf") as typeof import("cdktf")).Testing.setupJest();

export {};
