/**
 * Renders cost estimates: the per-stack line listing and summary (`npm run cost`), JSON for
 * tooling (`--format json`), the change between two synth outputs (`--diff`) and the one
 * line per stack printed after `npm run synth`. Pure functions of the estimates: the same
 * estimates always render to the same text (the README table depends on it).
 */
import { CONCERNS, Concern, CostLine, StackEstimate } from "./cost";
import { PRICES_READ_ON } from "./prices";

/** `1234567` -> `1,234,567` (no locale data involved, so the output never varies by machine). */
function thousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** `$1,234.56` (negative: `-$1.20`). */
export function usd(amount: number): string {
  const cents = Math.round(Math.abs(amount) * 100);
  const whole = thousands(String(Math.floor(cents / 100)));
  return `${amount < 0 && cents > 0 ? "-" : ""}$${whole}.${String(cents % 100).padStart(2, "0")}`;
}

/** `+$1.20`, `-$1.20`, `$0.00`. */
export function signedUsd(amount: number): string {
  return Math.round(amount * 100) > 0 ? `+${usd(amount)}` : usd(amount);
}

/** A unit price with the precision AWS quotes it in: `$0.0225`, `$0.0013335`, `$5.00`. */
export function unitPrice(amount: number): string {
  if (Math.round(amount * 100) === amount * 100) return usd(amount);
  return `$${amount.toFixed(7).replace(/0+$/, "")}`;
}

/** A quantity with at most three decimals and thousands separators. */
export function quantity(amount: number): string {
  const [whole, fraction] = String(Math.round(amount * 1000) / 1000).split(".");
  return fraction ? `${thousands(whole)}.${fraction}` : thousands(whole);
}

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>, indent = "  "): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => indent + r.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd());
}

function concernSummary(e: StackEstimate): string {
  return CONCERNS.map((c) => `${c} ${usd(e.byConcernUsd[c])}`).join(", ");
}

/** The one line per stack printed after a synth. */
export function costSummaryLine(e: StackEstimate): string {
  const unpriced = e.notPriced.length ? `; ${e.notPriced.length} not priced` : "";
  return `cost ${e.stack}: ${usd(e.totalUsd)}/month (${concernSummary(e)}${unpriced})`;
}

/** Every priced line of one stack, grouped by concern, then what is not priced or free. */
export function formatStack(e: StackEstimate): string {
  const out = [`${e.stack} (${e.region}): ${usd(e.totalUsd)}/month`];
  for (const concern of CONCERNS) {
    const lines = e.lines.filter((l) => l.concern === concern);
    if (!lines.length) continue;
    out.push(`  ${concern}: ${usd(e.byConcernUsd[concern])}`);
    const rows = lines.map((l: CostLine) => [l.type, l.address, l.item, `${quantity(l.quantity)} ${l.unit}`, `x ${unitPrice(l.unitUsd)}`, usd(l.monthlyUsd)]);
    out.push(...table([["type", "address", "item", "quantity", "unit price", "monthly"], ...rows], new Set([3, 5]), "    "));
  }
  if (e.notPriced.length) {
    out.push(`  not priced (${e.notPriced.length}; not in the total):`);
    out.push(...e.notPriced.map((n) => `    ${n.address}: ${n.reason}`));
  }
  const free = e.noCharge.reduce((sum, n) => sum + n.count, 0);
  if (free) out.push(`  no charge of their own: ${free} resources (${e.noCharge.map((n) => `${n.type} x${n.count}`).join(", ")})`);
  return out.join("\n");
}

/** The totals of every stack, one row each, and the grand total. */
export function formatSummary(estimates: readonly StackEstimate[]): string {
  const rows = estimates.map((e) => [e.stack, ...CONCERNS.map((c) => usd(e.byConcernUsd[c])), usd(e.totalUsd), String(e.notPriced.length)]);
  const total = estimates.reduce((sum, e) => sum + e.totalUsd, 0);
  const all = ["all stacks", ...CONCERNS.map((c) => usd(estimates.reduce((sum, e) => sum + e.byConcernUsd[c], 0))), usd(total), String(estimates.reduce((s, e) => s + e.notPriced.length, 0))];
  const header = ["stack", ...CONCERNS, "total/month", "not priced"];
  return [`Monthly estimate (USD, prices read ${PRICES_READ_ON}):`, ...table([header, ...rows, all], new Set(header.map((_, i) => i).filter((i) => i > 0)))].join("\n");
}

