/**
 * The one error type of the KQL engine. The simulator's HTTP server turns it into Azure Resource Graph's
 * 400 BadRequest, so the message must say what is wrong and where, in terms the query author understands.
 */

/** Syntax errors, unknown tables or columns, and type errors. */
export const INVALID_QUERY = "InvalidQuery";
/** Valid Kusto that this simulator does not implement (a tabular or scalar operator, a literal form). */
export const UNSUPPORTED_OPERATOR = "UnsupportedOperator";
/** A function call outside the supported subset (or unknown to Kusto altogether). */
export const UNSUPPORTED_FUNCTION = "UnsupportedFunction";

export class KqlError extends Error {
  readonly code: string;
  /** Zero-based character offset in the query text, when the error points at one token. */
  readonly position: number | undefined;

  constructor(code: string, message: string, position?: number) {
    super(message);
    this.name = "KqlError";
    this.code = code;
    this.position = position;
  }
}

/** "line 2, column 5" for a zero-based offset: queries are multi-line, offsets alone are hard to read. */
export function describePosition(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** Builds a KqlError whose message ends with the human-readable position of `offset` in `text`. */
export function errorAt(code: string, message: string, text: string, offset: number): KqlError {
  return new KqlError(code, `${message} (at ${describePosition(text, offset)})`, offset);
}
