/**
 * Mapping between the audit model and Table Storage entities. Tables hold flat scalar properties, so
 * objects (scope, tags, associations) are stored as JSON text and read back defensively: a row written
 * by an older version or edited by hand must not crash a report.
 */
import { runCounters, type AuditRun } from "../model/run.js";
import type { IdentityResult, ResourceGraphReference } from "../model/identityResult.js";
import type { AssociatedResource, AuditScope } from "../arm/types.js";

export type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string; etag?: string };

export const RUN_ROW = "run";
export const IDENTITY_ROW_PREFIX = "i_";

function json<T>(value: unknown, fallback: T): T {
  if (typeof value !== "string" || value === "") return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const optStr = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const optCount = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
const optNum = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function runToEntity(run: AuditRun): Entity {
  return {
    partitionKey: run.runId,
    rowKey: RUN_ROW,
    runId: run.runId,
    tenantId: run.tenantId,
    scope: JSON.stringify(run.scope),
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? "",
    ...runCounters(run),
    error: run.error ?? "",
    sources: run.sources ? JSON.stringify(run.sources) : "",
    mode: run.mode ?? "",
    modeReason: run.modeReason ?? "",
    phase: run.phase ?? "",
    reportStatus: run.reportStatus ?? "pending",
    emailStatus: run.emailStatus ?? "",
    emailError: run.emailError ?? "",
  };
}

export function entityToRun(e: Record<string, unknown>): AuditRun {
  const scope = json<Partial<AuditScope>>(e.scope, {});
  return {
    runId: str(e.runId),
    tenantId: str(e.tenantId),
    scope: { subscriptions: scope.subscriptions ?? [], managementGroups: scope.managementGroups ?? [] },
    trigger: (optStr(e.trigger) ?? "timer") as AuditRun["trigger"],
    status: (optStr(e.status) ?? "failed") as AuditRun["status"],
    startedAt: str(e.startedAt),
    finishedAt: optStr(e.finishedAt),
    expected: num(e.expected),
    checked: num(e.checked),
    deleted: num(e.deleted),
    failed: num(e.failed),
    requests: num(e.requests),
    throttled: num(e.throttled),
    apiRequests: num(e.apiRequests),
    mode: optStr(e.mode) as AuditRun["mode"],
    modeReason: optStr(e.modeReason),
    phase: optStr(e.phase) as AuditRun["phase"],
    error: optStr(e.error),
    sources: json<AuditRun["sources"] | undefined>(e.sources, undefined),
    reportStatus: optStr(e.reportStatus) as AuditRun["reportStatus"],
    emailStatus: optStr(e.emailStatus) as AuditRun["emailStatus"],
    emailError: optStr(e.emailError),
  };
}

/** Table properties hold at most 64 KiB of text: the row keeps as many associations as fit in this. */
const MAX_ASSOCIATIONS_JSON = 30_000;

/** The first associations, as many as fit in one property (the full list is in the associations table). */
function associationsJson(associations: AssociatedResource[]): string {
  let json = JSON.stringify(associations);
  let count = associations.length;
  while (json.length > MAX_ASSOCIATIONS_JSON && count > 0) {
    count = Math.floor(count / 2);
    json = JSON.stringify(associations.slice(0, count));
  }
  return json;
}

function parseAssociations(value: unknown): AssociatedResource[] {
  const list = json<unknown>(value, []);
  return Array.isArray(list) ? (list.filter((a) => typeof a === "object" && a !== null) as AssociatedResource[]) : [];
}

/** Identity row. Associations beyond what fits in one property live in their own table. */
export function identityToEntity(identity: IdentityResult, rowKey: string): Entity {
  return {
    partitionKey: identity.runId,
    rowKey,
    runId: identity.runId,
    id: identity.id,
    name: identity.name,
    subscriptionId: identity.subscriptionId,
    resourceGroup: identity.resourceGroup,
    location: identity.location,
    tenantId: identity.tenantId,
    principalId: identity.principalId,
    clientId: identity.clientId,
    tags: JSON.stringify(identity.tags),
    status: identity.status,
    createdAt: identity.createdAt ?? "",
    createdTime: identity.createdTime ?? "",
    referenceCount: identity.referenceCount ?? -1,
    references: JSON.stringify(identity.references ?? []),
    lastSignInAt: identity.lastSignInAt ?? "",
    signInResource: identity.signInResource ?? "",
    associationCount: identity.associationCount ?? -1,
    federatedCredentialCount: identity.federatedCredentialCount ?? -1,
    checkedAt: identity.checkedAt ?? "",
    error: identity.error ?? "",
    associations: associationsJson(identity.associations),
  };
}

export function entityToIdentity(e: Record<string, unknown>, associations: AssociatedResource[] = parseAssociations(e.associations)): IdentityResult {
  const count = optNum(e.associationCount);
  const fic = optNum(e.federatedCredentialCount);
  return {
    runId: str(e.runId),
    id: str(e.id),
    name: str(e.name),
    subscriptionId: str(e.subscriptionId),
    resourceGroup: str(e.resourceGroup),
    location: str(e.location),
    tenantId: str(e.tenantId),
    principalId: str(e.principalId),
    clientId: str(e.clientId),
    tags: json<Record<string, string>>(e.tags, {}),
    status: (optStr(e.status) ?? "pending") as IdentityResult["status"],
    createdAt: optStr(e.createdAt),
    createdTime: optStr(e.createdTime),
    referenceCount: optCount(e.referenceCount),
    references: json<ResourceGraphReference[]>(e.references, []),
    lastSignInAt: optStr(e.lastSignInAt),
    signInResource: optStr(e.signInResource),
    associationCount: count !== undefined && count >= 0 ? count : undefined,
    federatedCredentialCount: fic !== undefined && fic >= 0 ? fic : undefined,
    associations,
    checkedAt: optStr(e.checkedAt),
    error: optStr(e.error),
    verdict: optStr(e.verdict),
    unusedSince: optStr(e.unusedSince),
    reasons: json<string[] | undefined>(e.reasons, undefined),
    confirmed: typeof e.confirmed === "boolean" ? e.confirmed : undefined,
    disagreement: typeof e.disagreement === "boolean" ? e.disagreement : undefined,
  };
}