/** The full text report: every stack's lines, then the summary. */
export function formatReport(estimates: readonly StackEstimate[]): string {
  return [...estimates.map(formatStack), formatSummary(estimates)].join("\n\n") + "\n";
}

/** The JSON report for tooling. */
export function reportJson(estimates: readonly StackEstimate[]): string {
  const totalUsd = Math.round(estimates.reduce((sum, e) => sum + e.totalUsd, 0) * 100) / 100;
  return JSON.stringify({ currency: "USD", pricesReadOn: PRICES_READ_ON, totalUsd, stacks: estimates }, null, 2) + "\n";
}

/** The change of one stack between two synth outputs. */
export interface StackDiff {
  readonly stack: string;
  readonly beforeUsd: number;
  readonly afterUsd: number;
  readonly deltaUsd: number;
  readonly byConcernDeltaUsd: Readonly<Record<Concern, number>>;
  /**
   * Changed amounts per (type, item), summed over addresses so that a resource that only
   * moved (a refactor) cancels out. Sorted by the size of the change, largest first.
   */
  readonly changes: readonly { readonly type: string; readonly item: string; readonly deltaUsd: number }[];
  /** Not-priced entries present only after the change. */
  readonly newlyNotPriced: readonly string[];
}

const round = (n: number): number => Math.round(n * 100) / 100;

function byItem(e: StackEstimate | undefined): Map<string, number> {
  const sums = new Map<string, number>();
  for (const l of e?.lines ?? []) sums.set(`${l.type}\u0000${l.item}`, (sums.get(`${l.type}\u0000${l.item}`) ?? 0) + l.monthlyUsd);
  return sums;
}

/** What the change from `before` to `after` adds (or saves) per month, per stack. */
export function diffEstimates(before: readonly StackEstimate[], after: readonly StackEstimate[]): StackDiff[] {
  const names = [...new Set([...before.map((e) => e.stack), ...after.map((e) => e.stack)])].sort();
  return names.map((stack) => {
    const [b, a] = [before.find((e) => e.stack === stack), after.find((e) => e.stack === stack)];
    const [bi, ai] = [byItem(b), byItem(a)];
    const changes = [...new Set([...bi.keys(), ...ai.keys()])]
      .map((key) => {
        const [type, item] = key.split("\u0000");
        return { type, item, deltaUsd: round((ai.get(key) ?? 0) - (bi.get(key) ?? 0)) };
      })
      .filter((c) => c.deltaUsd !== 0)
      .sort((x, y) => Math.abs(y.deltaUsd) - Math.abs(x.deltaUsd) || (x.type + x.item < y.type + y.item ? -1 : 1));
    const seen = new Set((b?.notPriced ?? []).map((n) => `${n.type}: ${n.reason}`));
    return {
      stack,
      beforeUsd: b?.totalUsd ?? 0,
      afterUsd: a?.totalUsd ?? 0,
      deltaUsd: round((a?.totalUsd ?? 0) - (b?.totalUsd ?? 0)),
      byConcernDeltaUsd: Object.fromEntries(CONCERNS.map((c) => [c, round((a?.byConcernUsd[c] ?? 0) - (b?.byConcernUsd[c] ?? 0))])) as Record<Concern, number>,
      changes,
      newlyNotPriced: [...new Set((a?.notPriced ?? []).map((n) => `${n.type}: ${n.reason}`).filter((n) => !seen.has(n)))].sort(),
    };
  });
}

/** The diff as text: per stack the totals, the concerns that moved and each changed item. */
export function formatDiff(diffs: readonly StackDiff[]): string {
  const out = ["Monthly change (this synth minus the other):"];
  for (const d of diffs) {
    out.push(`  ${d.stack}: ${usd(d.beforeUsd)} -> ${usd(d.afterUsd)} (${signedUsd(d.deltaUsd)}/month)`);
    const moved = CONCERNS.filter((c) => d.byConcernDeltaUsd[c] !== 0);
    if (moved.length) out.push(`    by concern: ${moved.map((c) => `${c} ${signedUsd(d.byConcernDeltaUsd[c])}`).join(", ")}`);
    out.push(...d.changes.map((c) => `    ${signedUsd(c.deltaUsd).padStart(10)}  ${c.type}: ${c.item}`));
    out.push(...d.newlyNotPriced.map((n) => `    newly not priced: ${n}`));
  }
  out.push(`  all stacks: ${signedUsd(round(diffs.reduce((sum, d) => sum + d.deltaUsd, 0)))}/month`);
  return out.join("\n") + "\n";
}
