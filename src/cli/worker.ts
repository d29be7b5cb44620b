/** `uami-audit worker`: another process draining the check queue of a run in progress. */
import type { StorageAccount } from "../store/storageAccount.js";
import type { AuditRun } from "../model/run.js";
import { getRun } from "../store/runs.js";
import { watchLostChecks } from "./lostChecks.js";
import type { QueueHostStats } from "./queueHost.js";
import { cliAuditDeps, drainChecks, HOST_QUEUE_SETTINGS, runFinishedProbe, type CliAuditOptions } from "./scan.js";

export interface WorkerOptions extends CliAuditOptions {
  runId: string;
  storage: StorageAccount;
  /** Aborted to stop (Ctrl-C): no new check starts, the checks in flight record their result. */
  stopSignal?: AbortSignal;
  onProgress?: (run: AuditRun) => void;
  /** Lost check messages were sent again (lostChecks.ts). */
  onRequeued?: (count: number) => void;
}

export interface WorkerResult {
  stats: QueueHostStats;
  /** The run as the worker last read it. */
  run: AuditRun;
  /** Stopped by `stopSignal` before the run finished. */
  stopped: boolean;
}

/**
 * Drains the run's checks until it is complete or failed, sending lost check messages again once the queues
 * are empty (lostChecks.ts): so a worker also finishes a run whose scan was stopped or killed after its
 * enumeration. It does not build the report: `uami-audit report --run <id>` builds a missing one.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerResult> {
  const deps = await cliAuditDeps(options, options.storage);
  const initial = await getRun(deps.storage, options.runId);
  if (!initial) throw new Error(`Run ${options.runId} does not exist in this storage account (check --storage and --prefix)`);
  options.onProgress?.(initial);
  const stop = options.stopSignal;
  const finished = runFinishedProbe(deps.storage, options.runId, options.onProgress);
  let draining = true;
  void watchLostChecks(deps, options.runId, { stopped: () => !draining || (stop?.aborted ?? false), ...(options.onRequeued ? { onRequeued: options.onRequeued } : {}) });
  let stats: QueueHostStats;
  try {
    stats = await drainChecks(deps, {
      workers: options.workers,
      maxDequeueCount: HOST_QUEUE_SETTINGS.maxDequeueCount,
      visibilityTimeoutSeconds: HOST_QUEUE_SETTINGS.visibilityTimeoutSeconds,
      leaseSeconds: options.leaseSeconds,
      done: async () => (stop?.aborted ?? false) || (await finished()),
      maxStorageOutageMs: options.storageOutageLimitMs,
    });
  } finally {
    draining = false;
  }
  const run = (await getRun(deps.storage, options.runId)) ?? initial;
  options.onProgress?.(run);
  return { stats, run, stopped: (stop?.aborted ?? false) && run.status !== "complete" && run.status !== "failed" };
}
