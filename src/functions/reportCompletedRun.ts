import { app, type InvocationContext } from "@azure/functions";
import { publishRunFindings } from "../audit/runReport.js";
import { QUEUE_BASE_NAMES } from "../queues.js";
import { readQueueMessage } from "./queueMessages.js";
import { appRuntime, findingsSettings, mailSettings, withInvocationLog, type AppRuntime } from "./runtime.js";

/** When a run completes: build and store its report, then send the alert digest. Failures retry through the queue. */
export function reportCompletedRunQueueHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (queueItem: unknown, context: InvocationContext): Promise<void> => {
    const message = readQueueMessage(queueItem, context, "completed");
    if (!message) return;
    const runtime = await getRuntime();
    const report = await publishRunFindings(withInvocationLog(runtime.deps, context), message.runId, findingsSettings(runtime.config), mailSettings(runtime.config));
    context.log(`Report of run ${message.runId}: ${report.unused.length} unused (${report.run.newUnusedCount} new)`);
  };
}

app.storageQueue("reportCompletedRun", {
  queueName: QUEUE_BASE_NAMES.completed,
  connection: "AzureWebJobsStorage",
  handler: reportCompletedRunQueueHandler(),
});
