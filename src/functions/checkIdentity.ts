import { app, type InvocationContext } from "@azure/functions";
import { handleCheckMessage, type DepsSource } from "../app/checkQueue.js";
import { appRuntime } from "../app/runtime.js";
import { QUEUE_BASE_NAMES } from "../queues.js";

/**
 * One identity: rate-limited check, result stored exactly once. Transient failures rethrow (queue retries).
 * The host passes the message and context only; tests pass their own runtime as `getRuntime`.
 */
export async function checkIdentity(queueItem: unknown, context: InvocationContext, getRuntime: DepsSource = appRuntime): Promise<void> {
  await handleCheckMessage(queueItem, context, getRuntime);
}

app.storageQueue("checkIdentity", {
  queueName: QUEUE_BASE_NAMES.check,
  connection: "AzureWebJobsStorage",
  handler: checkIdentity,
});
