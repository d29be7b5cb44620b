/**
 * Starting a run: take the tenant's run lock, enumerate identities with Resource Graph page by page into
 * pending rows, gather the run-wide evidence, then enqueue one check per identity.
 */
import pMap, { pMapIterable } from "p-map";
import { listIdentities } from "../arm/index.js";
import type { AssociatedResource, AuditScope } from "../arm/types.js";
import { encodeQueueMessage } from "../queues.js";
import { insertInventory, listIdentityResults, listIdentityRows, writeHistory } from "../store/identityResults.js";
import { failRun, finishEnumeration, identityRowKey, recordWithoutCheck, releaseRunLock, startRun, updateRun, type StartRunResult } from "../store/runs.js";
import type { AuditMode, AuditRun, RunSources, RunTrigger } from "../model/run.js";
import type { IdentityResult } from "../model/identityResult.js";
import { addToInventoryIndex, emptyInventoryIndex, gatherRunEvidence, isReferenced, writeRowEvidence } from "./runEvidence.js";
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

/**
 * Enumerates the identities of a run created by `createAuditRun`, in three phases:
 * 1. the inventory: Resource Graph lists the identities page by page into pending rows (the next page is
 *    listed while the current one is stored);
 * 2. the run-wide evidence (runEvidence.ts): the API probe, the Resource Graph reference sweep, creation
 *    times and sign-ins, merged onto the rows;
 * 3. the checks: one queue message per pending row, streamed from the table (pMapIterable keeps no
 *    results, so memory does not grow with the tenant beyond the inventory index of phase 2).
 */
export async function enumerateRun(deps: AuditDeps, run: AuditRun): Promise<AuditRun> {
  const { storage, log } = deps;
  let expected = 0;
  const inventory = emptyInventoryIndex();
  try {
    // insertInventory de-duplicates exactly (a second insert of a row fails), so the count is exact.
    for await (const page of oneAhead(listIdentities(deps.arm, run.scope, { dedupe: false }))) {
      const inserted = await insertInventory(storage, run.runId, page);
      expected += inserted.length;
      for (const item of inserted) addToInventoryIndex(inventory, item);
    }
  } catch (error) {
    throw await failEnumeration(deps, run, `Enumerating identities failed after ${expected} identities: ${(error as Error).message}`, error);
  }
  log.info(`Run ${run.runId} listed ${expected} identities; gathering evidence`, { runId: run.runId, expected });
  await updateRun(storage, run.runId, () => ({ phase: "evidence" }));

  const evidence = await gatherRunEvidence(deps, run, inventory);
  const mode = modeFor(deps.settings.mode, evidence.sources);
  const fast = mode.mode === "fast";
  const candidate = (rowKey: string) => !fast || !isReferenced(evidence.rows.get(rowKey));
  // The candidates first: their checks wait for the tenant's 1-per-second slots, the long pole of a run, so
  // their evidence is stored and their messages sent before the evidence of the identities Resource Graph
  // decided (fast mode) is stored and they are recorded.
  try {
    await writeRowEvidence(deps, run.runId, evidence.rows, candidate);
  } catch (error) {
    throw await failEnumeration(deps, run, `Storing the evidence failed: ${(error as Error).message}`, error);
  }
  await updateRun(storage, run.runId, () => ({ sources: evidence.sources, ...mode, phase: "checks" }));
  const send = (item: IdentityResult) =>
    storage.checkQueue.sendMessage(encodeQueueMessage({ kind: "check", runId: run.runId, tenantId: run.tenantId, identityId: item.id }));
  let candidates = 0;
  try {
    const concurrency = deps.settings.enqueueConcurrency;
    const wanted = (identity: IdentityResult) => candidate(identityRowKey(identity.id));
    const sends = pMapIterable(filtered(pendingIdentities(deps, run.runId), wanted), send, { concurrency, backpressure: 2 * concurrency, preserveOrder: false });
    for await (const _ of sends) candidates++;
  } catch (error) {
    throw await failEnumeration(deps, run, `Enqueueing the checks failed: ${(error as Error).message}`, error);
  }
  log.info(`Run ${run.runId} enqueued ${candidates} checks (${mode.mode} mode)`, { runId: run.runId, candidates });
  if (fast) {
    try {
      // Stored on the rows before they are recorded, so a resumed run finds them (finishInterruptedEnumeration).
      await writeRowEvidence(deps, run.runId, evidence.rows, (rowKey) => !candidate(rowKey));
      const decided = await recordReferenced(deps, run);
      log.info(`Run ${run.runId}: ${decided} identities in use by Resource Graph's references, without a throttled request`, { runId: run.runId });
    } catch (error) {
      throw await failEnumeration(deps, run, `Recording the identities Resource Graph showed in use failed: ${(error as Error).message}`, error);
    }
  }
  const updated = await finishEnumeration(storage, run.runId, expected, deps.now());
  log.info(`Run ${run.runId} enumerated ${expected} identities`, { runId: run.runId, expected });
  if (updated.status === "complete") await announceCompletion(deps, updated);
  return updated;
}

/**
 * Ends the enumeration of a run whose start stopped after its evidence was gathered (phase `checks`: a CLI
 * scan interrupted while it recorded fast-mode identities or sent messages). Records the referenced
 * identities fast mode had not recorded yet, counts the inventory rows and lets the run complete; it sends no
 * message: which pending identities lack one is only known once the queue is empty (cli/lostChecks.ts). A run
 * stopped before the referenced identities' evidence reached their rows sweeps again for them
 * (restoreReferencedEvidence): without it they would be pending without a message, and go through the API.
 * Earlier phases cannot be finished (the inventory may be half listed): such a run is failed and restarted.
 */
