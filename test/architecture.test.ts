import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const SOURCE_DIRS = ["main.ts", "lib", "environments", "modules", "src", "scripts", "test"];

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
      .filter((f) => path.relative(ROOT, f).startsWith(`modules${path.sep}`))
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

  // Folders import in one direction: lib <- environments, modules <- src <- scripts, main.ts.
  // Within modules, only modules/service composes the other concern modules.
  const LAYERS: Readonly<Record<string, readonly string[]>> = {
    lib: ["lib"],
    environments: ["environments", "lib"],
    modules: ["modules", "lib"],
    src: ["src", "modules", "environments", "lib"],
    scripts: ["scripts", "src", "modules", "environments", "lib"],
    "main.ts": ["src"],
  };

  /** Top-level folder (or main.ts) of a file. */
  const layerOf = (file: string): string => path.relative(ROOT, file).split(path.sep)[0];

  /** Every project-relative import of a file, resolved to a path under ROOT. */
  function importsOf(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const specs = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
    return specs.map((spec) => path.resolve(path.dirname(file), spec));
  }

  function layerViolations(sources: readonly string[]): string[] {
    const out: string[] = [];
    for (const file of sources) {
      const from = layerOf(file);
      const allowed = LAYERS[from];
      if (!allowed) continue; // tests may import anything
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (!allowed.includes(to)) out.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`);
        const rel = path.relative(ROOT, target).split(path.sep);
        const fromModule = path.relative(ROOT, file).split(path.sep);
        if (from === "modules" && to === "modules" && rel[1] !== fromModule[1] && fromModule[1] !== "service") {
          out.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)} (only modules/service composes other modules)`);
        }
      }
    }
    return out;
  }

  test("folders import in one direction only", () => {
    expect(layerViolations(files.filter((f) => !layerOf(f).startsWith("test")))).toEqual([]);
  });

  test("the layering check catches an upward import", () => {
    const dir = fs.mkdtempSync(path.join(ROOT, "lib", ".arch-"));
    const bad = path.join(dir, "bad.ts");
    try {
      fs.writeFileSync(bad, 'import { x } from "../../src/app";\nimport { y } from "../../modules/alb";\n');
      expect(layerViolations([bad])).toEqual([expect.stringContaining("-> src/app"), expect.stringContaining("-> modules/alb")]);
      const sibling = path.join(ROOT, "modules", path.basename(dir));
      fs.mkdirSync(sibling);
      try {
        fs.writeFileSync(path.join(sibling, "index.ts"), 'import { Alb } from "../alb";\n');
        expect(layerViolations([path.join(sibling, "index.ts")])).toEqual([expect.stringContaining("only modules/service composes other modules")]);
      } finally {
        fs.rmSync(sibling, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the production composition (src/app.ts) knows nothing of the emulator", () => {
    const app = path.join(ROOT, "src", "app.ts");
    expect(importsOf(app).filter((t) => t.includes(`${path.sep}emulator`))).toEqual([]);
  });
});
