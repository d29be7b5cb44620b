/**
 * `extract_all` with RE2 semantics on JavaScript's engine (regex.ts), and the other pieces the reference sweep
 * relies on: `tostring(dynamic)` as compact JSON, `!startswith`, `mv-expand … to typeof(string)` of its
 * arrays (and of its null), several `order by` keys, and the `policyresources` table.
 */
import { describe, expect, it } from "vitest";
import { KqlError, compileKql, runKql, type KqlRow } from "./index.js";
import { RegexTranslationError, extractAll, translateRe2 } from "./regex.js";

function extract(pattern: string, source: string): unknown {
  const { regex, groupCount } = translateRe2(pattern);
  return extractAll(regex, groupCount, source);
}

function refusal(pattern: string): RegexTranslationError {
  try {
    translateRe2(pattern);
  } catch (error) {
    if (error instanceof RegexTranslationError) return error;
    throw error;
  }
  throw new Error(`expected ${pattern} to be refused`);
}

function kqlError(query: string): KqlError {
  try {
    compileKql(query);
  } catch (error) {
    if (error instanceof KqlError) return error;
    throw error;
  }
  throw new Error(`expected a KqlError for: ${query}`);
}

const print = (expression: string, source: string): unknown =>
  runKql(`resources | project r = ${expression}`, { resources: [{ id: "x", properties: { text: source } }] }).rows[0]?.r;

describe("extract_all: Kusto's results", () => {
  it("returns the documentation's examples", () => {
    expect(extract("(\\d+)", "a set of numbers: 123, 567 and 789")).toEqual(["123", "567", "789"]);
    expect(extract("([\\da-f]{2})", "82b8be2d")).toEqual(["82", "b8", "be", "2d"]);
    expect(extract("(\\w)(\\w+)(\\w)", "82b8be2d-dfa7-4bd1")).toEqual([
      ["8", "2b8be2", "d"],
      ["d", "fa", "7"],
      ["4", "bd", "1"],
    ]);
  });

  it("is null without a match, gives '' for a group that did not take part, and skips empty matches abutting the previous one", () => {
    expect(extract("(x)", "abc")).toBeNull();
    expect(extract("(x)", "")).toBeNull();
    expect(extract("(a)(b)?", "a ab")).toEqual([
      ["a", ""],
      ["a", "b"],
    ]);
    expect(extract("(a*)", "baab")).toEqual(["", "aa", ""]);
    expect(extract("(.)", "a😀b")).toEqual(["a", "😀", "b"]);
  });

  it("follows RE2 where JavaScript differs: '.', '\\s', \\A, \\z, \\Q…\\E, a leading (?i), literal braces", () => {
    expect(extract("(a.b)", "a\rb a\nb")).toEqual(["a\rb"]);
    expect(extract("(?s)(a.b)", "a\nb")).toEqual(["a\nb"]);
    expect(extract("(x\\sy)", "x\u00a0y x y x\ty")).toEqual(["x y", "x\ty"]);
    expect(extract("(x[\\s]y)", "x\u2003y x\fy")).toEqual(["x\fy"]);
    expect(extract("\\A(ab)", "abab")).toEqual(["ab"]);
    expect(extract("(ab)\\z", "abab\n")).toBeNull();
    expect(extract("(\\Q.*\\E)", "a.*b")).toEqual([".*"]);
    expect(extract("(?i)(ABC)", "xabcx")).toEqual(["abc"]);
    expect(extract("(a{)", "a{")).toEqual(["a{"]);
    expect(extract("(a{2})", "aaaa")).toEqual(["aa", "aa"]);
    expect(extract("([]a]+)", "x]a]y")).toEqual(["]a]"]);
    expect(extract('(\\#\\"\\-\\/)', 'x#"-/')).toEqual(['#"-/']);
    expect(extract("(\\x{263A})", "☺")).toEqual(["☺"]);
    expect(extract("(?P<name>b+)", "abbc")).toEqual(["bb"]);
    expect(extract("(?<name>b+)(?:c)", "abbc")).toEqual(["bb"]);
    expect(extract("(?m)^(\\w+)$", "one\r\ntwo\nthree")).toEqual(["two", "three"]);
  });

  it("refuses what RE2 does not have or the simulator cannot run the same way", () => {
    for (const pattern of ["(?=a)(b)", "(?!a)(b)", "(?<=a)(b)", "(?<!a)(b)", "(a)\\1", "(?P<n>a)(?P=n)"]) {
      expect(refusal(pattern).message).toMatch(/RE2 has no|lookaround|backreference/);
    }
    expect(refusal("(\\pL)").message).toMatch(/Unicode classes/);
    expect(refusal("([[:alpha:]])").message).toMatch(/POSIX/);
    expect(refusal("(a)(?i)b").message).toMatch(/inline flags/);
    expect(refusal("(a{1001})").message).toMatch(/1000/);
    expect(refusal("(\\y)").message).toMatch(/invalid escape/);
    expect(refusal("(a)\\").message).toMatch(/lone backslash/);
    expect(refusal("(a").message).toMatch(/invalid regular expression/);
    expect(refusal("([a)").message).toMatch(/missing '\]'/);
    expect(refusal("(a**)").message).toMatch(/invalid regular expression/);
  });
});

