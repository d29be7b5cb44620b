/** `uami-audit report`: render a stored run's report without calling Azure. */
import { readStoredReport } from "../audit/runReport.js";
import { renderReport, type ReportFormat, type RenderedReport } from "../report/render.js";
import { openAuditStorage } from "../store/auditStorage.js";
import { getRun, latestCompletedRun } from "../store/runs.js";
import type { StorageAccount } from "../storage/storageAccount.js";

export async function renderRunReport(options: {
  storage: StorageAccount;
  storagePrefix?: string;
  runId?: string;
  tenantId?: string;
  format: ReportFormat;
}): Promise<RenderedReport> {
  const storage = openAuditStorage(options.storage, options.storagePrefix ?? "");
  const run = options.runId ? await getRun(storage, options.runId) : options.tenantId ? await latestCompletedRun(storage, options.tenantId) : undefined;
  if (!run) throw new Error(options.runId ? `Run ${options.runId} does not exist in this storage account` : `No completed run of tenant ${options.tenantId} in this storage account`);
  const report = await readStoredReport(storage, run.runId);
  if (!report) throw new Error(`Run ${run.runId} is ${run.status} and has no built report yet`);
  return renderReport(report, options.format);
}
