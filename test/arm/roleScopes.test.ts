/**
 * Role assignments and definitions of a scoped run, against the simulator: definitions are read at tenant
 * scope (a subscription-scoped query names only the common built-in roles), assignments at every scope above
 * the run's (the management group holding the subscription, the root scope "/") are counted, and the risk
 * they give is the one the ground truth implies. The simulator pins one assignment of each kind on unused
 * identities (simulator/tenantGenerator.ts, "Assignments above the identity's subscription").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArmConnection, type ArmConnection } from "../../src/arm/connection.js";
import { listRoleAssignments, queryResourceGraph } from "../../src/arm/resourceGraph.js";
import type { AuditScope, RoleAssignment } from "../../src/arm/types.js";
import { roleDefinitionsQuery } from "../../src/arm/queries.js";
import { riskFor } from "../../src/findings/risk.js";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { COMMON_BUILT_IN_ROLE_NAMES } from "../../simulator/roles.js";

type Truth = RunningSimulator["truth"]["tenants"][number];
type AssignmentTruth = Truth["roleAssignments"][number];

let sim: RunningSimulator;
let conn: ArmConnection;
let truth: Truth;

beforeAll(async () => {
  sim = await startSimulator({ identities: 60, seed: "role-scopes", rate: 50 });
  truth = sim.truth.tenants[0]!;
  conn = createArmConnection({ endpoint: sim.endpoint, token: sim.tenants[0]!.token, ca: sim.ca });
});
afterAll(async () => {
  await sim?.close();
});

const subscriptionScope = (subscriptionId: string): AuditScope => ({ subscriptions: [subscriptionId], managementGroups: [] });

/** The pinned assignment of an identity of the given kind and role, with the identity's subscription. */
function pinned(scopeKind: AssignmentTruth["scopeKind"], roleName: string): { assignment: AssignmentTruth; subscriptionId: string } {
  for (const identity of truth.identities) {
    const assignment = identity.roleAssignments.find((a) => a.scopeKind === scopeKind && a.roleName === roleName);
    if (assignment) return { assignment, subscriptionId: identity.subscriptionId };
  }
  throw new Error(`the simulated tenant has no ${roleName} assignment at ${scopeKind} scope`);
}

function mine(assignments: RoleAssignment[], principalId: string): RoleAssignment[] {
  return assignments.filter((a) => a.principalId === principalId);
}

/** Management group names above a subscription, the subscription's own group first. */
function groupsAbove(subscriptionId: string): string[] {
  const names: string[] = [];
  let name: string | undefined = truth.subscriptions.find((s) => s.subscriptionId === subscriptionId)?.managementGroup;
  while (name) {
    names.push(name.toLowerCase());
    name = truth.managementGroups.find((g) => g.name === name)?.parent;
  }
  return names;
}

describe("role assignments of a subscription-scoped run", () => {
  it("include the assignment at the root scope \"/\", with its role and its `*`", async () => {
    const { assignment, subscriptionId } = pinned("root", "Owner");
    const found = mine(await listRoleAssignments(conn, subscriptionScope(subscriptionId)), assignment.principalId);
    expect(found.map((a) => [a.scope, a.roleName, a.wildcardActions])).toContainEqual(["/", "Owner", true]);
    expect(riskFor(found).level).toBe("critical");
  });

  it("include the assignment at the management group holding the subscription", async () => {
    const { assignment, subscriptionId } = pinned("managementGroup", "Contributor");
    expect(groupsAbove(subscriptionId)).toContain(assignment.managementGroup.toLowerCase());
    const found = mine(await listRoleAssignments(conn, subscriptionScope(subscriptionId)), assignment.principalId);
    expect(found.map((a) => [a.scope, a.roleName, a.wildcardActions])).toContainEqual([assignment.scope, "Contributor", true]);
    expect(riskFor(found).level).toBe("critical");
  });

  it("are every assignment of the identity at, below or above the subscription, and no other", async () => {
    const { assignment, subscriptionId } = pinned("root", "Owner");
    const principal = assignment.principalId;
    const above = new Set(groupsAbove(subscriptionId));
    const expected = truth.roleAssignments
      .filter((a) => a.principalId === principal)
      .filter((a) => a.scopeKind === "root" || (a.scopeKind === "managementGroup" ? above.has(a.managementGroup.toLowerCase()) : a.subscriptionId === subscriptionId));
    const found = mine(await listRoleAssignments(conn, subscriptionScope(subscriptionId)), principal);
    expect(found.map((a) => a.id.toLowerCase()).sort()).toEqual(expected.map((a) => a.id.toLowerCase()).sort());
    expect(found.map((a) => a.roleName).sort()).toEqual(expected.map((a) => a.roleName).sort());
  });

  it("name a role that only a tenant-scope query lists (AcrPull), and every other role of the tenant", async () => {
    const { assignment, subscriptionId } = pinned("subscription", "AcrPull");
    const scope = subscriptionScope(subscriptionId);
    // The simulator case: scoped to the subscription, Resource Graph lists only the common built-in roles.
    const scopedDefinitions: string[] = [];
    for await (const rows of queryResourceGraph(conn, roleDefinitionsQuery(), scope, { authorizationScopeFilter: "AtScopeAboveAndBelow" })) {
      scopedDefinitions.push(...rows.map((r) => String(r.roleName)));
    }
    expect(scopedDefinitions).not.toContain("AcrPull");
    expect(scopedDefinitions.filter((name) => truth.roleDefinitions.some((d) => d.type === "BuiltInRole" && d.roleName === name)).sort()).toEqual(
      [...COMMON_BUILT_IN_ROLE_NAMES].sort(),
    );

    const assignments = await listRoleAssignments(conn, scope);
    expect(mine(assignments, assignment.principalId).map((a) => a.roleName)).toContain("AcrPull");
    const byId = new Map(truth.roleAssignments.map((a) => [a.id.toLowerCase(), a]));
    for (const found of assignments) {
      const expected = byId.get(found.id.toLowerCase());
      expect(expected, found.id).toBeDefined();
      expect([found.roleName, found.wildcardActions]).toEqual([expected!.roleName, expected!.wildcardActions]);
    }
  });
});

describe("role assignments of a management-group-scoped run", () => {
  it("include the root scope and the groups above, with every role named", async () => {
    const { assignment } = pinned("root", "Owner");
    const assignments = await listRoleAssignments(conn, { subscriptions: [], managementGroups: ["contoso-landingzones"] });
    expect(assignments.some((a) => a.id.toLowerCase() === assignment.id.toLowerCase())).toBe(true);
    const rootGroupScope = `/providers/Microsoft.Management/managementGroups/${truth.tenantId}`.toLowerCase();
    const atRootGroup = truth.roleAssignments.filter((a) => a.scope.toLowerCase() === rootGroupScope);
    expect(atRootGroup.length).toBeGreaterThan(0);
    for (const a of atRootGroup) expect(assignments.some((found) => found.id.toLowerCase() === a.id.toLowerCase())).toBe(true);
    const guidOnly = assignments.filter((a) => /^[0-9a-f-]{36}$/.test(a.roleName));
    expect(guidOnly).toEqual([]);
  });
});
