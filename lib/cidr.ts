/**
 * IPv4 CIDR arithmetic for the subnet plan. Computed here rather than with Terraform's
 * `cidrsubnet()` so that the plan is validated (and visible in tests) before synthesis.
 */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefixLength: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Parses `a.b.c.d/n`.
 * @returns the parsed CIDR, or a message saying why the text is not a valid network CIDR
 */
export function parseCidr(text: string): Ipv4Cidr | string {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return "not an IPv4 CIDR of the form a.b.c.d/n";
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o) => o > 255)) return "an octet is above 255";
  if (prefixLength > 32) return "the prefix length is above 32";
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 32 - prefixLength;
  if (hostBits > 0 && base % 2 ** hostBits !== 0) {
    return `host bits are set; the network address is ${formatCidr({ base: base - (base % 2 ** hostBits), prefixLength })}`;
  }
  return { base, prefixLength };
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(cidr.base / 2 ** shift) % 256);
  return `${octets.join(".")}/${cidr.prefixLength}`;
}

/** The `index`-th subnet of `newPrefixLength` inside `parent` (like Terraform's cidrsubnet). */
export function subnetCidr(parent: Ipv4Cidr, newPrefixLength: number, index: number): string {
  const count = 2 ** (newPrefixLength - parent.prefixLength);
  if (newPrefixLength < parent.prefixLength || index < 0 || index >= count) {
    throw new RangeError(`subnet ${index} of /${newPrefixLength} does not fit in ${formatCidr(parent)}`);
  }
  return formatCidr({ base: parent.base + index * 2 ** (32 - newPrefixLength), prefixLength: newPrefixLength });
}

/** True when the ranges of two CIDRs share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefixLength);
  const bEnd = b.base + 2 ** (32 - b.prefixLength);
  return a.base < bEnd && b.base < aEnd;
}
