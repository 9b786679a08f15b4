/**
 * Transpile-only: with `isolatedModules` in tsconfig, ts-jest compiles each file on its own,
 * without type information (type-checking is its own step, `npm run typecheck`). Pure JS on purpose: the
 * registry these machines reach serves only the Linux builds of native transformers (swc,
 * esbuild), so their lock entries break `npm ci`.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json", diagnostics: false }],
  },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  testTimeout: 30000,
  // Jest defaults to cores - 1 workers: one on these 2-core machines. Test files are
  // independent (each synthesizes in memory), so use both cores.
  maxWorkers: 2,
};
