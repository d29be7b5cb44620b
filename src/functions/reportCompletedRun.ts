import { app, type InvocationContext } from "@azure/functions";
import { readQueueMessage } from "../app/queueMessages.js";
import { appRuntime, findingsSettings, mailSettings, withInvocationLog, type AppRuntime } from "../app/runtime.js";
import { reportRun } from "../audit/runReport.js";
import { QUEUE_BASE_NAMES } from "../queues.js";

/**
 * When a run completes: build and store its report, then send the alert digest. Failures retry through the queue.
 * The host passes the message and context only; tests pass their own runtime as `getRuntime`.
 */
export async function reportCompletedRun(queueItem: unknown, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<void> {
  const message = readQueueMessage(queueItem, context, "completed");
  if (!message) return;
  const runtime = await getRuntime();
  const report = await reportRun(withInvocationLog(runtime.deps, context), message.runId, findingsSettings(runtime.config), mailSettings(runtime.config));
  context.log(`Report of run ${message.runId}: ${report.unused.length} unused (${report.run.newUnusedCount} new)`);
}

app.storageQueue("reportCompletedRun", {
  queueName: QUEUE_BASE_NAMES.completed,
  connection: "AzureWebJobsStorage",
  handler: reportCompletedRun,
});
