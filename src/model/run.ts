/** One audit run of one tenant: its scope, status, counters and the sources of evidence it had. */
import type { AuditScope } from "../arm/types.js";

export type RunTrigger = "timer" | "http" | "cli";
export type AuditMode = "fast" | "exhaustive";
export const AUDIT_MODES: readonly AuditMode[] = ["fast", "exhaustive"];
export type RunStatus = "enumerating" | "running" | "complete" | "failed";

/** One audit of one tenant. Counters are kept exact by the run-completion protocol (see docs/decisions). */
export interface AuditRun {
  runId: string;
  tenantId: string;
  scope: AuditScope;
  trigger: RunTrigger;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** Identities enumerated (known once status leaves "enumerating"). */
  expected: number;
  checked: number;
  deleted: number;
  failed: number;
  /** listAssociatedResources/GET/FIC requests made to ARM for this run, and how many were answered 429. */
  requests: number;
  throttled: number;
  /** Of `requests`, those to listAssociatedResources: the throttled API (1 per second per tenant). */
  apiRequests: number;
  /** `fast`: identities Resource Graph shows referenced are in-use without a throttled request; `exhaustive`: every identity goes through the API. Set once evidence is gathered. */
  mode?: AuditMode;
  /** Why the run is not in the mode its settings asked for (the sweep failed). */
  modeReason?: string;
  /** Where enumeration stands: listing the inventory, gathering evidence, then the checks. */
  phase?: "inventory" | "evidence" | "checks";
  /** Why the run failed, when it did. */
  error?: string;
  /** Which sources of evidence this run had (see `RunSources`); set once enumeration gathered them. */
  sources?: RunSources;
  reportStatus?: "pending" | "built" | "failed";
  emailStatus?: "not-needed" | "sent" | "failed";
  emailError?: string;
}

/** The run's counters, in the order every view of a run (entity, report, log) lists them. */
export type RunCounters = Pick<AuditRun, "expected" | "checked" | "deleted" | "failed" | "requests" | "throttled" | "apiRequests">;

export function runCounters(run: RunCounters): RunCounters {
  return { expected: run.expected, checked: run.checked, deleted: run.deleted, failed: run.failed, requests: run.requests, throttled: run.throttled, apiRequests: run.apiRequests ?? 0 };
}

/** Identities with a result: checked, deleted or failed. */
export function accountedFor(run: Pick<AuditRun, "checked" | "deleted" | "failed">): number {
  return run.checked + run.deleted + run.failed;
}

/** What one source of evidence could tell this run, decided once per run (during enumeration). */
export interface SourceState {
  status: "ok" | "failed" | "not-configured";
  /** Why the source failed or was skipped, in a sentence a person reads. */
  reason?: string;
  at?: string;
}

/**
 * The run-wide sources of evidence. A verdict reads them: `unused` is confirmed only when
 * listAssociatedResources answered, and an identity's Resource Graph silence means something only when
 * the sweep ran.
 */
export interface RunSources {
  /** listAssociatedResources: the api-version that answered the probe, or why none did. */
  associationsApi: SourceState & { apiVersion?: string };
  /** The Resource Graph reference sweep; `partial` when Resource Graph queried only part of the tenant. */
  resourceGraph: SourceState & { partial?: boolean; referencedIdentities?: number };
  /** ARM's resource list with `$expand=createdTime`. */
  createdTime: SourceState;
  /** Entra managed-identity sign-in logs in Log Analytics. */
  signIns: SourceState & { windowDays?: number };
}

/** Where the run stands: listing identities, gathering evidence (the sweep), candidate checks, the report, done. */
export function runPhase(run: AuditRun): "inventory" | "sweep" | "checks" | "report" | "done" | "failed" {
  if (run.status === "failed") return "failed";
  if (run.status === "complete") return run.reportStatus === "built" ? "done" : "report";
  if (run.status === "enumerating") return run.phase === "evidence" ? "sweep" : run.phase === "checks" ? "checks" : "inventory";
  return "checks";
}

/** Same subscriptions and management groups, in any order and case: runs whose reports compare. */
export function sameScope(a: Pick<AuditRun, "scope">, b: Pick<AuditRun, "scope">): boolean {
  const norm = (r: Pick<AuditRun, "scope">) =>
    JSON.stringify([[...r.scope.subscriptions].map((s) => s.toLowerCase()).sort(), [...r.scope.managementGroups].map((g) => g.toLowerCase()).sort()]);
  return norm(a) === norm(b);
}
