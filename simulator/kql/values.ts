/**
 * Runtime semantics of Kusto values as the simulator stores them: plain JSON-like JavaScript values, where
 * `null` and `undefined` both mean Kusto's null. All functions are pure and allocation-light because they
 * run once per row.
 */

export type Bag = Record<string, unknown>;

/** A Kusto property bag: a plain object (arrays and dates are not bags). */
export function isBag(value: unknown): value is Bag {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** `bag.key`: null when the value is not a bag or lacks the key (own keys only: `constructor` is data). */
export function memberOf(value: unknown, key: string): unknown {
  if (!isBag(value) || !Object.hasOwn(value, key)) return null;
  const found = value[key];
  return found === undefined ? null : found;
}

/** `array[i]`, counting from the end for negative `i` as Kusto does; null when out of range. */
export function elementAt(value: unknown, index: number): unknown {
  if (!Array.isArray(value) || !Number.isInteger(index)) return null;
  const found: unknown = value[index < 0 ? value.length + index : index];
  return found === undefined ? null : found;
}

let lastFrozen: object | undefined;
let lastFrozenText = "";

/**
 * Kusto's `tostring()`: null is "", dynamic arrays and bags are compact JSON (keys in their order, no spaces,
 * characters outside ASCII kept as they are). A frozen flat value, shared by many rows (the simulator's
 * generic `properties`), is serialised once for a run of rows: it cannot have changed.
 */
export function toKqlString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value === lastFrozen) return lastFrozenText;
  const text = JSON.stringify(value) ?? "";
  if (typeof value === "object" && Object.isFrozen(value) && Object.values(value).every((v) => v === null || typeof v !== "object")) {
    lastFrozen = value;
    lastFrozenText = text;
  }
  return text;
}

let lastLowerInput = "";
let lastLowerOutput = "";

/** `tolower()`: consecutive rows often pass the same string (one identity's bag key, a shared text). */
export function toLowerKql(text: string): string {
  if (text !== lastLowerInput) {
    lastLowerInput = text;
    lastLowerOutput = text.toLowerCase();
  }
  return lastLowerOutput;
}

/** Kusto's `isempty()` (`isnotempty()` negates it): null or the empty string. An empty array or bag is not empty (it is a value). */
export function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || value === "";
}

export function isNullValue(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/** Equality of two non-null values: same kind and same value; arrays and bags compare as JSON. */
export function kqlEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === "object" && typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** Orders two non-null values of one scalar kind (string ordinal, number, boolean, date). */
export function compareScalars(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  if (typeof x !== typeof y) {
    // Only reachable with dynamic inputs, which the compiler refuses as sort keys; keep it total anyway.
    return typeof x < typeof y ? -1 : 1;
  }
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0;
}

/** Letters and digits form Kusto terms; everything else separates them. */
function isTermChar(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}]/u.test(c);
}

/**
 * Kusto's `has`: `needle` occurs in `haystack` as whole terms, i.e. not glued to letters or digits on a
 * side where the needle itself begins or ends with one. Both arguments must already share one case.
 */
export function hasTerm(haystack: string, needle: string): boolean {
  if (needle === "") return true;
  const checkStart = isTermChar(needle[0]);
  const checkEnd = isTermChar(needle[needle.length - 1]);
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) return false;
    const startOk = !checkStart || !isTermChar(haystack[at - 1]);
    const endOk = !checkEnd || !isTermChar(haystack[at + needle.length]);
    if (startOk && endOk) return true;
    from = at + 1;
  }
}
