/**
 * The findings step of a completed run: verdicts, risk, history, the stored report and the alert email.
 * Runs once per completed run (queue message), and again harmlessly from the nightly timer if that
 * message was lost; an email is sent at most once per run unless sending failed.
 */
import { odata, type TransactionAction } from "@azure/data-tables";
import pMap from "p-map";
import { listRoleAssignments, listSubscriptionNames } from "../arm/index.js";
import type { RoleAssignment } from "../arm/types.js";
import type { HistoryEntry } from "../findings/history.js";
import { azureCreationTime, sourceFlags, verdictFor, type Verdict, type VerdictOptions } from "../findings/verdicts.js";
import { buildDigest } from "../mail/digest.js";
import { sendDigest } from "../mail/sendDigest.js";
import type { MailTransport } from "../mail/transport.js";
import { allFindings, buildReport, type AuditReport, type IdentityFinding } from "../report/model.js";
import { renderReport, type ReportFormat } from "../report/render.js";
import type { AuditStorage } from "../store/auditStorage.js";
import { listIdentityResults, readHistory, type HistoryRecord } from "../store/identityResults.js";
import { statusCode } from "../storage/storageAccount.js";
import { submitInBatches } from "../store/batches.js";
import { identityKey, invertedTimeKey } from "../store/keys.js";
import { getRun, identityRowKey, latestCompletedRun, listRuns, updateRun } from "../store/runs.js";
import type { AuditDeps } from "./deps.js";
import { sameScope, type AuditRun, type IdentityResult } from "./model.js";
import { earlierTrend } from "./runTrend.js";

export interface FindingsSettings {
  gracePeriodDays: number;
  exemptTag: string;
  portalBaseUrl?: string;
  /** Public base URL of the app, for the report link in emails. */
  reportBaseUrl?: string;
  /** The report link itself, when it does not live in the app (the CLI). Wins over reportBaseUrl. */
  reportUrl?: string;
}

export interface MailSettings {
  transport?: MailTransport;
  from?: string;
  to: string[];
  alwaysSend: boolean;
  retries?: number;
  minDelayMs?: number;
}

