/**
 * Audit runs: creation under a per-tenant lock, progress counters kept exact with ETag-guarded batch
 * transactions, and the index that lists a tenant's runs newest first.
 */
import { randomUUID } from "node:crypto";
import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import { accountedFor, type AuditRun, type RunTrigger } from "../model/run.js";
import type { IdentityResult } from "../model/identityResult.js";
import type { AuditScope } from "../arm/types.js";
import { statusCode } from "./storageAccount.js";
import type { AuditStorage } from "./auditStorage.js";
import { entityToRun, IDENTITY_ROW_PREFIX, identityToEntity, RUN_ROW, runToEntity, type Entity } from "./entities.js";
import { readScopeRows, scopeColumns, scopeRowEntities } from "./runScope.js";
import { identityKey, invertedTimeKey } from "./keys.js";

const LOCK_ROW = "active-run";
/** A run still enumerating after this long was abandoned by a crashed start: it may be taken over. */
const STALE_ENUMERATION_MS = 2 * 60 * 60 * 1000;
/**
 * A running run whose row has not changed for this long is stuck (its messages expired or were deleted
 * by hand): every recorded identity rewrites the row, and at 1 check per second silence this long means
 * nothing is being checked. Without this, one lost message would lock the tenant out of audits forever.
 */
const STALE_PROGRESS_MS = 6 * 60 * 60 * 1000;
/**
 * A lock naming a run whose row does not exist. Runs are written before their lock, so this is a start
 * of an older version caught between its two writes (or crashed there), or a run row deleted by hand:
 * held until the lock row is this old, then taken over. Far longer than any start takes.
 */
const STALE_LOCK_WITHOUT_RUN_MS = 10 * 60 * 1000;

export function isPreconditionFailed(error: unknown): boolean {
  return statusCode(error) === 412;
}

export const identityRowKey = (id: string): string => `${IDENTITY_ROW_PREFIX}${identityKey(id)}`;

