/** Small readers for synthesized JSON, where one nested block may be an object or a list. */

/** A nested block as a list: `undefined` -> [], object -> [object], list -> list. */
export function blocks(value: unknown): any[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The first element of a nested block (object or single-item list). */
export function block(value: unknown): any | undefined {
  return blocks(value)[0];
}

export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

/** A non-empty string (tokens resolve to `${...}` strings, which count as set). */
export function isSet(value: unknown): boolean {
  return typeof value === "string" ? value.trim().length > 0 : value !== undefined && value !== null;
}

/** A string or list of strings as a list. */
export function strings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Every string leaf of a JSON value. */
export function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => stringLeaves(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => stringLeaves(v, out));
  return out;
}
