import { app, type InvocationContext } from "@azure/functions";
import { recordPoisonedCheck } from "../audit/checkIdentity.js";
import { QUEUE_BASE_NAMES } from "../queues.js";
import { readQueueMessage } from "./queueMessages.js";
import { appRuntime, withInvocationLog, type AppRuntime } from "./runtime.js";

/** Messages that failed every attempt: record the identity as `error` so reports say "not checked". */
export function checkIdentityPoisonHandler(getRuntime: () => Promise<Pick<AppRuntime, "deps">> = appRuntime) {
  return async (queueItem: unknown, context: InvocationContext): Promise<void> => {
    const message = readQueueMessage(queueItem, context, "check");
    if (!message) return;
    const { deps } = await getRuntime();
    const outcome = await recordPoisonedCheck(withInvocationLog(deps, context), message);
    context.warn(`Poisoned check of ${message.identityId} in run ${message.runId}: ${outcome.outcome}`);
  };
}

app.storageQueue("recordPoisonedCheck", {
  queueName: `${QUEUE_BASE_NAMES.check}-poison`,
  connection: "AzureWebJobsStorage",
  handler: checkIdentityPoisonHandler(),
});
