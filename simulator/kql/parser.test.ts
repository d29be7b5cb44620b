import { describe, expect, it } from "vitest";
import { KqlError } from "./errors.js";
import { parseQuery } from "./parser.js";

function parseError(text: string): KqlError {
  try {
    parseQuery(text);
  } catch (error) {
    if (error instanceof KqlError) return error;
    throw error;
  }
  throw new Error(`expected a KqlError for: ${text}`);
}

describe("parseQuery: structure", () => {
  it("reads the table and the operators in order", () => {
    const query = parseQuery("Resources | where true | project id | order by id asc | take 5");
    expect(query.table).toBe("Resources");
    expect(query.operators.map((o) => o.kind)).toEqual(["where", "project", "sort", "take"]);
  });

  it("reads named and unnamed projection items", () => {
    const [project] = parseQuery("resources | project id, principalId = tostring(properties.principalId)").operators;
    expect(project).toMatchObject({
      kind: "project",
      items: [
        { name: undefined, expr: { kind: "column", name: "id" } },
        {
          name: "principalId",
          expr: { kind: "call", name: "tostring", args: [{ kind: "member", key: "principalId", target: { kind: "column", name: "properties" } }] },
        },
      ],
    });
  });

  it("reads bracket access with a string as a member and with a number as an index", () => {
    const [project] = parseQuery("resources | project a = tags['env'], b = zones[0], c = zones[-1]").operators;
    expect(project).toMatchObject({
      items: [
        { expr: { kind: "member", key: "env" } },
        { expr: { kind: "index", index: { kind: "literal", value: 0 } } },
        { expr: { kind: "index", index: { kind: "literal", value: -1 } } },
      ],
    });
  });

  it("gives and precedence over or, and comparisons precedence over both", () => {
    const [where] = parseQuery("resources | where a == 1 or b == 2 and c == 3").operators;
    expect(where).toMatchObject({
      predicate: {
        kind: "binary",
        op: "or",
        left: { op: "==" },
        right: { op: "and", left: { op: "==" }, right: { op: "==" } },
      },
    });
  });

  it("reads sort keys with Kusto's default of descending", () => {
    const [sort] = parseQuery("resources | order by a, b asc, c desc nulls first").operators;
    expect(sort).toMatchObject({
      kind: "sort",
      keys: [
        { descending: true, nullsFirst: undefined },
        { descending: false, nullsFirst: undefined },
        { descending: true, nullsFirst: true },
      ],
    });
  });

  it("reads mv-expand with a name, bag expansion kind, cast and limit", () => {
    const [expand] = parseQuery("resources | mv-expand kind=array tag = tags to typeof(string) limit 3").operators;
    expect(expand).toMatchObject({ kind: "mv-expand", item: { name: "tag" }, bagExpansion: "array", toType: "string", limit: 3 });
  });

  it("reads `kind` as a column where it is not the mv-expand parameter", () => {
    const [expand] = parseQuery("resources | mv-expand kind=bag tags | where kind == 'x'").operators;
    expect(expand).toMatchObject({ item: { name: undefined, expr: { kind: "column", name: "tags" } }, bagExpansion: "bag" });
    expect(parseQuery("resources | project kind, properties.kind").operators[0]).toMatchObject({
      items: [{ expr: { kind: "column", name: "kind" } }, { expr: { kind: "member", key: "kind" } }],
    });
  });

  it("reads summarize with named and unnamed aggregates and by-columns", () => {
    const [summarize] = parseQuery("resources | summarize n = count() by type, location").operators;
    expect(summarize).toMatchObject({
      kind: "summarize",
      aggregates: [{ name: "n", expr: { kind: "call", name: "count", args: [] } }],
      by: [{ expr: { name: "type" } }, { expr: { name: "location" } }],
    });
    expect(parseQuery("resources | summarize by type").operators[0]).toMatchObject({ aggregates: [], by: [{ name: undefined }] });
  });

  it("joins adjacent string literals into one, as Kusto does", () => {
    const [where] = parseQuery("resources | where name == 'it' 's' \"!\"").operators;
    expect(where).toMatchObject({ predicate: { right: { kind: "literal", value: "its!" } } });
  });

  it("reads negative numbers and parenthesized expressions", () => {
    const [where] = parseQuery("resources | where (properties.n > -1)").operators;
    expect(where).toMatchObject({ predicate: { op: ">", right: { kind: "literal", value: -1, type: "long" } } });
  });
});

