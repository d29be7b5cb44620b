/**
 * Starting a run: take the tenant's run lock, enumerate identities with Resource Graph page by page,
 * store each page as pending rows and enqueue one message per identity. Memory stays flat whatever the
 * tenant's size: one page (at most 1000 identities) is held at a time.
 */
import { pMapIterable } from "p-map";
import { listIdentities } from "../arm/index.js";
import type { AuditScope, IdentityInventoryItem } from "../arm/types.js";
import { encodeQueueMessage } from "../queues.js";
import { insertInventory } from "../store/identityResults.js";
import { failRun, finishEnumeration, releaseRunLock, startRun, type StartRunResult } from "../store/runs.js";
import type { AuditRun, RunTrigger } from "./model.js";
import type { AuditDeps } from "./deps.js";
import { announceCompletion } from "./runCompletion.js";

export interface StartAuditRequest {
  tenantId: string;
  scope: AuditScope;
  trigger: RunTrigger;
}

export type StartAuditResult = StartRunResult;

/** Creates the run only (fast): used by the HTTP trigger, which answers 202 before enumeration ends. */
export async function createAuditRun(deps: AuditDeps, request: StartAuditRequest): Promise<StartAuditResult> {
  return startRun(deps.storage, { ...request, now: deps.now() });
}

/** Starts reading the next element while the consumer works on the current one. */
async function* oneAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  for (;;) {
    const current = await next;
    if (current.done) return;
    next = iterator.next();
    // Observed here so a failure while the consumer stops early is not an unhandled rejection; a
    // consumer that goes on gets it from the `await` above.
    next.catch(() => undefined);
    yield current.value;
  }
}

async function* eachOf<T>(pages: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}

/** Enumerates and enqueues the identities of a run created by `createAuditRun`. */
export async function enumerateRun(deps: AuditDeps, run: AuditRun): Promise<AuditRun> {
  const { storage, log } = deps;
  let expected = 0;
  // insertInventory de-duplicates exactly (a second insert of a row fails), so the client keeps no id set.
  async function* storedPages(): AsyncGenerator<IdentityInventoryItem[]> {
    for await (const page of listIdentities(deps.arm, run.scope, { dedupe: false })) {
      const inserted = await insertInventory(storage, run.runId, page);
      expected += inserted.length;
      yield inserted;
    }
  }
  const send = (item: IdentityInventoryItem) =>
    storage.checkQueue.sendMessage(encodeQueueMessage({ kind: "check", runId: run.runId, tenantId: run.tenantId, identityId: item.id }));
  try {
    // The queue is the slow part: its sends never wait for a page. The next page is listed and stored
    // while the current one is sent, and no more than two pages are held in memory. Results are not
    // kept (pMapIterable, not pMap), so memory does not grow with the tenant.
    const concurrency = deps.settings.enqueueConcurrency;
    const sends = pMapIterable(eachOf(oneAhead(storedPages())), send, { concurrency, backpressure: 2 * concurrency, preserveOrder: false });
    for await (const _ of sends);
  } catch (error) {
    const reason = `Enumerating identities failed after ${expected} identities: ${(error as Error).message}`;
    log.error(reason, { runId: run.runId, tenantId: run.tenantId });
    await failRun(storage, run.runId, reason);
    await releaseRunLock(storage, run.tenantId, run.runId);
    throw new Error(`Run ${run.runId}: ${reason}`, { cause: error });
  }
  const updated = await finishEnumeration(storage, run.runId, expected, deps.now());
  log.info(`Run ${run.runId} enumerated ${expected} identities`, { runId: run.runId, expected });
  if (updated.status === "complete") await announceCompletion(deps, updated);
  return updated;
}

/** The timer's whole job: start a run unless one is in progress, then enumerate it. */
export async function startAudit(deps: AuditDeps, request: StartAuditRequest): Promise<StartAuditResult> {
  const created = await createAuditRun(deps, request);
  if (!created.started) {
    deps.log.warn(`A run is already in progress for tenant ${request.tenantId}: ${created.activeRunId}; not starting another`);
    return created;
  }
  const run = await enumerateRun(deps, created.run);
  return { started: true, run };
}
