/**
 * Reads JSON-valued attributes (`container_definitions`, `policy`, ...) as they land in
 * cdk.tf.json: either literal JSON (`JSON.stringify`, tokens inside become `${...}` strings)
 * or a `${jsonencode(...)}` expression (`Fn.jsonencode`), whose HCL object syntax is read
 * here with references kept as `${...}` strings.
 * @returns the parsed value, or undefined when the attribute is some other expression
 */
export function parseJsonAttribute(value: unknown): unknown | undefined {
  if (value !== null && typeof value === "object") return value;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  try {
    return JSON.parse(text);
  } catch {
    // not literal JSON
  }
  const encoded = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(text);
  if (!encoded) return undefined;
  try {
    const parser = new HclValueParser(encoded[1]);
    const result = parser.value();
    parser.end();
    return result;
  } catch {
    return undefined;
  }
}

/** Just enough HCL expression syntax for what cdktf renders inside `jsonencode(...)`. */
class HclValueParser {
  private i = 0;
  constructor(private readonly s: string) {}

  end(): void {
    this.ws();
    if (this.i !== this.s.length) throw new Error(`unexpected text at ${this.i}`);
  }

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    return this.bare();
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++; // {
    for (;;) {
      this.ws();
      if (this.s[this.i] === "}") {
        this.i++;
        return out;
      }
      const key = this.value();
      this.ws();
      const sep = this.s[this.i];
      if (sep !== "=" && sep !== ":") throw new Error(`expected = at ${this.i}`);
      this.i++;
      out[String(key).replace(/^\$\{(.*)\}$/, "$1")] = this.value();
      this.ws();
      if (this.s[this.i] === ",") this.i++;
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++; // [
    for (;;) {
      this.ws();
      if (this.s[this.i] === "]") {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ",") this.i++;
    }
  }

  /** A quoted string; `${...}` interpolations inside it may contain quotes of their own. */
  private string(): string {
    const start = ++this.i;
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === "\\") {
        this.i += 2;
        continue;
      }
      if (c === "$" && this.s[this.i + 1] === "{") {
        depth++;
        this.i += 2;
        continue;
      }
      if (depth > 0 && c === "}") depth--;
      else if (depth === 0 && c === '"') break;
      else if (depth > 0 && c === '"') this.skipInnerString();
      this.i++;
    }
    const raw = this.s.slice(start, this.i);
    this.i++; // closing quote
    try {
      return JSON.parse(`"${raw}"`);
    } catch {
      return raw;
    }
  }

  private skipInnerString(): void {
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === "\\" ? 2 : 1;
  }

  /** A literal (number, bool, null) or an expression, kept as a `${...}` string. */
  private bare(): unknown {
    const start = this.i;
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '"') {
        this.skipInnerString();
      } else if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (c === "," || c === "=" || c === ":")) break;
      this.i++;
    }
    const text = this.s.slice(start, this.i).trim();
    if (!text) throw new Error(`expected a value at ${start}`);
    if (text === "true") return true;
    if (text === "false") return false;
    if (text === "null") return null;
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
    return `\${${text}}`;
  }
}