export async function finishInterruptedEnumeration(deps: AuditDeps, run: AuditRun): Promise<AuditRun> {
  if (run.status !== "enumerating" || run.phase !== "checks") throw new Error(`Run ${run.runId} is ${run.status} in phase ${run.phase ?? "inventory"}: only an enumeration that reached its checks can be finished`);
  if (run.mode === "fast") {
    await restoreReferencedEvidence(deps, run);
    await recordReferenced(deps, run);
  }
  let expected = 0;
  for await (const _ of listIdentityResults(deps.storage, run.runId)) expected++;
  const updated = await finishEnumeration(deps.storage, run.runId, expected, deps.now());
  if (updated.status === "complete") await announceCompletion(deps, updated);
  return updated;
}

/**
 * Fast mode stores the referenced identities' evidence after the candidates' messages are sent; a run stopped
 * in between has pending rows with no evidence at all. The evidence is gathered again (the sweep is a few
 * Resource Graph queries) and stored on those of them it shows referenced, so recordReferenced finds them:
 * at 50,000 identities that is ~47,500 throttled requests not made. If the sweep fails now, they go through
 * the API, as in exhaustive mode.
 */
async function restoreReferencedEvidence(deps: AuditDeps, run: AuditRun): Promise<void> {
  const inventory = emptyInventoryIndex();
  const withoutEvidence = new Set<string>();
  for await (const identity of listIdentityResults(deps.storage, run.runId)) {
    addToInventoryIndex(inventory, identity);
    if (identity.status === "pending" && identity.referenceCount === undefined) withoutEvidence.add(identityRowKey(identity.id));
  }
  if (withoutEvidence.size === 0) return;
  const evidence = await gatherRunEvidence(deps, run, inventory);
  if (evidence.sources.resourceGraph.status !== "ok") return;
  await writeRowEvidence(deps, run.runId, evidence.rows, (rowKey) => withoutEvidence.has(rowKey) && isReferenced(evidence.rows.get(rowKey)));
}

/** Fast mode needs the sweep: without it every identity goes through the API, and the run says why. */
function modeFor(requested: AuditMode, sources: RunSources): Pick<AuditRun, "mode" | "modeReason"> {
  if (requested === "exhaustive") return { mode: "exhaustive" };
  if (sources.resourceGraph.status === "ok") return { mode: "fast" };
  return { mode: "exhaustive", modeReason: `fast mode needs the Resource Graph reference sweep, which failed (${sources.resourceGraph.reason ?? "no reason given"}): every identity goes through listAssociatedResources` };
}

/**
 * Fast mode: an identity the sweep shows referenced by a resource is in use, whatever else is true of it;
 * it is recorded checked with its references as its associations (source `resourceGraph`), without the
 * throttled request and without the per-identity ARM reads (its tags come from the inventory, its age
 * from the run's evidence). Only the others are enqueued for listAssociatedResources.
 */
async function recordReferenced(deps: AuditDeps, run: AuditRun): Promise<number> {
  const checkedAt = deps.now().toISOString();
  let decided = 0;
  let batch: { identity: IdentityResult; etag: string }[] = [];
  const flush = async () => {
    const results = batch.map(({ identity, etag }) => ({ etag, result: { ...identity, status: "checked", checkedAt, associations: associationsFromReferences(identity) } satisfies IdentityResult }));
    decided += await recordWithoutCheck(
      deps.storage,
      run.runId,
      results.map(({ result, etag }) => ({ id: result.id, etag, fields: { checkedAt, associations: JSON.stringify(result.associations) } })),
    );
    await pMap(results, ({ result }) => writeHistory(deps.storage, result, run.startedAt), { concurrency: 16 });
    batch = [];
  };
  for await (const row of listIdentityRows(deps.storage, run.runId)) {
    if (row.identity.status !== "pending" || (row.identity.referenceCount ?? 0) <= 0) continue;
    batch.push(row);
    if (batch.length >= 99) await flush();
  }
  if (batch.length > 0) await flush();
  return decided;
}

function associationsFromReferences(identity: IdentityResult): AssociatedResource[] {
  return (identity.references ?? []).map((reference) => {
    const parts = /^\/subscriptions\/([^/]+)(?:\/resourcegroups\/([^/]+))?/i.exec(reference.resourceId);
    return {
      id: reference.resourceId,
      name: reference.resourceId.split("/").pop() ?? reference.resourceId,
      type: reference.resourceType,
      resourceGroup: (parts?.[2] ?? "").toLowerCase(),
      subscriptionId: parts?.[1] ?? "",
      subscriptionDisplayName: "",
      source: "resourceGraph",
    };
  });
}

async function* filtered<T>(source: AsyncIterable<T>, keep: (item: T) => boolean): AsyncGenerator<T> {
  for await (const item of source) if (keep(item)) yield item;
}

async function* pendingIdentities(deps: AuditDeps, runId: string): AsyncGenerator<IdentityResult> {
  for await (const identity of listIdentityResults(deps.storage, runId)) if (identity.status === "pending") yield identity;
}

/** Marks the run failed and releases the tenant's lock; returns the error to throw. */
async function failEnumeration(deps: AuditDeps, run: AuditRun, reason: string, cause: unknown): Promise<Error> {
  deps.log.error(reason, { runId: run.runId, tenantId: run.tenantId });
  await failRun(deps.storage, run.runId, reason);
  await releaseRunLock(deps.storage, run.tenantId, run.runId);
  return new Error(`Run ${run.runId}: ${reason}`, { cause });
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
