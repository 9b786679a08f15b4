/**
 * Resource addresses are a contract from here on: nothing deployed may move without a
 * `moved` block. A rename, a new construct scope or a changed construct ID fails here until
 * it carries a moved block (`resource.moveTo(...)` / `moveFromId`) or the record is
 * refreshed on purpose (`npm run addresses -- --write`).
 */
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { loadConfig } from "../../environments";
import { buildStacks } from "../../src/app";
import { addressChanges, appAddresses } from "../../src/addresses";

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, "addresses.json"), "utf8")) as Record<string, string[]>;

describe("resource addresses", () => {
  const app = Testing.app();
  buildStacks(app, loadConfig());
  const current = appAddresses(app);

  test("every stack is recorded and the record is not empty", () => {
    expect(Object.keys(current).sort()).toEqual(Object.keys(recorded).sort());
    expect(Object.values(recorded).flat().length).toBeGreaterThan(500);
  });

  test.each(Object.keys(recorded))("%s: no recorded address is gone without a moved block, and none is new without review", (stack) => {
    const moved = ((app.node.findChild(stack) as unknown as { toTerraform: () => { moved?: { from: string; to: string }[] } }).toTerraform().moved) ?? [];
    expect(addressChanges(recorded[stack], current[stack], moved)).toEqual({ lost: [], added: [] });
  });

  test("the check catches a rename, and a moved block answers it", () => {
    const before = ["aws_ecs_service.services_api_tasks_service_1"];
    const after = ["aws_ecs_service.services_api_svc_service_2"];
    expect(addressChanges(before, after)).toEqual({ lost: before, added: after });
    expect(addressChanges(before, after, [{ from: before[0] }]).lost).toEqual([]);
  });
});
