/**
 * The OData subset `listAssociatedResources` accepts (seeds/000_94790adf3cc96801.txt): `$filter` with
 * `eq`, `contains(field, 'literal')`, `and`, `or` and parentheses over name, type, resourceGroup,
 * subscriptionId and subscriptionDisplayName; `$orderby` over the same fields, `asc` or `desc`,
 * comma-separated.
 *
 * Choices where the docs are silent (README "Choices"):
 * - comparisons are case-insensitive, as the Kusto `=~` / `contains` behind this ARG-backed API are;
 * - keywords and field names are accepted in any case; string literals use single quotes, `''` escapes one;
 * - `and` binds tighter than `or`; anything else (`ne`, `not`, `startswith`, numbers, a literal on the
 *   left of `eq`) is an error, answered 400;
 * - ordering compares lower-cased values (ties keep the unsorted order, so paging stays stable).
 */
import type { AssociatedResource } from "../src/arm/types.js";

export const FILTER_FIELDS = ["name", "type", "resourceGroup", "subscriptionId", "subscriptionDisplayName"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export type FilterNode =
  | { readonly kind: "and" | "or"; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: "eq" | "contains"; readonly field: FilterField; readonly value: string };

export interface OrderKey {
  readonly field: FilterField;
  readonly descending: boolean;
}

/** A malformed `$filter` or `$orderby`; `parameter` says which. */
export class ODataError extends Error {
  constructor(
    readonly parameter: "$filter" | "$orderby",
    message: string,
  ) {
    super(message);
    this.name = "ODataError";
  }
}

type Token =
  | { kind: "word"; text: string; at: number }
  | { kind: "string"; text: string; at: number }
  | { kind: "punct"; text: "(" | ")" | ","; at: number }
  | { kind: "end"; at: number };

const FIELD_BY_LOWER = new Map<string, FilterField>(FILTER_FIELDS.map((f) => [f.toLowerCase(), f]));

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: "punct", text: ch, at: i });
      i++;
    } else if (ch === "'") {
      const start = i;
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataError("$filter", `Unterminated string literal starting at position ${start}.`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ kind: "string", text: value, at: start });
    } else if (/[A-Za-z_$]/.test(ch)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_$.]/.test(text[i] as string)) i++;
      tokens.push({ kind: "word", text: text.slice(start, i), at: start });
    } else {
      const start = i;
      while (i < text.length && !/[\s(),']/.test(text[i] as string)) i++;
      const literal = text.slice(start, i);
      throw new ODataError("$filter", `Invalid literal '${literal}' at position ${start}: values must be strings in single quotes.`);
    }
  }
  tokens.push({ kind: "end", at: text.length });
  return tokens;
}

