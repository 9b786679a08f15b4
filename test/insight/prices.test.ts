import { PRICE_TABLE, PRICES_READ_ON, regionPrices } from "../../src/insight/prices";

describe("price table", () => {
  const rows = Object.entries(PRICE_TABLE).flatMap(([region, table]) => Object.entries(table).map(([key, row]) => ({ region, key, ...row })));

  test("covers the regions the platform uses and eu-west-1", () => {
    expect(Object.keys(PRICE_TABLE)).toEqual(expect.arrayContaining(["us-east-1", "eu-west-1"]));
    expect(rows.length).toBeGreaterThan(50);
  });

  test("every price names its public AWS pricing page, its unit and the date it was read", () => {
    const bad = rows.filter((r) => !/^https:\/\/aws\.amazon\.com\/[a-z0-9-]+(\/[a-z0-9-]+)*\/pricing\/([a-z-]+\/)?$/.test(r.source) || !/^\d{4}-\d{2}-\d{2}$/.test(r.read) || !r.unit || !(r.usd >= 0));
    expect(bad).toEqual([]);
    expect(new Set(rows.map((r) => r.read))).toEqual(new Set([PRICES_READ_ON]));
  });

  test("regionPrices throws for a region it does not cover, naming the ones it does", () => {
    expect(() => regionPrices("mars-north-1")).toThrow('no prices for region "mars-north-1"');
    expect(regionPrices("us-east-1")["alb.hour"]).toMatchObject({ usd: 0.0225, unit: "ALB-hour" });
  });
});
