import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignmentsByPrincipal,
  describeScope,
  isPrivileged,
  rankUnused,
  riskFor,
  scopeLevelOf,
  type ScopeLevel,
} from "../../src/findings/risk.js";
import { SUBSCRIPTION_ID, roleAssignment } from "./builders.js";

const SUB = `/subscriptions/${SUBSCRIPTION_ID}`;
const RG = `${SUB}/resourceGroups/rg-app`;
const RESOURCE = `${RG}/providers/Microsoft.Storage/storageAccounts/stapp`;
const MG = "/providers/Microsoft.Management/managementGroups/mg-platform";
const OWNER_ID = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

describe("scopeLevelOf", () => {
  const cases: Array<[string, ScopeLevel]> = [
    ["/", "root"],
    ["//", "root"],
    [MG, "management-group"],
    ["/PROVIDERS/microsoft.management/MANAGEMENTGROUPS/Tenant Root Group", "management-group"],
    [`${MG}/`, "management-group"],
    [SUB, "subscription"],
    [`${SUB}/`, "subscription"],
    [`/SUBSCRIPTIONS/${SUBSCRIPTION_ID.toUpperCase()}`, "subscription"],
    [RG, "resource-group"],
    [`${SUB}/resourcegroups/rg-app`, "resource-group"],
    [`${SUB}/RESOURCEGROUPS/RG-APP/`, "resource-group"],
    [RESOURCE, "resource"],
    [`${RG}/providers/Microsoft.Sql/servers/sql1/databases/db1`, "resource"],
    [`${SUB}/providers/Microsoft.Insights/actionGroups/ag1`, "resource"],
    [`${SUB}/resourceGroups/rg (old)/providers/Microsoft.KeyVault/vaults/kv-é-日本`, "resource"],
    ["", "unknown"],
    ["subscriptions", "unknown"],
    ["/subscriptions", "unknown"],
    [`${SUB}/somethingElse/x`, "unknown"],
    [`${RG}/providers/Microsoft.Storage`, "unknown"],
    ["/providers/Microsoft.Subscription/aliases/x", "unknown"],
  ];
  it.each(cases)("%s is %s", (scope, level) => {
    expect(scopeLevelOf(scope)).toBe(level);
  });

  it("describes scopes for people", () => {
    expect(describeScope("/")).toBe("root scope /");
    expect(describeScope(SUB)).toBe(`subscription ${SUB}`);
    expect(describeScope("weird")).toBe("unrecognised scope weird (treated as subscription-wide)");
  });
});

describe("isPrivileged", () => {
  it.each([
    ["Owner", false, true],
    ["owner", false, true],
    ["Contributor", false, true],
    ["User Access Administrator", false, true],
    ["Reader", false, false],
    ["Storage Blob Data Contributor", false, false],
    ["Custom Everything", true, true],
  ])("%s (wildcard %s) -> %s", (roleName, wildcardActions, expected) => {
    expect(isPrivileged(roleAssignment({ roleName, wildcardActions }))).toBe(expected);
  });

  it("recognises built-in privileged roles by definition id when the name is only the id", () => {
    const assignment = roleAssignment({ roleName: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleDefinitionId: `${SUB}${OWNER_ID}` });
    expect(isPrivileged(assignment)).toBe(true);
    expect(riskFor([assignment]).reasons[0]).toBe(`Owner at subscription ${SUB}`);
  });
});

