import { Ipv4Cidr, parseCidr, subnetCidr } from "./cidr";

/** The three subnet tiers, in the order their CIDR blocks are carved from the VPC. */
export const SUBNET_TIERS = ["public", "private", "database"] as const;
export type SubnetTier = (typeof SUBNET_TIERS)[number];

/**
 * Each tier reserves room for this many AZs, so that adding an AZ later never shifts the
 * CIDR of an existing subnet (which would force Terraform to replace it).
 */
export const AZ_SLOTS_PER_TIER = 4;

/** Subnets the plan reserves in the VPC: 3 tiers x 4 AZ slots. */
export const PLANNED_SUBNET_SLOTS = SUBNET_TIERS.length * AZ_SLOTS_PER_TIER;

/** Smallest subnet AWS allows. */
export const MIN_SUBNET_PREFIX_LENGTH = 28;

/** Default subnet size: 4 more bits than the VPC gives 16 blocks, the fewest that hold the 12 slots. */
export function defaultSubnetPrefixLength(vpcPrefixLength: number): number {
  return vpcPrefixLength + 4;
}

export interface SubnetPlanEntry {
  readonly tier: SubnetTier;
  readonly azIndex: number;
  readonly cidr: string;
}

/**
 * Why a subnet plan does not fit the VPC, or undefined when it does.
 */
export function subnetPlanProblem(vpcCidr: Ipv4Cidr, subnetPrefixLength: number): string | undefined {
  if (subnetPrefixLength > MIN_SUBNET_PREFIX_LENGTH) {
    return `subnets of /${subnetPrefixLength} are smaller than the AWS minimum /${MIN_SUBNET_PREFIX_LENGTH}`;
  }
  const available = subnetPrefixLength >= vpcCidr.prefixLength ? 2 ** (subnetPrefixLength - vpcCidr.prefixLength) : 0;
  if (available < PLANNED_SUBNET_SLOTS) {
    return (
      `a /${vpcCidr.prefixLength} VPC holds ${available} subnets of /${subnetPrefixLength}; the plan needs ` +
      `${PLANNED_SUBNET_SLOTS} (${SUBNET_TIERS.length} tiers x ${AZ_SLOTS_PER_TIER} AZ slots), so use /${vpcCidr.prefixLength + 4} ` +
      `or longer, up to /${MIN_SUBNET_PREFIX_LENGTH}`
    );
  }
  return undefined;
}

/**
 * The deterministic subnet plan: tier t, AZ i gets block `t * AZ_SLOTS_PER_TIER + i`.
 * Callers validate with subnetPlanProblem first (the schema does).
 */
export function planSubnets(vpcCidr: string, subnetPrefixLength: number, azCount: number): SubnetPlanEntry[] {
  const parsed = parseCidr(vpcCidr);
  if (typeof parsed === "string") throw new Error(`subnet plan: VPC CIDR "${vpcCidr}" is invalid: ${parsed}`);
  const entries: SubnetPlanEntry[] = [];
  SUBNET_TIERS.forEach((tier, t) => {
    for (let azIndex = 0; azIndex < azCount; azIndex++) {
      entries.push({ tier, azIndex, cidr: subnetCidr(parsed, subnetPrefixLength, t * AZ_SLOTS_PER_TIER + azIndex) });
    }
  });
  return entries;
}
