import { app, type InvocationContext } from "@azure/functions";
import { handlePoisonedCheckMessage, type DepsSource } from "../app/checkQueue.js";
import { appRuntime } from "../app/runtime.js";
import { QUEUE_BASE_NAMES } from "../queues.js";

/**
 * Messages that failed every attempt: record the identity as `error` so reports say "not checked".
 * The host passes the message and context only; tests pass their own runtime as `getRuntime`.
 */
export async function recordPoisonedCheck(queueItem: unknown, context: InvocationContext, getRuntime: DepsSource = appRuntime): Promise<void> {
  await handlePoisonedCheckMessage(queueItem, context, getRuntime);
}

app.storageQueue("recordPoisonedCheck", {
  queueName: `${QUEUE_BASE_NAMES.check}-poison`,
  connection: "AzureWebJobsStorage",
  handler: recordPoisonedCheck,
});