describe("extract_all in queries", () => {
  it("reads its source through tostring, lower-cased by the caller, and feeds mv-expand", () => {
    const rows: KqlRow[] = [
      { id: "r1", properties: { a: { Id: "/X/1" }, b: ["/x/2", "/y/3"] } },
      { id: "r2", properties: { note: "nothing here" } },
      { id: "r3", properties: null },
    ];
    const result = runKql(
      "resources | extend t = tolower(tostring(properties)) | mv-expand m = extract_all(@'(/x/[0-9])', t) to typeof(string) | project id, m | order by id asc, m asc",
      { resources: rows },
    );
    expect(result.columns).toEqual([
      { name: "id", type: "string" },
      { name: "m", type: "string" },
    ]);
    // No match is null, and mv-expand keeps a null as one row: "" once typed as a string.
    expect(result.rows).toEqual([
      { id: "r1", m: "/x/1" },
      { id: "r1", m: "/x/2" },
      { id: "r2", m: "" },
      { id: "r3", m: "" },
    ]);
    expect(print("extract_all(@'(\\d)(\\d)', tostring(properties.text))", "12 34")).toEqual([
      ["1", "2"],
      ["3", "4"],
    ]);
    expect(print("extract_all(@'(\\d)', tostring(properties.text))", "none")).toBeNull();
  });

  it("is refused with KqlError for a non-constant regex, 0 or 17 groups, a bad pattern or captureGroups", () => {
    expect(kqlError("resources | project r = extract_all(name, name)").message).toMatch(/constant string/);
    expect(kqlError("resources | project r = extract_all('abc', name)").message).toMatch(/between 1 and 16 capture groups, it has 0/);
    expect(kqlError(`resources | project r = extract_all('${"(a)".repeat(17)}', name)`).message).toMatch(/it has 17/);
    const lookahead = kqlError("resources | project r = extract_all('(?=a)(b)', name)");
    expect(lookahead.code).toBe("InvalidQuery");
    expect(lookahead.message).toMatch(/lookaround.*\(at line 1, column 37\)/);
    expect(kqlError("resources | project r = extract_all('(a)', 1, name)").code).toBe("UnsupportedFunction");
    expect(kqlError("resources | project r = extract_all('(a)')").message).toMatch(/takes 2 arguments/);
    expect(kqlError("resources | project r = extract_all('(a)', 5)").message).toMatch(/string source/);
  });
});

