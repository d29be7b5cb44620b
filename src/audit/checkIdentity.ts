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
  isSubscriptionLimitError,
  isTransient,
  probeAssociatedResourcesApi,
  ASSOCIATED_RESOURCES_PROBE_ORDER,
  DEFAULT_ASSOCIATED_RESOURCES_API_VERSION,
  listAllAssociatedResources,
  type AssociatedResourcesApiVersion,
  listFederatedCredentials,
} from "../arm/index.js";
import { setTimeout as delay } from "node:timers/promises";
import type { AssociatedResource, IdentityDetails } from "../arm/types.js";
import { encodeQueueMessage, MAX_ENCODED_MESSAGE_CHARS, type CarriedIdentityRead, type CheckIdentityMessage } from "../queues.js";
import { getIdentityResult, writeAssociations, writeHistory } from "../store/identityResults.js";
import { addRunCounters, getRun, recordIdentityResult, updateRun } from "../store/runs.js";
import type { AuditDeps } from "./deps.js";
import type { AuditRun } from "../model/run.js";
import type { IdentityResult } from "../model/identityResult.js";
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
  /** What the delivery read before it was throttled: the hand-back carries it. */
  carried?: CarriedIdentityRead;
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

/** The identity GET and its federated credential count. */
type IdentityReads = Pick<Gathered, "details" | "federatedCredentialCount">;

/** A read carried by a handed-back message is used for this long; an older one is read again. */
const CARRIED_READ_MAX_AGE_MS = 60 * 60 * 1000;

async function rateLimitedSlot(deps: AuditDeps, tenantId: string): Promise<void> {
  const grant = await deps.limiter.acquire(tenantId);
  if (!grant.granted) throw new Throttled(grant.retryAfterMs, "no rate-limit slot soon enough", false);
}

async function readIdentity(deps: AuditDeps, id: string, counter: CheckCounters): Promise<IdentityReads | "deleted"> {
  try {
    counter.requests += 2;
    const [details, credentials] = await Promise.all([
      deps.paceRead(() => getIdentity(deps.arm, id)),
      deps.paceRead(() => listFederatedCredentials(deps.arm, id)),
    ]);
    return { details, federatedCredentialCount: credentials.length };
  } catch (error) {
    if (isIdentityGone(error)) return "deleted";
    throw error;
  }
}

/**
 * The identity's reads (GET, federated credentials), made at most once per delivery and only once the
 * check holds its first rate-limit slot: a check handed back for want of a slot has read nothing. A message
 * handed back after a 429 carries what was read (`read`), so the next delivery reads nothing again.
 */
function identityReads(deps: AuditDeps, message: CheckIdentityMessage, counter: CheckCounters) {
  const carried = message.read && deps.now().getTime() - Date.parse(message.read.at) < CARRIED_READ_MAX_AGE_MS ? message.read : undefined;
  let reads: Promise<IdentityReads | "deleted"> | undefined = carried ? Promise.resolve({ details: carried.details, federatedCredentialCount: carried.federatedCredentialCount }) : undefined;
  let readAt = carried?.at;
  const start = () => {
    if (!reads) {
      readAt = deps.now().toISOString();
      reads = readIdentity(deps, message.identityId, counter);
      reads.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
    }
    return reads;
  };
  return {
    /** Starts the reads (they run beside the first page's request). */
    start: () => void start(),
    /** The reads, started now if they were not. */
    result: start,
    /** What the reads gave if they were started, for a hand-back to carry; undefined otherwise. */
    async settled(): Promise<CarriedIdentityRead | "deleted" | undefined> {
      if (!reads) return undefined;
      const outcome = await reads.catch(() => undefined);
      if (outcome === "deleted") return "deleted";
      return outcome && readAt ? { at: readAt, ...outcome } : undefined;
    },
  };
}

async function gather(deps: AuditDeps, run: AuditRun, message: CheckIdentityMessage, counter: CheckCounters): Promise<Gathered | "deleted"> {
  const reads = identityReads(deps, message, counter);
  // The reads come before the first rate-limit slot, not beside its request: at the slot the worker has
  // nothing else in flight, so the limited request leaves on time (the first request of a process would
  // also pay for its TLS handshake). Requests that leave late fall into the next worker's second: 429s.
  await reads.result().catch(() => undefined);
  let listed: Awaited<ReturnType<typeof listAssociations>>;
  try {
    listed = run.sources?.associationsApi?.status === "failed" ? "unavailable" : await listAssociations(deps, run, message, counter, reads.start);
  } catch (error) {
    // The reads in flight end first: a 404 on the GET means deleted whatever the listing said, and a
    // hand-back carries what was read.
    const settled = await reads.settled();
    if (settled === "deleted") return "deleted";
    if (error instanceof Throttled && settled) error.carried = settled;
    throw error;
  }
  const identity = await reads.result();
  if (identity === "deleted" || listed === "deleted") return "deleted";
  if (listed === "unavailable") return { ...identity, associationCount: undefined, associations: [] };
  return { ...identity, associationCount: listed.totalCount, associations: listed.associations };
}

