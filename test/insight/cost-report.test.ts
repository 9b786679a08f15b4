import { estimateStack } from "../../src/insight/cost";
import { costSummaryLine, diffEstimates, formatDiff, formatReport, quantity, reportJson, signedUsd, unitPrice, usd } from "../../src/insight/cost-report";
import { parseUsage } from "../../src/insight/usage";
import { fixtureStack } from "./fixtures";

const usage = parseUsage("fixture");
const natStack = (nats: string[], name = "fargate-prod") => fixtureStack({ aws_nat_gateway: Object.fromEntries(nats.map((n) => [n, {}])), aws_kms_key: { key: {} }, aws_sqs_queue: { q: {} } }, "us-east-1", name);

describe("cost report", () => {
  test("formats money, unit prices and quantities", () => {
    expect([usd(1234.5), usd(-1.2), signedUsd(0.5), signedUsd(0), unitPrice(0.0225), unitPrice(0.0013335), unitPrice(5)]).toEqual(["$1,234.50", "-$1.20", "+$0.50", "$0.00", "$0.0225", "$0.0013335", "$5.00"]);
    expect(quantity(182.50004)).toBe("182.5");
  });

  test("the text report lists each priced line, what is not priced and the totals", () => {
    const text = formatReport([estimateStack(natStack(["a"]), usage)]);
    expect(text).toContain("fargate-prod (us-east-1): $34.75/month");
    expect(text).toMatch(/aws_nat_gateway\s+aws_nat_gateway\.a\s+NAT gateway hours\s+730 NAT gateway-hour\s+x \$0\.045\s+\$32\.85/);
    expect(text).toContain("not priced (1; not in the total):\n    aws_sqs_queue.q: type aws_sqs_queue is not in the price table");
    expect(text).toMatch(/all stacks\s+\$33\.75\s+\$0\.00\s+\$0\.00\s+\$0\.00\s+\$0\.00\s+\$1\.00\s+\$34\.75\s+1/);
  });

  test("the one line after synth carries the total, each concern and the not-priced count", () => {
    expect(costSummaryLine(estimateStack(natStack(["a"]), usage))).toBe("cost fargate-prod: $34.75/month (network $33.75, compute $0.00, data $0.00, delivery $0.00, observability $0.00, security $1.00; 1 not priced)");
  });

  test("JSON carries every line with its price key and unit", () => {
    const json = JSON.parse(reportJson([estimateStack(natStack(["a"]), usage)]));
    expect(json).toMatchObject({ currency: "USD", totalUsd: 34.75, stacks: [{ stack: "fargate-prod", notPriced: [{ type: "aws_sqs_queue" }] }] });
    expect(json.stacks[0].lines).toContainEqual(expect.objectContaining({ priceKey: "nat.hour", unit: "NAT gateway-hour", unitUsd: 0.045, quantity: 730, monthlyUsd: 32.85 }));
  });

  test("the diff shows what a change adds per month; a resource that only moved cancels out", () => {
    const before = [estimateStack(natStack(["a"]), usage)];
    const after = [estimateStack(natStack(["moved", "b", "c"]), usage)];
    const [diff] = diffEstimates(before, after);
    expect(diff).toMatchObject({ stack: "fargate-prod", deltaUsd: 67.5, byConcernDeltaUsd: { network: 67.5, security: 0 } });
    expect(diff.changes).toEqual([
      { type: "aws_nat_gateway", item: "NAT gateway hours", deltaUsd: 65.7 },
      { type: "aws_nat_gateway", item: "NAT data processed", deltaUsd: 1.8 },
    ]);
    expect(formatDiff([diff])).toContain("fargate-prod: $34.75 -> $102.25 (+$67.50/month)");
  });

  test("the diff reports a stack that only one side has", () => {
    const [diff] = diffEstimates([], [estimateStack(natStack(["a"], "fargate-new"), usage)]);
    expect(diff).toMatchObject({ stack: "fargate-new", beforeUsd: 0, deltaUsd: 34.75, newlyNotPriced: ["aws_sqs_queue: type aws_sqs_queue is not in the price table (src/insight/cost.ts)"] });
  });
});
