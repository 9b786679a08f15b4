/**
 * Reads synthesized stacks (`cdktf.out/stacks/<stack>/cdk.tf.json`) into a small model the
 * cost estimate and the diagrams share. Everything downstream is driven by resource TYPE and
 * attributes; addresses are only used to follow `${type.name.attr}` references, never
 * matched by name, so construct refactors that move addresses change nothing here.
 */
import * as fs from "fs";
import * as path from "path";

/** One `resource.<type>.<name>` block of a synthesized stack. */
export interface TfResource {
  /** Terraform type, e.g. `aws_ecs_service`. */
  readonly type: string;
  /** The block name inside its type. */
  readonly name: string;
  /** `<type>.<name>`, as references and plans spell it. */
  readonly address: string;
  /** The block's attributes (the `//` metadata key removed). */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/** One synthesized stack. */
export interface TfStack {
  /** The stack name, e.g. `fargate-prod`. */
  readonly name: string;
  /**
   * Short label used for files and usage lookups: the stack name without the `<Project>-`
   * prefix of the provider's default tags (`fargate-prod` -> `prod`).
   */
  readonly label: string;
  /** The default AWS provider's region. */
  readonly region: string;
  /** Every resource, sorted by address. */
  readonly resources: readonly TfResource[];
}

/** Malformed or missing synth output; the message says where and what to do. */
export class SynthOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SynthOutputError";
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The default (un-aliased) AWS provider block, if any. */
function defaultAwsProvider(json: Json): Json | undefined {
  const aws = (json.provider as Json | undefined)?.aws;
  const blocks = (Array.isArray(aws) ? aws : [aws]).filter(isObject);
  return blocks.find((b) => b.alias === undefined) ?? blocks[0];
}

/** Parses one stack's synthesized JSON. */
export function parseStack(name: string, json: unknown): TfStack {
  if (!isObject(json)) throw new SynthOutputError(`stack ${name}: cdk.tf.json is not a JSON object`);
  const provider = defaultAwsProvider(json);
  const region = typeof provider?.region === "string" ? provider.region : undefined;
  if (!region) throw new SynthOutputError(`stack ${name}: no AWS provider with a literal region; the estimate prices by region`);
  const tags = (Array.isArray(provider?.default_tags) ? provider?.default_tags[0] : provider?.default_tags) as Json | undefined;
  const project = (tags?.tags as Json | undefined)?.Project;
  const label = typeof project === "string" && name.startsWith(`${project}-`) ? name.slice(project.length + 1) : name;
  const resources: TfResource[] = [];
  for (const [type, blocks] of Object.entries((json.resource as Json | undefined) ?? {})) {
    for (const [blockName, block] of Object.entries(isObject(blocks) ? blocks : {})) {
      const attrs: Json = { ...(isObject(block) ? block : {}) };
      delete attrs["//"];
      resources.push({ type, name: blockName, address: `${type}.${blockName}`, attrs });
    }
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { name, label, region, resources };
}

/** Reads every `stacks/<name>/cdk.tf.json` under a synth output directory, sorted by name. */
export function readStacks(outdir: string): TfStack[] {
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) {
    throw new SynthOutputError(`no synthesized stacks in ${stacksDir}; run \`npm run synth\` first (or pass the directory of another synth output)`);
  }
  return fs
    .readdirSync(stacksDir)
    .filter((entry) => fs.existsSync(path.join(stacksDir, entry, "cdk.tf.json")))
    .sort()
    .map((entry) => {
      const file = path.join(stacksDir, entry, "cdk.tf.json");
      let json: unknown;
      try {
        json = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (error) {
        throw new SynthOutputError(`${file}: not valid JSON (${(error as Error).message}); synthesize again`);
      }
      return parseStack(entry, json);
    });
}

const REFERENCE = /\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.|\})/g;

/** Addresses (`type.name`) referenced anywhere inside a value, in order of first appearance. */
export function referencedAddresses(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      for (const match of v.matchAll(REFERENCE)) if (match[1] !== "var" && match[1] !== "local" && match[1] !== "data") found.add(`${match[1]}.${match[2]}`);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (isObject(v)) Object.values(v).forEach(visit);
  };
  visit(value);
  return [...found];
}

/** Lookups over one stack's resources. */
export class StackIndex {
  private readonly byAddress = new Map<string, TfResource>();

  constructor(public readonly stack: TfStack) {
    for (const r of stack.resources) this.byAddress.set(r.address, r);
  }

  /** Every resource of a type, sorted by address. */
  ofType(type: string): TfResource[] {
    return this.stack.resources.filter((r) => r.type === type);
  }

  get(address: string): TfResource | undefined {
    return this.byAddress.get(address);
  }

  /** The resources a value references, optionally only of one type. */
  resolve(value: unknown, type?: string): TfResource[] {
    return referencedAddresses(value)
      .map((a) => this.byAddress.get(a))
      .filter((r): r is TfResource => r !== undefined && (type === undefined || r.type === type));
  }

  /** Resources of `type` whose attributes reference `target`. */
  referrers(target: TfResource, type?: string): TfResource[] {
    return this.stack.resources.filter((r) => (type === undefined || r.type === type) && referencedAddresses(r.attrs).includes(target.address));
  }
}

/** A block that Terraform JSON may hold as one object or as a list of them. */
export function blocks(value: unknown): Json[] {
  if (Array.isArray(value)) return value.filter(isObject);
  return isObject(value) ? [value] : [];
}

/** A string attribute, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A numeric attribute given as a number or a numeric string (`cpu: "512"`), or undefined. */
export function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** A list attribute (anything else counts as empty). */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A JSON-encoded string attribute (container definitions, policies), parsed; undefined if not JSON. */
export function jsonAttr(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
