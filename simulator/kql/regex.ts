/**
 * Kusto's regular expressions are RE2 (learn.microsoft.com/kusto/query/re2); the simulator runs them with
 * JavaScript's engine after translating the syntax. Where the two engines would not agree, the pattern is
 * refused (KqlError) rather than run differently:
 *
 * - RE2 has no lookaround and no backreferences: `(?=`, `(?!`, `(?<=`, `(?<!`, `\1`, `(?P=name)` are errors in
 *   Kusto, so they are refused here too (JavaScript would run them).
 * - `\s` is ASCII in RE2 (`[\t\n\f\r ]`), Unicode in JavaScript: translated. `\d`, `\w`, `\b` are ASCII in both.
 * - `.` excludes only `\n` in RE2, also `\r`, U+2028 and U+2029 in JavaScript: translated to `[^\n]`
 *   (`(?s)`: any character). `^`/`$` under `(?m)` likewise break at `\n` only.
 * - `\A`, `\z`, `\Q…\E`, `\x{…}`, `(?P<name>…)` and a leading `(?i)`, `(?m)`, `(?s)` are translated; flags
 *   anywhere else, `(?U)`, `\pN` / `\p{…}` classes, `\C`, octal escapes and POSIX `[[:alpha:]]` are refused.
 * - RE2 takes any escaped punctuation and literal `{`/`}`; JavaScript's Unicode mode (used so that `.` and
 *   classes see code points, as RE2 does over UTF-8) does not: they are re-escaped.
 * - RE2 caps repetition counts at 1000.
 */

export interface TranslatedRegex {
  /** Global, Unicode-aware JavaScript equivalent. */
  readonly regex: RegExp;
  /** Number of capturing groups, named ones included. */
  readonly groupCount: number;
}

/** A pattern Kusto would reject, or that JavaScript cannot run the way RE2 does; `offset` is within the pattern. */
export class RegexTranslationError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "RegexTranslationError";
  }
}

const SYNTAX_CHARACTERS = new Set(["^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/"]);
const ASCII_SPACE = "\\t\\n\\f\\r ";
const MAX_REPEAT = 1000;

/** A literal character written so that JavaScript's Unicode mode reads it as that character. */
function literal(c: string, inClass: boolean): string {
  if (SYNTAX_CHARACTERS.has(c) || (inClass && c === "-")) return `\\${c}`;
  return c;
}

function isHex(text: string): boolean {
  return /^[0-9A-Fa-f]+$/.test(text);
}

