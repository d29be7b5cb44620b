import { describe, expect, it } from "vitest";
import { KqlError } from "./errors.js";
import { tokenize } from "./lexer.js";

function kinds(text: string): string[] {
  return tokenize(text).map((t) => `${t.kind}:${String(t.value)}`);
}

function lexError(text: string): KqlError {
  try {
    tokenize(text);
  } catch (error) {
    if (error instanceof KqlError) return error;
    throw error;
  }
  throw new Error(`expected a KqlError for ${text}`);
}

describe("tokenize", () => {
  it("splits a pipeline into identifiers, punctuation and literals", () => {
    expect(kinds("resources | where type =~ 'x' and n >= 10")).toEqual([
      "ident:resources",
      "punct:|",
      "ident:where",
      "ident:type",
      "punct:=~",
      "string:x",
      "ident:and",
      "ident:n",
      "punct:>=",
      "number:10",
      "eof:",
    ]);
  });

  it("decodes Kusto escapes in single- and double-quoted strings", () => {
    const [single, double] = tokenize(String.raw`'it\'s \\ \n' "say \"hi\"\t\u0041"`);
    expect(single?.value).toBe("it's \\ \n");
    expect(double?.value).toBe('say "hi"\tA');
  });

  it("reads verbatim strings literally, with doubled quotes as escapes", () => {
    const [verbatim, obfuscated] = tokenize(String.raw`@'C:\temp\''x' h"secret"`);
    expect(verbatim?.value).toBe(String.raw`C:\temp\'x`);
    expect(obfuscated?.value).toBe("secret");
    expect(obfuscated?.kind).toBe("string");
  });

  it("keeps hyphenated operator names whole but leaves other hyphens as minus", () => {
    expect(kinds("project-away mv-expand make-series a-b")).toEqual([
      "ident:project-away",
      "ident:mv-expand",
      "ident:make-series",
      "ident:a",
      "punct:-",
      "ident:b",
      "eof:",
    ]);
  });

  it("reads in~, !in, !in~ and negated word operators as single tokens", () => {
    expect(kinds("in~ !in !in~ !contains !has_cs")).toEqual([
      "word-op:in~",
      "word-op:!in",
      "word-op:!in~",
      "word-op:!contains",
      "word-op:!has_cs",
      "eof:",
    ]);
  });

  it("marks reals apart from longs", () => {
    const [long, real, exp] = tokenize("42 4.5 1e3");
    expect([long?.isReal, real?.isReal, exp?.isReal]).toEqual([false, true, true]);
    expect([long?.value, real?.value, exp?.value]).toEqual([42, 4.5, 1000]);
  });

  it("skips // comments to the end of the line", () => {
    expect(kinds("resources // all of them\n| take 1")).toEqual(["ident:resources", "punct:|", "ident:take", "number:1", "eof:"]);
  });

  it("reports an unterminated string at the string's start, with line and column", () => {
    const error = lexError("resources\n| where name == 'abc");
    expect(error.code).toBe("InvalidQuery");
    expect(error.position).toBe(26);
    expect(error.message).toMatch(/Unterminated string literal \(at line 2, column 17\)/);
  });

  it("rejects timespan and hex literals as unsupported, naming them", () => {
    expect(lexError("ago(1d)").message).toMatch(/Unsupported literal '1d'/);
    expect(lexError("0x1F").code).toBe("UnsupportedOperator");
  });

  it("rejects unknown escapes and stray characters", () => {
    expect(lexError(String.raw`'\d'`).message).toMatch(/Unsupported escape sequence '\\d'/);
    expect(lexError("resources | where $x").message).toMatch(/Unexpected character '\$'/);
  });
});
