/**
 * How much harm an identity could do if someone got hold of it: what its role assignments grant, and how
 * wide. An unused identity that is Owner of a subscription is the first one to delete.
 *
 * Levels (the first that applies):
 * - `critical` a privileged role at subscription scope or wider (subscription, management group, root "/"),
 *              or at a scope this code cannot parse (an unknown breadth is taken as wide, never as narrow)
 * - `high`     a privileged role at resource-group scope
 * - `medium`   a privileged role on a single resource, or any other role at subscription scope or wider
 * - `low`      other roles on resource groups or resources
 * - `none`     no role assignments
 * Privileged: Owner, Contributor, User Access Administrator (by name or built-in definition id), or any role
 * whose definition grants `*` actions.
 *
 * The score orders identities: the level first (hundreds), then the sum of role x scope weights (0-99),
 * so more and broader grants rank higher within a level and a level always beats any number of lesser grants.
 */
import type { RoleAssignment } from "../arm/types.js";

export type RiskLevel = "critical" | "high" | "medium" | "low" | "none";
export type ScopeLevel = "root" | "management-group" | "subscription" | "resource-group" | "resource" | "unknown";

export interface Risk {
  level: RiskLevel;
  score: number;
  /** The privileged assignments, broadest scope first. */
  privileged: RoleAssignment[];
  reasons: string[];
}

export const RISK_LEVELS: readonly RiskLevel[] = ["critical", "high", "medium", "low", "none"];

/** Built-in role definition ids (the same in every tenant), for when only the id's last segment is known. */
const PRIVILEGED_BUILT_IN_ROLES = new Map<string, string>([
  ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"],
  ["b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"],
  ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"],
]);
const PRIVILEGED_ROLE_NAMES = new Map(
  [...PRIVILEGED_BUILT_IN_ROLES.values()].map((name) => [name.toLowerCase(), name] as const),
);

/** Owner and User Access Administrator can grant access to others, which is worse than using it. */
const ROLE_WEIGHT: Record<string, number> = { owner: 4, "user access administrator": 3, contributor: 2 };
const SCOPE_WEIGHT: Record<ScopeLevel, number> = {
  root: 5,
  "management-group": 4,
  subscription: 3,
  unknown: 3,
  "resource-group": 2,
  resource: 1,
};
const LEVEL_BASE: Record<RiskLevel, number> = { critical: 400, high: 300, medium: 200, low: 100, none: 0 };

/**
 * The breadth of an ARM scope. Segment names are case-insensitive in ARM (`resourcegroups` and
 * `resourceGroups` both occur), and trailing or doubled slashes are ignored.
 */
export function scopeLevelOf(scope: string): ScopeLevel {
  const segments = scope.trim().toLowerCase().split("/").filter((segment) => segment !== "");
  if (segments.length === 0) return scope.trim().startsWith("/") ? "root" : "unknown";
  const [first, second, third] = segments;
  if (first === "providers") {
    if (second === "microsoft.management" && third === "managementgroups" && segments.length === 4) {
      return "management-group";
    }
    return "unknown";
  }
  if (first !== "subscriptions" || segments.length < 2) return "unknown";
  if (segments.length === 2) return "subscription";
  if (third === "resourcegroups") {
    if (segments.length === 4) return "resource-group";
    // .../resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/...]: a resource (or child resource).
    return segments[4] === "providers" && segments.length >= 8 ? "resource" : "unknown";
  }
  // /subscriptions/{id}/providers/{namespace}/{type}/{name}: a subscription-level resource.
  if (third === "providers" && segments.length >= 6) return "resource";
  return "unknown";
}

export function isPrivileged(assignment: RoleAssignment): boolean {
  return assignment.wildcardActions || privilegedRoleName(assignment) !== undefined;
}

/** Role assignments grouped by principal id, lower-cased (Resource Graph does not promise a casing). */
export function assignmentsByPrincipal(assignments: readonly RoleAssignment[]): Map<string, RoleAssignment[]> {
  const byPrincipal = new Map<string, RoleAssignment[]>();
  for (const assignment of assignments) {
    const key = assignment.principalId.toLowerCase();
    const list = byPrincipal.get(key);
    if (list) list.push(assignment);
    else byPrincipal.set(key, [assignment]);
  }
  return byPrincipal;
}

