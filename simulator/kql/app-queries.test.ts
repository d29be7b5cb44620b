/**
 * The exact queries uami-audit sends to Azure Resource Graph (imported from src/arm/queries.ts), run over rows shaped like ARG's (ids in
 * ARM's mixed case, lower-case `type` for authorization resources, role definitions at tenant scope).
 */
import { describe, expect, it } from "vitest";
import {
  identityBagReferencesQuery,
  identityInventoryQuery,
  policyAssignmentReferencesQuery,
  propertyReferencesQuery,
  roleAssignmentsQuery,
  roleDefinitionsQuery,
  subscriptionNamesQuery,
} from "../../src/arm/queries.js";
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

  it("where type =~ 'x' and (location == 'eastus' or isnotempty(tags))", () => {
    const query =
      "resources | where type =~ 'Microsoft.ManagedIdentity/userAssignedIdentities' and (location == 'eastus' or isnotempty(tags)) | project name";
    expect(runKql(query, TABLES).rows).toEqual([{ name: "id-web" }, { name: "id-api" }]);
  });
});

/**
 * The reference sweep's three queries over rows of every hidden kind, shaped like the simulator's (and ARG's):
 * ids in ARM's mixed case, bag keys in whatever casing the resource's author wrote, lower-case `type`.
 */