/** Transient failures (5xx, no answer) of a page retried in place, each in the next slot, per delivery. */
const MAX_IN_PLACE_TRANSIENT_RETRIES = 2;

/**
 * Pages through the identity's associations with listAllAssociatedResources (its skiptoken and page guards
 * hold), each request in its own slot of the tenant's limiter, at the run's api-version, keeping up to
 * `associationsToStore`. `onSlot` runs once a slot is granted (the identity's reads start beside the first
 * page). A 429 on the first page hands the message back (Throttled); half-way through, the worker waits
 * out Retry-After in place and asks for the same page again (up to MAX_IN_PLACE_429_RETRIES per
 * delivery). A 5xx or no answer is asked again in the next slot (up to MAX_IN_PLACE_TRANSIENT_RETRIES),
 * rather than sending the message back for the queue's visibility timeout while the tenant's slots idle.
 */
async function listAssociations(
  deps: AuditDeps,
  run: AuditRun,
  message: CheckIdentityMessage,
  counter: CheckCounters,
  onSlot: () => void,
): Promise<{ totalCount: number; associations: AssociatedResource[] } | "deleted" | "unavailable"> {
  const id = message.identityId;
  const wanted = deps.settings.associationsToStore;
  const top = wanted === 0 ? 0 : Math.min(PAGE_SIZE, wanted);
  let apiVersion = run.sources?.associationsApi?.apiVersion as AssociatedResourcesApiVersion | undefined;
  let transientRetries = 0;
  const beforeEachRequest = async () => {
    await rateLimitedSlot(deps, message.tenantId);
    onSlot();
    counter.requests++;
    counter.apiRequests++;
  };
  const retryPage = async (error: unknown, { pagesRead }: { pagesRead: number }): Promise<boolean> => {
    if (isThrottled(error)) {
      const retryAfterMs = (error as ArmError).retryAfterMs ?? 1000;
      await deps.limiter.penalize(message.tenantId, retryAfterMs);
      counter.throttled++;
      // Half-way through the pages, ask for the same page again once the penalty (which holds every
      // worker of the tenant back until Retry-After) has passed, rather than hand the message back
      // and list the first pages again.
      if (pagesRead > 0 && counter.throttled <= MAX_IN_PLACE_429_RETRIES) return true;
      throw new Throttled(retryAfterMs, "HTTP 429 from listAssociatedResources", true);
    }
    if (isTransient(error) && !isIdentityGone(error) && transientRetries < MAX_IN_PLACE_TRANSIENT_RETRIES) {
      transientRetries++;
      deps.log.warn(`listAssociatedResources failed for ${id} (${describe(error)}); asking again in the next slot`, { runId: message.runId });
      return true;
    }
    return false;
  };
  for (;;) {
    const associations: AssociatedResource[] = [];
    let totalCount = 0;
    try {
      const pages = listAllAssociatedResources(deps.arm, id, { top }, beforeEachRequest, { ...(apiVersion ? { apiVersion } : {}), retryPage });
      for await (const page of pages) {
        totalCount = page.totalCount;
        associations.push(...page.value.slice(0, Math.max(0, wanted - associations.length)));
        if (associations.length >= wanted || associations.length >= totalCount) break;
      }
      return { totalCount, associations };
    } catch (error) {
      if (error instanceof Throttled) throw error;
      if (isIdentityGone(error)) return "deleted";
      if (isApiGone(error) || isSubscriptionLimitError(error)) {
        // Not served at this api-version (any more), or refused for the whole tenant: decided once for the
        // run, which moves to a version that answers (listed again from the first page) or goes on
        // without the API (no error per identity).
        const next = await apiVersionAfter(deps, run, id, apiVersion, error, counter);
        if (next) {
          apiVersion = next;
          continue;
        }
        return "unavailable";
      }
      throw error;
    }
  }
}

/** Ends a probe whose question another worker of the run answered meanwhile (the run row says so). */
class ProbeDecidedElsewhere extends Error {
  constructor() {
    super("the run's listAssociatedResources api-version was decided by another worker");
    this.name = "ProbeDecidedElsewhere";
  }
}

/**
 * The run's probe, done by the first check that finds the api-version gone: another worker may have decided
 * already (the run row says so); otherwise the remaining preview versions are tried, each request in its
 * own slot of the tenant's limiter. Returns the version to go on with, or undefined once the API is
 * recorded unavailable for the run.
 */