export async function getRun(
  storage: AuditStorage,
  runId: string,
): Promise<(AuditRun & { etag: string; updatedAt?: string; writeId?: string }) | undefined> {
  try {
    const e = await storage.audits.getEntity<Record<string, unknown>>(runId, RUN_ROW);
    const updatedAt = typeof e.timestamp === "string" ? e.timestamp : undefined;
    const run = entityToRun(e);
    const scopeRows = typeof e.scopeRows === "number" ? e.scopeRows : 0;
    if (scopeRows > 0) run.scope = await readScopeRows(storage.audits, runId, scopeRows);
    const writeId = typeof e.writeId === "string" ? e.writeId : undefined;
    return { ...run, etag: e.etag, ...(updatedAt ? { updatedAt } : {}), ...(writeId ? { writeId } : {}) };
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw new Error(`Reading run ${runId} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** The run row: the run, with a large scope replaced by the count of the rows that hold it (store/runScope.ts). */
const runRow = (run: AuditRun): Entity => ({ ...runToEntity(run), ...scopeColumns(run.scope) });

export function newRunId(now: Date): string {
  // Sortable by time and unique without coordination.
  return `${now.toISOString().replace(/[-:.TZ]/g, "").slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

/** Why an unfinished run may be taken over, or undefined while it is alive. */
export function abandonedBecause(run: AuditRun & { updatedAt?: string }, now: Date): string | undefined {
  if (run.status === "enumerating" && now.getTime() - Date.parse(run.startedAt) > STALE_ENUMERATION_MS) {
    return "Enumeration did not finish (the start crashed)";
  }
  const lastChange = Date.parse(run.updatedAt ?? run.startedAt);
  if (run.status === "running" && now.getTime() - lastChange > STALE_PROGRESS_MS) {
    return `No progress since ${new Date(lastChange).toISOString()} (${accountedFor(run)} of ${run.expected} accounted for)`;
  }
  return undefined;
}

export type StartRunResult = { started: true; run: AuditRun } | { started: false; activeRunId: string };

async function readLock(locks: TableClient, tenantId: string) {
  try {
    return await locks.getEntity<{ runId: string; timestamp?: string }>(tenantId, LOCK_ROW);
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Points the tenant's lock at `run` unless another live run holds it; returns the holder's id if so.
 * The lock row is created with "insert" (409 if present), or replaced under its ETag when its run ended
 * or was abandoned, so of two starts racing on two instances exactly one writes it; the loser re-reads.
 */
async function takeRunLock(storage: AuditStorage, run: AuditRun, now: Date): Promise<string | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const lock = await readLock(storage.locks, run.tenantId);
    // Our own insert, whose answer was lost and which the storage SDK sent again (409): the lock is ours.
    if (lock?.runId === run.runId) return undefined;
    try {
      if (!lock) {
        await storage.locks.createEntity({ partitionKey: run.tenantId, rowKey: LOCK_ROW, runId: run.runId });
        return undefined;
      }
      const holder = await getRun(storage, lock.runId);
      if (!holder) {
        const lockAge = now.getTime() - Date.parse(lock.timestamp ?? "");
        if (!(lockAge > STALE_LOCK_WITHOUT_RUN_MS) && !Number.isNaN(lockAge)) return lock.runId;
      } else {
        const abandonment = abandonedBecause(holder, now);
        if ((holder.status === "running" || holder.status === "enumerating") && !abandonment) return holder.runId;
        if (abandonment) await failRun(storage, holder.runId, `${abandonment}; superseded by run ${run.runId}`);
      }
      await storage.locks.updateEntity({ partitionKey: run.tenantId, rowKey: LOCK_ROW, runId: run.runId }, "Replace", { etag: lock.etag });
      return undefined;
    } catch (error) {
      if (statusCode(error) === 409 || isPreconditionFailed(error)) continue; // another start won the race: look again
      throw error;
    }
  }
  throw new Error(`Could not take the run lock of tenant ${run.tenantId}: too much contention`);
}

/**
 * Creates a run unless one is already in progress for the tenant. The run row is written BEFORE the
 * lock names it, so a racing start that finds the lock always finds its run and sees it in progress (a
 * lock written first left a window in which the other start read "no such run" and took over). A start
 * that loses deletes its unlisted run row; one that wins lists the run in the tenant's index.
 */
export async function startRun(
  storage: AuditStorage,
  input: { tenantId: string; scope: AuditScope; trigger: RunTrigger; now: Date },
): Promise<StartRunResult> {
  const run: AuditRun = {
    runId: newRunId(input.now),
    tenantId: input.tenantId,
    scope: input.scope,
    trigger: input.trigger,
    status: "enumerating",
    startedAt: input.now.toISOString(),
    expected: 0,
    checked: 0,
    deleted: 0,
    failed: 0,
    requests: 0,
    throttled: 0,
    apiRequests: 0,
  };
  const scopeRows = scopeRowEntities(run.runId, run.scope);
  if (scopeRows.length === 0) await storage.audits.createEntity(runRow(run));
  else await storage.audits.submitTransaction([runRow(run), ...scopeRows].map((e): TransactionAction => ["create", e]));
  let activeRunId: string | undefined;
  try {
    activeRunId = await takeRunLock(storage, run, input.now);
  } catch (error) {
    await discardRunRow(storage, run);
    throw error;
  }
  if (activeRunId !== undefined) {
    await discardRunRow(storage, run);
    return { started: false, activeRunId };
  }
  await storage.runIndex.upsertEntity({
    partitionKey: run.tenantId,
    rowKey: invertedTimeKey(run.startedAt, run.runId),
    runId: run.runId,
    startedAt: run.startedAt,
  });
  return { started: true, run };
}

/** Removes the rows of a run that never started. Best effort: unlisted rows without a lock are inert. */
async function discardRunRow(storage: AuditStorage, run: AuditRun): Promise<void> {
  const rows = [runRow(run), ...scopeRowEntities(run.runId, run.scope)];
  await storage.audits.submitTransaction(rows.map((e): TransactionAction => ["delete", e])).catch(() => undefined);
}

/** Releases the tenant's lock if the run still holds it. */
export async function releaseRunLock(storage: AuditStorage, tenantId: string, runId: string): Promise<void> {
  const lock = await readLock(storage.locks, tenantId);
  if (!lock || lock.runId !== runId) return;
  try {
    await storage.locks.deleteEntity(tenantId, LOCK_ROW, { etag: lock.etag });
  } catch (error) {
    if (statusCode(error) !== 404 && !isPreconditionFailed(error)) throw error;
  }
}

type RunPatch = (run: AuditRun) => Partial<AuditRun> | undefined;

/**
 * Read-modify-write of the run row under its ETag, retried on conflict. Returns the run as written.
 *
 * Each write carries a fresh `writeId`. A write that reached storage but whose answer was lost (a
 * connection reset mid-request) is sent again by the storage SDK and refused with 412, as a lost race
 * would be; the next read shows our `writeId`, so the patch is not applied twice (counters stay exact).
 */
export async function updateRun(storage: AuditStorage, runId: string, patch: RunPatch): Promise<AuditRun> {
  let refusedWrite: { writeId: string; run: AuditRun } | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const run = await getRun(storage, runId);
    if (!run) throw new Error(`Run ${runId} does not exist`);
    if (refusedWrite && run.writeId === refusedWrite.writeId) return refusedWrite.run;
    const changes = patch(run);
    if (!changes) return run;
    const next: AuditRun = { ...run, ...changes };
    const writeId = randomUUID();
    try {
      await storage.audits.updateEntity({ ...runRow(next), writeId }, "Replace", { etag: run.etag });
      return next;
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      refusedWrite = { writeId, run: next };
      await jitter(attempt);
    }
  }
  throw new Error(`Updating run ${runId} failed: too many concurrent updates`);
}

export async function failRun(storage: AuditStorage, runId: string, reason: string): Promise<void> {
  await updateRun(storage, runId, (run) =>
    run.status === "complete" || run.status === "failed" ? undefined : { status: "failed", error: reason, finishedAt: new Date().toISOString() },
  );
}

function completionOf(run: AuditRun, now: Date): Partial<AuditRun> {
  const accounted = accountedFor(run);
  return run.status === "running" && accounted >= run.expected ? { status: "complete", finishedAt: now.toISOString() } : {};
}

/** Enumeration is over: the run now knows how many identities it expects. */
export async function finishEnumeration(storage: AuditStorage, runId: string, expected: number, now: Date): Promise<AuditRun> {
  return updateRun(storage, runId, (run) => {
    if (run.status !== "enumerating") return undefined;
    const next: AuditRun = { ...run, expected, status: "running" };
    return { expected, status: "running", ...completionOf(next, now) };
  });
}

export async function addRunCounters(storage: AuditStorage, runId: string, delta: { requests?: number; throttled?: number; apiRequests?: number }): Promise<void> {
  if (!delta.requests && !delta.throttled && !delta.apiRequests) return;
  await updateRun(storage, runId, (run) => ({
    requests: run.requests + (delta.requests ?? 0),
    throttled: run.throttled + (delta.throttled ?? 0),
    apiRequests: run.apiRequests + (delta.apiRequests ?? 0),
  }));
}

export type RecordOutcome = { recorded: false } | { recorded: true; run: AuditRun; completedNow: boolean };

/**
 * Writes an identity's final result and counts it on the run in ONE batch transaction (same partition,
 * both rows ETag-guarded). The identity leaves "pending" exactly once however many times its message
 * is delivered, so the counters are exact and the run turns "complete" exactly once, even when the
 * last two identities finish together (one of the two batches fails with 412 and re-reads).
 */
export async function recordIdentityResult(
  storage: AuditStorage,
  result: IdentityResult,
  counters: { requests: number; throttled?: number; apiRequests?: number },
  now: Date,
): Promise<RecordOutcome> {
  if (result.status === "pending") throw new Error("recordIdentityResult needs a final status");
  const rowKey = identityRowKey(result.id);
  let refused = false;
  for (let attempt = 0; attempt < 50; attempt++) {
    const [current, run] = await Promise.all([
      storage.audits.getEntity<Record<string, unknown>>(result.runId, rowKey).catch((error: unknown) => {
        if (statusCode(error) === 404) return undefined;
        throw error;
      }),
      getRun(storage, result.runId),
    ]);
    if (!run) throw new Error(`Run ${result.runId} does not exist (identity ${result.id})`);
    if (!current) throw new Error(`Identity ${result.id} is not part of run ${result.runId}`);
    if (current.status !== "pending") {
      // Our batch reached storage but its answer was lost, and the SDK's resend was refused (412): the row
      // holds our result (same status, same start of check), so it was recorded, once, by us.
      const ours = refused && result.checkedAt !== undefined && current.status === result.status && current.checkedAt === result.checkedAt;
      if (!ours) return { recorded: false };
      return { recorded: true, run, completedNow: run.status === "complete" && run.finishedAt === now.toISOString() };
    }
    const counted: AuditRun = {
      ...run,
      checked: run.checked + (result.status === "checked" ? 1 : 0),
      deleted: run.deleted + (result.status === "deleted" ? 1 : 0),
      failed: run.failed + (result.status === "error" ? 1 : 0),
      requests: run.requests + counters.requests,
      throttled: run.throttled + (counters.throttled ?? 0),
      apiRequests: run.apiRequests + (counters.apiRequests ?? 0),
    };
    const next: AuditRun = { ...counted, ...completionOf(counted, now) };
    const actions: TransactionAction[] = [
      ["update", identityToEntity(result, rowKey), "Replace", { etag: current.etag }],
      ["update", runRow(next), "Replace", { etag: run.etag }],
    ];
    try {
      await storage.audits.submitTransaction(actions);
      return { recorded: true, run: next, completedNow: run.status !== "complete" && next.status === "complete" };
    } catch (error) {
      if (!isPreconditionFailed(error)) throw new Error(`Recording ${result.id} on run ${result.runId} failed: ${(error as Error).message}`, { cause: error });
      refused = true;
      await jitter(attempt);
    }
  }
  throw new Error(`Recording ${result.id} on run ${result.runId} failed: too many concurrent updates`);
}

async function jitter(attempt: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * (attempt + 1))));
}

