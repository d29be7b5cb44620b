import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KqlError, LOG_ANALYTICS_TABLE_SCHEMAS, compileKql, runKql, type KqlRow } from "./index.js";

/** Small resource rows with the awkward cases: missing columns, null tags, mixed-case types. */
function sampleRows(): KqlRow[] {
  return [
    {
      id: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/alpha",
      name: "alpha",
      type: "Microsoft.ManagedIdentity/userAssignedIdentities",
      subscriptionId: "s1",
      location: "eastus",
      properties: { principalId: "p-alpha", count: 3, nested: { list: ["a", "b", "c"] } },
      tags: { env: "prod", owner: "team-a" },
      zones: ["1", "2"],
    },
    {
      id: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/beta",
      name: "beta",
      type: "microsoft.managedidentity/userassignedidentities",
      subscriptionId: "s1",
      location: "westeurope",
      properties: { principalId: "p-beta", count: 1.5 },
      tags: null,
    },
    {
      id: "/subscriptions/s2/resourceGroups/rg2/providers/Microsoft.Compute/virtualMachines/gamma",
      name: "gamma",
      type: "Microsoft.Compute/virtualMachines",
      subscriptionId: "s2",
      location: "EastUS",
      kind: "vm",
      properties: { count: "7" },
      tags: {},
    },
  ];
}

function run(query: string, rows: KqlRow[] = sampleRows()): KqlRow[] {
  return runKql(query, { resources: rows }).rows;
}

