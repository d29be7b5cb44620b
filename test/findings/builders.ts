/**
 * Builders for the inputs of findings, reports and mail tests: realistic values (shapes as
 * src/model/ and src/arm/types.ts define them), overridable per test.
 */
import type { RoleAssignment } from "../../src/arm/types.js";
import type { AuditRun } from "../../src/model/run.js";
import type { IdentityResult } from "../../src/model/identityResult.js";
import type { VerdictOptions } from "../../src/findings/verdicts.js";

export const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const NOW = new Date("2026-12-01T06:00:00.000Z");
export const RUN_ID = "run-2026-12-01";

export function verdictOptions(overrides: Partial<VerdictOptions> = {}): VerdictOptions {
  return { now: NOW, gracePeriodDays: 7, exemptTag: "uami-audit-exempt", ...overrides };
}

export function identityId(name: string, resourceGroup = "rg-identities", subscriptionId = SUBSCRIPTION_ID): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

let principalCounter = 0;

/** A checked, unused, 60-day-old identity unless overridden. */
export function identityResult(overrides: Partial<IdentityResult> = {}): IdentityResult {
  const name = overrides.name ?? "id-unused";
  const resourceGroup = overrides.resourceGroup ?? "rg-identities";
  const subscriptionId = overrides.subscriptionId ?? SUBSCRIPTION_ID;
  principalCounter += 1;
  const suffix = String(principalCounter).padStart(12, "0");
  return {
    runId: RUN_ID,
    id: identityId(name, resourceGroup, subscriptionId),
    name,
    subscriptionId,
    resourceGroup,
    location: "westeurope",
    tenantId: TENANT_ID,
    principalId: `11111111-1111-1111-1111-${suffix}`,
    clientId: `22222222-2222-2222-2222-${suffix}`,
    tags: {},
    status: "checked",
    createdAt: "2026-10-02T09:30:00.000Z",
    associationCount: 0,
    associations: [],
    federatedCredentialCount: 0,
    checkedAt: "2026-12-01T06:05:00.000Z",
    ...overrides,
  };
}

export function roleAssignment(overrides: Partial<RoleAssignment> = {}): RoleAssignment {
  return {
    id: `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments/${Math.random().toString(16).slice(2)}`,
    principalId: "11111111-1111-1111-1111-000000000000",
    roleDefinitionId: `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
    roleName: "Reader",
    scope: `/subscriptions/${SUBSCRIPTION_ID}`,
    wildcardActions: false,
    ...overrides,
  };
}

export function auditRun(overrides: Partial<AuditRun> = {}): AuditRun {
  return {
    runId: RUN_ID,
    tenantId: TENANT_ID,
    scope: { subscriptions: [], managementGroups: [] },
    trigger: "timer",
    status: "complete",
    startedAt: "2026-12-01T06:00:00.000Z",
    finishedAt: "2026-12-01T06:12:34.000Z",
    expected: 0,
    checked: 0,
    deleted: 0,
    failed: 0,
    requests: 0,
    throttled: 0,
    apiRequests: 0,
    ...overrides,
  };
}
