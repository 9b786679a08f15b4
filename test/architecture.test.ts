import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const SOURCE_DIRS = ["main.ts", "environments", "modules", "src", "scripts", "test"];

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return full.endsWith(".ts") ? [full] : [];
  return fs.readdirSync(full).flatMap((child) => sourceFiles(path.join(entry, child)));
}

describe("architecture", () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles);

  test("finds the sources it guards", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  // The barrel costs ~2.4 s and 6x memory per synth; deep imports only.
  const barrel = /from\s+["']@cdktf\/provider-aws["']|require\(\s*["']@cdktf\/provider-aws["']\s*\)/;

  test("the barrel check catches barrel imports and allows deep ones", () => {
    const pkg = ["@cdktf", "provider-aws"].join("/");
    expect(barrel.test(`import { Vpc } from "${pkg}";`)).toBe(true);
    expect(barrel.test(`const aws = require('${pkg}');`)).toBe(true);
    expect(barrel.test(`import { Vpc } from "${pkg}/lib/vpc";`)).toBe(false);
  });

  test("no file imports the @cdktf/provider-aws barrel", () => {
    const offenders = files.filter((f) => barrel.test(fs.readFileSync(f, "utf8"))).map((f) => path.relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  // One-way data flow: modules get everything through props.
  test("modules create no providers, backends or variables and read no config", () => {
    const forbidden = /new (AwsProvider|S3Backend|LocalBackend|TerraformVariable)\b|from\s+["'][./]*environments|process\.env/;
    const offenders = files
      .filter((f) => f.includes(`${path.sep}modules${path.sep}`))
      .filter((f) => forbidden.test(fs.readFileSync(f, "utf8")))
      .map((f) => path.relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  // Plan must run offline: no data source that calls AWS.
  test("no AWS-calling data sources (AZs and account come from config)", () => {
    const lookup = /data-aws-(availability-zones|caller-identity|region|vpc|subnets?|ami|partition)["']/;
    const offenders = files.filter((f) => lookup.test(fs.readFileSync(f, "utf8"))).map((f) => path.relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});
