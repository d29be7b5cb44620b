import type { AssociatedResource, AuditScope, IdentityInventoryItem } from "../arm/types.js";

export type RunTrigger = "timer" | "http" | "cli";
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
  /** Why the run failed, when it did. */
  error?: string;
  reportStatus?: "pending" | "built" | "failed";
  emailStatus?: "not-needed" | "sent" | "failed";
  emailError?: string;
}

/** The run's counters, in the order every view of a run (entity, report, log) lists them. */
export type RunCounters = Pick<AuditRun, "expected" | "checked" | "deleted" | "failed" | "requests" | "throttled">;

export function runCounters(run: RunCounters): RunCounters {
  return { expected: run.expected, checked: run.checked, deleted: run.deleted, failed: run.failed, requests: run.requests, throttled: run.throttled };
}

/** Identities with a result: checked, deleted or failed. */
export function accountedFor(run: Pick<AuditRun, "checked" | "deleted" | "failed">): number {
  return run.checked + run.deleted + run.failed;
}

/** Where one identity stands in a run. */
export type CheckStatus = "pending" | "checked" | "deleted" | "error";

/** One identity in one run: the inventory facts (as Resource Graph listed them) plus the result of checking it. */
export interface IdentityResult extends IdentityInventoryItem {
  runId: string;
  status: CheckStatus;
  /** `systemData.createdAt` from the identity GET. */
  createdAt?: string;
  /** Total associated resources (Azure's totalCount); set when status is "checked". */
  associationCount?: number;
  /** The stored first page(s) of associated resources (10 by default). */
  associations: AssociatedResource[];
  federatedCredentialCount?: number;
  checkedAt?: string;
  /** Last error when status is "error" (code and message, never credentials). */
  error?: string;
  /** Set by the findings step once the run's report is built: the verdict and, when unused, since when. */
  verdict?: string;
  unusedSince?: string;
}
