import { usage } from "../../environments/usage";
import { loadConfig } from "../../environments";
import { parseUsage, UsageError, usageLookup } from "../../src/insight/usage";

describe("usage assumptions", () => {
  test("every field has a default", () => {
    expect(parseUsage("develop")).toMatchObject({ hoursPerMonth: 730, nat: { dataGbPerMonth: 20 }, loadBalancer: { capacityUnitsPerHour: 1 }, delivery: { buildMinutesPerMonth: 100 } });
  });

  test("throws for a negative amount, with its path and value", () => {
    expect(() => parseUsage("prod", { nat: { dataGbPerMonth: -5 } })).toThrow(UsageError);
    expect(() => parseUsage("prod", { nat: { dataGbPerMonth: -5 } })).toThrow("prod.nat.dataGbPerMonth: must be zero or more (GB per NAT gateway a month); got -5");
  });

  test("throws for an unknown field and for hours beyond a month", () => {
    expect(() => parseUsage("qa", { nat: { dataGB: 5 } })).toThrow('qa.nat: unknown field "dataGB"');
    expect(() => parseUsage("qa", { hoursPerMonth: 800 })).toThrow("qa.hoursPerMonth: must be at most 744 (31 days x 24 h); got 800");
  });

  test("reports the problems of every environment at once", () => {
    try {
      usageLookup({ develop: { hoursPerMonth: 0 }, prod: { waf: { millionRequestsPerMonth: -1 } } });
      throw new Error("expected a UsageError");
    } catch (error) {
      expect((error as UsageError).problems).toEqual([
        "develop.hoursPerMonth: must be more than 0 (hours a month); got 0",
        "prod.waf.millionRequestsPerMonth: must be zero or more (million requests a month per web ACL); got -1",
      ]);
    }
  });

  test("environments/usage.ts is valid and names only environments that exist", () => {
    const names = loadConfig().environments.map((e) => e.name);
    expect(Object.keys(usage).length).toBeGreaterThan(0);
    expect(names).toEqual(expect.arrayContaining(Object.keys(usage)));
    const lookup = usageLookup(usage);
    expect(lookup("prod").loadBalancer.capacityUnitsPerHour).toBe(2);
    expect(lookup("state")).toEqual(parseUsage("defaults"));
  });
});