describe("riskFor", () => {
  it("none without assignments", () => {
    expect(riskFor([])).toEqual({ level: "none", score: 0, privileged: [], reasons: ["no role assignments"] });
  });

  it.each([
    ["Owner", "/", "critical"],
    ["Owner", MG, "critical"],
    ["User Access Administrator", SUB, "critical"],
    ["Contributor", SUB, "critical"],
    ["Contributor", "???", "critical"],
    ["Owner", RG, "high"],
    ["Contributor", RESOURCE, "medium"],
    ["Reader", SUB, "medium"],
    ["Reader", "/", "medium"],
    ["Reader", RG, "low"],
    ["Storage Blob Data Reader", RESOURCE, "low"],
  ])("%s at %s is %s", (roleName, scope, level) => {
    expect(riskFor([roleAssignment({ roleName, scope })]).level).toBe(level);
  });

  it("a custom role with * actions is privileged", () => {
    const risk = riskFor([roleAssignment({ roleName: "Platform Operator", wildcardActions: true, scope: SUB })]);
    expect(risk.level).toBe("critical");
    expect(risk.reasons).toEqual([`Platform Operator at subscription ${SUB}`]);
  });

  it("takes the worst level, lists privileged assignments broadest first, counts the others", () => {
    const rgOwner = roleAssignment({ id: "a1", roleName: "Owner", scope: RG });
    const mgContributor = roleAssignment({ id: "a2", roleName: "Contributor", scope: MG });
    const reader = roleAssignment({ id: "a3", roleName: "Reader", scope: RESOURCE });
    const risk = riskFor([rgOwner, reader, mgContributor]);
    expect(risk.level).toBe("critical");
    expect(risk.privileged).toEqual([mgContributor, rgOwner]);
    expect(risk.reasons).toEqual([`Contributor at management group ${MG}`, `Owner at resource group ${RG}`, "1 other role assignment"]);
  });

  it("counts duplicate assignment ids once", () => {
    const owner = roleAssignment({ id: "same", roleName: "Owner", scope: SUB });
    expect(riskFor([owner, { ...owner, id: "SAME" }])).toEqual(riskFor([owner]));
  });

  it("scores broader and stronger grants higher, and a level always beats lesser grants", () => {
    const score = (roleName: string, scope: string) => riskFor([roleAssignment({ roleName, scope })]).score;
    expect(score("Owner", "/")).toBeGreaterThan(score("Owner", MG));
    expect(score("Owner", MG)).toBeGreaterThan(score("Owner", SUB));
    expect(score("Owner", SUB)).toBeGreaterThan(score("Contributor", SUB));
    expect(score("Owner", SUB)).toBeGreaterThan(score("Owner", RG));
    const manyReaders = riskFor(Array.from({ length: 40 }, (_, index) => roleAssignment({ id: `r${index}`, roleName: "Reader", scope: "/" })));
    expect(manyReaders.level).toBe("medium");
    expect(manyReaders.score).toBeLessThan(score("Owner", RG));
  });

  it("levels and scores agree for any set of assignments", () => {
    const levelRank = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };
    const assignmentArb = fc.record({
      id: fc.uuid(),
      roleName: fc.constantFrom("Owner", "Contributor", "User Access Administrator", "Reader", "Custom"),
      wildcardActions: fc.boolean(),
      scope: fc.constantFrom("/", MG, SUB, RG, RESOURCE, "odd"),
    });
    fc.assert(
      fc.property(fc.array(assignmentArb, { maxLength: 8 }), fc.array(assignmentArb, { maxLength: 8 }), (a, b) => {
        const riskA = riskFor(a.map((fields) => roleAssignment(fields)));
        const riskB = riskFor(b.map((fields) => roleAssignment(fields)));
        if (levelRank[riskA.level] > levelRank[riskB.level]) expect(riskA.score).toBeGreaterThan(riskB.score);
        expect(riskA.privileged.every(isPrivileged)).toBe(true);
      }),
    );
  });
});

describe("assignmentsByPrincipal", () => {
  it("groups by lower-cased principal id", () => {
    const upper = roleAssignment({ id: "1", principalId: "ABCDEF00-0000-0000-0000-000000000001" });
    const lower = roleAssignment({ id: "2", principalId: "abcdef00-0000-0000-0000-000000000001" });
    const other = roleAssignment({ id: "3", principalId: "99999999-0000-0000-0000-000000000000" });
    const grouped = assignmentsByPrincipal([upper, lower, other]);
    expect([...grouped.keys()]).toEqual(["abcdef00-0000-0000-0000-000000000001", "99999999-0000-0000-0000-000000000000"]);
    expect(grouped.get("abcdef00-0000-0000-0000-000000000001")).toEqual([upper, lower]);
  });
});

describe("rankUnused", () => {
  const finding = (name: string, score: number, verdict = "unused", id = `/x/${name}`) => ({ id, name, verdict, risk: { score } });

  it("keeps only unused findings, highest score first, then by name and id", () => {
    const input = [
      finding("b", 100),
      finding("in-use-but-risky", 999, "in-use"),
      finding("a", 100),
      finding("z", 412),
      finding("A", 100, "unused", "/x/A2"),
      finding("a", 100, "unused", "/x/a0"),
      finding("c", 0),
    ];
    expect(rankUnused(input).map((item) => `${item.name}${item.id}`)).toEqual([
      "z/x/z",
      "A/x/A2",
      "a/x/a",
      "a/x/a0",
      "b/x/b",
      "c/x/c",
    ]);
  });

  it("does not mutate its input and gives the same order whatever the input order", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name: fc.string({ maxLength: 6 }), score: fc.integer({ min: 0, max: 500 }) }), {
          selector: (item) => item.name,
          maxLength: 12,
        }),
        (items) => {
          const findings = items.map((item) => finding(item.name, item.score));
          const snapshot = [...findings];
          const ranked = rankUnused(findings);
          expect(findings).toEqual(snapshot);
          expect(rankUnused([...findings].reverse())).toEqual(ranked);
          for (let index = 1; index < ranked.length; index++) {
            expect(ranked[index - 1]?.risk.score ?? 0).toBeGreaterThanOrEqual(ranked[index]?.risk.score ?? 0);
          }
        },
      ),
    );
  });
});
