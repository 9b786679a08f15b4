import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../../environments";
import { environmentTable, TABLE_MARKERS, withEnvironmentTable } from "../../src/config-report";

const README = path.join(__dirname, "..", "..", "README.md");

describe("README environment table", () => {
  const { environments, accounts } = loadConfig();
  const readme = fs.readFileSync(README, "utf8");

  test("is the table the config produces (run `npm run config -- --write-readme` after a config change)", () => {
    expect(withEnvironmentTable(readme, environmentTable(environments, accounts))).toEqual(readme);
  });

  test("the check notices a stale value", () => {
    const prod = environments.find((e) => e.name === "prod")!;
    const changed = environments.map((e) => (e === prod ? { ...prod, scaling: { ...prod.scaling, maxCapacity: 21 } } : e));
    expect(withEnvironmentTable(readme, environmentTable(changed, accounts))).not.toEqual(readme);
    expect(environmentTable(changed, accounts)).toContain("| autoscaling min / max | 1 / 5 | 2 / 10 | 2 / 10 | 3 / 21 |");
  });

  test("shows where each environment runs and that prod alone requires MFA (the deployment guide's row)", () => {
    expect(environmentTable(environments, accounts)).toContain("| MFA for humans | no | no | no | yes |");
    expect(environmentTable(environments, accounts)).toContain("| account | nonprod (111111111111) | nonprod (111111111111) | nonprod (111111111111) | prod (222222222222) |");
  });

  test("refuses a README without the markers", () => {
    expect(() => withEnvironmentTable("# no table here", "x")).toThrow(TABLE_MARKERS.start);
  });
});
