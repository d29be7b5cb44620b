/**
 * The report step of a completed run: verdicts, risk, history, the stored report and the alert email.
 * Runs once per completed run (queue message), and again harmlessly from the nightly timer if that
 * message was lost; an email is sent at most once per run unless sending failed. The storage it reads and
 * writes is in store/ (role assignments, verdicts, report blobs), the earlier verdicts it reads are
 * assembled in findings/identityHistory.ts.
 */
import { listRoleAssignments, listSubscriptionNames } from "../arm/index.js";
import type { RoleAssignment } from "../arm/types.js";
import type { FindingsSettings, MailSettings } from "../config.js";
import { firstSeenFor, historyFor } from "../findings/identityHistory.js";
import { verdictOptions } from "../findings/verdicts.js";
import { buildDigest } from "../mail/digest.js";
import { sendDigest } from "../mail/sendDigest.js";
import type { IdentityResult } from "../model/identityResult.js";
import { sameScope, type AuditRun } from "../model/run.js";
import { allFindings, buildReport, type AuditReport } from "../report/model.js";
import { renderReport } from "../report/render.js";
import type { AuditStorage } from "../store/auditStorage.js";
import { listIdentityResults } from "../store/identityResults.js";
import { readReportJson, writeReportBlob } from "../store/reports.js";
import { readRunRoleAssignments, storeRunRoleAssignments } from "../store/roleAssignments.js";
import { getRun, latestCompletedRun, listRuns, updateRun } from "../store/runs.js";
import { storeVerdicts } from "../store/verdicts.js";
import type { AuditDeps } from "./deps.js";
import { earlierTrend } from "./runTrend.js";

/** The completed run before this one over the same scope: "new" means new since then. */
function previousComparableRun(storage: AuditStorage, run: AuditRun): Promise<AuditRun | undefined> {
  return latestCompletedRun(storage, run.tenantId, (candidate) => candidate.startedAt < run.startedAt && sameScope(candidate, run));
}

async function allIdentities(storage: AuditStorage, runId: string): Promise<IdentityResult[]> {
  const out: IdentityResult[] = [];
  for await (const identity of listIdentityResults(storage, runId)) out.push(identity);
  return out;
}

/** Role assignments of the run's principals: fetched once from Resource Graph, then kept with the run. */
async function roleAssignmentsFor(deps: AuditDeps, run: AuditRun, identities: IdentityResult[]): Promise<RoleAssignment[]> {
  const stored = await readRunRoleAssignments(deps.storage, run.runId);
  if (stored) return stored;
  const principals = new Set(identities.map((i) => i.principalId.toLowerCase()).filter(Boolean));
  const assignments = (await listRoleAssignments(deps.arm, run.scope)).filter((a) => principals.has(a.principalId.toLowerCase()));
  await storeRunRoleAssignments(deps.storage, run.runId, assignments);
  return assignments;
}

/** Stores the report in the formats read back later: JSON (the contract, the trend) and HTML (the email's link). */
export async function storeReport(storage: AuditStorage, report: AuditReport): Promise<void> {
  for (const format of ["json", "html"] as const) await writeReportBlob(storage, report.run.runId, format, renderReport(report, format));
}

/** The stored report of a run, if it was built. */
export async function readStoredReport(storage: AuditStorage, runId: string): Promise<AuditReport | undefined> {
  return (await readReportJson(storage, runId)) as AuditReport | undefined;
}

/**
 * Subscription display names for the report. Cosmetic: when Resource Graph fails, the report is built with
 * the names seen on associated resources (and ids elsewhere) rather than not at all.
 */
async function subscriptionNamesFor(deps: AuditDeps, run: AuditRun): Promise<Map<string, string>> {
  try {
    return await listSubscriptionNames(deps.arm, run.scope, { onInvalidRow: () => undefined });
  } catch (error) {
    deps.log.warn(`Subscription names for run ${run.runId} could not be read; the report shows ids: ${(error as Error).message}`, { runId: run.runId });
    return new Map();
  }
}

