/** `uami-audit worker`: another process draining the check queue of a run in progress. */
import { createAuditDeps } from "../audit/createAuditDeps.js";
import { ensureAuditStorage } from "../store/auditStorage.js";
import { getRun } from "../store/runs.js";
import type { StorageAccount } from "../storage/storageAccount.js";
import type { QueueHostStats } from "./queueHost.js";
import { drainChecks, HOST_QUEUE_SETTINGS } from "./scan.js";

export interface WorkerOptions {
  runId: string;
  storage: StorageAccount;
  storagePrefix?: string;
  armEndpoint: string;
  token?: string;
  caFile?: string;
  ratePerSecond: number;
  rateSafetyMs?: number;
  leaseSeconds?: number;
  workers: number;
}

export async function runWorker(options: WorkerOptions): Promise<QueueHostStats> {
  const deps = createAuditDeps({
    arm: { armEndpoint: options.armEndpoint, armToken: options.token, armCaFile: options.caFile },
    limiter: { ratePerSecond: options.ratePerSecond, rateSafetyMs: options.rateSafetyMs ?? 50, maxSlotWaitMs: 20_000 },
    storageAccount: options.storage,
    storagePrefix: options.storagePrefix,
  });
  await ensureAuditStorage(deps.storage);
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