describe("parseQuery: rejections", () => {
  it.each([
    ["resources | join (authorizationresources) on id", /Operator 'join' is not supported/],
    ["resources | union authorizationresources", /Operator 'union' is not supported/],
    ["resources | parse name with a '-' b", /Operator 'parse' is not supported/],
    ["resources | make-series count() on x step 1", /Operator 'make-series' is not supported/],
    ["resources | top 5 by id", /Operator 'top' is not supported/],
    ["union resources", /Operator 'union' is not supported/],
    ["let x = 1; resources", /'let' statements are not supported/],
    ["resources | where name matches regex 'x'", /Operator 'matches' is not supported/],
    ["resources | where name has_any ('x')", /Operator 'has_any' is not supported/],
    ["resources | extend n = tostring(name) + 1", /Arithmetic operator '\+' is not supported/],
    ["resources | where tags == dynamic({})", /Typed literals such as 'dynamic\(...\)' are not supported/],
    ["resources | project *", /Wildcards/],
    ["resources | mv-expand with_itemindex=i tags", /with_itemindex is not supported/],
    ["resources | mv-expand a = tags, b = zones", /several columns/],
    ["resources; resources", /Multiple statements/],
    ["resources | filter name == 'a'", /Operator 'filter' is not supported/],
    ["resources | sort by name asc", /Operator 'sort' is not supported/],
    ["resources | project-away id", /Operator 'project-away' is not supported/],
    ["resources | where name in ('a')", /Operator 'in' is not supported/],
    ["resources | where name in~ ('a')", /Operator 'in~' is not supported/],
    ["resources | where name !in ('a')", /Operator '!in' is not supported/],
    ["resources | where name endswith_cs 'a'", /Operator 'endswith_cs' is not supported/],
    ["resources | where not isnotempty(x)", /Function 'not' is not supported/],
  ])("rejects valid Kusto outside the subset as unsupported: %s", (text, message) => {
    const error = parseError(text);
    expect(error.code).toMatch(/^Unsupported/);
    expect(error.message).toMatch(message);
  });

  it.each([
    ["", /The query is empty/],
    ["resources | whre type == 'x'", /Unknown query operator 'whre'/],
    ["resources | where (type == 'x'", /Expected '\)' but found 'end of query'/],
    ["resources | where type == 'x')", /Unexpected '\)' after the end of the query/],
    ["resources | take 5 garbage", /Unexpected 'garbage' after the end of the query/],
    ["resources | where", /Expected an expression but found 'end of query'/],
    ["resources |", /Expected a query operator after '\|'/],
    ["resources | take 2.5", /whole number/],
    ["resources | where x == .5", /Expected an expression but found '.'/],
    ["resources | order id", /Expected 'by' but found 'id'/],
    ["resources | where a == b == c", /comparisons cannot be chained/],
    ["resources | project tostring(properties.x", /Expected '\)' to close the call to 'tostring'/],
    ["| where true", /Expected a table name but found '\|'/],
    ["resources | project last = zones[-1]", /'last' is a Kusto keyword and cannot name a column here/],
    ["resources | mv-expand kind = bag_keys(tags)", /'kind' is a Kusto keyword/],
    ["resources | where properties.first == 'x'", /write \['first'\] to read that property/],
    ["resources | where in == 'x'", /found the keyword 'in'/],
  ])("rejects a syntax error with an InvalidQuery that names the problem: %s", (text, message) => {
    const error = parseError(text);
    expect(error.code).toBe("InvalidQuery");
    expect(error.message).toMatch(message);
  });

  it("points at the offending token", () => {
    const error = parseError("resources\n| where type == 'x'\n| bogus");
    expect(error.position).toBe(32);
    expect(error.message).toMatch(/Unknown query operator 'bogus' \(at line 3, column 3\)/);
  });
});
