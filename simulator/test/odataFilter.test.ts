import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AssociatedResource } from "../../src/arm/types.js";
import { compareBy, matchesFilter, ODataError, parseFilter, parseOrderBy, type FilterNode } from "../odataFilter.js";

const item = (overrides: Partial<AssociatedResource>): AssociatedResource => ({
  id: "/subscriptions/s1/resourceGroups/RG-One/providers/Microsoft.Web/sites/test1",
  name: "test1",
  type: "microsoft.web/sites",
  resourceGroup: "rg-one",
  subscriptionId: "s1",
  subscriptionDisplayName: "Dev's Playground (ÜK) & Co",
  ...overrides,
});

const filter = (text: string): FilterNode => {
  const node = parseFilter(text);
  if (!node) throw new Error("expected a filter");
  return node;
};

describe("$filter parsing", () => {
  it("parses eq on every field", () => {
    for (const field of ["name", "type", "resourceGroup", "subscriptionId", "subscriptionDisplayName"]) {
      expect(parseFilter(`${field} eq 'x'`)).toEqual({ kind: "eq", field, value: "x" });
    }
  });

  it("parses contains(field, 'literal') with or without spaces", () => {
    expect(parseFilter("contains(name, 'test')")).toEqual({ kind: "contains", field: "name", value: "test" });
    expect(parseFilter("contains( type ,'web')")).toEqual({ kind: "contains", field: "type", value: "web" });
  });

  it("gives 'and' precedence over 'or' and honours parentheses", () => {
    expect(parseFilter("name eq 'a' or name eq 'b' and type eq 'c'")).toEqual({
      kind: "or",
      left: { kind: "eq", field: "name", value: "a" },
      right: { kind: "and", left: { kind: "eq", field: "name", value: "b" }, right: { kind: "eq", field: "type", value: "c" } },
    });
    expect(parseFilter("(name eq 'a' or name eq 'b') and type eq 'c'")).toEqual({
      kind: "and",
      left: { kind: "or", left: { kind: "eq", field: "name", value: "a" }, right: { kind: "eq", field: "name", value: "b" } },
      right: { kind: "eq", field: "type", value: "c" },
    });
  });

  it("unescapes '' inside literals", () => {
    expect(parseFilter("subscriptionDisplayName eq 'Dev''s Playground (ÜK) & Co'")).toEqual({
      kind: "eq",
      field: "subscriptionDisplayName",
      value: "Dev's Playground (ÜK) & Co",
    });
  });

  it("accepts the docs' example and treats a blank filter as none", () => {
    expect(parseFilter("type eq 'microsoft.cognitiveservices/account' and contains(name, 'test')")).toEqual({
      kind: "and",
      left: { kind: "eq", field: "type", value: "microsoft.cognitiveservices/account" },
      right: { kind: "contains", field: "name", value: "test" },
    });
    expect(parseFilter("   ")).toBeUndefined();
  });

  it.each([
    ["unknown field", "colour eq 'red'", /Unknown field 'colour'/],
    ["unknown operator", "name ne 'x'", /Unsupported operator 'ne'/],
    ["unsupported function", "startswith(name, 'x')", /Unsupported function 'startswith'/],
    ["not", "not name eq 'x'", /Unexpected operator 'not'/],
    ["unbalanced (", "(name eq 'x'", /Unbalanced parentheses/],
    ["unbalanced )", "name eq 'x')", /Unbalanced parentheses/],
    ["number literal", "name eq 5", /Invalid literal '5'/],
    ["unquoted literal", "name eq test", /Expected a string literal/],
    ["double quotes", 'name eq "x"', /Invalid literal/],
    ["unterminated literal", "name eq 'x", /Unterminated string literal/],
    ["literal on the left", "'x' eq name", /cannot start a condition/],
    ["dangling and", "name eq 'x' and", /Expected a field name/],
    ["two conditions without operator", "name eq 'x' type eq 'y'", /combine conditions/],
  ])("rejects %s", (_label, text, message) => {
    expect(() => parseFilter(text)).toThrow(ODataError);
    expect(() => parseFilter(text)).toThrow(message);
  });
});

describe("$filter evaluation", () => {
  const resource = item({});

  it("compares case-insensitively for eq and contains", () => {
    expect(matchesFilter(filter("name eq 'TEST1'"), resource)).toBe(true);
    expect(matchesFilter(filter("type eq 'Microsoft.Web/Sites'"), resource)).toBe(true);
    expect(matchesFilter(filter("contains(resourceGroup, 'G-ON')"), resource)).toBe(true);
    expect(matchesFilter(filter("name eq 'test'"), resource)).toBe(false);
  });

  it("matches an escaped apostrophe", () => {
    expect(matchesFilter(filter("subscriptionDisplayName eq 'dev''s playground (ük) & co'"), resource)).toBe(true);
    expect(matchesFilter(filter("contains(subscriptionDisplayName, 's playground')"), resource)).toBe(true);
  });

  it("combines with and / or", () => {
    expect(matchesFilter(filter("name eq 'nope' or subscriptionId eq 'S1'"), resource)).toBe(true);
    expect(matchesFilter(filter("name eq 'test1' and subscriptionId eq 's2'"), resource)).toBe(false);
    expect(matchesFilter(filter("(name eq 'nope' or name eq 'test1') and (contains(type, 'web'))"), resource)).toBe(true);
  });

  it("eq on any generated value agrees with a case-insensitive comparison (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, literal) => {
        const escaped = literal.replace(/'/g, "''");
        const node = filter(`name eq '${escaped}'`);
        return matchesFilter(node, item({ name })) === (name.toLowerCase() === literal.toLowerCase());
      }),
    );
  });

  it("contains on any generated value agrees with includes (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, literal) => {
        const node = filter(`contains(name, '${literal.replace(/'/g, "''")}')`);
        return matchesFilter(node, item({ name })) === name.toLowerCase().includes(literal.toLowerCase());
      }),
    );
  });
});

describe("$orderby", () => {
  it("parses fields, directions and several keys", () => {
    expect(parseOrderBy("name")).toEqual([{ field: "name", descending: false }]);
    expect(parseOrderBy("name asc")).toEqual([{ field: "name", descending: false }]);
    expect(parseOrderBy("type desc, name ASC")).toEqual([
      { field: "type", descending: true },
      { field: "name", descending: false },
    ]);
    expect(parseOrderBy("")).toEqual([]);
  });

  it.each([
    ["unknown field", "colour asc", /Unknown field/],
    ["bad direction", "name upwards", /Invalid ordering/],
    ["empty key", "name asc,", /Empty ordering key/],
    ["extra words", "name asc desc", /Invalid ordering/],
  ])("rejects %s", (_label, text, message) => {
    expect(() => parseOrderBy(text)).toThrow(message);
  });

  it("sorts case-insensitively, descending too, with ties kept in order", () => {
    const items = [item({ name: "b", type: "x" }), item({ name: "A", type: "y" }), item({ name: "c", type: "x" }), item({ name: "a", type: "x" })];
    expect([...items].sort(compareBy(parseOrderBy("name asc"))).map((i) => i.name)).toEqual(["A", "a", "b", "c"]);
    expect([...items].sort(compareBy(parseOrderBy("name desc"))).map((i) => i.name)).toEqual(["c", "b", "A", "a"]);
    expect([...items].sort(compareBy(parseOrderBy("type desc, name"))).map((i) => i.name)).toEqual(["A", "a", "b", "c"]);
  });
});