class FilterParser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.position] as Token;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.position++;
    return token;
  }

  private isWord(token: Token, word: string): boolean {
    return token.kind === "word" && token.text.toLowerCase() === word;
  }

  private expectPunct(text: "(" | ")" | ","): void {
    const token = this.take();
    if (token.kind !== "punct" || token.text !== text) throw new ODataError("$filter", `Expected '${text}' at position ${token.at}, found ${describe(token)}.`);
  }

  parse(): FilterNode {
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== "end") {
      if (rest.kind === "punct" && rest.text === ")") throw new ODataError("$filter", `Unbalanced parentheses: unexpected ')' at position ${rest.at}.`);
      throw new ODataError("$filter", `Unexpected ${describe(rest)} at position ${rest.at}; combine conditions with 'and' or 'or'.`);
    }
    return node;
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isWord(this.peek(), "or")) {
      this.take();
      left = { kind: "or", left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parsePrimary();
    while (this.isWord(this.peek(), "and")) {
      this.take();
      left = { kind: "and", left, right: this.parsePrimary() };
    }
    return left;
  }

  private field(token: Token): FilterField {
    if (token.kind !== "word") throw new ODataError("$filter", `Expected a field name at position ${token.at}, found ${describe(token)}.`);
    const field = FIELD_BY_LOWER.get(token.text.toLowerCase());
    if (!field) throw new ODataError("$filter", `Unknown field '${token.text}'. Supported fields: ${FILTER_FIELDS.join(", ")}.`);
    return field;
  }

  private literal(): string {
    const token = this.take();
    if (token.kind !== "string") throw new ODataError("$filter", `Expected a string literal in single quotes at position ${token.at}, found ${describe(token)}.`);
    return token.text;
  }

  private parsePrimary(): FilterNode {
    const token = this.take();
    if (token.kind === "punct" && token.text === "(") {
      const inner = this.parseOr();
      const close = this.take();
      if (close.kind !== "punct" || close.text !== ")") throw new ODataError("$filter", `Unbalanced parentheses: expected ')' at position ${close.at}.`);
      return inner;
    }
    const next = this.peek();
    if (token.kind === "word" && next.kind === "punct" && next.text === "(") {
      if (token.text.toLowerCase() !== "contains") {
        throw new ODataError("$filter", `Unsupported function '${token.text}'. Supported operators: eq, contains, and, or.`);
      }
      this.expectPunct("(");
      const field = this.field(this.take());
      this.expectPunct(",");
      const value = this.literal();
      this.expectPunct(")");
      return { kind: "contains", field, value };
    }
    if (token.kind === "string") throw new ODataError("$filter", `A string literal cannot start a condition (position ${token.at}); write 'field eq 'value''.`);
    if (token.kind === "word" && (this.isWord(token, "not") || this.isWord(token, "and") || this.isWord(token, "or"))) {
      throw new ODataError("$filter", `Unexpected operator '${token.text}' at position ${token.at}. Supported operators: eq, contains, and, or.`);
    }
    const field = this.field(token);
    const operator = this.take();
    if (operator.kind !== "word") throw new ODataError("$filter", `Expected an operator after '${field}' at position ${operator.at}, found ${describe(operator)}.`);
    if (operator.text.toLowerCase() !== "eq") {
      throw new ODataError("$filter", `Unsupported operator '${operator.text}'. Supported operators: eq, contains, and, or.`);
    }
    return { kind: "eq", field, value: this.literal() };
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case "end":
      return "the end of the expression";
    case "string":
      return `the string '${token.text}'`;
    default:
      return `'${token.text}'`;
  }
}

/** Parses `$filter`; blank means no filter. Throws `ODataError`. */
export function parseFilter(text: string): FilterNode | undefined {
  if (!text.trim()) return undefined;
  return new FilterParser(tokenize(text)).parse();
}

export function matchesFilter(node: FilterNode, item: AssociatedResource): boolean {
  switch (node.kind) {
    case "and":
      return matchesFilter(node.left, item) && matchesFilter(node.right, item);
    case "or":
      return matchesFilter(node.left, item) || matchesFilter(node.right, item);
    case "eq":
      return item[node.field].toLowerCase() === node.value.toLowerCase();
    case "contains":
      return item[node.field].toLowerCase().includes(node.value.toLowerCase());
  }
}

/** Parses `$orderby`; blank means no ordering. Throws `ODataError`. */
export function parseOrderBy(text: string): OrderKey[] {
  if (!text.trim()) return [];
  return text.split(",").map((part) => {
    const words = part.trim().split(/\s+/).filter(Boolean);
    const [name, direction, ...rest] = words;
    if (!name) throw new ODataError("$orderby", "Empty ordering key: write 'field asc' or 'field desc', comma-separated.");
    const field = FIELD_BY_LOWER.get(name.toLowerCase());
    if (!field) throw new ODataError("$orderby", `Unknown field '${name}'. Supported fields: ${FILTER_FIELDS.join(", ")}.`);
    if (rest.length > 0 || (direction !== undefined && !/^(asc|desc)$/i.test(direction))) {
      throw new ODataError("$orderby", `Invalid ordering '${part.trim()}': expected '${field} asc' or '${field} desc'.`);
    }
    return { field, descending: direction?.toLowerCase() === "desc" };
  });
}

/** A comparator for `Array.prototype.sort` (stable, so ties keep their order). */
export function compareBy(keys: readonly OrderKey[]): (a: AssociatedResource, b: AssociatedResource) => number {
  return (a, b) => {
    for (const key of keys) {
      const x = a[key.field].toLowerCase();
      const y = b[key.field].toLowerCase();
      if (x !== y) return (x < y ? -1 : 1) * (key.descending ? -1 : 1);
    }
    return 0;
  };
}
