/** `uami-audit worker`: another process draining the check queue of a run in progress. */
import { getRun } from "../store/runs.js";
import type { StorageAccount } from "../storage/storageAccount.js";
import type { QueueHostStats } from "./queueHost.js";
import { cliAuditDeps, drainChecks, HOST_QUEUE_SETTINGS, type CliAuditOptions } from "./scan.js";

export interface WorkerOptions extends CliAuditOptions {
  runId: string;
  storage: StorageAccount;
}

export async function runWorker(options: WorkerOptions): Promise<QueueHostStats> {
  const deps = await cliAuditDeps(options, options.storage);
  let lastPoll = 0;
  let finished = false;
  return drainChecks(deps, {
    workers: options.workers,
    maxDequeueCount: HOST_QUEUE_SETTINGS.maxDequeueCount,
    visibilityTimeoutSeconds: HOST_QUEUE_SETTINGS.visibilityTimeoutSeconds,
    leaseSeconds: options.leaseSeconds,
    done: async () => {
      if (finished || Date.now() - lastPoll < 250) return finished;
      lastPoll = Date.now();
      const run = await getRun(deps.storage, options.runId);
      if (!run) throw new Error(`Run ${options.runId} does not exist in this storage account`);
      finished = run.status === "complete" || run.status === "failed";
      return finished;
    },
  });
}
