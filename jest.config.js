/** Transpile-only (swc): type-checking is its own step (`npm run typecheck`). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
  },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  testTimeout: 30000,
  // Jest defaults to cores - 1 workers: one on these 2-core machines. Test files are
  // independent (each synthesizes in memory), so use both cores.
  maxWorkers: 2,
};
