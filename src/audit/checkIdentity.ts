/**
 * Checking one identity of a run: read it, count its federated credentials, and list its associated
 * resources at the tenant's global rate, then record the result exactly once.
 *
 * Failure rules (the queue contract, see README "Queues and failures"):
 * - throttled (429, or no slot soon enough): the message is handed back to the queue with a visibility
 *   delay and the handler returns normally, so throttling never burns the dequeue count;
 * - identity gone (404 on GET): recorded as `deleted`, not as unused;
 * - permanent failure (a 4xx that retrying cannot fix, a malformed answer): recorded as `error`;
 * - transient failure (5xx, network): rethrown so the queue retries; on the last attempt it is
 *   recorded as `error` instead, so a report says "not checked" rather than silently missing it.
 */
import {
  ArmError,
  getIdentity,
  isNotFound,
  isThrottled,
  isApiGone,
  isTransient,
  listAssociatedResourcesPage,
  type AssociatedResourcesApiVersion,
  listFederatedCredentials,
} from "../arm/index.js";
import type { AssociatedResource, IdentityDetails } from "../arm/types.js";
import { encodeQueueMessage, type CheckIdentityMessage } from "../queues.js";
import { getIdentityResult, writeAssociations, writeHistory } from "../store/identityResults.js";
import { addRunCounters, getRun, recordIdentityResult, updateRun } from "../store/runs.js";
import type { AuditDeps } from "./deps.js";
import type { AuditRun, IdentityResult } from "./model.js";
import { announceCompletion } from "./runCompletion.js";

/** The service returns at most this many associated resources per page. */
const PAGE_SIZE = 100;
/** 429s waited out in place while paging, per delivery, before the message is handed back instead. */
const MAX_IN_PLACE_429_RETRIES = 3;
/** Throttled hand-backs after which the identity is recorded as an error rather than retried forever. */
const MAX_THROTTLED_REQUEUES = 200;

export type CheckOutcome =
  | { outcome: "checked"; associationCount: number | null }
  | { outcome: "deleted" }
  | { outcome: "error"; error: string }
  | { outcome: "duplicate" }
  | { outcome: "requeued"; delayMs: number; reason: string }
  | { outcome: "skipped"; reason: string };

export interface DeliveryInfo {
  /** The queue's dequeue count for this delivery (1 on the first). */
  dequeueCount: number;
}

/** Thrown for transient failures the queue should retry. */
export class TransientCheckError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransientCheckError";
  }
}

class Throttled extends Error {
  constructor(readonly delayMs: number, reason: string, readonly was429: boolean) {
    super(reason);
  }
}

/**
 * Gone for good: ARM says the identity, its resource group or its subscription does not exist. Any other
 * 404 (a wrong route or api-version: InvalidResourceType, NoRegisteredProviderFound) is an error, never
 * "deleted": an identity must not drop out of the audit because of our own mistake.
 */
const GONE_CODES = new Set(["resourcenotfound", "resourcegroupnotfound", "subscriptionnotfound", "notfound"]);

export function isIdentityGone(error: unknown): boolean {
  return isNotFound(error) && GONE_CODES.has(String((error as { code?: unknown }).code ?? "").toLowerCase());
}

/** What one delivery cost, added to the run's counters whatever its outcome. */
interface CheckCounters {
  requests: number;
  /** Of `requests`, those to listAssociatedResources (the throttled API). */
  apiRequests: number;
  /** 429s received (each also held the whole tenant back by its Retry-After). */
  throttled: number;
}

interface Gathered {
  details: IdentityDetails;
  federatedCredentialCount: number;
  /** Undefined when listAssociatedResources is unavailable for the run: the verdict rests on the other evidence. */
  associationCount: number | undefined;
  associations: AssociatedResource[];
}

async function rateLimitedSlot(deps: AuditDeps, tenantId: string): Promise<void> {
  const grant = await deps.limiter.acquire(tenantId);
  if (!grant.granted) throw new Throttled(grant.retryAfterMs, "no rate-limit slot soon enough", false);
}