async function apiVersionAfter(
  deps: AuditDeps,
  run: AuditRun,
  identityId: string,
  failed: AssociatedResourcesApiVersion | undefined,
  error: unknown,
  counter: CheckCounters,
): Promise<AssociatedResourcesApiVersion | undefined> {
  const current = (await getRun(deps.storage, run.runId))?.sources?.associationsApi;
  if (current?.status === "failed") return undefined;
  if (current?.apiVersion && current.apiVersion !== (failed ?? DEFAULT_ASSOCIATED_RESOURCES_API_VERSION)) {
    return current.apiVersion as AssociatedResourcesApiVersion;
  }
  if (isSubscriptionLimitError(error)) {
    await markAssociationsApiGone(deps, run, `listAssociatedResources refuses this tenant (Azure's 5,000-subscription limit): ${describe(error)}`);
    return undefined;
  }
  const tried = failed ?? DEFAULT_ASSOCIATED_RESOURCES_API_VERSION;
  let probe: Awaited<ReturnType<typeof probeAssociatedResourcesApi>>;
  try {
    probe = await probeAssociatedResourcesApi(deps.arm, identityId, {
      versions: ASSOCIATED_RESOURCES_PROBE_ORDER.filter((version) => version !== tried),
      beforeRequest: async () => {
        for (;;) {
          const grant = await deps.limiter.acquire(run.tenantId);
          if (grant.granted) break;
          await delay(Math.min(grant.retryAfterMs, 5000));
        }
        // Another worker of the run may have decided while this one waited for its slot: then this probe
        // stops, and its slot is not spent on a question already answered.
        const latest = (await getRun(deps.storage, run.runId))?.sources?.associationsApi;
        if (latest?.status === "failed" || (latest?.apiVersion && latest.apiVersion !== tried)) throw new ProbeDecidedElsewhere();
        counter.requests++;
        counter.apiRequests++;
      },
      onThrottled: async (retryAfterMs: number) => {
        counter.throttled++;
        await deps.limiter.penalize(run.tenantId, retryAfterMs);
      },
    });
  } catch (error) {
    if (!(error instanceof ProbeDecidedElsewhere)) throw error;
    const decided = (await getRun(deps.storage, run.runId))?.sources?.associationsApi;
    return decided?.status === "failed" ? undefined : (decided?.apiVersion as AssociatedResourcesApiVersion | undefined);
  }
  if (probe.available) {
    deps.log.warn(`listAssociatedResources answers at ${probe.apiVersion}, not ${tried}, in run ${run.runId}`, { runId: run.runId });
    await updateRun(deps.storage, run.runId, (latest) =>
      latest.sources ? { sources: { ...latest.sources, associationsApi: { ...latest.sources.associationsApi, apiVersion: probe.apiVersion, reason: `${tried} is gone (${describe(error)}); ${probe.apiVersion} answers` } } } : undefined,
    );
    return probe.apiVersion;
  }
  await markAssociationsApiGone(deps, run, `listAssociatedResources is unavailable (${probe.code}): ${probe.reason}; tried ${[tried, ...probe.tried].join(", ")}`);
  return undefined;
}

async function markAssociationsApiGone(deps: AuditDeps, run: AuditRun, reason: string): Promise<void> {
  deps.log.warn(`Run ${run.runId}: ${reason}`, { runId: run.runId });
  await updateRun(deps.storage, run.runId, (current) =>
    current.sources && current.sources.associationsApi.status !== "failed"
      ? { sources: { ...current.sources, associationsApi: { ...current.sources.associationsApi, status: "failed", reason, at: deps.now().toISOString() } } }
      : undefined,
  );
  if (run.sources) run.sources = { ...run.sources, associationsApi: { ...run.sources.associationsApi, status: "failed", reason } };
}

/** Queue Storage allows at most 7 days, and not past the message's expiry (7 days after sending by default). */
const MAX_VISIBILITY_TIMEOUT_SECONDS = 7 * 24 * 3600 - 1;

/**
 * How long a handed-back message stays invisible, in whole seconds: at least `delayMs` (Retry-After or the
 * wait for the tenant's next slot), plus up to one second of jitter from `random` (in [0, 1)) so that the
 * hand-backs of one throttled burst do not all come back in the same second; at most the queue's maximum.
 */
export function requeueDelaySeconds(delayMs: number, random: number): number {
  return Math.min(MAX_VISIBILITY_TIMEOUT_SECONDS, Math.ceil((delayMs + random * 1000) / 1000));
}

async function requeue(deps: AuditDeps, message: CheckIdentityMessage, delayMs: number, was429: boolean, carried: CarriedIdentityRead | undefined): Promise<void> {
  // Only real 429s count towards giving up: waiting for a busy schedule is normal at 1 request per second.
  const seconds = requeueDelaySeconds(delayMs, Math.random());
  const throttled = (message.throttled ?? 0) + (was429 ? 1 : 0);
  const { read: _previous, ...bare } = message;
  const next: CheckIdentityMessage = { ...bare, ...(throttled ? { throttled } : {}) };
  const read = carried ?? message.read;
  let text = encodeQueueMessage(read ? { ...next, read } : next);
  // Tags can make a read large (50 tags of 512 + 256 characters): a message that would not fit goes without it.
  if (text.length > MAX_ENCODED_MESSAGE_CHARS) text = encodeQueueMessage(next);
  await deps.storage.checkQueue.sendMessage(text, { visibilityTimeout: seconds });
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
      await requeue(deps, message, error.delayMs, error.was429, error.carried);
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
