/**
 * Runs a queue-triggered handler the way the Azure Functions host does, so `uami-audit scan` exercises
 * the very handlers the app deploys: poll, hand the decoded message to the handler, delete it on
 * success, make it visible again after `visibilityTimeout` on failure, and move it to `<queue>-poison`
 * once it has failed `maxDequeueCount` times. Messages are base64-decoded and JSON-parsed first, as the
 * host does with `messageEncoding: base64`.
 *
 * A storage outage does not end the drain: each request is retried by the storage SDK for about a minute
 * (store/storageAccount.ts), and a poll that still fails is tried again with backoff, as the Functions
 * host keeps polling, until storage has given no answer for `maxStorageOutageMs`; then the drain ends
 * with a `StorageOutageError` (docs/decisions/0006-storage-outages.md).
 */
import { randomUUID } from "node:crypto";
import azureFunctions, { type InvocationContext as InvocationContextType, type LogHandler } from "@azure/functions";

// The package is a webpack bundle: Node's ESM loader cannot see its class exports by name (only `app`
// and a few others), so the class is taken from the CommonJS module object.
const { InvocationContext } = azureFunctions;
type InvocationContext = InvocationContextType;
import type { DequeuedMessageItem, QueueClient } from "@azure/storage-queue";
import { isTransientStorageError } from "../store/storageAccount.js";

export type QueueHandler = (message: unknown, context: InvocationContext) => Promise<void>;

export interface QueueHostOptions {
  functionName: string;
  queue: QueueClient;
  poisonQueue: QueueClient;
  handler: QueueHandler;
  /** Messages fetched per poll (host.json batchSize). */
  batchSize: number;
  /** Concurrent handler invocations in this process. */
  concurrency: number;
  maxDequeueCount: number;
  /** Seconds a failed message stays invisible before its retry (host.json visibilityTimeout). */
  visibilityTimeoutSeconds: number;
  /** How long a fetched message stays invisible to others; renewed at half-time while the handler runs, as the host does. Default 30. */
  leaseSeconds?: number;
  maxPollingIntervalMs: number;
  logHandler?: LogHandler;
  /** Polled between batches: the drain ends when it returns true. */
  shouldStop: () => boolean | Promise<boolean>;
  /** How long storage may give no answer (polls failing with transient errors) before the drain gives up. Default 15 minutes. */
  maxStorageOutageMs?: number;
}

/** A storage outage a scan or worker waits out before it gives up: long enough for a regional failover. */
export const DEFAULT_STORAGE_OUTAGE_LIMIT_MS = 15 * 60_000;
/** Longest pause between two polls while storage does not answer (each poll also retries inside the SDK). */
const OUTAGE_POLL_CAP_MS = 5000;

/** The drain gave up: storage did not answer for longer than `maxStorageOutageMs`. */
export class StorageOutageError extends Error {
  constructor(readonly outageMs: number, options: { cause?: unknown }) {
    super(`storage did not answer for ${Math.round(outageMs / 1000)} s (the limit); giving up: ${(options.cause as Error | undefined)?.message ?? "no answer"}`, options);
    this.name = "StorageOutageError";
  }
}

export interface QueueHostStats {
  succeeded: number;
  failed: number;
  poisoned: number;
}

function decode(text: string): unknown {
  const decoded = Buffer.from(text, "base64").toString("utf8");
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

/** Keeps the message invisible while its handler runs; a crashed process stops renewing and the message returns. */
function keepLeased(options: QueueHostOptions, item: DequeuedMessageItem, leaseSeconds: number) {
  let popReceipt = item.popReceipt;
  const timer = setInterval(() => {
    options.queue
      .updateMessage(item.messageId, popReceipt, undefined, leaseSeconds)
      .then((r) => {
        if (r.popReceipt) popReceipt = r.popReceipt;
      })
      .catch(() => undefined);
  }, (leaseSeconds * 1000) / 2);
  timer.unref();
  return {
    popReceipt: () => popReceipt,
    stop: () => clearInterval(timer),
  };
}

async function handleOne(options: QueueHostOptions, item: DequeuedMessageItem, stats: QueueHostStats): Promise<void> {
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: options.functionName,
    triggerMetadata: {
      id: item.messageId,
      dequeueCount: item.dequeueCount,
      insertionTime: item.insertedOn.toISOString(),
      popReceipt: item.popReceipt,
    },
    logHandler: options.logHandler ?? (() => {}),
  });
  const lease = keepLeased(options, item, options.leaseSeconds ?? 30);
  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await options.handler(decode(item.messageText), context);
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  } finally {
    lease.stop();
  }
  if (outcome.ok) {
    await options.queue.deleteMessage(item.messageId, lease.popReceipt());
    stats.succeeded++;
  } else {
    const error = outcome.error;
    stats.failed++;
    options.logHandler?.("error", `${options.functionName} failed (dequeue ${item.dequeueCount}): ${(error as Error).message}`);
    if (item.dequeueCount >= options.maxDequeueCount) {
      await options.poisonQueue.sendMessage(item.messageText);
      await options.queue.deleteMessage(item.messageId, lease.popReceipt());
      stats.poisoned++;
    } else {
      await options.queue.updateMessage(item.messageId, lease.popReceipt(), undefined, options.visibilityTimeoutSeconds);
    }
  }
}

