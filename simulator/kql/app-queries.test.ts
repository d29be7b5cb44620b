/**
 * The exact queries uami-audit sends to Azure Resource Graph (imported from src/arm/queries.ts), run over rows shaped like ARG's (ids in
 * ARM's mixed case, lower-case `type` for authorization resources, role definitions at tenant scope).
 */
import { describe, expect, it } from "vitest";
import { identityInventoryQuery, roleAssignmentsQuery, roleDefinitionsQuery, subscriptionNamesQuery } from "../../src/arm/queries.js";
import { compileKql, runKql, type KqlRow } from "./index.js";

const SUB_A = "00000000-0000-0000-0000-00000000000a";
const SUB_B = "00000000-0000-0000-0000-00000000000b";
const TENANT = "11111111-1111-1111-1111-111111111111";

function identity(sub: string, rg: string, name: string, principalId: string, tags: unknown): KqlRow {
  return {
    id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
    name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities",
    tenantId: TENANT,
    kind: "",
    location: "westeurope",
    resourceGroup: rg,
    subscriptionId: sub,
    managedBy: "",
    sku: null,
    plan: null,
    properties: { tenantId: TENANT, principalId, clientId: `client-${name}` },
    tags,
    identity: null,
    zones: null,
    extendedLocation: null,
  };
}

const RESOURCES: KqlRow[] = [
  identity(SUB_B, "rg-apps", "id-web", "p-web", { owner: "web-team" }),
  identity(SUB_A, "rg-data", "id-etl", "p-etl", null),
  {
    id: `/subscriptions/${SUB_A}/resourceGroups/rg-data/providers/Microsoft.Compute/virtualMachines/vm1`,
    name: "vm1",
    type: "microsoft.compute/virtualmachines",
    subscriptionId: SUB_A,
    resourceGroup: "rg-data",
    location: "westeurope",
    tenantId: TENANT,
    properties: {},
    tags: { env: "prod" },
  },
  identity(SUB_A, "RG-Apps", "id-api", "p-api", {}),
];

const READER = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";

