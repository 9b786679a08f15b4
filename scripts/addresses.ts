/**
 * `npm run addresses`: compares every stack's resource addresses with test/stacks/addresses.json.
 * `npm run addresses -- --write` records the current ones (after reviewing what moved).
 */
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { loadConfig } from "../environments";
import { buildStacks } from "../src/app";
import { addressChanges, appAddresses } from "../src/addresses";

const RECORD = path.join(__dirname, "..", "..", "test", "stacks", "addresses.json");

const app = Testing.app();
buildStacks(app, loadConfig());
const current = appAddresses(app);
if (process.argv.includes("--write")) {
  fs.writeFileSync(RECORD, `${JSON.stringify(current, undefined, 1)}\n`);
  process.stdout.write(`recorded ${Object.values(current).flat().length} addresses of ${Object.keys(current).length} stacks in ${path.relative(process.cwd(), RECORD)}\n`);
} else {
  const recorded = JSON.parse(fs.readFileSync(RECORD, "utf8")) as Record<string, string[]>;
  let changed = 0;
  for (const [stack, addresses] of Object.entries(current)) {
    const { lost, added } = addressChanges(recorded[stack] ?? [], addresses);
    for (const a of lost) process.stdout.write(`${stack}: - ${a} (gone: destroyed on apply unless a moved block says where)\n`);
    for (const a of added) process.stdout.write(`${stack}: + ${a}\n`);
    changed += lost.length + added.length;
  }
  process.stdout.write(changed ? `${changed} address changes; review, then npm run addresses -- --write\n` : "addresses match test/stacks/addresses.json\n");
  process.exitCode = changed ? 1 : 0;
}