function names(query: string, rows?: KqlRow[]): unknown[] {
  return run(query, rows).map((r) => r.name);
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

describe("where: comparisons", () => {
  it("== is case-sensitive and =~ is not", () => {
    expect(names("resources | where type == 'Microsoft.ManagedIdentity/userAssignedIdentities' | project name")).toEqual(["alpha"]);
    expect(names("resources | where type =~ 'MICROSOFT.managedidentity/userassignedidentities' | project name")).toEqual(["alpha", "beta"]);
    expect(names("resources | where location !~ 'eastus' | project name")).toEqual(["beta"]);
    expect(names("resources | where location != 'eastus' | project name")).toEqual(["beta", "gamma"]);
  });

  it("treats comparisons with a null dynamic value as false, for == and != alike", () => {
    expect(names("resources | where properties.principalId == 'p-alpha' | project name")).toEqual(["alpha"]);
    expect(names("resources | where properties.principalId != 'p-alpha' | project name")).toEqual(["beta"]);
    expect(names("resources | where properties.absent != 'x' | project name")).toEqual([]);
  });

  it("reads a missing string column as the empty string, as Kusto strings are never null", () => {
    expect(names("resources | where kind != 'vm' | project name")).toEqual(["alpha", "beta"]);
    expect(names("resources | where kind == '' | project name")).toEqual(["alpha", "beta"]);
    expect(run("resources | where name == 'alpha' | project kind, managedBy")).toEqual([{ kind: "", managedBy: "" }]);
  });

  it("compares numbers numerically, including dynamic numbers against long literals", () => {
    expect(names("resources | where properties.count > 1 | project name")).toEqual(["alpha", "beta"]);
    expect(names("resources | where properties.count <= 1.5 | project name")).toEqual(["beta"]);
    expect(names("resources | where properties.count == 3 | project name")).toEqual(["alpha"]);
    // A string "7" is not the number 7: no implicit parsing.
    expect(names("resources | where properties.count == 7 | project name")).toEqual([]);
  });

  it("implements the string operators case-insensitively, with ! variants", () => {
    expect(names("resources | where name contains 'AM' | project name")).toEqual(["gamma"]);
    expect(names("resources | where name !contains 'a' | project name")).toEqual([]);
    expect(names("resources | where name startswith 'AL' | project name")).toEqual(["alpha"]);
    expect(names("resources | where name !startswith 'al' | project name")).toEqual(["beta", "gamma"]);
  });

  it("has matches whole terms only", () => {
    expect(names("resources | where id has 'virtualmachines' | project name")).toEqual(["gamma"]);
    expect(names("resources | where id has 'virtual' | project name")).toEqual([]);
    expect(names("resources | where id has 'Microsoft.Compute' | project name")).toEqual(["gamma"]);
    expect(names("resources | where id !has 'rg1' | project name")).toEqual(["gamma"]);
  });

  it("combines conditions with and, or and parentheses using three-valued logic", () => {
    expect(
      names("resources | where type =~ 'microsoft.managedidentity/userassignedidentities' and (location == 'westeurope' or isnotempty(tags)) | project name"),
    ).toEqual(["alpha", "beta"]);
    expect(names("resources | where (location == 'westeurope' or name == 'gamma') and kind == 'vm' | project name")).toEqual(["gamma"]);
    // null or true is true; null and true is null (dropped).
    expect(names("resources | where properties.absent == 'x' or name == 'gamma' | project name")).toEqual(["gamma"]);
    expect(names("resources | where properties.absent != 'x' and name == 'gamma' | project name")).toEqual([]);
  });
});

describe("functions", () => {
  it("tostring renders null as empty, numbers and booleans as text, dynamic values as JSON", () => {
    const [row] = run(
      "resources | where name == 'alpha' | project a = tostring(properties.absent), b = tostring(properties.count), c = tostring(properties.nested), d = tostring(zones), e = tostring(true)",
    );
    expect(row).toEqual({ a: "", b: "3", c: '{"list":["a","b","c"]}', d: '["1","2"]', e: "true" });
  });

  it("tolower works on strings and dynamic values", () => {
    expect(run("resources | where name == 'gamma' | project l = tolower(location), d = tolower(properties.count)")).toEqual([{ l: "eastus", d: "7" }]);
  });

  it("isnotempty is false for null and empty strings only (an empty bag is a value); isnotnull for null only", () => {
    expect(run("resources | project ne = isnotempty(tags), nn = isnotnull(tags), c = isnotnull(properties.count), k = isnotempty(kind)")).toEqual([
      { ne: true, nn: true, c: true, k: false },
      { ne: false, nn: false, c: true, k: false },
      { ne: true, nn: true, c: true, k: true },
    ]);
  });

  it("bag_keys lists a bag's keys, and is null for anything else", () => {
    expect(run("resources | project k = bag_keys(tags), z = bag_keys(zones)")).toEqual([
      { k: ["env", "owner"], z: null },
      { k: null, z: null },
      { k: [], z: null },
    ]);
  });

  it("reads nested properties by dot, by bracket and by index, with null for anything missing", () => {
    expect(
      run(
        "resources | where name == 'alpha' | project a = properties.nested.list[1], b = properties['nested']['list'][-1], c = tags['env'], d = properties.nested.list[9], e = properties.constructor, f = zones.length",
      ),
    ).toEqual([{ a: "b", b: "c", c: "prod", d: null, e: null, f: null }]);
  });
});

describe("tabular operators", () => {
  it("project names dotted and indexed paths with underscores, as ARG does", () => {
    const result = runKql("resources | where name == 'alpha' | project properties.principalId, tags['env'], zones[0]", { resources: sampleRows() });
    expect(result.columns.map((c) => c.name)).toEqual(["properties_principalId", "tags_env", "zones_0"]);
    expect(result.rows).toEqual([{ properties_principalId: "p-alpha", tags_env: "prod", zones_0: "1" }]);
  });

  it("extend appends new columns, replaces existing ones in place, and sees earlier items", () => {
    const result = runKql("resources | project name, location | extend location = tolower(location), east = location == 'eastus', tag = tostring(east)", {
      resources: sampleRows(),
    });
    expect(result.columns.map((c) => `${c.name}:${c.type}`)).toEqual(["name:string", "location:string", "east:boolean", "tag:string"]);
    // gamma's "EastUS" is lower-cased first, so the next item sees "eastus".
    expect(result.rows[2]).toEqual({ name: "gamma", location: "eastus", east: true, tag: "true" });
  });

  it("order by sorts descending by default, honours asc and several keys, and is stable", () => {
    expect(names("resources | order by name | project name")).toEqual(["gamma", "beta", "alpha"]);
    expect(names("resources | order by name asc | project name")).toEqual(["alpha", "beta", "gamma"]);
    expect(names("resources | order by subscriptionId asc, name desc | project name")).toEqual(["beta", "alpha", "gamma"]);
    expect(names("resources | order by subscriptionId asc | project name")).toEqual(["alpha", "beta", "gamma"]);
  });

  it("order by puts nulls first when ascending and last when descending, unless told", () => {
    // A typed column that can be null: Log Analytics' TimeGenerated (Resource Graph's strings never are).
    const rows = [
      { Id: "a", TimeGenerated: new Date("2024-05-02T00:00:00Z") },
      { Id: "b", TimeGenerated: null },
      { Id: "c", TimeGenerated: new Date("2024-05-01T00:00:00Z") },
    ];
    const ids = (order: string): unknown[] =>
      compileKql(`AADManagedIdentitySignInLogs | order by TimeGenerated ${order} | project Id`, { schemas: LOG_ANALYTICS_TABLE_SCHEMAS, caseSensitive: true })
        .run({ AADManagedIdentitySignInLogs: rows })
        .rows.map((r) => r.Id);
    expect(ids("asc")).toEqual(["b", "c", "a"]);
    expect(ids("desc")).toEqual(["a", "c", "b"]);
    expect(ids("asc nulls last")).toEqual(["c", "a", "b"]);
  });

  it("take and limit keep the first rows and mark the query as using a limit", () => {
    expect(names("resources | take 2 | project name")).toEqual(["alpha", "beta"]);
    expect(names("resources | order by name asc | limit 1 | project name")).toEqual(["alpha"]);
    expect(names("resources | take 0 | project name")).toEqual([]);
    expect(compileKql("resources | limit 5").usesLimit).toBe(true);
    expect(compileKql("resources | project name | take 5").usesLimit).toBe(true);
    expect(compileKql("resources | project name").usesLimit).toBe(false);
  });

  it("mv-expand turns bag keys into rows, keeps null rows and drops empty collections", () => {
    const result = runKql("resources | mv-expand tagKey = bag_keys(tags) | project name, tagKey", { resources: sampleRows() });
    expect(result.rows).toEqual([
      { name: "alpha", tagKey: "env" },
      { name: "alpha", tagKey: "owner" },
      { name: "beta", tagKey: null },
    ]);
    expect(result.columns).toEqual([
      { name: "name", type: "string" },
      { name: "tagKey", type: "string" },
    ]);
  });

  it("mv-expand of a bag yields single-property bags, or [key, value] pairs with kind=array", () => {
    expect(run("resources | where name == 'alpha' | mv-expand tags | project tags")).toEqual([{ tags: { env: "prod" } }, { tags: { owner: "team-a" } }]);
    expect(run("resources | where name == 'alpha' | mv-expand kind=array tags | project tags")).toEqual([
      { tags: ["env", "prod"] },
      { tags: ["owner", "team-a"] },
    ]);
  });

  it("mv-expand replaces an existing column in place, appends a new one, and honours limit and typeof(string)", () => {
    const replaced = runKql("resources | where name == 'alpha' | project zones, name | mv-expand zones limit 1", { resources: sampleRows() });
    expect(replaced.columns.map((c) => c.name)).toEqual(["zones", "name"]);
    expect(replaced.rows).toEqual([{ zones: "1", name: "alpha" }]);
    const rows = [{ name: "x", properties: { values: ["a", 1, true] } }];
    expect(run("resources | mv-expand v = properties.values to typeof(string) | project v", rows)).toEqual([{ v: "a" }, { v: "" }, { v: "" }]);
    expect(run("resources | mv-expand v = properties.values | project v", rows)).toEqual([{ v: "a" }, { v: 1 }, { v: true }]);
  });

  it("mv-expand keeps a row whose value is a scalar", () => {
    expect(run("resources | where name == 'gamma' | mv-expand c = properties.count | project c")).toEqual([{ c: "7" }]);
  });

  it("summarize counts by one or more columns, in order of first appearance", () => {
    const byType = runKql("resources | summarize count() by type", { resources: sampleRows() });
    expect(byType.columns).toEqual([
      { name: "type", type: "string" },
      { name: "count_", type: "integer" },
    ]);
    expect(byType.rows).toEqual([
      { type: "Microsoft.ManagedIdentity/userAssignedIdentities", count_: 1 },
      { type: "microsoft.managedidentity/userassignedidentities", count_: 1 },
      { type: "Microsoft.Compute/virtualMachines", count_: 1 },
    ]);
  });

  it("summarize names by-expressions like project and groups several keys together", () => {
    expect(run("resources | summarize n = count() by subscriptionId, t = tolower(type)")).toEqual([
      { subscriptionId: "s1", t: "microsoft.managedidentity/userassignedidentities", n: 2 },
      { subscriptionId: "s2", t: "microsoft.compute/virtualmachines", n: 1 },
    ]);
  });

  it("summarize without by gives one row, even over no rows; summarize by alone is distinct", () => {
    expect(run("resources | summarize n = count()")).toEqual([{ n: 3 }]);
    expect(run("resources | where name == 'nobody' | summarize count()")).toEqual([{ count_: 0 }]);
    expect(run("resources | where name == 'nobody' | summarize count() by type")).toEqual([]);
    expect(run("resources | summarize by subscriptionId")).toEqual([{ subscriptionId: "s1" }, { subscriptionId: "s2" }]);
    expect(run("resources | distinct subscriptionId")).toEqual([{ subscriptionId: "s1" }, { subscriptionId: "s2" }]);
  });

  it("count returns the number of rows", () => {
    expect(runKql("resources | where subscriptionId == 's1' | count", { resources: sampleRows() })).toEqual({
      columns: [{ name: "Count", type: "integer" }],
      rows: [{ Count: 2 }],
    });
  });
});

describe("results", () => {
  it("without project, returns the table's columns with missing strings as '' and missing dynamics as null", () => {
    const result = runKql("resources | where name == 'beta'", { resources: sampleRows() });
    expect(result.columns.map((c) => c.name)).toEqual([
      "id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy",
      "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation",
    ]);
    expect(result.rows[0]).toMatchObject({ name: "beta", tenantId: "", kind: "", sku: null, tags: null, zones: null });
    expect(Object.keys(result.rows[0] ?? {})).toHaveLength(16);
  });

  it("infers dynamic column types from the values produced", () => {
    const rows = [
      { name: "a", properties: { s: "x", n: 1, r: 1, b: true, o: {}, a: [], m: "x" } },
      { name: "b", properties: { s: "y", n: 2, r: 1.5, b: false, o: { k: 1 }, a: [1], m: 1 } },
    ];
    const result = runKql(
      "resources | project s = properties.s, n = properties.n, r = properties.r, b = properties.b, o = properties.o, a = properties.a, m = properties.m, z = properties.none",
      { resources: rows },
    );
    expect(result.columns.map((c) => c.type)).toEqual(["string", "integer", "real", "boolean", "object", "array", "dynamic", "object"]);
  });

  it("never modifies the input rows, and returns new row objects", () => {
    const rows = sampleRows();
    const before = JSON.stringify(rows);
    const result = runKql("resources | extend location = 'x' | mv-expand zones | order by name asc", { resources: rows });
    expect(JSON.stringify(rows)).toBe(before);
    expect(result.rows.some((r) => rows.includes(r))).toBe(false);
  });

  it("compiles once and runs against different data, finding the table in any case", () => {
    const query = compileKql("Resources | where location =~ 'eastus' | project name");
    expect(query.table).toBe("resources");
    expect(query.run({ resources: sampleRows() }).rows).toEqual([{ name: "alpha" }, { name: "gamma" }]);
    expect(query.run({ Resources: [{ name: "solo", location: "EASTUS" }] }).rows).toEqual([{ name: "solo" }]);
    expect(compileKql("AuthorizationResources | take 1").table).toBe("authorizationresources");
  });

  it("throws a plain Error (a server bug, not a bad query) when the table is not supplied", () => {
    const query = compileKql("authorizationresources | take 1");
    expect(() => query.run({ resources: [] })).toThrow(/reads table 'authorizationresources'/);
    try {
      query.run({ resources: [] });
    } catch (error) {
      expect(error).not.toBeInstanceOf(KqlError);
    }
  });

  it("accepts any iterable as a table", () => {
    function* generate(): Generator<KqlRow> {
      yield { name: "g1" };
      yield { name: "g2" };
    }
    expect(runKql("resources | project name | take 1", { resources: generate() }).rows).toEqual([{ name: "g1" }]);
  });
});

describe("compile-time errors", () => {
  it.each([
    ["widgets | take 1", "InvalidQuery", /Unknown table 'widgets'/],
    ["resources | project nme", "InvalidQuery", /Unknown column 'nme'/],
    ["resources | project SubscriptionId", "InvalidQuery", /did you mean 'subscriptionId'/],
    ["resources | project name | where location == 'x'", "InvalidQuery", /Unknown column 'location'.*Columns available here: name/],
    ["resources | where foo(name)", "UnsupportedFunction", /Function 'foo' is not supported/],
    ["resources | project split(name, '/')", "UnsupportedFunction", /Function 'split' is not supported/],
    ["resources | where count() > 1", "InvalidQuery", /Aggregation 'count\(\)' can only be used in summarize/],
    ["resources | summarize dcount(name)", "UnsupportedOperator", /Aggregation 'dcount\(\)' is not supported/],
    ["resources | summarize count(name)", "InvalidQuery", /count\(\) takes no arguments/],
    ["resources | where name == 1", "InvalidQuery", /Cannot compare a string with a long using '=='/],
    ["resources | where name", "InvalidQuery", /where needs a boolean condition, got a string/],
    ["resources | where name > 'a'", "InvalidQuery", /compares numbers and dates only/],
    ["resources | where isnotnull(name) contains 'x'", "InvalidQuery", /needs string operands, got a bool/],
    ["resources | where name.given == 'a'", "InvalidQuery", /Cannot read property 'given' of a string value/],
    ["resources | project tolower(name)", "InvalidQuery", /Name this expression's column/],
    ["resources | summarize count() by tolower(type)", "InvalidQuery", /Name this expression's column/],
    ["resources | project name, name", "InvalidQuery", /Column 'name' appears twice/],
    ["resources | order by properties.x", "InvalidQuery", /Cannot order by a dynamic value/],
    ["resources | summarize count() by tags", "InvalidQuery", /Cannot summarize by a dynamic value/],
    ["resources | mv-expand name", "InvalidQuery", /mv-expand needs a dynamic array or bag/],
    ["resources | mv-expand bag_keys(tags)", "InvalidQuery", /Name the expanded column/],
    ["resources | mv-expand x = tags to typeof(guid)", "UnsupportedOperator", /typeof\(guid\) is not supported/],
    ["resources | extend __proto__ = 1", "InvalidQuery", /'__proto__' cannot be used/],
    ["resources | project tostring(name, 1)", "InvalidQuery", /takes exactly 1 argument, got 2/],
    ["resources | where bag_keys(name) == 'x'", "InvalidQuery", /expects a dynamic argument, got a string/],
  ])("rejects %s", (query, code, message) => {
    const error = kqlError(query);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.position).toBeTypeOf("number");
  });

  // Valid Kusto that the subset once had and no query or test sent any more: refused by name, never answered.
  it.each([
    ["resources | filter name == 'a'", "UnsupportedOperator", /Operator 'filter' is not supported/],
    ["resources | sort by name asc", "UnsupportedOperator", /Operator 'sort' is not supported/],
    ["resources | project id, name | project-away id", "UnsupportedOperator", /Operator 'project-away' is not supported/],
    ["resources | where name in ('a')", "UnsupportedOperator", /Operator 'in' is not supported/],
    ["resources | where name !in ('a')", "UnsupportedOperator", /Operator '!in' is not supported/],
    ["resources | where name in~ ('a')", "UnsupportedOperator", /Operator 'in~' is not supported/],
    ["resources | where name !in~ ('a')", "UnsupportedOperator", /Operator '!in~' is not supported/],
    ["resources | where name endswith 'a'", "UnsupportedOperator", /Operator 'endswith' is not supported/],
    ["resources | where name !endswith 'a'", "UnsupportedOperator", /Operator '!endswith' is not supported/],
    ["resources | where name contains_cs 'a'", "UnsupportedOperator", /Operator 'contains_cs' is not supported/],
    ["resources | where name !has_cs 'a'", "UnsupportedOperator", /Operator '!has_cs' is not supported/],
    ["resources | where name startswith_cs 'a'", "UnsupportedOperator", /Operator 'startswith_cs' is not supported/],
    ["resources | mv-expand v = zones to typeof(long)", "UnsupportedOperator", /typeof\(long\) is not supported/],
    ["resources | mv-expand v = zones to typeof(dynamic)", "UnsupportedOperator", /typeof\(dynamic\) is not supported/],
    ["resources | summarize arg_min(name, id) by type", "UnsupportedOperator", /Aggregation 'arg_min\(\)' is not supported/],
    ["resources | project u = toupper(name)", "UnsupportedFunction", /Function 'toupper' is not supported/],
    ["resources | project n = toint(properties.n)", "UnsupportedFunction", /Function 'toint' is not supported/],
    ["resources | project n = tolong(properties.n)", "UnsupportedFunction", /Function 'tolong' is not supported/],
    ["resources | project n = strlen(name)", "UnsupportedFunction", /Function 'strlen' is not supported/],
    ["resources | project n = array_length(zones)", "UnsupportedFunction", /Function 'array_length' is not supported/],
    ["resources | where isnull(tags)", "UnsupportedFunction", /Function 'isnull' is not supported/],
    ["resources | where isempty(tags)", "UnsupportedFunction", /Function 'isempty' is not supported/],
    ["resources | where not(isnotempty(tags))", "UnsupportedFunction", /Function 'not' is not supported/],
    ["resources | where not isnotempty(tags)", "UnsupportedFunction", /Function 'not' is not supported/],
  ])("refuses what the subset no longer has: %s", (query, code, message) => {
    const error = kqlError(query);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});

describe("properties", () => {
  const value = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("abc", "ABC", "Abc", ""));

  it("where x =~ c keeps exactly the rows whose x lower-cases to c lower-cased", () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 30 }), value, (xs, c) => {
        const rows = xs.map((x, i) => ({ name: String(i), location: x }));
        const literal = `'${c.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
        const kept = names(`resources | where location =~ ${literal} | project name`, rows);
        const expected = rows.filter((r) => r.location.toLowerCase() === c.toLowerCase()).map((r) => r.name);
        expect(kept).toEqual(expected);
      }),
    );
  });

  it("order by x asc returns a sorted permutation and keeps ties in input order", () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), (xs) => {
        const rows = xs.map((x, i) => ({ name: String(i), location: x }));
        const sorted = run("resources | order by location asc | project name, location", rows);
        const expected = [...rows].sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
        expect(sorted).toEqual(expected);
      }),
    );
  });
});