const AUTHORIZATION: KqlRow[] = [
  {
    id: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/ra-2`,
    name: "ra-2",
    type: "microsoft.authorization/roleassignments",
    subscriptionId: SUB_A,
    properties: {
      principalId: "p-etl",
      principalType: "ServicePrincipal",
      roleDefinitionId: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7`,
      scope: `/subscriptions/${SUB_A}/resourceGroups/rg-data`,
    },
  },
  {
    id: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/ra-1`,
    name: "ra-1",
    type: "microsoft.authorization/roleassignments",
    subscriptionId: SUB_A,
    properties: { principalId: "p-web", roleDefinitionId: READER, scope: `/subscriptions/${SUB_A}` },
  },
  {
    id: READER,
    name: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    type: "microsoft.authorization/roledefinitions",
    properties: {
      roleName: "Reader",
      type: "BuiltInRole",
      permissions: [{ actions: ["*/read"], notActions: [], dataActions: [], notDataActions: [] }],
    },
  },
];

const TABLES = { resources: RESOURCES, authorizationresources: AUTHORIZATION };

// The app's own builders, so these tests follow any change to what it sends.
const IDENTITIES_QUERY = identityInventoryQuery();
const ROLE_ASSIGNMENTS_QUERY = roleAssignmentsQuery();
const ROLE_DEFINITIONS_QUERY = roleDefinitionsQuery();
const SUBSCRIPTION_NAMES_QUERY = subscriptionNamesQuery();

describe("the queries uami-audit sends", () => {
  it("lists user-assigned identities with their principal and client ids, ordered by id", () => {
    const result = runKql(IDENTITIES_QUERY, TABLES);
    expect(result.columns).toEqual([
      { name: "id", type: "string" },
      { name: "name", type: "string" },
      { name: "subscriptionId", type: "string" },
      { name: "resourceGroup", type: "string" },
      { name: "location", type: "string" },
      { name: "tenantId", type: "string" },
      { name: "principalId", type: "string" },
      { name: "clientId", type: "string" },
      { name: "tags", type: "object" },
    ]);
    expect(result.rows.map((r) => r.name)).toEqual(["id-api", "id-etl", "id-web"]);
    expect(result.rows[1]).toEqual({
      id: `/subscriptions/${SUB_A}/resourceGroups/rg-data/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-etl`,
      name: "id-etl",
      subscriptionId: SUB_A,
      resourceGroup: "rg-data",
      location: "westeurope",
      tenantId: TENANT,
      principalId: "p-etl",
      clientId: "client-id-etl",
      tags: null,
    });
    expect(result.rows[0]?.tags).toEqual({});
    expect(result.rows[2]?.tags).toEqual({ owner: "web-team" });
  });

  it("lists role assignments with lower-cased role definition ids", () => {
    const result = runKql(ROLE_ASSIGNMENTS_QUERY, TABLES);
    expect(result.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      "id:string",
      "principalId:string",
      "roleDefinitionId:string",
      "scope:string",
    ]);
    expect(result.rows).toEqual([
      {
        id: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/ra-1`,
        principalId: "p-web",
        roleDefinitionId: READER.toLowerCase(),
        scope: `/subscriptions/${SUB_A}`,
      },
      {
        id: `/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/ra-2`,
        principalId: "p-etl",
        roleDefinitionId: `/subscriptions/${SUB_A}/providers/microsoft.authorization/roledefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
        scope: `/subscriptions/${SUB_A}/resourceGroups/rg-data`,
      },
    ]);
  });

  it("lists role definitions with lower-cased ids and their permissions as arrays", () => {
    const result = runKql(ROLE_DEFINITIONS_QUERY, TABLES);
    expect(result.columns).toEqual([
      { name: "id", type: "string" },
      { name: "roleName", type: "string" },
      { name: "permissions", type: "array" },
    ]);
    expect(result.rows).toEqual([
      {
        id: READER.toLowerCase(),
        roleName: "Reader",
        permissions: [{ actions: ["*/read"], notActions: [], dataActions: [], notDataActions: [] }],
      },
    ]);
  });

  it("accepts a subscription filter after the inventory query, case-insensitively", () => {
    const query = `${IDENTITIES_QUERY.replace("\n| order by id asc", "")}
| where subscriptionId in~ ('${SUB_A.toUpperCase()}')
| order by id asc`;
    expect(runKql(query, TABLES).rows.map((r) => r.name)).toEqual(["id-api", "id-etl"]);
  });

  it("accepts an isnotempty() filter after the role-assignment query", () => {
    const query = `${ROLE_ASSIGNMENTS_QUERY}\n| where isnotempty(principalId)`;
    const rows = [...AUTHORIZATION, { id: "/x/ra-0", type: "Microsoft.Authorization/roleAssignments", properties: {} }];
    expect(runKql(query, { authorizationresources: rows }).rows.map((r) => r.principalId)).toEqual(["p-web", "p-etl"]);
  });

  it("names the subscriptions from resourcecontainers, leaving resource groups out", () => {
    const containers = [
      { id: `/subscriptions/${SUB_B}`, name: "Contoso Dev", type: "microsoft.resources/subscriptions", subscriptionId: SUB_B },
      { id: `/subscriptions/${SUB_A}/resourceGroups/rg-app`, name: "rg-app", type: "microsoft.resources/subscriptions/resourcegroups", subscriptionId: SUB_A },
      { id: `/subscriptions/${SUB_A}`, name: "Contoso Prod", type: "microsoft.resources/subscriptions", subscriptionId: SUB_A },
    ];
    expect(runKql(SUBSCRIPTION_NAMES_QUERY, { resourcecontainers: containers }).rows).toEqual([
      { id: `/subscriptions/${SUB_A}`, subscriptionId: SUB_A, name: "Contoso Prod" },
      { id: `/subscriptions/${SUB_B}`, subscriptionId: SUB_B, name: "Contoso Dev" },
    ]);
  });

  it("reads the right table and none of these queries uses a limit", () => {
    expect([IDENTITIES_QUERY, ROLE_ASSIGNMENTS_QUERY, ROLE_DEFINITIONS_QUERY, SUBSCRIPTION_NAMES_QUERY].map((q) => compileKql(q).table)).toEqual([
      "resources",
      "authorizationresources",
      "authorizationresources",
      "resourcecontainers",
    ]);
    expect(compileKql(IDENTITIES_QUERY).usesLimit).toBe(false);
  });
});

describe("the other queries the simulator must answer", () => {
  it("summarize count() by type", () => {
    expect(runKql("resources | summarize count() by type", TABLES).rows).toEqual([
      { type: "Microsoft.ManagedIdentity/userAssignedIdentities", count_: 3 },
      { type: "microsoft.compute/virtualmachines", count_: 1 },
    ]);
  });

  it("mv-expand tagKey = bag_keys(tags) | project id, tagKey", () => {
    const rows = runKql("resources | mv-expand tagKey = bag_keys(tags) | project id, tagKey", TABLES).rows;
    expect(rows.map((r) => [String(r.id).split("/").pop(), r.tagKey])).toEqual([
      ["id-web", "owner"],
      ["id-etl", null],
      ["vm1", "env"],
    ]);
  });

  it("where type =~ 'x' and (location == 'eastus' or not(isempty(tags)))", () => {
    const query =
      "resources | where type =~ 'Microsoft.ManagedIdentity/userAssignedIdentities' and (location == 'eastus' or not(isempty(tags))) | project name";
    expect(runKql(query, TABLES).rows).toEqual([{ name: "id-web" }, { name: "id-api" }]);
  });
});
