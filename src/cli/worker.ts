/** `uami-audit worker`: another process draining the check queue of a run in progress. */
import type { StorageAccount } from "../storage/storageAccount.js";
import type { QueueHostStats } from "./queueHost.js";
import { cliAuditDeps, drainChecks, HOST_QUEUE_SETTINGS, runFinishedProbe, type CliAuditOptions } from "./scan.js";

export interface WorkerOptions extends CliAuditOptions {
  runId: string;
  storage: StorageAccount;
}

export async function runWorker(options: WorkerOptions): Promise<QueueHostStats> {
  const deps = await cliAuditDeps(options, options.storage);
  return drainChecks(deps, {
    workers: options.workers,
    maxDequeueCount: HOST_QUEUE_SETTINGS.maxDequeueCount,
    visibilityTimeoutSeconds: HOST_QUEUE_SETTINGS.visibilityTimeoutSeconds,
    leaseSeconds: options.leaseSeconds,
    done: runFinishedProbe(deps.storage, options.runId),
  });
}
