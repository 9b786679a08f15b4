import { PolicyContext, SynthesizedResource } from "./types";
import { stringLeaves } from "./values";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** True for a resource Terraform will not create: a literal `count = 0`. */
export function isDisabled(resource: SynthesizedResource): boolean {
  const count = resource.config.count;
  return count === 0 || count === "0";
}

/**
 * The index rules read the rest of the stack through. Resources with a literal `count = 0`
 * are left out: Terraform does not create them, so they protect nothing.
 */
export class ResourceIndex implements PolicyContext {
  private readonly byAddress = new Map<string, SynthesizedResource>();
  private readonly managedByType = new Map<string, SynthesizedResource[]>();
  private readonly dataByType = new Map<string, SynthesizedResource[]>();
  private readonly patterns = new Map<string, RegExp>();

  constructor(
    public readonly all: readonly SynthesizedResource[],
    public readonly stackTags: Readonly<Record<string, string>> = {},
  ) {
    for (const r of all) {
      if (isDisabled(r)) continue;
      this.byAddress.set(r.address, r);
      const map = r.mode === "data" ? this.dataByType : this.managedByType;
      map.set(r.type, [...(map.get(r.type) ?? []), r]);
    }
  }

  ofType(type: string): SynthesizedResource[] {
    return this.managedByType.get(type) ?? [];
  }

  dataOfType(type: string): SynthesizedResource[] {
    return this.dataByType.get(type) ?? [];
  }

  get(address: string): SynthesizedResource | undefined {
    return this.byAddress.get(address);
  }

  referencing(resource: SynthesizedResource, type: string, attribute?: string): SynthesizedResource[] {
    return this.ofType(type).filter((other) => this.mentions(attribute === undefined ? other.config : other.config[attribute], resource));
  }

  mentions(value: unknown, resource: SynthesizedResource): boolean {
    let pattern = this.patterns.get(resource.address);
    if (!pattern) {
      // `aws_vpc.main.` not preceded by a name character, so `data.aws_vpc.main.` is not `aws_vpc.main.`.
      pattern = new RegExp(`(^|[^A-Za-z0-9_.-])${escape(resource.address)}(\\.|\\[)`);
      this.patterns.set(resource.address, pattern);
    }
    const re = pattern;
    return stringLeaves(value).some((s) => s.includes("${") && re.test(s));
  }

  resolveReference(value: unknown): SynthesizedResource | undefined {
    if (typeof value !== "string") return undefined;
    const match = /^\$\{((?:data\.)?[A-Za-z0-9_]+\.[A-Za-z0-9_-]+)[.[]/.exec(value);
    return match ? this.get(match[1]) : undefined;
  }
}