describe("the reference sweep: identity bags, properties and policy assignments", () => {
  const uami = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const ID_VM = uami(SUB_A, "RG-Apps", "id-Web");
  const ID_PREVIEW = uami(SUB_A, "rg-ml", "id-ml");
  const ID_CONTROL = uami(SUB_B, "rg-aks", "id-aks-control");
  const ID_KUBELET = `/subscriptions/${SUB_B}/resourcegroups/MC_rg-aks_aks1_westeurope/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks1-agentpool`;
  const ID_CMK = uami(SUB_A, "rg-é-日本", "id-cmk");
  const ID_KVREF = uami(SUB_A, "RG.with.dots(1)", "id_kv-ref");
  const ID_POLICY = uami(SUB_B, "rg-gov", "id-policy");
  const ID_POLICY_SUB = uami(SUB_B, "rg-gov", "id-policy-sub");
  const bag = (...ids: string[]) => ({ type: "UserAssigned", userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, { principalId: "p", clientId: "c" }])) });
  const resource = (id: string, type: string, fields: Partial<KqlRow>): KqlRow => ({ id, name: id.split("/").pop(), type, tenantId: TENANT, kind: "", location: "westeurope", identity: null, properties: {}, tags: {}, ...fields });

  const SWEEP_RESOURCES: KqlRow[] = [
    identity(SUB_A, "RG-Apps", "id-Web", "p-web", {}),
    resource(`/subscriptions/${SUB_A}/resourceGroups/RG-Apps/providers/Microsoft.Compute/virtualMachines/vm1`, "microsoft.compute/virtualmachines", { identity: bag(ID_VM.replace("resourceGroups", "resourcegroups")) }),
    resource(`/subscriptions/${SUB_A}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw1`, "microsoft.machinelearningservices/workspaces", {
      identity: { ...bag(ID_PREVIEW), type: "SystemAssigned,UserAssigned", principalId: "p", tenantId: TENANT },
      properties: { friendlyName: "mlw1", primaryUserAssignedIdentity: ID_PREVIEW },
    }),
    resource(`/subscriptions/${SUB_B}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks1`, "microsoft.containerservice/managedclusters", {
      identity: bag(ID_CONTROL),
      properties: { provisioningState: "Succeeded", identityProfile: { kubeletidentity: { resourceId: ID_KUBELET, clientId: "c", objectId: "o" } } },
    }),
    resource(`/subscriptions/${SUB_A}/resourceGroups/rg-é-日本/providers/Microsoft.Storage/storageAccounts/stcmk`, "microsoft.storage/storageaccounts", {
      identity: { type: "SystemAssigned", principalId: "p", tenantId: TENANT },
      properties: { encryption: { identity: { userAssignedIdentity: ID_CMK }, keySource: "Microsoft.Keyvault" } },
    }),
    resource(`/subscriptions/${SUB_A}/resourceGroups/RG.with.dots(1)/providers/Microsoft.Web/sites/app-kv`, "microsoft.web/sites", {
      identity: { type: "SystemAssigned", principalId: "p", tenantId: TENANT },
      properties: { keyVaultReferenceIdentity: ID_KVREF, note: 'a "quoted" \\ value' },
    }),
    // Mentions the type but names no identity: extract_all finds nothing, which is null (Kusto's documentation),
    // and mv-expand keeps a null row: identityId "" (a typed string is never null).
    resource(`/subscriptions/${SUB_A}/resourceGroups/rg-docs/providers/Microsoft.Web/sites/app-docs`, "microsoft.web/sites", {
      properties: { description: "uses Microsoft.ManagedIdentity/userAssignedIdentities/ by design" },
    }),
  ];

  const mgAssignment = "/providers/Microsoft.Management/managementGroups/contoso-platform/providers/Microsoft.Authorization/policyAssignments/dine-diag";
  const subAssignment = `/subscriptions/${SUB_B}/providers/Microsoft.Authorization/policyAssignments/4f0a8e5c1b2d3e4f5a6b7c8d`;
  const POLICY: KqlRow[] = [
    resource(mgAssignment, "microsoft.authorization/policyassignments", { identity: bag(ID_POLICY), location: "westeurope" }),
    resource(subAssignment, "microsoft.authorization/policyassignments", { identity: bag(ID_POLICY_SUB), subscriptionId: SUB_B }),
    resource("/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/policyAssignments/system", "microsoft.authorization/policyassignments", {
      identity: { type: "SystemAssigned", principalId: "p", tenantId: TENANT },
    }),
    resource("/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/policyExemptions/ex1", "microsoft.authorization/policyexemptions", { identity: bag(ID_POLICY) }),
  ];

  it("identity bags: one row per identity (keys lower-cased) with its resources counted and sampled, ordered by id", () => {
    const result = runKql(identityBagReferencesQuery(), { resources: SWEEP_RESOURCES });
    expect(result.columns).toEqual([
      { name: "id", type: "string" },
      { name: "referenceCount", type: "integer" },
      { name: "resourceIds", type: "array" },
    ]);
    expect(result.rows).toEqual([
      { id: ID_VM.toLowerCase(), referenceCount: 1, resourceIds: [SWEEP_RESOURCES[1]!.id] },
      { id: ID_PREVIEW.toLowerCase(), referenceCount: 1, resourceIds: [SWEEP_RESOURCES[2]!.id] },
      { id: ID_CONTROL.toLowerCase(), referenceCount: 1, resourceIds: [SWEEP_RESOURCES[3]!.id] },
    ]);
  });

  it("properties: every identity id anywhere in properties, one row per identity and kubelet flag", () => {
    const result = runKql(propertyReferencesQuery(), { resources: SWEEP_RESOURCES });
    expect(result.columns.map((c) => `${c.name}:${c.type}`)).toEqual(["id:string", "isKubelet:boolean", "referenceCount:integer", "resourceIds:array"]);
    // Ordinal order of the lower-cased identity ids: "rg-ml" < "rg-é-日本" < "rg.with.dots(1)", subscription a
    // before b; the resource that names no identity (app-docs) is gone.
    expect(result.rows).toEqual([
      { id: ID_PREVIEW.toLowerCase(), isKubelet: false, referenceCount: 1, resourceIds: [SWEEP_RESOURCES[2]!.id] },
      { id: ID_CMK.toLowerCase(), isKubelet: false, referenceCount: 1, resourceIds: [SWEEP_RESOURCES[4]!.id] },
      { id: ID_KVREF.toLowerCase(), isKubelet: false, referenceCount: 1, resourceIds: [SWEEP_RESOURCES[5]!.id] },
      { id: ID_KUBELET.toLowerCase(), isKubelet: true, referenceCount: 1, resourceIds: [SWEEP_RESOURCES[3]!.id] },
    ]);
  });

  it("properties: an id written several times in one resource counts that resource once; the sample stops at 10", () => {
    const app = (n: number) =>
      resource(`/subscriptions/${SUB_A}/resourceGroups/rg/providers/Microsoft.App/containerApps/ca${n}`, "microsoft.app/containerapps", {
        properties: { configuration: { registries: [{ identity: ID_CMK }, { identity: ID_KVREF }, { identity: ID_CMK }] } },
      });
    const twelve = Array.from({ length: 12 }, (_, n) => app(n));
    const rows = runKql(propertyReferencesQuery(), { resources: twelve }).rows;
    expect(rows.map((r) => [r.id, r.referenceCount, (r.resourceIds as string[]).length])).toEqual([
      [ID_CMK.toLowerCase(), 12, 10],
      [ID_KVREF.toLowerCase(), 12, 10],
    ]);
    expect(new Set(rows[0]!.resourceIds as string[]).size).toBe(10);
  });

  it("policy assignments: from policyresources only, those with user-assigned identities", () => {
    const result = runKql(policyAssignmentReferencesQuery(), { policyresources: POLICY, resources: SWEEP_RESOURCES });
    expect(compileKql(policyAssignmentReferencesQuery()).table).toBe("policyresources");
    expect(result.rows).toEqual([
      { id: ID_POLICY.toLowerCase(), referenceCount: 1, resourceIds: [mgAssignment] },
      { id: ID_POLICY_SUB.toLowerCase(), referenceCount: 1, resourceIds: [subAssignment] },
    ]);
  });

  it("none of the sweep's queries uses a limit, so ARG pages them by $skipToken", () => {
    for (const query of [identityBagReferencesQuery(), propertyReferencesQuery(), policyAssignmentReferencesQuery()]) expect(compileKql(query).usesLimit).toBe(false);
  });
});
