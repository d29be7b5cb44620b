/**
 * `uami-audit report`: render a stored run's report. A complete run whose report was never built (its scan
 * was stopped after the last check, or a `worker` finished it) gets it built now, as the HTTP API does
 * (buildRunReport: verdicts, risk from the role assignments, history; stored for the next time). Building
 * reads the role assignments from Resource Graph unless the run already stored them, so it needs ARM
 * credentials; rendering a built report does not.
 */
import type { AuditDeps } from "../audit/deps.js";
import { accountedFor, type AuditRun } from "../model/run.js";
import { buildRunReport, readStoredReport } from "../audit/runReport.js";
import type { FindingsSettings } from "../config.js";
import { DEFAULT_EXEMPT_TAG, DEFAULT_GRACE_PERIOD_DAYS } from "../findings/verdicts.js";
import type { AuditReport } from "../report/model.js";
import { renderReport, type ReportFormat, type RenderedReport } from "../report/render.js";
import { openAuditStorage } from "../store/auditStorage.js";
import { getRun, latestCompletedRun, listRuns } from "../store/runs.js";
import type { StorageAccount } from "../store/storageAccount.js";
import { resumeCommand, workerCommand, type ResumeHint } from "./resume.js";

export interface RunReportRequest {
  storage: StorageAccount;
  storagePrefix?: string;
  runId?: string;
  tenantId?: string;
  format: ReportFormat;
  /** The audit's collaborators, asked for only when the report must be built. */
  depsForBuild?: () => Promise<AuditDeps>;
  findings?: FindingsSettings;
  /** How suggested commands name the storage (never the connection string). */
  hint?: Omit<ResumeHint, "tenantId">;
}

export interface RunReportResult {
  rendered: RenderedReport;
  report: AuditReport;
  /** True when the report was built now (it was missing). */
  built: boolean;
}

/** The run exists but has no report, and none can be built yet: the message says what to do. */
export class ReportNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReportNotReadyError";
  }
}

function notReady(run: AuditRun, hint: Omit<ResumeHint, "tenantId"> | undefined): ReportNotReadyError {
  const full: ResumeHint = { ...hint, tenantId: run.tenantId };
  if (run.status === "failed") {
    return new ReportNotReadyError(`Run ${run.runId} failed (${run.error ?? "no reason recorded"}) and has no report: start a new scan with \`uami-audit scan --tenant ${run.tenantId} ...\`.`);
  }
  const progress = run.status === "running" ? `, ${accountedFor(run)} of ${run.expected} identities accounted for` : ", still enumerating";
  return new ReportNotReadyError(
    `Run ${run.runId} is ${run.status}${progress}: its report is built when it completes. If no process runs it any more, continue it with ` +
      `\`${resumeCommand(full)}\` or \`${workerCommand(full, run.runId)}\`, then run this command again.`,
  );
}

export async function renderRunReport(options: RunReportRequest): Promise<RunReportResult> {
  const storage = openAuditStorage(options.storage, options.storagePrefix ?? "");
  let run: AuditRun | undefined;
  if (options.runId) {
    run = await getRun(storage, options.runId);
    if (!run) throw new Error(`Run ${options.runId} does not exist in this storage account (check --storage and --prefix)`);
  } else if (options.tenantId) {
    run = await latestCompletedRun(storage, options.tenantId);
    if (!run) {
      for await (const newest of listRuns(storage, options.tenantId)) {
        if (newest.status === "running" || newest.status === "enumerating") throw notReady(newest, options.hint);
        break;
      }
      throw new Error(`No completed run of tenant ${options.tenantId} in this storage account (check --storage and --prefix)`);
    }
  } else {
    throw new Error("give --run or --tenant");
  }
  if (run.status !== "complete") throw notReady(run, options.hint);
  const stored = await readStoredReport(storage, run.runId);
  if (stored) return { rendered: renderReport(stored, options.format), report: stored, built: false };
  if (!options.depsForBuild) throw new ReportNotReadyError(`Run ${run.runId} is complete but its report was never built, and building it needs ARM access`);
  const deps = await options.depsForBuild();
  const report = await buildRunReport(deps, run.runId, options.findings ?? { gracePeriodDays: DEFAULT_GRACE_PERIOD_DAYS, exemptTag: DEFAULT_EXEMPT_TAG });
  return { rendered: renderReport(report, options.format), report, built: true };
}