/** The risk of one identity, from its role assignments (all of them, any scope). */
export function riskFor(assignments: readonly RoleAssignment[]): Risk {
  const unique = dedupeById(assignments);
  if (unique.length === 0) return { level: "none", score: 0, privileged: [], reasons: ["no role assignments"] };

  const graded = unique.map((assignment) => {
    const scopeLevel = scopeLevelOf(assignment.scope);
    const privileged = isPrivileged(assignment);
    const wide = SCOPE_WEIGHT[scopeLevel] >= SCOPE_WEIGHT.subscription;
    const level: RiskLevel = privileged
      ? wide
        ? "critical"
        : scopeLevel === "resource-group"
          ? "high"
          : "medium"
      : wide
        ? "medium"
        : "low";
    return { assignment, scopeLevel, privileged, level, weight: roleWeight(assignment) * SCOPE_WEIGHT[scopeLevel] };
  });

  const level = RISK_LEVELS.find((candidate) => graded.some((grade) => grade.level === candidate)) ?? "low";
  const score = LEVEL_BASE[level] + Math.min(99, graded.reduce((sum, grade) => sum + grade.weight, 0));
  const privilegedGrades = graded
    .filter((grade) => grade.privileged)
    .sort((a, b) => SCOPE_WEIGHT[b.scopeLevel] - SCOPE_WEIGHT[a.scopeLevel] || b.weight - a.weight);
  const privileged = privilegedGrades.map((grade) => grade.assignment);

  const reasons = privilegedGrades.map(
    (grade) => `${displayRoleName(grade.assignment)} at ${describeScope(grade.assignment.scope, grade.scopeLevel)}`,
  );
  const ordinary = graded.length - privileged.length;
  if (ordinary > 0) {
    reasons.push(
      privileged.length === 0
        ? `${ordinary} role assignment${ordinary === 1 ? "" : "s"}, none privileged`
        : `${ordinary} other role assignment${ordinary === 1 ? "" : "s"}`,
    );
  }
  return { level, score, privileged, reasons };
}

/** "Owner" even when Resource Graph only knew the definition id. */
export function displayRoleName(assignment: RoleAssignment): string {
  return privilegedRoleName(assignment) ?? assignment.roleName;
}

/** "subscription /subscriptions/x", "root scope /", ... */
export function describeScope(scope: string, level: ScopeLevel = scopeLevelOf(scope)): string {
  switch (level) {
    case "root":
      return "root scope /";
    case "management-group":
      return `management group ${scope}`;
    case "subscription":
      return `subscription ${scope}`;
    case "resource-group":
      return `resource group ${scope}`;
    case "resource":
      return `resource ${scope}`;
    case "unknown":
      return `unrecognised scope ${scope} (treated as subscription-wide)`;
  }
}

export interface RankableFinding {
  id: string;
  name: string;
  verdict: string;
  risk: { score: number };
}

/** Highest risk first, then by name and id so equal scores always come out in the same order. */
export function compareByRisk(a: RankableFinding, b: RankableFinding): number {
  return b.risk.score - a.risk.score || compareByName(a, b);
}

/** By name (case-insensitive, locale-independent), then id. */
export function compareByName(a: { id: string; name: string }, b: { id: string; name: string }): number {
  return compareText(a.name, b.name) || compareText(a.id, b.id);
}

/** The unused findings, highest risk first (a new array; other verdicts are left out). */
export function rankUnused<T extends RankableFinding>(findings: readonly T[]): T[] {
  return findings.filter((finding) => finding.verdict === "unused").sort(compareByRisk);
}

/** Case-insensitive, then exact: locale-independent so the order is the same on every machine. */
export function compareText(a: string, b: string): number {
  const lowerA = a.toLowerCase();
  const lowerB = b.toLowerCase();
  if (lowerA !== lowerB) return lowerA < lowerB ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

function privilegedRoleName(assignment: RoleAssignment): string | undefined {
  const name = assignment.roleName.trim().toLowerCase();
  const definitionGuid = assignment.roleDefinitionId.split("/").filter(Boolean).pop()?.toLowerCase() ?? "";
  return (
    PRIVILEGED_ROLE_NAMES.get(name) ??
    PRIVILEGED_BUILT_IN_ROLES.get(definitionGuid) ??
    // Resource Graph falls back to the definition id's last segment when it has no display name.
    PRIVILEGED_BUILT_IN_ROLES.get(name)
  );
}

function roleWeight(assignment: RoleAssignment): number {
  const name = privilegedRoleName(assignment)?.toLowerCase();
  if (name !== undefined) return ROLE_WEIGHT[name] ?? 2;
  return assignment.wildcardActions ? 2 : 1;
}

/** Each assignment once (ids compared case-insensitively), first occurrence kept. */
export function dedupeById(assignments: readonly RoleAssignment[]): RoleAssignment[] {
  const seen = new Set<string>();
  const unique: RoleAssignment[] = [];
  for (const assignment of assignments) {
    const key = assignment.id.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(assignment);
  }
  return unique;
}
