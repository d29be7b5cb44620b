/**
 * make_set(), the aggregation the reference sweep summarises with (src/arm/queries.ts): distinct values, nulls
 * ignored, at most maxSize of them. Kusto leaves which values a full set keeps unspecified; the simulator keeps
 * the smallest, so the same rows always give the same sample.
 */
import { describe, expect, it } from "vitest";
import { compileKql, runKql, type KqlRow } from "./index.js";

const row = (id: string, group: string | null): KqlRow => ({ id, name: id, type: "t", tenantId: "x", kind: "", location: "", resourceGroup: "", subscriptionId: "", properties: { group }, tags: {}, identity: null });

describe("make_set", () => {
  const rows = ["e", "b", "d", "b", "a", "c", "f"].map((id, n) => row(id, n % 2 === 0 ? "even" : "odd"));

  it("gives the distinct values of each group, smallest first, at most maxSize", () => {
    const result = runKql("resources | extend g = tostring(properties.group) | summarize n = count(), ids = make_set(id, 2) by g | order by g asc", { resources: rows });
    expect(result.rows).toEqual([
      { g: "even", n: 4, ids: ["a", "d"] },
      { g: "odd", n: 3, ids: ["b", "c"] },
    ]);
    expect(result.columns.map((c) => c.type)).toEqual(["string", "integer", "array"]);
  });

  it("keeps every value without maxSize, ignores nulls, and names its column set_<column>", () => {
    expect(runKql("resources | summarize make_set(name)", { resources: rows }).rows).toEqual([{ set_name: ["a", "b", "c", "d", "e", "f"] }]);
    // A null dynamic value is no value; an empty string (a typed string is never null) would be one.
    const withNull = [...rows, row("z", null)];
    expect(runKql("resources | summarize groups = make_set(properties.group)", { resources: withNull }).rows).toEqual([{ groups: ["even", "odd"] }]);
  });

  it("refuses a maxSize that is not a constant whole number, and an unnamed expression", () => {
    expect(() => compileKql("resources | summarize s = make_set(id, 0)")).toThrow(/maxSize must be a constant whole number of at least 1/);
    expect(() => compileKql("resources | summarize s = make_set(id, name)")).toThrow(/maxSize must be a constant whole number/);
    expect(() => compileKql("resources | summarize make_set(tolower(id))")).toThrow(/Name this aggregation's column/);
    expect(() => compileKql("resources | summarize s = make_set()")).toThrow(/make_set\(\) takes 1 or 2 arguments/);
  });
});