/**
 * Keeps the host polling through a storage outage: a poll that failed with a transient storage error is
 * tried again after a pause (doubling up to OUTAGE_POLL_CAP_MS), until storage has not answered for the
 * limit. Any other error ends the drain at once, as before.
 */
function outageTracker(options: QueueHostOptions) {
  const limitMs = options.maxStorageOutageMs ?? DEFAULT_STORAGE_OUTAGE_LIMIT_MS;
  let lastAnswerAt = Date.now();
  let failures = 0;
  return {
    answered() {
      if (failures > 0) options.logHandler?.("information", `${options.functionName}: storage answers again after ${Math.round((Date.now() - lastAnswerAt) / 1000)} s`);
      failures = 0;
      lastAnswerAt = Date.now();
    },
    /** Waits before the next poll, or throws when the outage has lasted too long (or the error is not an outage). */
    async failed(error: unknown): Promise<void> {
      if (!isTransientStorageError(error)) throw error;
      const outageMs = Date.now() - lastAnswerAt;
      if (outageMs >= limitMs) throw new StorageOutageError(outageMs, { cause: error });
      if (failures === 0) options.logHandler?.("warning", `${options.functionName}: storage does not answer (${(error as Error).message}); polling on for up to ${Math.round(limitMs / 1000)} s`);
      failures++;
      const pause = Math.min(OUTAGE_POLL_CAP_MS, 250 * 2 ** failures, Math.max(0, limitMs - outageMs));
      await new Promise((r) => setTimeout(r, pause / 2 + (Math.random() * pause) / 2));
    },
  };
}

/** Drains until `shouldStop` says so. Polling backs off to `maxPollingIntervalMs` when the queue is empty. */
export async function runQueueHost(options: QueueHostOptions): Promise<QueueHostStats> {
  const stats: QueueHostStats = { succeeded: 0, failed: 0, poisoned: 0 };
  const inFlight = new Set<Promise<void>>();
  const outage = outageTracker(options);
  let idleDelay = 50;
  try {
    for (;;) {
      let receivedMessageItems: DequeuedMessageItem[];
      try {
        if (await options.shouldStop()) break;
        const room = options.concurrency - inFlight.size;
        if (room <= 0) {
          await Promise.race(inFlight);
          continue;
        }
        ({ receivedMessageItems } = await options.queue.receiveMessages({
          numberOfMessages: Math.min(32, Math.max(1, Math.min(room, options.batchSize))),
          visibilityTimeout: options.leaseSeconds ?? 30,
        }));
        outage.answered();
      } catch (error) {
        await outage.failed(error);
        continue;
      }
      idleDelay = await dispatch(options, receivedMessageItems, inFlight, stats, idleDelay);
    }
  } finally {
    // Handlers in flight finish (their own storage calls are bounded by the SDK's retries) before the drain returns or gives up.
    await Promise.allSettled(inFlight);
  }
  return stats;
}

/** Starts the handlers of a batch; waits a little when there was none. Returns the next idle delay. */
async function dispatch(options: QueueHostOptions, items: DequeuedMessageItem[], inFlight: Set<Promise<void>>, stats: QueueHostStats, idleDelay: number): Promise<number> {
  if (items.length === 0) {
    if (inFlight.size > 0) await Promise.race([...inFlight, new Promise((r) => setTimeout(r, idleDelay))]);
    else await new Promise((r) => setTimeout(r, idleDelay));
    return Math.min(options.maxPollingIntervalMs, idleDelay * 2);
  }
  for (const item of items) {
    const task = handleOne(options, item, stats)
      // A lost lease (the message was renewed or re-delivered meanwhile) only means it comes back: handlers are idempotent.
      .catch((error: unknown) => options.logHandler?.("warning", `${options.functionName}: queue bookkeeping failed: ${(error as Error).message}`))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  return 50;
}
