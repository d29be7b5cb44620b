import { app, type InvocationContext } from "@azure/functions";
import { checkIdentity } from "../audit/checkIdentity.js";
import { QUEUE_BASE_NAMES } from "../queues.js";
import { readQueueMessage } from "./queueMessages.js";
import { appRuntime, withInvocationLog, type AppRuntime } from "./runtime.js";

export function dequeueCountOf(context: InvocationContext): number {
  const value = Number(context.triggerMetadata?.dequeueCount ?? 1);
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

/** One identity: rate-limited check, result stored exactly once. Transient failures rethrow (queue retries). */
/** Needs only the audit deps, so the CLI's queue host can run it without the app's settings. */
export function checkIdentityQueueHandler(getRuntime: () => Promise<Pick<AppRuntime, "deps">> = appRuntime) {
  return async (queueItem: unknown, context: InvocationContext): Promise<void> => {
    const message = readQueueMessage(queueItem, context, "check");
    if (!message) return;
    const { deps } = await getRuntime();
    const outcome = await checkIdentity(withInvocationLog(deps, context), message, { dequeueCount: dequeueCountOf(context) });
    context.log(`Identity ${message.identityId} in run ${message.runId}: ${outcome.outcome}`);
  };
}

app.storageQueue("checkIdentity", {
  queueName: QUEUE_BASE_NAMES.check,
  connection: "AzureWebJobsStorage",
  handler: checkIdentityQueueHandler(),
});
