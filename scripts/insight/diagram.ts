/**
 * `npm run diagram` — one architecture SVG per synthesized stack, drawn from its cdk.tf.json
 * (src/insight/architecture.ts + diagram.ts) and rendered by the WebAssembly Graphviz.
 *
 *   npm run diagram                                  # synthesizes, writes docs/diagrams/<env>.svg
 *   node dist/scripts/insight/diagram.js --dir <cdktf.out> --out <root> [--dot]
 *
 * `--out` is the root the docs/diagrams folder is written under; `--dot` also writes the
 * DOT source next to each SVG (for debugging a layout; not committed).
 */
import * as fs from "fs";
import * as path from "path";
import { buildArtifacts, writeDiagrams } from "../../src/insight/artifacts";
import { readArchitecture } from "../../src/insight/architecture";
import { toDot } from "../../src/insight/diagram";
import { readStacks } from "../../src/insight/terraform-json";

async function main(argv: readonly string[]): Promise<number> {
  let dir = "cdktf.out";
  let root = ".";
  let dot = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--dir" && argv[i + 1]) dir = argv[++i];
    else if (argv[i] === "--out" && argv[i + 1]) root = argv[++i];
    else if (argv[i] === "--dot") dot = true;
    else throw new Error(`unknown option ${argv[i]}; usage: diagram [--dir <cdktf.out>] [--out <root>] [--dot]`);
  }
  const stacks = readStacks(dir);
  const artifacts = await buildArtifacts(stacks);
  for (const file of writeDiagrams(root, artifacts)) {
    const svg = fs.readFileSync(path.join(root, file), "utf8");
    const size = /<svg width="(\d+)pt" height="(\d+)pt"/.exec(svg);
    process.stdout.write(`wrote ${file}${size ? ` (${size[1]} x ${size[2]} pt)` : ""}\n`);
  }
  if (dot) {
    for (const stack of stacks) fs.writeFileSync(path.join(root, "docs", "diagrams", `${stack.label}.dot`), toDot(readArchitecture(stack)));
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
