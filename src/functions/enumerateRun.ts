import { app, type InvocationContext } from "@azure/functions";
import { enumerateRun } from "../audit/startAudit.js";
import { QUEUE_BASE_NAMES } from "../queues.js";
import { readQueueMessage } from "./queueMessages.js";
import { getRun } from "../store/runs.js";
import { appRuntime, withInvocationLog, type AppRuntime } from "./runtime.js";

/** Enumerates an on-demand run created by the HTTP trigger. A failed enumeration fails the run (recorded), not the message. */
export function enumerateRunQueueHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (queueItem: unknown, context: InvocationContext): Promise<void> => {
    const message = readQueueMessage(queueItem, context, "enumerate");
    if (!message) return;
    const { deps } = await getRuntime();
    const run = await getRun(deps.storage, message.runId);
    if (!run || run.status !== "enumerating") return context.warn(`Run ${message.runId} is ${run?.status ?? "missing"}: nothing to enumerate`);
    try {
      await enumerateRun(withInvocationLog(deps, context), run);
    } catch (error) {
      // enumerateRun has recorded the failure on the run and released the lock; retrying would enumerate a failed run.
      context.error((error as Error).message);
    }
  };
}

app.storageQueue("enumerateRun", {
  queueName: QUEUE_BASE_NAMES.enumerate,
  connection: "AzureWebJobsStorage",
  handler: enumerateRunQueueHandler(),
});