async function gather(deps: AuditDeps, run: AuditRun, message: CheckIdentityMessage, counter: CheckCounters): Promise<Gathered | "deleted"> {
  const id = message.identityId;
  let details: IdentityDetails;
  try {
    counter.requests++;
    details = await deps.paceRead(() => getIdentity(deps.arm, id));
  } catch (error) {
    if (isIdentityGone(error)) return "deleted";
    throw error;
  }
  let federatedCredentialCount: number;
  try {
    counter.requests++;
    federatedCredentialCount = (await deps.paceRead(() => listFederatedCredentials(deps.arm, id))).length;
  } catch (error) {
    if (isIdentityGone(error)) return "deleted";
    throw error;
  }

  const api = run.sources?.associationsApi;
  if (api?.status === "failed") return { details, federatedCredentialCount, associationCount: undefined, associations: [] };
  const apiVersion = api?.apiVersion as AssociatedResourcesApiVersion | undefined;

  const wanted = deps.settings.associationsToStore;
  const associations: AssociatedResource[] = [];
  let totalCount: number;
  let skipToken: string | undefined;
  let pagesRead = 0;
  for (;;) {
    await rateLimitedSlot(deps, message.tenantId);
    counter.requests++;
    counter.apiRequests++;
    const top = wanted === 0 ? 0 : Math.min(PAGE_SIZE, wanted - associations.length);
    let page;
    try {
      page = await listAssociatedResourcesPage(deps.arm, id, skipToken ? { top, skipToken } : { top }, apiVersion ? { apiVersion } : {});
    } catch (error) {
      if (isThrottled(error)) {
        const retryAfterMs = (error as ArmError).retryAfterMs ?? 1000;
        await deps.limiter.penalize(message.tenantId, retryAfterMs);
        counter.throttled++;
        // Half-way through the pages, ask for the same page again once the penalty (which holds every
        // worker of the tenant back until Retry-After) has passed, rather than hand the message back
        // and list the first pages again.
        if (pagesRead > 0 && counter.throttled <= MAX_IN_PLACE_429_RETRIES) continue;
        throw new Throttled(retryAfterMs, "HTTP 429 from listAssociatedResources", true);
      }
      if (isIdentityGone(error)) return "deleted";
      if (isApiGone(error)) {
        // The API vanished since the run's probe: the run goes on without it, not one error per identity.
        await markAssociationsApiGone(deps, run, error);
        return { details, federatedCredentialCount, associationCount: undefined, associations: [] };
      }
      throw error;
    }
    pagesRead++;
    totalCount = page.totalCount;
    associations.push(...page.value.slice(0, Math.max(0, wanted - associations.length)));
    skipToken = page.nextSkipToken;
    if (!skipToken || associations.length >= wanted || associations.length >= totalCount) break;
  }

  return { details, federatedCredentialCount, associationCount: totalCount, associations };
}

async function markAssociationsApiGone(deps: AuditDeps, run: AuditRun, error: unknown): Promise<void> {
  const reason = `listAssociatedResources became unavailable during the run: ${describe(error)}`;
  deps.log.warn(reason, { runId: run.runId });
  await updateRun(deps.storage, run.runId, (current) =>
    current.sources && current.sources.associationsApi.status !== "failed"
      ? { sources: { ...current.sources, associationsApi: { ...current.sources.associationsApi, status: "failed", reason, at: deps.now().toISOString() } } }
      : undefined,
  );
  if (run.sources) run.sources = { ...run.sources, associationsApi: { ...run.sources.associationsApi, status: "failed", reason } };
}

