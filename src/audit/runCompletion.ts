/** What happens once, when a run has accounted for every identity. */
import { encodeQueueMessage } from "../queues.js";
import { releaseRunLock } from "../store/runs.js";
import { runCounters, type AuditRun } from "../model/run.js";
import type { AuditDeps } from "./deps.js";

/**
 * Releases the tenant's run lock and asks for the report. Called by whoever's write turned the run
 * "complete" (exactly one caller). If this process dies before the message is sent, the nightly report
 * timer picks up completed runs whose report is still pending.
 */
export async function announceCompletion(deps: AuditDeps, run: AuditRun): Promise<void> {
  const started = Date.parse(run.startedAt);
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  deps.log.info(`Run ${run.runId} complete`, {
    runId: run.runId,
    ...runCounters(run),
    durationMs: finished - started,
  });
  await releaseRunLock(deps.storage, run.tenantId, run.runId);
  await deps.storage.completedQueue.sendMessage(encodeQueueMessage({ kind: "completed", runId: run.runId, tenantId: run.tenantId }));
}
