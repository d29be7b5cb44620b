/**
 * The generated tenants: determinism, hostile names, casing, the distributions the audit depends on,
 * and scale.
 */
import { describe, expect, it } from "vitest";
import { associationsOf } from "../associatedResources.js";
import { federatedCredentialsOf } from "../federatedCredentials.js";
import { HIDDEN_USAGE_KINDS, type TenantModel } from "../model.js";
import { HOSTILE_IDENTITY_NAMES, HOSTILE_RESOURCE_GROUPS } from "../names.js";
import { formatUuid, Prng } from "../prng.js";
import { startSimulator } from "../index.js";
import { generateTenant } from "../tenantGenerator.js";

const NOW = Date.parse("2025-06-01T00:00:00Z");
const DAY = 86_400_000;
const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;
const RESOURCE_GROUP_NAME = /^[-\w.()\p{L}\p{N}]{1,90}$/u;

/** Everything observable about a tenant, for determinism checks. */
function snapshot(tenant: TenantModel) {
  return {
    tenantId: tenant.tenantId,
    token: tenant.token,
    subscriptions: tenant.subscriptions.map((s) => [s.subscriptionId, s.displayName, s.resourceGroups, s.managementGroup]),
    identities: tenant.identities.map((i) => ({
      id: i.id,
      principalId: i.principalId,
      clientId: i.clientId,
      tags: i.tags,
      createdAt: i.createdAt,
      createdBy: i.createdBy,
      associations: associationsOf(tenant, i),
      credentials: federatedCredentialsOf(tenant, i),
      roles: i.roleAssignments,
      hiddenUsage: i.hiddenUsage,
    })),
    roleAssignments: tenant.roleAssignments,
  };
}

