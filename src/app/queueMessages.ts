/** Reading a queue trigger's item: what every queue-triggered function does first. */
import type { InvocationContext } from "@azure/functions";
import { BadMessageError, parseQueueMessage, type QueueMessage } from "../queues.js";

/**
 * The message if it is well-formed and of the expected kind; otherwise logs why and returns undefined,
 * so the host deletes it: retrying cannot fix a malformed message, and it must not block the queue.
 */
export function readQueueMessage<K extends QueueMessage["kind"]>(
  queueItem: unknown,
  context: InvocationContext,
  kind: K,
): Extract<QueueMessage, { kind: K }> | undefined {
  let message: QueueMessage;
  try {
    message = parseQueueMessage(queueItem);
  } catch (error) {
    if (error instanceof BadMessageError) {
      context.error(`Dropping malformed ${kind} message: ${error.message}`);
      return undefined;
    }
    throw error;
  }
  if (message.kind !== kind) {
    context.error(`Dropping a ${message.kind} message found on the ${kind} queue (run ${message.runId})`);
    return undefined;
  }
  return message as Extract<QueueMessage, { kind: K }>;
}
