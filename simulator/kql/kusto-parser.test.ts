/**
 * Cross-checks the subset against Microsoft's own Kusto parser (@kusto/language-service-next, a
 * Bridge.NET build that installs `Bridge` and `Kusto` globals): every query we accept must be valid
 * Kusto, and every syntax error we report must be one for Kusto too. Syntax only: the Kusto parser is
 * given no ARG schema, so names and types are not compared.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { allQueries } from "../../src/arm/queries.js";
import { KqlError, compileKql } from "./index.js";
import { RESERVED_NAMES } from "./keywords.js";
import { parseQuery } from "./parser.js";

interface KustoDiagnostic {
  readonly Message: string;
}

interface KustoGlobals {
  readonly Kusto: {
    Language: {
      KustoCode: { Parse(text: string): { GetDiagnostics(): unknown } };
      Syntax: {
        SyntaxFacts: { GetKindsWithFixedText(): unknown; IsKeyword(kind: number): boolean; GetText(kind: number): string };
      };
    };
  };
  readonly Bridge: { toArray<T>(list: unknown): T[] };
}

function loadKusto(): KustoGlobals {
  const requireCjs = createRequire(import.meta.url);
  requireCjs("@kusto/language-service-next/bridge.min.js");
  requireCjs("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
  return globalThis as unknown as KustoGlobals;
}

const { Kusto, Bridge } = loadKusto();

function kustoDiagnostics(text: string): string[] {
  return Bridge.toArray<KustoDiagnostic>(Kusto.Language.KustoCode.Parse(text).GetDiagnostics()).map((d) => d.Message);
}

/** Every Kusto keyword that is spelt like an identifier. */
function kustoKeywords(): string[] {
  const facts = Kusto.Language.Syntax.SyntaxFacts;
  return Bridge.toArray<number>(facts.GetKindsWithFixedText())
    .filter((kind) => facts.IsKeyword(kind))
    .map((kind) => facts.GetText(kind))
    .filter((text) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(text));
}

function parses(text: string): boolean {
  try {
    parseQuery(text);
    return true;
  } catch (error) {
    if (error instanceof KqlError) return false;
    throw error;
  }
}

const ACCEPTED = [
  ...allQueries(),
  "resources | where subscriptionId =~ 'B' | where isnotempty(name)",
  "resources | where name == 'it' 's' and name <> 'x' and tolower (name) == h'y'",
  "resources | project by = 1, in = 2, kind",
  "resources | summarize count() by type",
  "resources | summarize n = count() by subscriptionId, t = tolower(type)",
  "resources | mv-expand tagKey = bag_keys(tags) | project id, tagKey",
  "resources | mv-expand kind=array tags to typeof(string) limit 2",
  "resources | where type =~ 'x' and (location == 'eastus' or isnotempty(tags))",
  "resources | where name !~ 'a' and name !contains 'c' and name has 'd' and name !has 'f' and name !startswith 'e'",
  "resources | project properties.principalId, tags['env'], zones[0], lastZone = zones[-1] | project zones_0, lastZone",
  "resources | extend a = 2, b = properties.n | where a > 1 and b <= -2",
  "resources | order by name asc nulls last, id desc | take 10 | limit 5",
  "resources | where isnotempty(properties.x) or isnotnull(properties.y) | distinct name | count",
  String.raw`Resources // comment
| where name == "it\"s" or name == @'C:\temp'
| project a = tolower(name) == 'x', b = tostring(1), c = tostring(2.5)`,
];

const SYNTAX_ERRORS = [
  "resources | where (type == 'x'",
  "resources | where type == 'x')",
  "resources | whre type == 'x'",
  "resources | where",
  "resources |",
  "resources | project tostring(properties.x",
  "resources | where name == 'abc",
  "resources | order id",
  "resources | where x == .5",
  "resources | project tolower(name,)",
  "resources | project a = 1,",
  "resources | where !isnotempty(name)",
  "resources | where name == 'a' == 'b'",
  "resources | order by name nulls first asc",
  "resources | project a = b = c",
  "resources | where (name)(name)",
  "resources | take 1 1",
  "resources | where name == 1 and or name == 2",
  "resources | project last = 1",
  "resources | where properties.missing == 1",
];

describe("Microsoft's Kusto parser agrees", () => {
  it.each(ACCEPTED)("that an accepted query is valid Kusto: %s", (query) => {
    expect(() => compileKql(query)).not.toThrow();
    expect(kustoDiagnostics(query)).toEqual([]);
  });

  it.each(SYNTAX_ERRORS)("that a rejected query is a Kusto syntax error too: %s", (query) => {
    expect(() => compileKql(query)).toThrow(KqlError);
    expect(kustoDiagnostics(query).length).toBeGreaterThan(0);
  });
});

describe("keywords", () => {
  const keywords = kustoKeywords();
  const positions = [
    ["as a new column's name", (w: string) => `resources | project ${w} = 1`],
    ["as a column reference", (w: string) => `resources | where ${w} == 1`],
    ["as a property", (w: string) => `resources | where x.${w} == 1`],
  ] as const;

  it("finds Kusto's keyword list (a sanity check that the package loaded)", () => {
    expect(keywords.length).toBeGreaterThan(100);
    expect(keywords).toContain("where");
  });

  it.each(positions)("are refused %s exactly when Kusto refuses them", (_position, queryFor) => {
    const disagreements = keywords.filter((word) => parses(queryFor(word)) !== (kustoDiagnostics(queryFor(word)).length === 0));
    expect(disagreements).toEqual([]);
  });

  it("RESERVED_NAMES holds no word that Kusto accepts everywhere", () => {
    const acceptedEverywhere = [...RESERVED_NAMES].filter((word) => positions.every(([, queryFor]) => kustoDiagnostics(queryFor(word)).length === 0));
    expect(acceptedEverywhere).toEqual([]);
  });
});