async function requeue(deps: AuditDeps, message: CheckIdentityMessage, delayMs: number, was429: boolean): Promise<void> {
  // Jitter spreads the hand-backs so they do not all come back in the same second. Only real 429s
  // count towards giving up: waiting for a busy schedule is normal at 1 request per second.
  const seconds = Math.min(7 * 24 * 3600 - 1, Math.ceil((delayMs + Math.random() * 1000) / 1000));
  const throttled = (message.throttled ?? 0) + (was429 ? 1 : 0);
  await deps.storage.checkQueue.sendMessage(encodeQueueMessage({ ...message, ...(throttled ? { throttled } : {}) }), {
    visibilityTimeout: seconds,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function finish(deps: AuditDeps, result: IdentityResult, counters: CheckCounters, runStartedAt: string): Promise<boolean> {
  await writeHistory(deps.storage, result, runStartedAt);
  const outcome = await recordIdentityResult(deps.storage, result, counters, deps.now());
  if (outcome.recorded && outcome.completedNow) await announceCompletion(deps, outcome.run);
  return outcome.recorded;
}

/** The run and the identity's row when the identity still awaits its result; otherwise why there is nothing to do. */
async function pendingCheck(deps: AuditDeps, message: CheckIdentityMessage): Promise<{ run: AuditRun; current: IdentityResult } | CheckOutcome> {
  const run = await getRun(deps.storage, message.runId);
  if (!run) return { outcome: "skipped", reason: `run ${message.runId} does not exist` };
  if (run.status === "failed") return { outcome: "skipped", reason: `run ${message.runId} has failed` };
  const current = await getIdentityResult(deps.storage, message.runId, message.identityId);
  if (!current) return { outcome: "skipped", reason: `identity ${message.identityId} is not part of run ${message.runId}` };
  if (current.status !== "pending") return { outcome: "duplicate" };
  return { run, current };
}

export async function checkIdentity(deps: AuditDeps, message: CheckIdentityMessage, delivery: DeliveryInfo): Promise<CheckOutcome> {
  const { storage, log } = deps;
  const pending = await pendingCheck(deps, message);
  if ("outcome" in pending) return pending;
  const { run, current } = pending;

  const counter: CheckCounters = { requests: 0, throttled: 0, apiRequests: 0 };
  const base: IdentityResult = { ...current, checkedAt: deps.now().toISOString() };
  try {
    const gathered = await gather(deps, run, message, counter);
    if (gathered === "deleted") {
      await finish(deps, { ...base, status: "deleted" }, counter, run.startedAt);
      return { outcome: "deleted" };
    }
    const result: IdentityResult = {
      ...base,
      status: "checked",
      tags: gathered.details.tags,
      createdAt: gathered.details.createdAt,
      clientId: gathered.details.clientId || base.clientId,
      principalId: gathered.details.principalId || base.principalId,
      associationCount: gathered.associationCount,
      federatedCredentialCount: gathered.federatedCredentialCount,
      associations: gathered.associations,
    };
    await writeAssociations(storage, message.runId, message.identityId, gathered.associations);
    const recorded = await finish(deps, result, counter, run.startedAt);
    return recorded ? { outcome: "checked", associationCount: gathered.associationCount ?? null } : { outcome: "duplicate" };
  } catch (error) {
    if (error instanceof Throttled) {
      if (error.was429 && (message.throttled ?? 0) >= MAX_THROTTLED_REQUEUES) {
        const reason = `throttled ${MAX_THROTTLED_REQUEUES} times; giving up`;
        await finish(deps, { ...base, status: "error", error: reason }, counter, run.startedAt);
        return { outcome: "error", error: reason };
      }
      await addRunCounters(storage, message.runId, counter);
      await requeue(deps, message, error.delayMs, error.was429);
      log.warn(`Identity ${message.identityId} deferred ${error.delayMs} ms: ${error.message}`, { runId: message.runId });
      return { outcome: "requeued", delayMs: error.delayMs, reason: error.message };
    }
    const reason = describe(error);
    const transient = isTransient(error) || !(error instanceof ArmError);
    const lastAttempt = delivery.dequeueCount >= deps.settings.maxDequeueCount;
    if (transient && !lastAttempt) {
      await addRunCounters(storage, message.runId, counter).catch(() => undefined);
      log.warn(`Checking ${message.identityId} failed (attempt ${delivery.dequeueCount}), will retry: ${reason}`, { runId: message.runId });
      throw new TransientCheckError(`Checking ${message.identityId} in run ${message.runId} failed: ${reason}`, { cause: error });
    }
    log.error(`Checking ${message.identityId} failed for good: ${reason}`, { runId: message.runId });
    await finish(deps, { ...base, status: "error", error: reason }, counter, run.startedAt);
    return { outcome: "error", error: reason };
  }
}

/** A message that reached the poison queue: the identity is recorded as `error` ("not checked"). */
export async function recordPoisonedCheck(deps: AuditDeps, message: CheckIdentityMessage): Promise<CheckOutcome> {
  const pending = await pendingCheck(deps, message);
  if ("outcome" in pending) return pending;
  const { run, current } = pending;
  const reason = "not checked: the check failed on every attempt (poison queue)";
  await finish(deps, { ...current, status: "error", error: reason, checkedAt: deps.now().toISOString() }, { requests: 0, throttled: 0, apiRequests: 0 }, run.startedAt);
  return { outcome: "error", error: reason };
}
