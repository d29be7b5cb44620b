/**
 * The tables, queues and container the audit uses, opened once. Names can carry a prefix so tests and
 * the CLI can share one storage account without seeing each other's data; the deployed app uses none.
 *
 * | table          | PartitionKey        | RowKey                      | holds                                   |
 * |----------------|---------------------|-----------------------------|-----------------------------------------|
 * | audits         | runId               | `run` / `i_<identityKey>`   | the run row and one row per identity    |
 * |                |                     | `scope_NNNN`                | a scope too large for the run row       |
 * | auditindex     | tenantId            | inverted start time + runId | runs of a tenant, newest first           |
 * | auditlocks     | tenantId            | `active-run`                | the one run in progress per tenant       |
 * | associations   | runId `_` identityKey | zero-padded position      | stored associated resources              |
 * | identityhistory| identityKey         | inverted run start + runId  | one identity's results across runs       |
 * | roleassignments| runId               | encoded assignment id       | role assignments of the run's principals |
 * | ratelimits     | tenantId            | operation                   | the global rate limiter's next free slot |
 */
import type { TableClient } from "@azure/data-tables";
import type { QueueClient } from "@azure/storage-queue";
import type { ContainerClient } from "@azure/storage-blob";
import { queueNames } from "../queues.js";
import { containerClient, queueClient, statusCode, tableClient, type StorageAccount, type StorageClientOptions } from "./storageAccount.js";

export interface AuditStorage {
  audits: TableClient;
  runIndex: TableClient;
  locks: TableClient;
  associations: TableClient;
  history: TableClient;
  roleAssignments: TableClient;
  rateLimits: TableClient;
  checkQueue: QueueClient;
  checkPoisonQueue: QueueClient;
  /** Where the Functions host puts poison-queue messages whose own handler failed: kept for a person to read. */
  checkPoisonDeadLetterQueue: QueueClient;
  completedQueue: QueueClient;
  completedPoisonQueue: QueueClient;
  enumerateQueue: QueueClient;
  reports: ContainerClient;
}

/** `options.retryMs`: how long each request is retried through a storage outage (store/storageAccount.ts). */
export function openAuditStorage(account: StorageAccount, prefix = "", options: StorageClientOptions = {}): AuditStorage {
  const names = queueNames(prefix);
  const table = (name: string) => tableClient(account, `${prefix}${name}`, options);
  const queue = (name: string) => queueClient(account, name, options);
  return {
    audits: table("audits"),
    runIndex: table("auditindex"),
    locks: table("auditlocks"),
    associations: table("associations"),
    history: table("identityhistory"),
    roleAssignments: table("roleassignments"),
    rateLimits: table("ratelimits"),
    checkQueue: queue(names.check),
    checkPoisonQueue: queue(names.checkPoison),
    checkPoisonDeadLetterQueue: queue(`${names.checkPoison}-poison`),
    completedQueue: queue(names.completed),
    completedPoisonQueue: queue(names.completedPoison),
    enumerateQueue: queue(names.enumerate),
    reports: containerClient(account, prefix ? `${prefix}-reports` : "uami-audit-reports", options),
  };
}

function isConflict(error: unknown): boolean {
  return statusCode(error) === 409;
}

/** Creates every table, queue and the container if missing; safe to call on every cold start. */
export async function ensureAuditStorage(storage: AuditStorage): Promise<void> {
  const tables = [storage.audits, storage.runIndex, storage.locks, storage.associations, storage.history, storage.roleAssignments, storage.rateLimits];
  const queues = [storage.checkQueue, storage.checkPoisonQueue, storage.checkPoisonDeadLetterQueue, storage.completedQueue, storage.completedPoisonQueue, storage.enumerateQueue];
  await Promise.all([
    ...tables.map((t) => t.createTable().catch((e: unknown) => { if (!isConflict(e)) throw e; })),
    ...queues.map((q) => q.createIfNotExists()),
    storage.reports.createIfNotExists(),
  ]);
}
