/**
 * Check messages that are gone while their identities still wait: a scan stopped while it was sending them,
 * messages that expired (a queue keeps a message 7 days), a queue cleared by hand. Without them the run would
 * never complete, and the tenant would stay locked until the run is declared stuck (6 hours of silence).
 *
 * Which pending identities lack a message is only certain when the check queue and its poison queue are both
 * empty: `approximateMessagesCount` counts invisible messages too (leased by a worker, or handed back with a
 * delay after a 429), and is never below the real count. A message is deleted only after its identity was
 * recorded (or moved to the poison queue first), and a hand-back sends the new message before the old one goes,
 * so while an identity can still be checked, some message of it is counted. Then every identity still pending
 * gets one message again: each is checked once.
 *
 * Two processes draining the same run (a resumed scan and a worker) could both see the queues empty: a claim
 * row in the locks table (one per tenant, taken under its ETag, held for a minute) lets only one re-send.
 */
import { pMapIterable } from "p-map";
import type { AuditDeps } from "../audit/deps.js";
import { encodeQueueMessage } from "../queues.js";
import { statusCode } from "../store/storageAccount.js";
import type { AuditStorage } from "../store/auditStorage.js";
import { listIdentityResults } from "../store/identityResults.js";
import { getRun } from "../store/runs.js";

const CLAIM_ROW = "requeue-lost-checks";
const CLAIM_HOLD_MS = 60_000;

/** True when neither check queue holds a message, visible or not. */
export async function checkQueuesEmpty(storage: AuditStorage): Promise<boolean> {
  const counts = await Promise.all(
    [storage.checkQueue, storage.checkPoisonQueue].map(async (queue) => (await queue.getProperties()).approximateMessagesCount ?? 1),
  );
  return counts.every((count) => count === 0);
}

/** Takes the tenant's re-send claim for this run, unless another process took it less than a minute ago. */
async function claimRequeue(storage: AuditStorage, tenantId: string, runId: string, now: Date): Promise<boolean> {
  const row = { partitionKey: tenantId, rowKey: CLAIM_ROW, runId, at: now.toISOString() };
  try {
    const existing = await storage.locks.getEntity<{ runId?: string; at?: string }>(tenantId, CLAIM_ROW);
    if (existing.runId === runId && now.getTime() - Date.parse(existing.at ?? "") < CLAIM_HOLD_MS) return false;
    await storage.locks.updateEntity(row, "Replace", { etag: existing.etag });
    return true;
  } catch (error) {
    const status = statusCode(error);
    if (status === 404) {
      try {
        await storage.locks.createEntity(row);
        return true;
      } catch (createError) {
        if (statusCode(createError) === 409) return false;
        throw createError;
      }
    }
    if (status === 412) return false;
    throw error;
  }
}

/**
 * Sends a check message again for every identity of a running run that is still pending, when the check
 * queues are empty (see above). Returns how many were sent (0 when nothing was lost).
 */
export async function requeueLostChecks(deps: Pick<AuditDeps, "storage" | "settings" | "now">, runId: string): Promise<number> {
  const { storage } = deps;
  const run = await getRun(storage, runId);
  // Only a run whose enumeration is over: until then its start is still sending messages.
  if (!run || run.status !== "running") return 0;
  if (!(await checkQueuesEmpty(storage))) return 0;
  if (!(await claimRequeue(storage, run.tenantId, runId, deps.now()))) return 0;
  let sent = 0;
  const pending = async function* () {
    for await (const identity of listIdentityResults(storage, runId)) if (identity.status === "pending") yield identity;
  };
  const concurrency = deps.settings.enqueueConcurrency;
  const sends = pMapIterable(
    pending(),
    async (identity) => {
      await storage.checkQueue.sendMessage(encodeQueueMessage({ kind: "check", runId, tenantId: run.tenantId, identityId: identity.id }));
      sent++;
    },
    { concurrency, backpressure: 2 * concurrency, preserveOrder: false },
  );
  for await (const _ of sends);
  return sent;
}

/**
 * Looks for lost checks every `intervalMs` until `stopped()` says so; reports each re-send. The first look is
 * after `intervalMs` too: a run that was just enumerated or resumed has its messages in the queue.
 */
export function watchLostChecks(
  deps: Pick<AuditDeps, "storage" | "settings" | "now">,
  runId: string,
  options: { stopped: () => boolean; onRequeued?: (count: number) => void; onError?: (error: unknown) => void; intervalMs?: number },
): Promise<void> {
  const intervalMs = options.intervalMs ?? 3000;
  return (async () => {
    while (!options.stopped()) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
      if (options.stopped()) return;
      try {
        const sent = await requeueLostChecks(deps, runId);
        if (sent > 0) options.onRequeued?.(sent);
      } catch (error) {
        // A storage hiccup here only delays the look: the queue host reports outages itself.
        options.onError?.(error);
      }
    }
  })();
}
