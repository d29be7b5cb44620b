/**
 * Tokenizer for the KQL subset. It recognizes the whole Kusto punctuation set and the hyphenated operator
 * names (`mv-expand`, `make-series`, ...) so that the parser can reject what is unsupported by name
 * instead of reporting a confusing syntax error.
 */
import { INVALID_QUERY, UNSUPPORTED_OPERATOR, errorAt } from "./errors.js";

export type TokenKind = "ident" | "string" | "number" | "punct" | "word-op" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token (for strings: including quotes). */
  readonly text: string;
  /** Decoded string value, or the numeric value of a number token. */
  readonly value: string | number;
  /** True for a number written with a fraction or exponent (a Kusto `real`, not a `long`). */
  readonly isReal: boolean;
  readonly start: number;
  readonly end: number;
}

/**
 * Kusto names that contain a hyphen. Everywhere else `-` is the minus sign, so only these words may
 * swallow one; the list includes unsupported operators so the parser can name them in its error.
 */
const HYPHENATED_WORDS = new Set([
  "project-away",
  "project-keep",
  "project-rename",
  "project-reorder",
  "project-smart",
  "mv-expand",
  "mv-apply",
  "make-series",
  "make-graph",
  "parse-where",
  "parse-kv",
  "top-nested",
  "top-hitters",
  "sample-distinct",
  "graph-match",
  "graph-merge",
  "graph-to-table",
  "graph-shortest-paths",
  "graph-mark-components",
]);

/** Longest first, so that `==` is not read as `=` `=`. */
const PUNCTUATION = [
  "==", "!=", "=~", "!~", "<=", ">=", "<>", "=>",
  "|", "(", ")", "[", "]", "{", "}", ",", ".", "=", "<", ">", "+", "-", "*", "/", "%", ";", ":", "?",
];

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  n: "\n",
  r: "\r",
  t: "\t",
};

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_]/.test(c);
}

function isIdentPart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;

  const push = (kind: TokenKind, start: number, end: number, value: string | number, isReal = false): void => {
    tokens.push({ kind, text: text.slice(start, end), value, isReal, start, end });
  };

  while (i < text.length) {
    const c = text[i];
    if (c === undefined) break;

    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }

    // Obfuscated (h'...') and verbatim (@'...') strings: prefixes that change only how the text is read.
    if ((c === "h" || c === "H") && (text[i + 1] === "'" || text[i + 1] === '"' || text[i + 1] === "@")) {
      const end = readString(text, i + 1, tokens, i);
      i = end;
      continue;
    }
    if (c === "'" || c === '"' || c === "@") {
      if (c === "@" && text[i + 1] !== "'" && text[i + 1] !== '"') {
        throw errorAt(INVALID_QUERY, "Unexpected character '@'", text, i);
      }
      i = readString(text, i, tokens, i);
      continue;
    }

    // Kusto has no leading-dot reals (`.5`): a dot always starts a property access.
    if (isDigit(c)) {
      i = readNumber(text, i, push);
      continue;
    }

    if (isIdentStart(c)) {
      let end = i + 1;
      while (isIdentPart(text[end])) end++;
      // `project-away`: join the hyphen only for known Kusto words, never for `a-b` arithmetic.
      if (text[end] === "-" && isIdentStart(text[end + 1])) {
        let next = end + 2;
        while (isIdentPart(text[next]) || (text[next] === "-" && isIdentStart(text[next + 1]))) next++;
        const candidate = text.slice(i, next);
        if (HYPHENATED_WORDS.has(candidate)) end = next;
      }
      const word = text.slice(i, end);
      // `in~` is one operator; `in ~` is not Kusto. Outside the subset, but read whole so the parser names it.
      if (word === "in" && text[end] === "~") {
        push("word-op", i, end + 1, "in~");
        i = end + 1;
        continue;
      }
      push("ident", i, end, word);
      i = end;
      continue;
    }

    // `!in`, `!in~`, `!contains`, `!has_cs`, ...: a negated word operator is a single token.
    if (c === "!" && isIdentStart(text[i + 1])) {
      let end = i + 1;
      while (isIdentPart(text[end])) end++;
      if (text.slice(i, end) === "!in" && text[end] === "~") end++;
      push("word-op", i, end, text.slice(i, end));
      i = end;
      continue;
    }

    if (c === "`" && text.startsWith("```", i)) {
      throw errorAt(UNSUPPORTED_OPERATOR, "Multi-line string literals (```) are not supported", text, i);
    }

    const punct = PUNCTUATION.find((p) => text.startsWith(p, i));
    if (punct === undefined) {
      throw errorAt(INVALID_QUERY, `Unexpected character '${c}'`, text, i);
    }
    push("punct", i, i + punct.length, punct);
    i += punct.length;
  }

  tokens.push({ kind: "eof", text: "", value: "", isReal: false, start: text.length, end: text.length });
  return tokens;
}

/**
 * Reads a string literal starting at `quoteStart` (which may hold `@` for a verbatim string) and pushes
 * its token, which spans from `tokenStart` (before any `h` prefix). Returns the offset after it.
 */
function readString(text: string, quoteStart: number, tokens: Token[], tokenStart: number): number {
  let i = quoteStart;
  const verbatim = text[i] === "@";
  if (verbatim) i++;
  const quote = text[i];
  if (quote !== "'" && quote !== '"') {
    throw errorAt(INVALID_QUERY, "Expected a quote after '@'", text, i);
  }
  i++;
  let value = "";
  for (;;) {
    const c = text[i];
    if (c === undefined || c === "\n") {
      throw errorAt(INVALID_QUERY, "Unterminated string literal", text, tokenStart);
    }
    if (c === quote) {
      // In a verbatim string the quote is escaped by doubling it.
      if (verbatim && text[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      i++;
      break;
    }
    if (c === "\\" && !verbatim) {
      const e = text[i + 1];
      const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        value += simple;
        i += 2;
        continue;
      }
      if (e === "u" && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      throw errorAt(
        INVALID_QUERY,
        `Unsupported escape sequence '\\${e ?? ""}' in string literal (use a verbatim string @'...' for backslashes)`,
        text,
        i,
      );
    }
    value += c;
    i++;
  }
  tokens.push({ kind: "string", text: text.slice(tokenStart, i), value, isReal: false, start: tokenStart, end: i });
  return i;
}

function readNumber(
  text: string,
  start: number,
  push: (kind: TokenKind, start: number, end: number, value: string | number, isReal?: boolean) => void,
): number {
  let i = start;
  let isReal = false;
  while (isDigit(text[i])) i++;
  if (text[i] === "." && isDigit(text[i + 1])) {
    isReal = true;
    i++;
    while (isDigit(text[i])) i++;
  }
  if ((text[i] === "e" || text[i] === "E") && (isDigit(text[i + 1]) || (/[+-]/.test(text[i + 1] ?? "") && isDigit(text[i + 2])))) {
    isReal = true;
    i += 2;
    while (isDigit(text[i])) i++;
  }
  // `1d`, `10m`, `0x1F`: timespan and hex literals are Kusto, but not in this subset.
  if (isIdentPart(text[i])) {
    let end = i;
    while (isIdentPart(text[end])) end++;
    throw errorAt(
      UNSUPPORTED_OPERATOR,
      `Unsupported literal '${text.slice(start, end)}': only plain decimal numbers are supported`,
      text,
      start,
    );
  }
  push("number", start, i, Number(text.slice(start, i)), isReal);
  return i;
}