/** Runs of a tenant, newest first. */
export async function* listRuns(storage: AuditStorage, tenantId: string): AsyncGenerator<AuditRun> {
  const rows = storage.runIndex.listEntities<{ runId: string }>({
    queryOptions: { filter: odata`PartitionKey eq ${tenantId}`, select: ["runId"] },
  });
  for await (const row of rows) {
    const run = await getRun(storage, row.runId);
    if (run) yield run;
  }
}

/** The newest completed run of the tenant, optionally the newest that `accept`s. */
export async function latestCompletedRun(storage: AuditStorage, tenantId: string, accept: (run: AuditRun) => boolean = () => true): Promise<AuditRun | undefined> {
  for await (const run of listRuns(storage, tenantId)) {
    if (run.status === "complete" && accept(run)) return run;
  }
  return undefined;
}

/**
 * Fast mode: records identities the Resource Graph sweep showed referenced as checked, without any request,
 * up to 99 per batch transaction together with the run's counter (one partition, every row ETag-guarded),
 * so the counts stay exact as with `recordIdentityResult`. `fields` are merged onto each identity's row;
 * `etag` is the row's when the caller listed it pending (it is then not read again). Returns how many identities left "pending" here (a second call records none of them again).
 */
export async function recordWithoutCheck(
  storage: AuditStorage,
  runId: string,
  identities: { id: string; fields: Record<string, unknown>; etag?: string }[],
): Promise<number> {
  let recorded = 0;
  for (let start = 0; start < identities.length; start += 99) {
    const batch = identities.slice(start, start + 99);
    for (let attempt = 0; ; attempt++) {
      const run = await getRun(storage, runId);
      if (!run) throw new Error(`Run ${runId} does not exist`);
      // A pending row listed with its ETag is not read again (at 10,000 identities, 9,500 reads saved); if it
      // changed since, the transaction fails on that ETag and the retry reads every row.
      const rows = await Promise.all(
        batch.map((identity) =>
          attempt === 0 && identity.etag !== undefined
            ? { status: "pending", etag: identity.etag }
            : storage.audits.getEntity<Record<string, unknown>>(runId, identityRowKey(identity.id)).catch((error: unknown) => {
                if (statusCode(error) === 404) return undefined;
                throw error;
              }),
        ),
      );
      const pending = batch.flatMap((identity, k) => {
        const row = rows[k];
        return row && row.status === "pending" ? [{ identity, etag: row.etag }] : [];
      });
      if (pending.length === 0) break;
      const counted: AuditRun = { ...run, checked: run.checked + pending.length };
      const actions: TransactionAction[] = [
        ...pending.map(({ identity, etag }): TransactionAction => [
          "update",
          { partitionKey: runId, rowKey: identityRowKey(identity.id), ...identity.fields, status: "checked" },
          "Merge",
          { etag },
        ]),
        ["update", runRow(counted), "Replace", { etag: run.etag }],
      ];
      try {
        await storage.audits.submitTransaction(actions);
        recorded += pending.length;
        break;
      } catch (error) {
        if (!isPreconditionFailed(error) || attempt >= 50) throw new Error(`Recording referenced identities of run ${runId} failed: ${(error as Error).message}`, { cause: error });
        await jitter(attempt);
      }
    }
  }
  return recorded;
}
