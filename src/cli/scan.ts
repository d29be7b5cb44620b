/**
 * `uami-audit scan`: one whole audit on one machine, through the same handlers the function app runs.
 * Starts an in-memory Azurite unless a storage account is given, starts the run, then drains the check
 * queue (and its poison queue) like the Functions host until the run is accounted for.
 */
import type { LogHandler } from "@azure/functions";
import type { AuditScope } from "../arm/types.js";
import type { AuditDeps } from "../audit/deps.js";
import { createAuditDeps, type SignInConfig } from "../audit/createAuditDeps.js";
import type { AuditMode, AuditRun } from "../audit/model.js";
import { startAudit } from "../audit/startAudit.js";
import { checkIdentityQueueHandler } from "../functions/checkIdentity.js";
import { checkIdentityPoisonHandler } from "../functions/recordPoisonedCheck.js";
import { publishRunFindings, type FindingsSettings, type MailSettings } from "../audit/runReport.js";
import type { AuditReport } from "../report/model.js";
import { ensureAuditStorage } from "../store/auditStorage.js";
import { getRun } from "../store/runs.js";
import { startLocalAzurite, type LocalAzurite } from "../storage/localAzurite.js";
import type { StorageAccount } from "../storage/storageAccount.js";
import { runQueueHost, type QueueHostStats } from "./queueHost.js";

/** host.json's queue contract, mirrored so the CLI behaves like the deployed app (a test checks they match). */
export const HOST_QUEUE_SETTINGS = {
  batchSize: 4,
  maxDequeueCount: 5,
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
}

/** The audit's collaborators for a CLI process, with storage ensured. */
export async function cliAuditDeps(
  options: CliAuditOptions,
  storageAccount: StorageAccount,
  extra: { associationsToStore?: number; maxDequeueCount?: number; signIns?: SignInConfig; mode?: AuditMode } = {},
): Promise<AuditDeps> {
  const deps = createAuditDeps({
    arm: { armEndpoint: options.armEndpoint, armToken: options.token, armCaFile: options.caFile },
    limiter: { ratePerSecond: options.ratePerSecond, rateSafetyMs: options.rateSafetyMs, maxSlotWaitMs: 20_000 },
    storageAccount,
    storagePrefix: options.storagePrefix,
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
}

export interface ScanResult {
  run: AuditRun;
  /** The findings of a completed run (verdicts, risk, history); absent when the run did not complete. */
  report?: AuditReport;
  deps: AuditDeps;
  stats: QueueHostStats;
  /** Stops the Azurite this scan started, if any. */
  close(): Promise<void>;
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
  },
): Promise<QueueHostStats> {
  const runtime = Promise.resolve({ deps });
  const getRuntime = () => runtime;
  const common = {
    batchSize: HOST_QUEUE_SETTINGS.batchSize,
    maxDequeueCount: options.maxDequeueCount,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxPollingIntervalMs: HOST_QUEUE_SETTINGS.maxPollingIntervalMs,
    leaseSeconds: options.leaseSeconds,
    logHandler: options.logHandler,
    shouldStop: options.done,
  };
  const [checks, poison] = await Promise.all([
    runQueueHost({
      ...common,
      functionName: "checkIdentity",
      queue: deps.storage.checkQueue,
      poisonQueue: deps.storage.checkPoisonQueue,
      handler: checkIdentityQueueHandler(getRuntime),
      concurrency: options.workers,
    }),
    runQueueHost({
      ...common,
      functionName: "recordPoisonedCheck",
      queue: deps.storage.checkPoisonQueue,
      // Failures of the poison handler itself are retried the same way; their own poison queue is a dead end.
      poisonQueue: deps.storage.checkPoisonDeadLetterQueue,
      handler: checkIdentityPoisonHandler(getRuntime),
      concurrency: 1,
    }),
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
    const started = await startAudit(deps, { tenantId: options.tenantId, scope: options.scope, trigger: "cli" });
    if (!started.started) {
      throw new Error(`A run is already in progress for tenant ${options.tenantId} (${started.activeRunId}); wait for it or use another storage account`);
    }
    const runId = started.run.runId;
    const done = runFinishedProbe(deps.storage, runId, options.onProgress);
    const stats = await drainChecks(deps, {
      workers: options.workers,
      maxDequeueCount,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? HOST_QUEUE_SETTINGS.visibilityTimeoutSeconds,
      leaseSeconds: options.leaseSeconds,
      logHandler: options.logHandler,
      done,
    });
    let run = (await getRun(deps.storage, runId)) ?? started.run;
    let report: AuditReport | undefined;
    if (run.status === "complete") {
      report = await publishRunFindings(
        deps,
        runId,
        options.findings ?? { gracePeriodDays: 7, exemptTag: "uami-audit-exempt" },
        options.mail ?? { to: [], alwaysSend: false },
      );
      run = (await getRun(deps.storage, runId)) ?? run;
    }
    return { run, report, deps, stats, close };
  } catch (error) {
    await close();
    throw error;
  }
}
