/**
 * `uami-audit scan`: one whole audit on one machine, through the same handlers the function app runs.
 * Starts an in-memory Azurite unless a storage account is given, starts the run (or, with `resume`, picks up
 * the one a stopped scan left: resume.ts), then drains the check queue (and its poison queue) like the
 * Functions host until the run is accounted for, sending lost check messages again (lostChecks.ts). A stop
 * signal (Ctrl-C) ends the drain cleanly: the checks in flight record their result first.
 */
import type { LogHandler } from "@azure/functions";
import type { AuditScope } from "../arm/types.js";
import type { AuditDeps } from "../audit/deps.js";
import { DEFAULT_AUDIT_SETTINGS } from "../model/auditSettings.js";
import { createAuditDeps, type SignInConfig } from "../audit/createAuditDeps.js";
import type { AuditMode, AuditRun } from "../model/run.js";
import { enumerateRun } from "../audit/startAudit.js";
import { handleCheckMessage, handlePoisonedCheckMessage } from "../app/checkQueue.js";
import { reportRun } from "../audit/runReport.js";
import type { FindingsSettings, MailSettings } from "../config.js";
import type { AuditReport } from "../report/model.js";
import { DEFAULT_EXEMPT_TAG, DEFAULT_GRACE_PERIOD_DAYS } from "../findings/verdicts.js";
import { DEFAULT_MAX_SLOT_WAIT_MS } from "../limiter/tenantRateLimiter.js";
import { ensureAuditStorage } from "../store/auditStorage.js";
import { failRun, getRun, releaseRunLock } from "../store/runs.js";
import { startLocalAzurite, type LocalAzurite } from "./localAzurite.js";
import { DEFAULT_STORAGE_RETRY_MS, isTransientStorageError, type StorageAccount } from "../store/storageAccount.js";
import { DEFAULT_STORAGE_OUTAGE_LIMIT_MS, runQueueHost, type QueueHostStats } from "./queueHost.js";
import { watchLostChecks } from "./lostChecks.js";
import { openRun, settleInterruptedEnumeration, type OpenedRun, type ResumeHint } from "./resume.js";

/** host.json's queue contract, mirrored so the CLI behaves like the deployed app (a test checks they match). */
export const HOST_QUEUE_SETTINGS = {
  batchSize: 2,
  maxDequeueCount: DEFAULT_AUDIT_SETTINGS.maxDequeueCount,
  visibilityTimeoutSeconds: 10,
  maxPollingIntervalMs: 2000,
} as const;

/** What every CLI command that talks to ARM and storage needs. */
export interface CliAuditOptions {
  storagePrefix?: string;
  armEndpoint: string;
  token?: string;
  caFile?: string;
  ratePerSecond: number;
  rateSafetyMs?: number;
  workers: number;
  leaseSeconds?: number;
  /** How long a storage outage is waited out before the scan or worker gives up; default 15 minutes. */
  storageOutageLimitMs?: number;
}

/** Each storage request retries for a minute, or for the whole outage limit when that is shorter. */
function storageRetryMs(options: CliAuditOptions): number {
  return Math.min(DEFAULT_STORAGE_RETRY_MS, options.storageOutageLimitMs ?? DEFAULT_STORAGE_OUTAGE_LIMIT_MS);
}

/** The audit's collaborators for a CLI process, with storage ensured. */
export async function cliAuditDeps(
  options: CliAuditOptions,
  storageAccount: StorageAccount,
  extra: { associationsToStore?: number; maxDequeueCount?: number; signIns?: SignInConfig; mode?: AuditMode } = {},
): Promise<AuditDeps> {
  const deps = createAuditDeps({
    arm: { armEndpoint: options.armEndpoint, armToken: options.token, armCaFile: options.caFile },
    limiter: { ratePerSecond: options.ratePerSecond, rateSafetyMs: options.rateSafetyMs, maxSlotWaitMs: DEFAULT_MAX_SLOT_WAIT_MS },
    storageAccount,
    storagePrefix: options.storagePrefix,
    storageRetryMs: storageRetryMs(options),
    ...extra,
  });
  await ensureAuditStorage(deps.storage);
  return deps;
}

export interface ScanOptions extends CliAuditOptions {
  tenantId: string;
  scope: AuditScope;
  storage?: StorageAccount;
  associationsToStore?: number;
  maxDequeueCount?: number;
  visibilityTimeoutSeconds?: number;
  logHandler?: LogHandler;
  onProgress?: (run: AuditRun) => void;
  findings?: FindingsSettings;
  mail?: MailSettings;
  /** Where sign-in activity is read from; undefined: not checked. */
  signIns?: SignInConfig;
  /** Default `fast`. */
  mode?: AuditMode;
  /** Continue the tenant's unfinished run instead of starting one (resume.ts says how); needs `storage`. */
  resume?: boolean;
  /** True when `scope` was given explicitly (a resumed run keeps its own scope; a different one is refused). */
  scopeGiven?: boolean;
  /** How the suggested commands name the storage (never the connection string). */
  resumeHint?: ResumeHint;
  /**
   * Aborted to stop the scan (Ctrl-C): no new check is started, the checks in flight record their result,
   * and the scan returns with `stopped: true`. During enumeration, which cannot stop half-way, the scan
   * returns at once (settleInterruptedEnumeration says what becomes of the run).
   */
  stopSignal?: AbortSignal;
  /** Once the run is known: created, resumed or to be reported. */
  onRun?: (opened: OpenedRun) => void;
  /** Lost check messages were sent again (lostChecks.ts). */
  onRequeued?: (count: number) => void;
}

