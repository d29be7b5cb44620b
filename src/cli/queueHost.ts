/**
 * Runs a queue-triggered handler the way the Azure Functions host does, so `uami-audit scan` exercises
 * the very handlers the app deploys: poll, hand the decoded message to the handler, delete it on
 * success, make it visible again after `visibilityTimeout` on failure, and move it to `<queue>-poison`
 * once it has failed `maxDequeueCount` times. Messages are base64-decoded and JSON-parsed first, as the
 * host does with `messageEncoding: base64`.
 */
import { randomUUID } from "node:crypto";
import azureFunctions, { type InvocationContext as InvocationContextType, type LogHandler } from "@azure/functions";

// The package is a webpack bundle: Node's ESM loader cannot see its class exports by name (only `app`
// and a few others), so the class is taken from the CommonJS module object.
const { InvocationContext } = azureFunctions;
type InvocationContext = InvocationContextType;
import type { DequeuedMessageItem, QueueClient } from "@azure/storage-queue";

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

/** Drains until `shouldStop` says so. Polling backs off to `maxPollingIntervalMs` when the queue is empty. */
export async function runQueueHost(options: QueueHostOptions): Promise<QueueHostStats> {
  const stats: QueueHostStats = { succeeded: 0, failed: 0, poisoned: 0 };
  const inFlight = new Set<Promise<void>>();
  let idleDelay = 50;
  while (!(await options.shouldStop())) {
    const room = options.concurrency - inFlight.size;
    if (room <= 0) {
      await Promise.race(inFlight);
      continue;
    }
    const { receivedMessageItems } = await options.queue.receiveMessages({
      numberOfMessages: Math.min(32, Math.max(1, Math.min(room, options.batchSize))),
      visibilityTimeout: options.leaseSeconds ?? 30,
    });
    if (receivedMessageItems.length === 0) {
      if (inFlight.size > 0) await Promise.race([...inFlight, new Promise((r) => setTimeout(r, idleDelay))]);
      else await new Promise((r) => setTimeout(r, idleDelay));
      idleDelay = Math.min(options.maxPollingIntervalMs, idleDelay * 2);
      continue;
    }
    idleDelay = 50;
    for (const item of receivedMessageItems) {
      const task = handleOne(options, item, stats)
        // A lost lease (the message was renewed or re-delivered meanwhile) only means it comes back: handlers are idempotent.
        .catch((error: unknown) => options.logHandler?.("warning", `${options.functionName}: queue bookkeeping failed: ${(error as Error).message}`))
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  }
  await Promise.all(inFlight);
  return stats;
}
