import { app, type InvocationContext } from "@azure/functions";
import { readQueueMessage } from "../app/queueMessages.js";
import { appRuntime, withInvocationLog, type AppRuntime } from "../app/runtime.js";
import * as audit from "../audit/startAudit.js";
import { QUEUE_BASE_NAMES } from "../queues.js";
import { getRun } from "../store/runs.js";

/**
 * Enumerates an on-demand run created by the HTTP trigger. A failed enumeration fails the run (recorded), not the message.
 * The host passes the message and context only; tests pass their own runtime as `getRuntime`.
 */
export async function enumerateRun(queueItem: unknown, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<void> {
  const message = readQueueMessage(queueItem, context, "enumerate");
  if (!message) return;
  const { deps } = await getRuntime();
  const run = await getRun(deps.storage, message.runId);
  if (!run || run.status !== "enumerating") return context.warn(`Run ${message.runId} is ${run?.status ?? "missing"}: nothing to enumerate`);
  try {
    await audit.enumerateRun(withInvocationLog(deps, context), run);
  } catch (error) {
    // enumerateRun has recorded the failure on the run and released the lock; retrying would enumerate a failed run.
    context.error((error as Error).message);
  }
}

app.storageQueue("enumerateRun", {
  queueName: QUEUE_BASE_NAMES.enumerate,
  connection: "AzureWebJobsStorage",
  handler: enumerateRun,
});
