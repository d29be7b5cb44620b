/**
 * The aggregations beyond count() (max, min, arg_max) and table catalogs other than Resource
 * Graph's: what the simulated Log Analytics workspace needs for the sign-in query.
 */
import { describe, expect, it } from "vitest";
import { ARG_CATALOG, compileKql, KqlError, LOG_ANALYTICS_TABLE_SCHEMAS, type KqlRow, type TableCatalog } from "./index.js";

const LOGS: TableCatalog = { schemas: LOG_ANALYTICS_TABLE_SCHEMAS, caseSensitive: true };
const TABLE = "AADManagedIdentitySignInLogs";

const at = (iso: string) => new Date(iso);

function signIns(): KqlRow[] {
  return [
    { TimeGenerated: at("2024-05-01T10:00:00Z"), ServicePrincipalId: "AAAA", AppId: "app-a", ResultType: "0", ResourceDisplayName: "Azure Key Vault" },
    { TimeGenerated: at("2024-05-03T10:00:00Z"), ServicePrincipalId: "aaaa", AppId: "app-a", ResultType: "0", ResourceDisplayName: "Azure Storage" },
    { TimeGenerated: at("2024-05-04T10:00:00Z"), ServicePrincipalId: "aaaa", AppId: "app-a", ResultType: "500011", ResourceDisplayName: "Microsoft Graph" },
    { TimeGenerated: at("2024-05-02T10:00:00Z"), ServicePrincipalId: "bbbb", AppId: "app-b", ResultType: "0", ResourceDisplayName: "Microsoft Graph" },
    { TimeGenerated: null, ServicePrincipalId: "bbbb", AppId: "app-b", ResultType: "0", ResourceDisplayName: "Nowhere" },
    { TimeGenerated: at("2024-05-05T10:00:00Z"), ServicePrincipalId: "cccc", AppId: "app-c", ResultType: "7000112", ResourceDisplayName: "Azure Key Vault" },
  ];
}

function run(query: string, rows: KqlRow[] = signIns()) {
  return compileKql(query, LOGS).run({ [TABLE]: rows });
}

describe("arg_max", () => {
  it("return the maximizing row's columns per group, by columns first, ignoring nulls and failures filtered out", () => {
    const result = run(`${TABLE}\n| where ResultType == "0"\n| summarize arg_max(TimeGenerated, AppId, ResourceDisplayName) by principalId = tolower(ServicePrincipalId)`);
    expect(result.columns).toEqual([
      { name: "principalId", type: "string" },
      { name: "TimeGenerated", type: "datetime" },
      { name: "AppId", type: "string" },
      { name: "ResourceDisplayName", type: "string" },
    ]);
    expect(result.rows).toEqual([
      { principalId: "aaaa", TimeGenerated: at("2024-05-03T10:00:00Z"), AppId: "app-a", ResourceDisplayName: "Azure Storage" },
      { principalId: "bbbb", TimeGenerated: at("2024-05-02T10:00:00Z"), AppId: "app-b", ResourceDisplayName: "Microsoft Graph" },
    ]);
  });

  it("gives nulls for a group whose maximized values are all null, and one row without by", () => {
    const rows = [{ TimeGenerated: null, ServicePrincipalId: "x", AppId: "a", ResultType: "0" }];
    expect(run(`${TABLE} | summarize arg_max(TimeGenerated, AppId) by ServicePrincipalId`, rows).rows).toEqual([{ ServicePrincipalId: "x", TimeGenerated: null, AppId: null }]);
    expect(run(`${TABLE} | summarize arg_max(TimeGenerated, AppId)`, []).rows).toEqual([{ TimeGenerated: null, AppId: null }]);
  });

  it("project renames their columns afterwards", () => {
    const result = run(`${TABLE} | where ResultType == "0" | summarize arg_max(TimeGenerated, AppId) by ServicePrincipalId | project clientId = AppId, lastSignInAt = TimeGenerated`);
    expect(result.columns).toEqual([
      { name: "clientId", type: "string" },
      { name: "lastSignInAt", type: "datetime" },
    ]);
  });

  it.each([
    [`${TABLE} | summarize latest = arg_max(TimeGenerated, AppId) by ServicePrincipalId`, /Naming the result of arg_max\(\) is not supported/],
    [`${TABLE} | summarize arg_max(TimeGenerated) by ServicePrincipalId`, /arg_max\(\) needs the expression to maximize and the columns to return/],
    [`${TABLE} | summarize arg_max(TimeGenerated, tolower(AppId)) by ServicePrincipalId`, /arguments must be columns/],
    [`${TABLE} | summarize arg_max(TimeGenerated, AppId) by AppId`, /Column 'AppId' appears twice/],
    [`${TABLE} | summarize arg_max(TimeGenerated, Nope) by AppId`, /Unknown column 'Nope'/],
  ])("refuses %s", (query, message) => {
    expect(() => compileKql(query, LOGS)).toThrow(message);
  });
});

describe("max / min", () => {
  it("are named max_x / min_x and keep the argument's type", () => {
    const result = run(`${TABLE} | where ResultType == "0" | summarize max(TimeGenerated), earliest = min(TimeGenerated), n = count() by ServicePrincipalId`);
    expect(result.columns).toEqual([
      { name: "ServicePrincipalId", type: "string" },
      { name: "max_TimeGenerated", type: "datetime" },
      { name: "earliest", type: "datetime" },
      { name: "n", type: "integer" },
    ]);
    expect(result.rows[0]).toEqual({ ServicePrincipalId: "AAAA", max_TimeGenerated: at("2024-05-01T10:00:00Z"), earliest: at("2024-05-01T10:00:00Z"), n: 1 });
    expect(result.rows.find((r) => r.ServicePrincipalId === "bbbb")).toEqual({
      ServicePrincipalId: "bbbb",
      max_TimeGenerated: at("2024-05-02T10:00:00Z"),
      earliest: at("2024-05-02T10:00:00Z"),
      n: 2,
    });
  });

  it("need a name for an expression that is not a column", () => {
    expect(() => compileKql(`${TABLE} | summarize max(tolower(AppId))`, LOGS)).toThrow(/Name this aggregation's column/);
  });

  it("still refuse aggregations outside the subset", () => {
    expect(() => compileKql(`${TABLE} | summarize dcount(AppId)`, LOGS)).toThrow(/Aggregation 'dcount\(\)' is not supported/);
  });
});

describe("catalogs", () => {
  it("resolve Log Analytics table names as written, Resource Graph's in any case", () => {
    expect(() => compileKql("aadmanagedidentitysigninlogs | count", LOGS)).toThrow(KqlError);
    expect(() => compileKql("aadmanagedidentitysigninlogs | count", LOGS)).toThrow(/Unknown table 'aadmanagedidentitysigninlogs'/);
    expect(compileKql(`${TABLE} | count`, LOGS).table).toBe(TABLE);
    expect(compileKql("Resources | count", ARG_CATALOG).table).toBe("resources");
    expect(compileKql("Resources | count").table).toBe("resources");
    expect(() => compileKql(`${TABLE} | count`)).toThrow(/Unknown table/);
    expect(() => compileKql("resources | count", LOGS)).toThrow(/Unknown table/);
  });

  it("read columns a row inherits (the simulator keeps constant columns on a shared prototype)", () => {
    const row = Object.create({ Category: "ManagedIdentitySignInLogs" }) as KqlRow;
    row.ServicePrincipalId = "p";
    expect(run(`${TABLE} | project Category, ServicePrincipalId, Level`, [row]).rows).toEqual([{ Category: "ManagedIdentitySignInLogs", ServicePrincipalId: "p", Level: "" }]);
  });
});
