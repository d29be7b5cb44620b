/**
 * A report of a large tenant (10,000 identities by default) for the browser tests and the bench: built by
 * the real `buildReport` from generated identities, deterministic for a seed. Mostly unused identities
 * (the table's worst case), every review verdict, 40 subscriptions, a mix of role assignments at every risk
 * level, hostile names and tags here and there, and a 30-run trend.
 */
import type { RoleAssignment } from "../../src/arm/types.js";
import type { IdentityResult } from "../../src/model/identityResult.js";
import type { RunSources } from "../../src/model/run.js";
import type { Verdict } from "../../src/findings/verdicts.js";
import { buildReport, type AuditReport } from "../../src/report/model.js";
import type { TrendPoint } from "../../src/report/trend.js";
import { NOW, RUN_ID, auditRun, identityResult, roleAssignment, verdictOptions } from "../findings/builders.js";

export const LARGE_SUBSCRIPTIONS = 40;
export const HOSTILE_LARGE_NAME = "<img src=x onerror=alert(1)>";

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function subscriptionIdOf(index: number): string {
  return `3f2b${String(index).padStart(4, "0")}-0000-4000-8000-${String(index).padStart(12, "0")}`;
}

const SOURCES: RunSources = {
  associationsApi: { status: "ok", apiVersion: "2022-01-31-preview", at: "2026-12-01T06:00:05.000Z" },
  resourceGraph: { status: "ok", referencedIdentities: 0, at: "2026-12-01T06:00:07.000Z" },
  createdTime: { status: "ok", at: "2026-12-01T06:00:09.000Z" },
  signIns: { status: "ok", windowDays: 30, at: "2026-12-01T06:00:11.000Z" },
};

export function largeReport(count = 10_000, seed = 7): AuditReport {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const identities: IdentityResult[] = [];
  const assignments: RoleAssignment[] = [];
  const previous = new Map<string, Verdict>();
  const teams = ["payments", "search", "ml", "data", "web", "platform", "identity", "billing"];
  for (let index = 0; index < count; index++) {
    const subscription = index % LARGE_SUBSCRIPTIONS;
    const subscriptionId = subscriptionIdOf(subscription);
    const team = pick(teams);
    const name = index % 997 === 5 ? `${HOSTILE_LARGE_NAME}-${index}` : `id-${team}-${String(index).padStart(5, "0")}`;
    const resourceGroup = `rg-${team}-${pick(["prod", "dev", "test", "shared"])}-${subscription % 7}`;
    const roll = next();
    // 80% unused, then the review verdicts.
    const overrides: Partial<IdentityResult> =
      roll < 0.8
        ? {}
        : roll < 0.86
          ? { createdAt: "2026-11-29T12:00:00.000Z" }
          : roll < 0.9
            ? { federatedCredentialCount: 1 + Math.floor(next() * 3) }
            : roll < 0.93
              ? { lastSignInAt: "2026-11-28T10:00:00.000Z", signInResource: "Azure Key Vault" }
              : roll < 0.96
                ? { tags: { "uami-audit-exempt": `ticket-${index}` } }
                : roll < 0.98
                  ? { status: "error", error: "ARM answered 500 <InternalServerError> three times", associationCount: undefined }
                  : { status: "deleted" };
    const tags: Record<string, string> = index % 13 === 0 ? { owner: `${team}@contoso.example`, note: "a|b `c` [d](https://evil.example) <script>x</script>" } : { team };
    const identity = identityResult({ name, resourceGroup, subscriptionId, tags, ...overrides });
    identities.push(identity);
    if (next() < 0.9) previous.set(identity.id.toLowerCase(), "unused");

    const riskRoll = next();
    const sub = `/subscriptions/${subscriptionId}`;
    const grant = (roleName: string, scope: string) =>
      assignments.push(roleAssignment({ id: `${sub}/providers/Microsoft.Authorization/roleAssignments/ra-${index}-${assignments.length}`, principalId: identity.principalId, roleName, scope }));
    if (riskRoll < 0.08) grant("Owner", sub);
    else if (riskRoll < 0.2) grant("Contributor", `${sub}/resourceGroups/${resourceGroup}`);
    else if (riskRoll < 0.4) grant("Reader", sub);
    else if (riskRoll < 0.7) grant("Key Vault Secrets User", `${sub}/resourceGroups/${resourceGroup}/providers/Microsoft.KeyVault/vaults/kv-${team}`);
    if (riskRoll < 0.3 && next() < 0.5) grant("Storage Blob Data Reader", `${sub}/resourceGroups/${resourceGroup}`);
  }
  const trend: TrendPoint[] = Array.from({ length: 29 }, (_, day) => {
    const scale = 0.6 + (day / 29) * 0.4;
    return {
      runId: `run-2026-11-${String(day + 1).padStart(2, "0")}`,
      startedAt: new Date(Date.UTC(2026, 10, day + 1, 6)).toISOString(),
      unusedByRisk: {
        critical: Math.round(count * 0.064 * scale),
        high: Math.round(count * 0.096 * scale),
        medium: Math.round(count * 0.16 * scale),
        low: Math.round(count * 0.24 * scale),
        none: Math.round(count * 0.24 * scale),
      },
    };
  });
  return buildReport({
    run: auditRun({ runId: RUN_ID, expected: count, checked: count, requests: count * 2, apiRequests: count, sources: SOURCES, mode: "exhaustive" }),
    identities,
    roleAssignments: assignments,
    history: new Map(),
    previousRunVerdicts: previous,
    options: verdictOptions({ now: NOW }),
    subscriptionNames: new Map(Array.from({ length: LARGE_SUBSCRIPTIONS }, (_, index) => [subscriptionIdOf(index), `Contoso ${["Prod", "Dev", "Test", "Shared"][index % 4]} ${index}`])),
    trend,
  });
}
