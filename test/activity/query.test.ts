/**
 * The sign-in query, checked with Microsoft's own Kusto parser (`@kusto/language-service-next`, through
 * test/helpers/kusto.ts) against the schema of `AADManagedIdentitySignInLogs` as Azure Monitor's
 * table reference documents it (https://learn.microsoft.com/azure/azure-monitor/reference/tables/aadmanagedidentitysigninlogs;
 * MicrosoftDocs/azure-reference-other, azure-monitor-ref/tables/includes/aadmanagedidentitysigninlogs-include.md).
 */
import { describe, expect, it } from "vitest";
import { kustoDatabase, syntaxErrors } from "../helpers/kusto.js";
import { LOG_ANALYTICS_TABLE_SCHEMAS } from "../../simulator/kql/index.js";
import { SIGN_IN_TABLE, signInActivityQuery } from "../../src/activity/signInActivity.js";

/** The documented columns, in the reference's order, with its types. */
const DOCUMENTED_COLUMNS: readonly (readonly [string, string])[] = [
  ["AppId", "string"],
  ["AuthenticationContextClassReferences", "string"],
  ["AuthenticationProcessingDetails", "string"],
  ["_BilledSize", "real"],
  ["Category", "string"],
  ["ConditionalAccessPolicies", "string"],
  ["ConditionalAccessStatus", "string"],
  ["CorrelationId", "string"],
  ["DurationMs", "long"],
  ["FederatedCredentialId", "string"],
  ["Id", "string"],
  ["Identity", "string"],
  ["IPAddress", "string"],
  ["_IsBillable", "string"],
  ["Level", "string"],
  ["Location", "string"],
  ["LocationDetails", "string"],
  ["OperationName", "string"],
  ["OperationVersion", "string"],
  ["ResourceDisplayName", "string"],
  ["ResourceGroup", "string"],
  ["ResourceIdentity", "string"],
  ["ResourceServicePrincipalId", "string"],
  ["ResultDescription", "string"],
  ["ResultSignature", "string"],
  ["ResultType", "string"],
  ["ServicePrincipalCredentialKeyId", "string"],
  ["ServicePrincipalCredentialThumbprint", "string"],
  ["ServicePrincipalId", "string"],
  ["ServicePrincipalName", "string"],
  ["SourceSystem", "string"],
  ["TenantId", "string"],
  ["TimeGenerated", "datetime"],
  ["Type", "string"],
  ["UniqueTokenIdentifier", "string"],
];

const { semanticErrors } = kustoDatabase("workspace", {
  [SIGN_IN_TABLE]: `(${DOCUMENTED_COLUMNS.map(([name, type]) => `['${name}']:${type}`).join(", ")})`,
});

describe("the sign-in query", () => {
  it("is the agreed text", () => {
    expect(signInActivityQuery()).toBe(
      "AADManagedIdentitySignInLogs\n" +
        '| where ResultType == "0"\n' +
        "| summarize arg_max(TimeGenerated, AppId, ResourceDisplayName) by principalId = tolower(ServicePrincipalId)\n" +
        "| project principalId, clientId = AppId, lastSignInAt = TimeGenerated, resource = ResourceDisplayName",
    );
  });

  it("parses without syntax errors", () => {
    expect(syntaxErrors(signInActivityQuery())).toEqual([]);
  });

  it("names only the documented table and columns", () => {
    expect(semanticErrors(signInActivityQuery())).toEqual([]);
  });

  it("carries no time filter of its own: the API's timespan is the window", () => {
    expect(signInActivityQuery()).not.toMatch(/ago\(|TimeGenerated\s*[<>]/);
  });

  it("is what the simulator's table holds: the documented columns and types", () => {
    const simulated = LOG_ANALYTICS_TABLE_SCHEMAS[SIGN_IN_TABLE]?.map((c) => [c.name, c.type === "long" ? "long" : c.type]);
    expect(simulated).toEqual(DOCUMENTED_COLUMNS.map(([name, type]) => [name, type]));
  });
});

describe("the parser check can fail", () => {
  it.each([
    ["a misspelt column", signInActivityQuery().replace("ServicePrincipalId", "ServicePrincipalID")],
    ["another table", signInActivityQuery().replace(SIGN_IN_TABLE, "AADServicePrincipalSignInLogs")],
    ["an unknown column returned by arg_max", signInActivityQuery().replace("arg_max(TimeGenerated, AppId,", "arg_max(TimeGenerated, ClientId,")],
  ])("reports %s as a semantic error", (_what, text) => {
    expect(syntaxErrors(text)).toEqual([]);
    expect(semanticErrors(text).length).toBeGreaterThan(0);
  });
});