/** Builds (or rebuilds) the report of a completed run from storage, stores it and its verdicts. */
export async function buildRunReport(deps: AuditDeps, runId: string, settings: FindingsSettings): Promise<AuditReport> {
  const run = await getRun(deps.storage, runId);
  if (!run) throw new Error(`Run ${runId} does not exist`);
  if (run.status !== "complete") throw new Error(`Run ${runId} is ${run.status}, not complete: no report yet`);
  const identities = await allIdentities(deps.storage, runId);
  const roleAssignments = await roleAssignmentsFor(deps, run, identities);
  const subscriptionNames = await subscriptionNamesFor(deps, run);
  const previous = await previousComparableRun(deps.storage, run);
  const { history, previousRunVerdicts } = await historyFor(deps.storage, run, identities, previous, settings);
  const firstSeen = await firstSeenFor(deps.storage, run, identities);
  const trend = await earlierTrend(deps, run, (earlierRunId) => readStoredReport(deps.storage, earlierRunId));
  const report = buildReport({
    run,
    identities,
    roleAssignments,
    history,
    previousRunVerdicts,
    options: verdictOptions(settings, run.finishedAt ?? run.startedAt),
    portalBaseUrl: settings.portalBaseUrl,
    subscriptionNames,
    firstSeen,
    trend,
  });
  await storeVerdicts(deps.storage, report.run, allFindings(report));
  await storeReport(deps.storage, report);
  await updateRun(deps.storage, runId, () => ({ reportStatus: "built" }));
  return report;
}

export function reportUrlFor(settings: FindingsSettings, runId: string): string | undefined {
  if (settings.reportUrl) return settings.reportUrl;
  return settings.reportBaseUrl ? `${settings.reportBaseUrl}/api/audits/${encodeURIComponent(runId)}/report?format=html` : undefined;
}

/** The digest for a report: sent once per run; a failure is recorded on the run, the report stays. */
export async function sendRunDigest(deps: AuditDeps, report: AuditReport, settings: FindingsSettings, mail: MailSettings): Promise<AuditRun["emailStatus"]> {
  const runId = report.run.runId;
  const run = await getRun(deps.storage, runId);
  if (run?.emailStatus === "sent" || run?.emailStatus === "not-needed") return run.emailStatus;
  const digest = buildDigest(report, { reportUrl: reportUrlFor(settings, runId), alwaysSend: mail.alwaysSend });
  if (!digest || !mail.transport || !mail.from || mail.to.length === 0) {
    await updateRun(deps.storage, runId, () => ({ emailStatus: "not-needed" }));
    return "not-needed";
  }
  const result = await sendDigest(mail.transport, digest, { from: mail.from, to: mail.to, retries: mail.retries, minDelayMs: mail.minDelayMs });
  if (result.status === "sent") {
    await updateRun(deps.storage, runId, () => ({ emailStatus: "sent", emailError: undefined }));
    return "sent";
  }
  deps.log.error(`Alert email for run ${runId} failed after ${result.attempts} attempts: ${result.error}`, { runId });
  await updateRun(deps.storage, runId, () => ({ emailStatus: "failed", emailError: result.error }));
  return "failed";
}

/**
 * The report step of one completed run, as the queue function, the nightly backstop and the CLI run it:
 * the report built and stored (a failure is recorded on the run, then rethrown), then its alert email.
 */
export async function reportRun(deps: AuditDeps, runId: string, settings: FindingsSettings, mail: MailSettings): Promise<AuditReport> {
  let report: AuditReport;
  try {
    report = await buildRunReport(deps, runId, settings);
  } catch (error) {
    await updateRun(deps.storage, runId, (run) => (run.status === "complete" ? { reportStatus: "failed" } : undefined)).catch(() => undefined);
    throw error;
  }
  await sendRunDigest(deps, report, settings, mail);
  return report;
}

/** Completed runs of a tenant whose report was never built (the completion message was lost). */
export async function runsAwaitingReport(storage: AuditStorage, tenantId: string, limit = 5): Promise<AuditRun[]> {
  const out: AuditRun[] = [];
  for await (const run of listRuns(storage, tenantId)) {
    if (run.status === "complete" && run.reportStatus !== "built") out.push(run);
    if (out.length >= limit) break;
  }
  return out;
}
