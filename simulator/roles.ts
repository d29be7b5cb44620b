/**
 * Role definitions the generated role assignments refer to: real built-in role GUIDs (they are the same
 * in every tenant) plus one custom role granting `*`, the case an audit must flag even though its name
 * says nothing.
 */
import type { RoleDefinitionTruth } from "./model.js";

interface RoleSpec {
  name: string;
  roleName: string;
  actions: string[];
  notActions: string[];
}

const BUILT_IN: readonly RoleSpec[] = [
  { name: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleName: "Owner", actions: ["*"], notActions: [] },
  {
    name: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    roleName: "Contributor",
    actions: ["*"],
    notActions: [
      "Microsoft.Authorization/*/Delete",
      "Microsoft.Authorization/*/Write",
      "Microsoft.Authorization/elevateAccess/Action",
      "Microsoft.Blueprint/blueprintAssignments/write",
      "Microsoft.Blueprint/blueprintAssignments/delete",
      "Microsoft.Compute/galleries/share/action",
    ],
  },
  { name: "acdd72a7-3385-48ef-bd42-f606fba81ae7", roleName: "Reader", actions: ["*/read"], notActions: [] },
  {
    name: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    roleName: "User Access Administrator",
    actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
    notActions: [],
  },
  {
    name: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    roleName: "Storage Blob Data Reader",
    actions: ["Microsoft.Storage/storageAccounts/blobServices/containers/read", "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
    notActions: [],
  },
  { name: "4633458b-17de-408a-b874-0445c86b69e6", roleName: "Key Vault Secrets User", actions: [], notActions: [] },
  { name: "7f951dda-4ed3-4680-a7ca-43fe172d538d", roleName: "AcrPull", actions: ["Microsoft.ContainerRegistry/registries/pull/read"], notActions: [] },
  {
    name: "3913510d-42f4-4e42-8a64-420c390055eb",
    roleName: "Monitoring Metrics Publisher",
    actions: ["Microsoft.Insights/Register/Action", "Microsoft.Support/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
    notActions: [],
  },
];

/**
 * The built-in roles a query scoped to subscriptions or management groups still lists. Built-in definitions
 * live at tenant scope: Resource Graph returns the others only to a tenant-scope query, so a scoped query
 * leaves assignments of, say, AcrPull with nothing but a GUID (see authorizationRows).
 */
export const COMMON_BUILT_IN_ROLE_NAMES: ReadonlySet<string> = new Set(["Owner", "Contributor", "Reader", "User Access Administrator"]);

/** Role names an audit treats as privileged whatever their actions. */
const PRIVILEGED_NAMES = new Set(["Owner", "Contributor", "User Access Administrator"]);

export const CUSTOM_ROLE_NAME = "Platform Break-Glass Operator (custom)";

function truthOf(spec: RoleSpec, id: string, type: "BuiltInRole" | "CustomRole"): RoleDefinitionTruth {
  const wildcardActions = spec.actions.includes("*");
  return {
    name: spec.name,
    id,
    roleName: spec.roleName,
    type,
    actions: spec.actions,
    notActions: spec.notActions,
    privileged: PRIVILEGED_NAMES.has(spec.roleName) || wildcardActions,
    wildcardActions,
  };
}

/**
 * The definitions of one tenant. Built-in definitions are listed by Resource Graph with the
 * provider-level id `/providers/Microsoft.Authorization/RoleDefinitions/{guid}`; the custom one lives in
 * the first subscription.
 */
export function roleDefinitionsFor(customRoleGuid: string, firstSubscriptionId: string): RoleDefinitionTruth[] {
  const builtIn = BUILT_IN.map((spec) => truthOf(spec, `/providers/Microsoft.Authorization/RoleDefinitions/${spec.name}`, "BuiltInRole"));
  const custom = truthOf(
    { name: customRoleGuid, roleName: CUSTOM_ROLE_NAME, actions: ["*"], notActions: [] },
    `/subscriptions/${firstSubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${customRoleGuid}`,
    "CustomRole",
  );
  return [...builtIn, custom];
}

/** Weights for the role of a randomly drawn assignment; privileged ones are rarer, as in real tenants. */
export const ROLE_WEIGHTS: readonly (readonly [string, number])[] = [
  ["Reader", 30],
  ["Contributor", 14],
  ["Storage Blob Data Reader", 15],
  ["Key Vault Secrets User", 12],
  ["AcrPull", 10],
  ["Monitoring Metrics Publisher", 6],
  ["Owner", 5],
  ["User Access Administrator", 3],
  [CUSTOM_ROLE_NAME, 4],
];
