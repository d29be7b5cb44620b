/**
 * Escaping for every value that came from Azure. Anyone who can create or tag an identity in the tenant
 * controls names, tags and error texts, and the reports are read by the people who can delete things.
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Safe in HTML text and in quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/**
 * Safe inside a Markdown paragraph or table cell: backslash-escapes the characters that start code, links,
 * emphasis or end a cell, writes `<`, `>` and `&` as entities (so no raw HTML gets through), and turns line
 * breaks into spaces (a newline would end the table row).
 */
export function escapeMarkdown(value: unknown): string {
  return singleLine(String(value ?? ""))
    .replace(/[\\`*_|[\]]/g, (character) => `\\${character}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/**
 * Control characters (CR, LF, tab, NUL, ...) and Unicode line/paragraph separators become single spaces:
 * for email subjects and single-line cells, where a raw line break would start a new header or row.
 */
export function singleLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ");
}

/**
 * Safe on a terminal: `singleLine` (no line breaks, no C0/C1 control characters, so no escape sequence
 * from a tag can recolour, move the cursor or retitle the window), and the Unicode bidirectional controls
 * written as `<U+202E>`, so a name cannot show its characters in another order than they are stored.
 */
export function terminalSafe(value: unknown): string {
  return singleLine(String(value ?? "")).replace(
    /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (character) => `<U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}>`,
  );
}

/** Markup that is already safe: `html` inserts it as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * A template tag that HTML-escapes every interpolated value, except `SafeHtml` (markup built by this tag)
 * and arrays of either. Escaping is the default, so a forgotten call cannot let a name through raw.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += toHtml(value) + (strings[index + 1] ?? "");
  });
  return new SafeHtml(out);
}

function toHtml(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(toHtml).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(value);
}

/**
 * An `href` value: only absolute URLs with one of `protocols` (https by default) and no credentials;
 * anything else (javascript:, data:, relative) gives undefined, and the caller renders no link.
 */
export function safeLinkUrl(url: string | null | undefined, protocols: readonly string[] = ["https:"]): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return protocols.includes(parsed.protocol) && !parsed.username && !parsed.password ? url : undefined;
  } catch {
    return undefined;
  }
}
