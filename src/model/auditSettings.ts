/**
 * What every run of the audit works with (mode, stored associations, dequeue count, parallelism), and its
 * defaults: config.ts reads them from here, the audit's deps carry them.
 */
import type { AuditMode } from "./run.js";

export interface AuditSettings {
  /** `fast`: referenced identities are decided by the Resource Graph sweep; `exhaustive`: every identity through the API. */
  mode: AuditMode;
  /** Associated resources stored per identity (0 = count only). */
  associationsToStore: number;
  /** The queue's maxDequeueCount: the attempt with this count is the last before poison. */
  maxDequeueCount: number;
  /** Parallel enqueues / table batches during enumeration. */
  enqueueConcurrency: number;
  /** Ordinary ARM reads (identity GET, federated credentials) per second per process: they are not under the 1/s limit. */
  readsPerSecond: number;
}

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = {
  mode: "fast",
  associationsToStore: 10,
  maxDequeueCount: 5,
  enqueueConcurrency: 64,
  readsPerSecond: 20,
};