export interface ScanResult {
  run: AuditRun;
  /** The findings of a completed run (verdicts, risk, history); absent when the run did not complete. */
  report?: AuditReport;
  deps: AuditDeps;
  stats: QueueHostStats;
  /** Stops the Azurite this scan started, if any. */
  close(): Promise<void>;
  /** How the run was opened (new, resumed, unreported); undefined only if the scan stopped before. */
  opened?: OpenedRun;
  /** Stopped by `stopSignal` before the run finished. */
  stopped: boolean;
  /** When stopped: the run can be continued (`scan --resume`, `worker --run`): its state is in a storage account that outlives the scan. */
  resumable: boolean;
}

/** The enumeration's result, or "stopped" as soon as `signal` is aborted. */
async function untilStopped<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | "stopped"> {
  if (!signal) return work;
  if (signal.aborted) return "stopped";
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<"stopped">((resolve) => {
    onAbort = () => resolve("stopped");
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A `done` test for the queue host: true once the run is complete or failed. Reads the run row at most
 * every `intervalMs`, so a busy drain loop does not hammer the table; each read is reported to `onRun`.
 */
export function runFinishedProbe(
  storage: AuditDeps["storage"],
  runId: string,
  onRun?: (run: AuditRun) => void,
  intervalMs = 250,
): () => Promise<boolean> {
  let lastRead = 0;
  let finished = false;
  return async () => {
    if (finished || Date.now() - lastRead < intervalMs) return finished;
    lastRead = Date.now();
    const run = await getRun(storage, runId);
    if (!run) throw new Error(`Run ${runId} does not exist in this storage account`);
    onRun?.(run);
    finished = run.status === "complete" || run.status === "failed";
    return finished;
  };
}

/** Drains the check queues with `workers` concurrent invocations until `done()` says so. */
export async function drainChecks(
  deps: AuditDeps,
  options: {
    workers: number;
    maxDequeueCount: number;
    visibilityTimeoutSeconds: number;
    leaseSeconds?: number;
    logHandler?: LogHandler;
    done: () => Promise<boolean>;
    /** How long storage may not answer before the drain gives up (StorageOutageError); default 15 minutes. */
    maxStorageOutageMs?: number;
  },
): Promise<QueueHostStats> {
  const runtime = Promise.resolve({ deps });
  const getRuntime = () => runtime;
  // When one queue's host gives up (a storage outage past the limit), the other stops too.
  let gaveUp = false;
  const stopWhenEitherGivesUp = <T>(host: Promise<T>) =>
    host.catch((error: unknown) => {
      gaveUp = true;
      throw error;
    });
  const common = {
    batchSize: HOST_QUEUE_SETTINGS.batchSize,
    maxDequeueCount: options.maxDequeueCount,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxPollingIntervalMs: HOST_QUEUE_SETTINGS.maxPollingIntervalMs,
    leaseSeconds: options.leaseSeconds,
    logHandler: options.logHandler,
    shouldStop: async () => gaveUp || (await options.done()),
    maxStorageOutageMs: options.maxStorageOutageMs,
  };
  const [checks, poison] = await Promise.all([
    stopWhenEitherGivesUp(runQueueHost({
      ...common,
      functionName: "checkIdentity",
      queue: deps.storage.checkQueue,
      poisonQueue: deps.storage.checkPoisonQueue,
      handler: (queueItem, context) => handleCheckMessage(queueItem, context, getRuntime),
      concurrency: options.workers,
    })),
    stopWhenEitherGivesUp(runQueueHost({
      ...common,
      functionName: "recordPoisonedCheck",
      queue: deps.storage.checkPoisonQueue,
      // Failures of the poison handler itself are retried the same way; their own poison queue is a dead end.
      poisonQueue: deps.storage.checkPoisonDeadLetterQueue,
      handler: (queueItem, context) => handlePoisonedCheckMessage(queueItem, context, getRuntime),
      concurrency: 1,
    })),
  ]);
  return { succeeded: checks.succeeded + poison.succeeded, failed: checks.failed + poison.failed, poisoned: checks.poisoned };
}

export async function runScan(options: ScanOptions): Promise<ScanResult> {
  let azurite: LocalAzurite | undefined;
  let account = options.storage;
  if (!account) {
    azurite = await startLocalAzurite();
    account = { kind: "connectionString", connectionString: azurite.connectionString };
  }
  const close = async () => {
    await azurite?.stop();
  };
  try {
    const maxDequeueCount = options.maxDequeueCount ?? HOST_QUEUE_SETTINGS.maxDequeueCount;
    const deps = await cliAuditDeps(options, account, {
      associationsToStore: options.associationsToStore,
      maxDequeueCount,
      ...(options.signIns ? { signIns: options.signIns } : {}),
      ...(options.mode ? { mode: options.mode } : {}),
    });
    const stop = options.stopSignal;
    const opened = await openRun(deps, { tenantId: options.tenantId, scope: options.scope, trigger: "cli" }, {
      resume: options.resume ?? false,
      scopeGiven: options.scopeGiven ?? false,
      hint: options.resumeHint ?? { tenantId: options.tenantId },
    });
    options.onRun?.(opened);
    let run: AuditRun = opened.run;
    const runId = run.runId;
    const resumable = options.storage !== undefined;
    let stats: QueueHostStats = { succeeded: 0, failed: 0, poisoned: 0 };
    if (opened.kind === "new") {
      const enumeration = enumerateRun(deps, opened.run);
      // Enumeration reports no progress itself: the run row says which phase it reached.
      const poll = options.onProgress
        ? setInterval(() => void getRun(deps.storage, runId).then((current) => current && options.onProgress?.(current), () => undefined), 1000)
        : undefined;
      let enumerated: AuditRun | "stopped";
      try {
        enumerated = await untilStopped(enumeration, stop);
      } finally {
        clearInterval(poll);
      }
      if (enumerated === "stopped") {
        // Enumeration cannot stop half-way; it goes on until the process ends. Observed so its failure then is no unhandled rejection.
        enumeration.catch(() => undefined);
        const settled = resumable ? await settleInterruptedEnumeration(deps, runId) : { run, resumable: false };
        return { run: settled.run ?? run, deps, stats, close, opened, stopped: true, resumable: settled.resumable };
      }
      run = enumerated;
    }
    if (run.status === "running") {
      const finished = runFinishedProbe(deps.storage, runId, options.onProgress);
      const done = async () => (stop?.aborted ?? false) || (await finished());
      let draining = true;
      void watchLostChecks(deps, runId, { stopped: () => !draining || (stop?.aborted ?? false), ...(options.onRequeued ? { onRequeued: options.onRequeued } : {}) });
      try {
        stats = await drainChecks(deps, {
          workers: options.workers,
          maxDequeueCount,
          visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? HOST_QUEUE_SETTINGS.visibilityTimeoutSeconds,
          leaseSeconds: options.leaseSeconds,
          logHandler: options.logHandler,
          done,
          maxStorageOutageMs: options.storageOutageLimitMs,
        });
      } catch (error) {
        // This process drives the run: a run nobody drives must not hold the tenant for the 6 hours a silent run does.
        const outcome = await abandonRun(deps, run, error, options);
        throw new Error(`${(error as Error).message}; ${outcome}`, { cause: error });
      } finally {
        draining = false;
      }
      run = (await getRun(deps.storage, runId)) ?? run;
      options.onProgress?.(run);
      if (stop?.aborted && run.status !== "complete" && run.status !== "failed") {
        return { run, deps, stats, close, opened, stopped: true, resumable };
      }
    }
    let report: AuditReport | undefined;
    if (run.status === "complete") {
      report = await reportRun(
        deps,
        runId,
        options.findings ?? { gracePeriodDays: DEFAULT_GRACE_PERIOD_DAYS, exemptTag: DEFAULT_EXEMPT_TAG },
        options.mail ?? { to: [], alwaysSend: false },
      );
      run = (await getRun(deps.storage, runId)) ?? run;
    }
    return { run, report, deps, stats, close, opened, stopped: false, resumable };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Marks a run the scan can no longer drive as failed and releases the tenant's lock. Storage may still be
 * down (the scan gave up on an outage): the two writes are tried again until they get through, for as long
 * again as the outage limit (at least a minute); if they never do, the lock lapses after 6 hours without
 * progress, as for any abandoned run.
 */
async function abandonRun(deps: AuditDeps, run: AuditRun, cause: unknown, options: CliAuditOptions): Promise<string> {
  const reason = `The scan gave up: ${(cause as Error).message}`;
  const deadline = Date.now() + Math.max(60_000, options.storageOutageLimitMs ?? DEFAULT_STORAGE_OUTAGE_LIMIT_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      await failRun(deps.storage, run.runId, reason);
      await releaseRunLock(deps.storage, run.tenantId, run.runId);
      return `run ${run.runId} marked failed and the tenant's lock released`;
    } catch (error) {
      if (!isTransientStorageError(error) || Date.now() >= deadline) {
        return `run ${run.runId} could not be marked failed (${(error as Error).message}): tenant ${run.tenantId} stays locked until the run has shown no progress for 6 hours`;
      }
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** attempt)));
    }
  }
}