const ROLE_MARKER = "_complete";

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
  const table = deps.storage.roleAssignments;
  const stored: RoleAssignment[] = [];
  let complete = false;
  for await (const row of table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${run.runId}` } })) {
    if (row.rowKey === ROLE_MARKER) complete = true;
    else stored.push(JSON.parse(String(row.assignment)) as RoleAssignment);
  }
  if (complete) return stored;
  const principals = new Set(identities.map((i) => i.principalId.toLowerCase()).filter(Boolean));
  const assignments = (await listRoleAssignments(deps.arm, run.scope)).filter((a) => principals.has(a.principalId.toLowerCase()));
  const actions: TransactionAction[] = assignments.map((a) => [
    "upsert",
    { partitionKey: run.runId, rowKey: identityKey(a.id), assignment: JSON.stringify(a) },
    "Replace",
  ]);
  await submitInBatches(table, actions);
  await table.upsertEntity({ partitionKey: run.runId, rowKey: ROLE_MARKER, count: assignments.length }, "Replace");
  return assignments;
}

/** The verdict options of a run started (or a history record made) at `at`. */
export function verdictOptions(settings: Pick<FindingsSettings, "gracePeriodDays" | "exemptTag">, at: string): VerdictOptions {
  return { now: new Date(at), gracePeriodDays: settings.gracePeriodDays, exemptTag: settings.exemptTag };
}

/** Earlier verdicts of each identity, enough to say "unused since" and "new". */
async function historyFor(
  storage: AuditStorage,
  run: AuditRun,
  identities: IdentityResult[],
  previous: AuditRun | undefined,
  settings: FindingsSettings,
): Promise<{ history: Map<string, HistoryEntry[]>; previousRunVerdicts?: Map<string, Verdict> }> {
  const history = new Map<string, HistoryEntry[]>();
  let previousRunVerdicts: Map<string, Verdict> | undefined;
  if (previous) {
    previousRunVerdicts = new Map();
    const options = verdictOptions(settings, previous.startedAt);
    for await (const identity of listIdentityResults(storage, previous.runId)) {
      const key = identity.id.toLowerCase();
      const verdict = (identity.verdict as Verdict | undefined) ?? verdictFor(identity, options, { sources: sourceFlags(previous.sources) }).verdict;
      previousRunVerdicts.set(key, verdict);
      const entries: HistoryEntry[] = [];
      const since = identity.unusedSince;
      if (verdict === "unused" && since && since < previous.startedAt) entries.push({ runId: `since-${previous.runId}`, startedAt: since, verdict: "unused" });
      entries.push({ runId: previous.runId, startedAt: previous.startedAt, verdict });
      history.set(key, entries);
    }
  }
  // Identities the previous run did not list (another scope, or briefly gone): their own history says more.
  const current = verdictOptions(settings, run.startedAt);
  for (const identity of identities) {
    const key = identity.id.toLowerCase();
    if (history.has(key) || verdictFor(identity, current, { sources: sourceFlags(run.sources) }).verdict !== "unused") continue;
    const records = await readHistory(storage, identity.id, 400);
    const entries = records
      .filter((r) => r.runId !== run.runId && r.runStartedAt < run.startedAt && r.status !== "pending")
      .map((r) => ({ runId: r.runId, startedAt: r.runStartedAt, verdict: storedOrLegacyVerdict(r, settings) }));
    if (entries.length > 0) history.set(key, entries);
  }
  return { history, previousRunVerdicts };
}

/** A history record's stored verdict; records from before verdicts were stored are judged as their run did. */
function storedOrLegacyVerdict(record: HistoryRecord, settings: FindingsSettings): Verdict {
  return (record.verdict as Verdict | undefined) ?? verdictFor({ ...record, associations: [] }, verdictOptions(settings, record.runStartedAt)).verdict;
}

/**
 * The first audit sighting of identities Azure gave no creation time for, from their whole history (every
 * run, every scope): an audit that saw an identity long enough ago proves it old. Read only for those
 * identities, one history query each: with ARM's createdTime listing working, there are none.
 */
async function firstSeenFor(storage: AuditStorage, run: AuditRun, identities: IdentityResult[]): Promise<Map<string, string>> {
  const firstSeen = new Map<string, string>();
  const undated = identities.filter((identity) => identity.status === "checked" && !azureCreationTime(identity));
  await pMap(
    undated,
    async (identity) => {
      const records = await readHistory(storage, identity.id, 5000);
      const starts = records.filter((r) => r.runId !== run.runId && r.runStartedAt && r.runStartedAt < run.startedAt).map((r) => r.runStartedAt);
      const earliest = starts.sort()[0];
      if (earliest) firstSeen.set(identity.id.toLowerCase(), earliest);
    },
    { concurrency: 16 },
  );
  return firstSeen;
}

/** The stored form of a verdict: what the report, the API, the CLI and the email read. */
function storedVerdict(finding: IdentityFinding) {
  return {
    verdict: finding.verdict,
    unusedSince: finding.unusedSince ?? "",
    reasons: JSON.stringify(finding.reasons),
    confirmed: finding.confirmed,
    disagreement: finding.disagreement,
  };
}

/**
 * Keeps each identity's verdict, its reasons and "unused since" on its run row (for the next run's history
 * and the CLI) and on its history record (for the identity API), so nothing recomputes it.
 */
async function storeVerdicts(storage: AuditStorage, report: AuditReport): Promise<void> {
  const findings = allFindings(report);
  const actions: TransactionAction[] = findings.map((f) => ["update", { partitionKey: report.run.runId, rowKey: identityRowKey(f.id), ...storedVerdict(f) }, "Merge"]);
  await submitInBatches(storage.audits, actions);
  const historyRow = invertedTimeKey(report.run.startedAt, report.run.runId);
  await pMap(
    findings,
    async (f) => {
      try {
        await storage.history.updateEntity({ partitionKey: identityKey(f.id), rowKey: historyRow, ...storedVerdict(f) }, "Merge");
      } catch (error) {
        // A record never written (the identity was recorded before history existed) has nothing to update.
        if (statusCode(error) !== 404) throw error;
      }
    },
    { concurrency: 16 },
  );
}

const reportBlobName = (runId: string, format: ReportFormat) => `${runId}/report.${format}`;

export async function storeReport(storage: AuditStorage, report: AuditReport): Promise<void> {
  for (const format of ["json", "html"] as const) {
    const rendered = renderReport(report, format);
    const blob = storage.reports.getBlockBlobClient(reportBlobName(report.run.runId, format));
    await blob.upload(rendered.body, Buffer.byteLength(rendered.body), { blobHTTPHeaders: { blobContentType: rendered.contentType } });
  }
}

/** The stored report of a run, if it was built. */
export async function readStoredReport(storage: AuditStorage, runId: string): Promise<AuditReport | undefined> {
  try {
    const buffer = await storage.reports.getBlockBlobClient(reportBlobName(runId, "json")).downloadToBuffer();
    return JSON.parse(buffer.toString("utf8")) as AuditReport;
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw new Error(`Reading the stored report of run ${runId} failed: ${(error as Error).message}`, { cause: error });
  }
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
  await storeVerdicts(deps.storage, report);
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

/** The whole findings step for one completed run. */
export async function publishRunFindings(deps: AuditDeps, runId: string, settings: FindingsSettings, mail: MailSettings): Promise<AuditReport> {
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