describe("the rest of the sweep's operators", () => {
  it("tostring(dynamic) is Kusto's compact JSON: keys in order, no spaces, characters kept, quotes escaped", () => {
    const properties = { b: 1, a: [true, null, 2.5, "x"], nested: { id: "/subscriptions/s/resourceGroups/rg-é-日本/x", q: 'say "hi" \\ ok' } };
    const result = runKql("resources | project t = tostring(properties), u = tostring(properties.a), s = tostring(properties.nested.id)", {
      resources: [{ id: "1", properties }],
    });
    expect(result.rows[0]).toEqual({
      t: '{"b":1,"a":[true,null,2.5,"x"],"nested":{"id":"/subscriptions/s/resourceGroups/rg-é-日本/x","q":"say \\"hi\\" \\\\ ok"}}',
      u: '[true,null,2.5,"x"]',
      s: "/subscriptions/s/resourceGroups/rg-é-日本/x",
    });
  });

  it("!startswith is case-insensitive and keeps rows whose type is missing", () => {
    const rows = [
      { id: "1", type: "Microsoft.ManagedIdentity/userAssignedIdentities" },
      { id: "2", type: "microsoft.web/sites" },
      { id: "3" },
    ];
    expect(runKql("resources | where type !startswith 'microsoft.managedidentity/' | project id", { resources: rows }).rows).toEqual([{ id: "2" }, { id: "3" }]);
  });

  it("order by a asc, b asc sorts ordinally by the first key, then the second, stably", () => {
    const rows = [
      { id: "b", name: "2" },
      { id: "B", name: "9" },
      { id: "a", name: "3" },
      { id: "b", name: "1" },
      { id: "a", name: "3", kind: "second" },
    ];
    const result = runKql("resources | project id, name, kind | order by id asc, name asc", { resources: rows }).rows;
    expect(result.map((r) => `${String(r.id)}${String(r.name)}${String(r.kind)}`)).toEqual(["B9", "a3", "a3second", "b1", "b2"]);
  });

  it("mv-expand and extend keep every column a later operator reads, and all of them when nothing chooses", () => {
    const rows: KqlRow[] = [
      { id: "r1", name: "n1", location: "eastus", tags: { a: "1", b: "2" }, properties: { p: 1 } },
      { id: "r2", name: "n2", location: "westus", tags: null, properties: { p: 2 } },
    ];
    const tables = { resources: rows };
    expect(runKql("resources | mv-expand k = bag_keys(tags) to typeof(string) | where location == 'eastus' | extend n = name | project id, k, n", tables).rows).toEqual([
      { id: "r1", k: "a", n: "n1" },
      { id: "r1", k: "b", n: "n1" },
    ]);
    expect(runKql("resources | extend t = tostring(properties) | where t contains '2' | order by location asc | project id, t, l = location", tables).rows).toEqual([
      { id: "r2", t: '{"p":2}', l: "westus" },
    ]);
    expect(runKql("resources | extend t = tolower(name) | summarize count() by location, t", tables).rows).toEqual([
      { location: "eastus", t: "n1", count_: 1 },
      { location: "westus", t: "n2", count_: 1 },
    ]);
    const all = runKql("resources | extend t = 1 | mv-expand k = bag_keys(tags) to typeof(string)", tables);
    expect(all.columns.map((c) => c.name)).toEqual(["id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy", "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation", "t", "k"]);
    expect(all.rows.map((r) => [r.id, r.name, r.k, r.t, r.properties])).toEqual([
      ["r1", "n1", "a", 1, { p: 1 }],
      ["r1", "n1", "b", 1, { p: 1 }],
      ["r2", "n2", "", 1, { p: 2 }],
    ]);
    // The shared, frozen value of many rows is serialised once, and still correctly after another value.
    const shared = Object.freeze({ provisioningState: "Succeeded" });
    const mixed = [{ id: "1", properties: shared }, { id: "2", properties: { other: true } }, { id: "3", properties: shared }];
    expect(runKql("resources | project t = tostring(properties)", { resources: mixed }).rows.map((r) => r.t)).toEqual([
      '{"provisioningState":"Succeeded"}',
      '{"other":true}',
      '{"provisioningState":"Succeeded"}',
    ]);
  });

  it("serves policyresources, in any case, with the resources columns", () => {
    const rows = [{ id: "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policyAssignments/p", type: "microsoft.authorization/policyassignments" }];
    expect(compileKql("PolicyResources | project id").table).toBe("policyresources");
    expect(runKql("PolicyResources | where type =~ 'Microsoft.Authorization/policyAssignments' | project id, identity", { policyresources: rows }).rows).toEqual([
      { id: rows[0]!.id, identity: null },
    ]);
    expect(kqlError("policyresources | project nope").message).toMatch(/Unknown column 'nope'/);
  });
});