export function translateRe2(pattern: string): TranslatedRegex {
  let i = 0;
  let out = "";
  let groupCount = 0;
  let dotAll = false;
  let multiLine = false;
  let ignoreCase = false;
  const fail = (message: string, at = i): never => {
    throw new RegexTranslationError(message, at);
  };

  // Leading flag groups: (?i), (?s), (?m), (?is)...
  for (;;) {
    const flags = /^\(\?([ims]+)\)/.exec(pattern.slice(i));
    if (!flags) break;
    for (const f of flags[1] as string) {
      if (f === "i") ignoreCase = true;
      else if (f === "s") dotAll = true;
      else multiLine = true;
    }
    i += flags[0].length;
  }

  /** One escape sequence starting at pattern[i] === "\\"; returns its translation. */
  const escape = (inClass: boolean): string => {
    const start = i;
    const c = pattern[i + 1];
    if (c === undefined) return fail("the pattern ends with a lone backslash", start);
    i += 2;
    switch (c) {
      case "d":
      case "D":
      case "w":
      case "W":
        return `\\${c}`;
      case "s":
        return inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`;
      case "S":
        if (inClass) fail("'\\S' inside a character class is not supported by the simulator", start);
        return `[^${ASCII_SPACE}]`;
      case "b":
      case "B":
        if (inClass) fail(`'\\${c}' is not valid inside a character class in RE2`, start);
        return `\\${c}`;
      case "n":
      case "t":
      case "r":
      case "f":
      case "v":
        return `\\${c}`;
      case "a":
        return "\\x07";
      case "x": {
        if (pattern[i] === "{") {
          const close = pattern.indexOf("}", i);
          const hex = close < 0 ? "" : pattern.slice(i + 1, close);
          if (!hex || !isHex(hex) || Number.parseInt(hex, 16) > 0x10ffff) fail("bad '\\x{…}' escape", start);
          i = close + 1;
          return `\\u{${hex}}`;
        }
        const hex = pattern.slice(i, i + 2);
        if (hex.length !== 2 || !isHex(hex)) fail("'\\x' needs two hexadecimal digits", start);
        i += 2;
        return `\\x${hex}`;
      }
      case "A":
        if (inClass) fail("'\\A' is not valid inside a character class", start);
        return "(?<![\\s\\S])";
      case "z":
        if (inClass) fail("'\\z' is not valid inside a character class", start);
        return "(?![\\s\\S])";
      case "Q": {
        const end = pattern.indexOf("\\E", i);
        const text = end < 0 ? pattern.slice(i) : pattern.slice(i, end);
        i = end < 0 ? pattern.length : end + 2;
        return Array.from(text, (ch) => literal(ch, inClass)).join("");
      }
      case "p":
      case "P":
        return fail("Unicode classes ('\\p…') are not supported by the simulator", start);
      case "C":
        return fail("'\\C' (any byte) is not supported by the simulator", start);
      default:
        if (/[0-9]/.test(c)) return fail("backreferences and octal escapes are not supported (RE2 has no backreferences)", start);
        if (/[A-Za-z]/.test(c)) return fail(`invalid escape sequence '\\${c}'`, start);
        return literal(c, inClass);
    }
  };

  const characterClass = (): string => {
    const start = i;
    i++;
    let body = "";
    if (pattern[i] === "^") {
      body += "^";
      i++;
    }
    // A ']' first in the class is a literal in RE2; JavaScript would read '[]' as an empty class.
    if (pattern[i] === "]") {
      body += "\\]";
      i++;
    }
    for (;;) {
      const c = pattern[i];
      if (c === undefined) return fail("missing ']' to close a character class", start);
      if (c === "]") {
        i++;
        return `[${body}]`;
      }
      if (c === "[" && pattern[i + 1] === ":") fail("POSIX classes ('[:alpha:]') are not supported by the simulator");
      if (c === "\\") {
        body += escape(true);
        continue;
      }
      body += c === "-" ? "-" : literal(c, true);
      i++;
    }
  };

  while (i < pattern.length) {
    const c = pattern[i] as string;
    switch (c) {
      case "\\":
        out += escape(false);
        break;
      case "[":
        out += characterClass();
        break;
      case "(": {
        const rest = pattern.slice(i);
        if (rest.startsWith("(?:")) {
          out += "(?:";
          i += 3;
        } else if (/^\(\?P?<[A-Za-z_][A-Za-z0-9_]*>/.test(rest)) {
          const match = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest) as RegExpExecArray;
          out += `(?<${match[1] as string}>`;
          groupCount++;
          i += match[0].length;
        } else if (/^\(\?(=|!|<=|<!)/.test(rest)) {
          fail("lookaround assertions are not supported: RE2 has none");
        } else if (rest.startsWith("(?P=")) {
          fail("backreferences are not supported: RE2 has none");
        } else if (rest.startsWith("(?")) {
          fail("inline flags are supported only at the start of the pattern ('(?i)', '(?m)', '(?s)')");
        } else {
          out += "(";
          groupCount++;
          i++;
        }
        break;
      }
      case ".":
        out += dotAll ? "[\\s\\S]" : "[^\\n]";
        i++;
        break;
      case "^":
        out += multiLine ? "(?<![^\\n])" : "^";
        i++;
        break;
      case "$":
        out += multiLine ? "(?![^\\n])" : "$";
        i++;
        break;
      case "{": {
        const repeat = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (repeat) {
          const counts = [repeat[1], repeat[3]].filter((n): n is string => n !== undefined && n !== "").map(Number);
          if (counts.some((n) => n > MAX_REPEAT)) fail(`repetition counts are limited to ${MAX_REPEAT} in RE2`);
          out += repeat[0];
          i += repeat[0].length;
        } else {
          out += "\\{";
          i++;
        }
        break;
      }
      case "}":
        out += "\\}";
        i++;
        break;
      default:
        out += c === "/" ? "\\/" : c;
        i++;
    }
  }

  let regex: RegExp;
  try {
    regex = new RegExp(out, `gu${ignoreCase ? "i" : ""}`);
  } catch (error) {
    throw new RegexTranslationError(`invalid regular expression: ${error instanceof Error ? error.message : String(error)}`, 0);
  }
  return { regex, groupCount };
}

/** The index after the code point at `at` (JavaScript strings are UTF-16; RE2 steps over whole characters). */
function nextCodePoint(text: string, at: number): number {
  const code = text.charCodeAt(at);
  return code >= 0xd800 && code <= 0xdbff && at + 1 < text.length ? at + 2 : at + 1;
}

/**
 * Kusto's `extract_all(regex, source)`: every match's capture groups. One group: an array of strings; more:
 * an array of arrays, one string per group ("" for a group that did not take part). No match: null (the
 * function's documentation: "If there's no match: null"). Successive matches do not overlap, and an empty
 * match right where the previous match ended is skipped, as RE2's global matching does (JavaScript's would
 * keep it: `(a*)` over "baab" is ["", "aa", ""] here, ["", "aa", "", ""] in JavaScript).
 */
export function extractAll(regex: RegExp, groupCount: number, source: string): unknown {
  const matches: unknown[] = [];
  let previousEnd = -1;
  regex.lastIndex = 0;
  for (let match = regex.exec(source); match !== null; match = regex.exec(source)) {
    const start = match.index;
    const end = start + match[0].length;
    if (end === start) {
      regex.lastIndex = nextCodePoint(source, start);
      if (start === previousEnd) continue;
    }
    previousEnd = end;
    if (groupCount === 1) matches.push(match[1] ?? "");
    else {
      const groups: string[] = [];
      for (let g = 1; g <= groupCount; g++) groups.push(match[g] ?? "");
      matches.push(groups);
    }
    if (regex.lastIndex > source.length) break;
  }
  return matches.length > 0 ? matches : null;
}
