import { IConstruct } from "constructs";
import { Annotations, Aspects, DefaultTokenResolver, IAspect, StringConcat, TerraformDataSource, TerraformProvider, TerraformResource, TerraformStack, Tokenization } from "cdktf";
import { evaluate } from "./engine";
import { suppressionsOn } from "./suppressions";
import { Finding, PolicyRule, Suppression, SynthesizedResource } from "./types";
import { ALL_RULES } from "./rules";

export { evaluate } from "./engine";

/** The resolver cdktf's own synthesizer uses, so values match cdk.tf.json exactly. */
const TOKEN_RESOLVER = new DefaultTokenResolver(new StringConcat());

/** Everything the policy pack needs from one stack. */
export interface CollectedStack {
  readonly resources: SynthesizedResource[];
  readonly suppressions: Suppression[];
  /** The AWS provider's default_tags (merged over every provider block of the stack). */
  readonly stackTags: Record<string, string>;
  /** The construct behind each address, to annotate. */
  readonly constructs: Map<string, IConstruct>;
}

/**
 * Every resource and data source of `stack`, resolved exactly as it will land in
 * cdk.tf.json, with the suppressions recorded on their constructs. (Stack-level
 * `stack.addOverride("resource....")` overrides are not merged in; element overrides are.)
 */
export function collectStack(stack: TerraformStack): CollectedStack {
  const resources: SynthesizedResource[] = [];
  const suppressions: Suppression[] = [];
  const constructs = new Map<string, IConstruct>();
  const stackTags: Record<string, string> = {};
  for (const node of stack.node.findAll()) {
    if (node instanceof TerraformProvider && TerraformStack.of(node) === stack) Object.assign(stackTags, defaultTagsOf(node, stack));
    const isResource = TerraformResource.isTerraformResource(node);
    if (!isResource && !(node instanceof TerraformDataSource)) continue;
    if (TerraformStack.of(node) !== stack) continue;
    const element = node as TerraformResource | TerraformDataSource;
    const mode = isResource ? "managed" : "data";
    const json = Tokenization.resolve(element.toTerraform(), { scope: stack, preparing: false, resolver: TOKEN_RESOLVER });
    const blocksOfMode = (mode === "managed" ? json.resource : json.data) ?? {};
    for (const [type, byName] of Object.entries(blocksOfMode as Record<string, Record<string, any>>)) {
      for (const [name, body] of Object.entries(byName)) {
        const { ["//"]: _metadata, ...config } = body ?? {};
        const address = mode === "managed" ? `${type}.${name}` : `data.${type}.${name}`;
        resources.push({ mode, type, name, address, config, path: node.node.path });
        constructs.set(address, node);
        for (const s of suppressionsOn(node)) suppressions.push({ address, ruleId: s.ruleId, reason: s.reason });
      }
    }
  }
  return { resources, suppressions, constructs, stackTags };
}

/** `default_tags.tags` of a provider block, resolved (empty for providers without them). */
function defaultTagsOf(provider: TerraformProvider, stack: TerraformStack): Record<string, string> {
  const json = Tokenization.resolve(provider.toTerraform(), { scope: stack, preparing: false, resolver: TOKEN_RESOLVER });
  const blocks = Object.values((json?.provider ?? {}) as Record<string, unknown[]>).flat() as { default_tags?: { tags?: Record<string, string> }[] }[];
  return Object.assign({}, ...blocks.flatMap((b) => (b.default_tags ?? []).map((d) => d.tags ?? {})));
}

/** Evaluates one stack without synthesizing it (used by the report and tests). */
export function evaluateStack(stack: TerraformStack, rules: readonly PolicyRule[] = ALL_RULES): Finding[] {
  const { resources, suppressions, stackTags } = collectStack(stack);
  return evaluate(resources, rules, suppressions, stackTags);
}

/**
 * Runs the policy pack when it visits a TerraformStack: an error rule that is violated adds an
 * error annotation (cdktf's synthesizer then throws, so `app.synth()` fails); a warning rule
 * or a stale suppression adds a warning. Suppressed findings are silent here and listed by
 * the report (`npm run policy:report`).
 */
export class PolicyAspect implements IAspect {
  private readonly visited = new WeakSet<TerraformStack>();

  constructor(private readonly rules: readonly PolicyRule[] = ALL_RULES) {}

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node) || this.visited.has(node)) return;
    // Annotations stay on the tree: a second synth of the same stack must not repeat them.
    this.visited.add(node);
    const { resources, suppressions, constructs, stackTags } = collectStack(node);
    for (const finding of evaluate(resources, this.rules, suppressions, stackTags)) {
      if (!finding.message) continue;
      const target = constructs.get(finding.address) ?? node;
      if (finding.status === "non-compliant" && finding.severity === "error") Annotations.of(target).addError(finding.message);
      else Annotations.of(target).addWarning(finding.message);
    }
  }
}

/**
 * Adds the policy pack to every TerraformStack under `scope` (once per stack), so
 * `app.synth()` fails on an error finding. cdktf runs aspects per stack, so the App itself
 * cannot carry them.
 */
export function applyPolicyPack(scope: IConstruct, rules: readonly PolicyRule[] = ALL_RULES): void {
  for (const node of scope.node.findAll()) {
    if (!TerraformStack.isStack(node)) continue;
    if (Aspects.of(node).all.some((a) => a instanceof PolicyAspect)) continue;
    Aspects.of(node).add(new PolicyAspect(rules));
  }
}