describe("determinism", () => {
  it("generates the same tenant from the same seed, and another from another seed or tenant index", () => {
    const a = generateTenant({ seed: 42, identities: 300, now: NOW });
    const b = generateTenant({ seed: 42, identities: 300, now: NOW });
    const c = generateTenant({ seed: 43, identities: 300, now: NOW });
    const d = generateTenant({ seed: 42, identities: 300, now: NOW, tenantIndex: 1 });
    expect(snapshot(a)).toEqual(snapshot(b));
    expect(a.tenantId).not.toBe(c.tenantId);
    expect(a.tenantId).not.toBe(d.tenantId);
    const first = new Set(a.subscriptions.map((s) => s.subscriptionId));
    expect(d.subscriptions.some((s) => first.has(s.subscriptionId))).toBe(false);
  });

  it("starts simulators with the same tenants, tokens and truth for the same seed", async () => {
    const [a, b] = await Promise.all([0, 1].map(() => startSimulator({ identities: 60, seed: "same", tenants: 2, now: NOW })));
    try {
      expect(a!.tenants).toEqual(b!.tenants);
      const view = (sim: typeof a) => sim!.truth.tenants.map((t) => t.identities.map((i) => [i.id, i.principalId, i.associationCount, i.createdAt, i.tags]));
      expect(view(a)).toEqual(view(b));
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it("uses a seeded generator (no Math.random)", () => {
    const random = Math.random;
    Math.random = () => {
      throw new Error("Math.random used");
    };
    try {
      expect(() => generateTenant({ seed: "no-random", identities: 50, now: NOW })).not.toThrow();
    } finally {
      Math.random = random;
    }
  });

  it("formats GUIDs as Azure does", () => {
    const prng = new Prng("uuid");
    for (let i = 0; i < 100; i++) expect(prng.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(formatUuid(0, 0, 0, 0)).toBe("00000000-0000-4000-8000-000000000000");
  });
});

describe("names and casing", () => {
  const tenant = generateTenant({ seed: "names", identities: 500, now: NOW });

  it("uses only valid identity names, unique per resource group, the hostile ones included", () => {
    for (const identity of tenant.identities) expect(identity.name).toMatch(IDENTITY_NAME);
    const names = new Set(tenant.identities.map((i) => i.name));
    for (const hostile of HOSTILE_IDENTITY_NAMES) expect(names.has(hostile)).toBe(true);
    expect(tenant.identities.some((i) => i.name.length === 128)).toBe(true);
    expect(tenant.identities.some((i) => i.name.length === 3)).toBe(true);
    const keys = tenant.identities.map((i) => `${i.subscriptionId}/${i.resourceGroupName}/${i.name}`.toLowerCase());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("uses resource group names with every allowed character, never ending with a period", () => {
    const groups = tenant.subscriptions.flatMap((s) => s.resourceGroups);
    for (const group of groups) {
      expect(group).toMatch(RESOURCE_GROUP_NAME);
      expect(group.endsWith(".")).toBe(false);
    }
    for (const hostile of HOSTILE_RESOURCE_GROUPS) expect(groups).toContain(hostile);
    const joined = groups.join("");
    for (const ch of [".", "(", ")", "-", "_", "é", "日"]) expect(joined).toContain(ch);
    expect(groups.some((g) => g.length === 90)).toBe(true);
    expect(tenant.identities.some((i) => i.resourceGroupName === "rg-é-日本")).toBe(true);
  });

  it("returns ids with both casings of resourceGroups and lower-cased ARG resource groups", () => {
    const ids = tenant.identities.map((i) => i.id);
    expect(ids.some((id) => id.includes("/resourcegroups/"))).toBe(true);
    expect(ids.some((id) => id.includes("/resourceGroups/"))).toBe(true);
    expect(tenant.identities.some((i) => i.id.includes(`/${i.resourceGroupName.toLowerCase()}/`) && i.resourceGroupName !== i.resourceGroupName.toLowerCase())).toBe(true);
    for (const identity of tenant.identities) expect(identity.resourceGroup).toBe(identity.resourceGroupName.toLowerCase());
  });

  it("gives subscriptions display names that need escaping", () => {
    expect(tenant.subscriptions.some((s) => s.displayName.includes("'"))).toBe(true);
    expect(tenant.subscriptions.some((s) => s.displayName.includes("&"))).toBe(true);
  });
});

describe("distributions", () => {
  const tenant = generateTenant({ seed: "distributions", identities: 2000, now: NOW, unusedShare: 0.25 });
  const identities = tenant.identities;

  it("has exactly the unused share and the hidden-usage share, and a skewed count for the others", () => {
    expect(identities.filter((i) => i.associationCount === 0 && i.hiddenUsage.length === 0)).toHaveLength(500);
    expect(identities.filter((i) => i.hiddenUsage.length > 0)).toHaveLength(100);
    expect(identities.filter((i) => i.associationCount === 0)).toHaveLength(600);
    const used = identities.filter((i) => i.associationCount > 0);
    const small = used.filter((i) => i.associationCount <= 3).length;
    expect(small / used.length).toBeGreaterThan(0.7);
    expect(used.some((i) => i.associationCount >= 990)).toBe(true);
    expect(used.filter((i) => i.associationCount >= 100).length).toBeGreaterThan(5);
  });

  it("keeps the guarantees even for a tiny tenant", () => {
    const tiny = generateTenant({ seed: "tiny", identities: 20, now: NOW });
    const unused = tiny.identities.filter((i) => i.associationCount === 0 && i.hiddenUsage.length === 0);
    expect(unused).toHaveLength(4);
    expect(new Set(tiny.identities.flatMap((i) => i.hiddenUsage))).toEqual(new Set(HIDDEN_USAGE_KINDS));
    expect(tiny.identities.some((i) => i.associationCount >= 990)).toBe(true);
    expect(tiny.identities.some((i) => i.associationCount >= 250 && i.associationCount <= 400)).toBe(true);
    expect(unused.some((i) => i.exempt && i.tags["uami-audit-exempt"] === "true")).toBe(true);
    expect(unused.some((i) => NOW - Date.parse(i.createdAt) < 3 * DAY)).toBe(true);
    expect(unused.some((i) => i.federatedCredentialCount === 3)).toBe(true);
    const privileged = unused.flatMap((i) => i.roleAssignments).filter((a) => a.privileged);
    expect(privileged.map((a) => a.roleName)).toEqual(expect.arrayContaining(["Owner", "User Access Administrator"]));
  });

  it("gives some unused identities federated credentials, some identities tags and the exemption tag", () => {
    expect(identities.some((i) => i.associationCount === 0 && i.federatedCredentialCount > 0)).toBe(true);
    expect(identities.filter((i) => Object.keys(i.tags).length > 0).length).toBeGreaterThan(500);
    const exempt = identities.filter((i) => i.exempt);
    expect(exempt.length).toBeGreaterThan(3);
    for (const identity of exempt) expect(Object.keys(identity.tags).some((k) => k.toLowerCase() === "uami-audit-exempt")).toBe(true);
    expect(exempt.some((i) => "UAMI-Audit-Exempt" in i.tags)).toBe(true);
  });

  it("spreads creation over two years, some in the last three days", () => {
    const ages = identities.map((i) => (NOW - Date.parse(i.createdAt)) / DAY);
    expect(Math.min(...ages)).toBeGreaterThan(0);
    expect(Math.max(...ages)).toBeLessThanOrEqual(730);
    expect(Math.max(...ages)).toBeGreaterThan(600);
    expect(ages.filter((a) => a < 3).length).toBeGreaterThan(10);
    for (const identity of identities) expect(identity.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });

  it("assigns privileged roles at subscription, resource group, management group and root scope, and the * custom role", () => {
    const assignments = identities.flatMap((i) => i.roleAssignments);
    for (const role of ["Owner", "Contributor", "User Access Administrator"]) {
      expect(assignments.some((a) => a.roleName === role && a.scopeKind === "subscription")).toBe(true);
    }
    expect(assignments.some((a) => a.privileged && a.scopeKind === "resourceGroup")).toBe(true);
    expect(assignments.some((a) => a.privileged && a.scopeKind === "managementGroup")).toBe(true);
    expect(assignments.some((a) => a.privileged && a.scopeKind === "root" && a.scope === "/")).toBe(true);
    expect(assignments.some((a) => a.wildcardActions && a.roleName.includes("custom"))).toBe(true);
    for (const a of assignments) {
      // The root scope's assignments are `/providers/Microsoft.Authorization/roleAssignments/{guid}`.
      expect(a.id.startsWith(`${a.scope === "/" ? "" : a.scope}/providers/Microsoft.Authorization/roleAssignments/`)).toBe(true);
      expect(a.roleDefinitionId).toMatch(/\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/);
    }
    expect(tenant.roleAssignments.some((a) => a.principalType !== "ServicePrincipal")).toBe(true);
  });

  it("associates realistic resource types, lower-cased", () => {
    const types = new Set(identities.flatMap((i) => associationsOf(tenant, i).map((a) => a.type)));
    for (const type of [
      "microsoft.compute/virtualmachines",
      "microsoft.web/sites",
      "microsoft.containerservice/managedclusters",
      "microsoft.app/containerapps",
      "microsoft.logic/workflows",
    ]) {
      expect(types.has(type)).toBe(true);
    }
    for (const type of types) expect(type).toBe(type.toLowerCase());
    const ids = identities.flatMap((i) => associationsOf(tenant, i).map((a) => a.id.toLowerCase()));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("hidden usage", () => {
  const tenant = generateTenant({ seed: "hidden", identities: 1000, now: NOW, hiddenUsageShare: 0.08 });
  const hidden = tenant.identities.filter((i) => i.hiddenUsage.length > 0);

  it("marks the share of identities, every kind several times, signInOnly always alone", () => {
    expect(hidden).toHaveLength(80);
    for (const kind of HIDDEN_USAGE_KINDS) expect(hidden.filter((i) => i.hiddenUsage.includes(kind)).length).toBeGreaterThanOrEqual(10);
    expect(hidden.some((i) => i.hiddenUsage.length === 2)).toBe(true);
    for (const identity of hidden) {
      expect(new Set(identity.hiddenUsage).size).toBe(identity.hiddenUsage.length);
      if (identity.hiddenUsage.includes("signInOnly")) expect(identity.hiddenUsage).toEqual(["signInOnly"]);
    }
  });

  it("gives them no association, no federated credential, no exemption tag, and an old creation date", () => {
    for (const identity of hidden) {
      expect(identity.associationCount).toBe(0);
      expect(associationsOf(tenant, identity)).toEqual([]);
      expect(identity.federatedCredentialCount).toBe(0);
      expect(identity.exempt).toBe(false);
      expect(Object.keys(identity.tags).some((k) => k.toLowerCase() === "uami-audit-exempt")).toBe(false);
      expect(NOW - Date.parse(identity.createdAt)).toBeGreaterThanOrEqual(90 * DAY);
    }
  });

  it("runs each kubelet identity's AKS cluster under a busy control-plane identity that lists it", () => {
    const kubelets = hidden.filter((i) => i.hiddenUsage.includes("kubelet"));
    const clusters = [...tenant.kubeletClusters.values()];
    expect(clusters.map((c) => c.kubelet).sort((a, b) => a.index - b.index)).toEqual(kubelets.sort((a, b) => a.index - b.index));
    for (const cluster of clusters) {
      expect(cluster.controlPlane.hiddenUsage).toEqual([]);
      expect(cluster.controlPlane.associationCount).toBeGreaterThanOrEqual(100);
      expect(associationsOf(tenant, cluster.controlPlane)).toContainEqual(cluster.resource);
      expect(cluster.resource.type).toBe("microsoft.containerservice/managedclusters");
    }
  });

  it("is deterministic, keeps at least one of each kind from 20 identities, and can be turned off", () => {
    const again = generateTenant({ seed: "hidden", identities: 1000, now: NOW, hiddenUsageShare: 0.08 });
    expect(again.identities.map((i) => i.hiddenUsage)).toEqual(tenant.identities.map((i) => i.hiddenUsage));
    for (const [seed, unusedShare] of [["a", 0.2], ["b", 0], ["c", 0.5], ["d", 0.6]] as const) {
      const small = generateTenant({ seed, identities: 20, now: NOW, unusedShare });
      expect(new Set(small.identities.flatMap((i) => i.hiddenUsage)), `${seed} ${unusedShare}`).toEqual(new Set(HIDDEN_USAGE_KINDS));
      expect(small.identities.some((i) => i.associationCount >= 990)).toBe(true);
    }
    const off = generateTenant({ seed: "hidden", identities: 200, now: NOW, hiddenUsageShare: 0 });
    expect(off.identities.every((i) => i.hiddenUsage.length === 0)).toBe(true);
    expect(off.kubeletClusters.size).toBe(0);
    expect(() => generateTenant({ seed: 1, identities: 1, hiddenUsageShare: -0.1 })).toThrow(/hiddenUsageShare/);
  });
});

describe("scale", () => {
  it("generates 100,000 identities in seconds, with about a million associations kept lazily", () => {
    const started = performance.now();
    const tenant = generateTenant({ seed: "scale", identities: 100_000, now: NOW });
    const elapsed = performance.now() - started;
    expect(tenant.identities).toHaveLength(100_000);
    const total = tenant.identities.reduce((sum, i) => sum + i.associationCount, 0);
    expect(total).toBeGreaterThan(900_000);
    expect(elapsed).toBeLessThan(20_000);
  });

  it("refuses bad options with a TypeError naming the option", () => {
    expect(() => generateTenant({ seed: 1, identities: -1 })).toThrow(/identities/);
    expect(() => generateTenant({ seed: 1, identities: 1, unusedShare: 1.5 })).toThrow(/unusedShare/);
    expect(() => generateTenant({ seed: 1, identities: 1, subscriptions: 0 })).toThrow(/subscriptions/);
  });
});
