/**
 * The HTTP API's behaviour, free of Azure Functions: each function takes validated-or-raw request
 * parts and returns an ApiResponse. Every bad input is a 4xx problem+json, never a 500.
 */
import type { AuditScope } from "../arm/types.js";
import type { AuditDeps } from "../audit/deps.js";
import { accountedFor, runPhase, type AuditRun } from "../model/run.js";
import { buildRunReport, readStoredReport } from "../audit/runReport.js";
import type { FindingsSettings } from "../config.js";
import { createAuditRun } from "../audit/startAudit.js";
import { encodeQueueMessage } from "../queues.js";
import { renderReport, type ReportFormat } from "../report/render.js";
import { readHistory } from "../store/identityResults.js";
import { getRun, latestCompletedRun } from "../store/runs.js";
import { ApiProblem, notFound, problem, type ApiResponse } from "./responses.js";
import { parseFormat, parseIdentityPath, parseRunId, parseStartAuditBody, readJsonBody, type RequestWithBody } from "./validation.js";

export interface ApiContext {
  deps: AuditDeps;
  tenantId: string;
  defaultScope: AuditScope;
  findings: FindingsSettings;
}

/** Maps validation problems to their response; anything else is a genuine server error and propagates. */
export async function answer(fn: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ApiProblem) return error.response;
    throw error;
  }
}

const runLocation = (runId: string) => `/api/audits/${runId}`;

/** `POST /api/audits`: 202 with Location, or 409 naming the run in progress. */
export function startAuditRequest(ctx: ApiContext, request: RequestWithBody): Promise<ApiResponse> {
  return answer(async () => {
    const scope = parseStartAuditBody(await readJsonBody(request), ctx.defaultScope);
    const created = await createAuditRun(ctx.deps, { tenantId: ctx.tenantId, scope, trigger: "http" });
    if (!created.started) {
      return problem(409, "Conflict", `An audit of tenant ${ctx.tenantId} is already running: ${created.activeRunId}`, {
        runId: created.activeRunId,
        location: runLocation(created.activeRunId),
      });
    }
    const { run } = created;
    await ctx.deps.storage.enumerateQueue.sendMessage(encodeQueueMessage({ kind: "enumerate", runId: run.runId, tenantId: run.tenantId }));
    return {
      status: 202,
      headers: { location: runLocation(run.runId) },
      json: { runId: run.runId, status: run.status, scope: run.scope, location: runLocation(run.runId) },
    };
  });
}

export function runStatusBody(run: AuditRun, slotIntervalMs: number, now = Date.now()) {
  const accounted = accountedFor(run);
  const pending = run.status === "enumerating" ? null : Math.max(0, run.expected - accounted);
  // At least one listAssociatedResources request per pending identity, one per slot of the tenant's limiter.
  // In fast mode the identities the sweep decided are already counted, so only candidates are pending; while
  // the inventory or the sweep is under way the number of candidates is not known yet (null).
  const etaSeconds = pending === null ? null : run.status === "complete" || run.status === "failed" ? 0 : Math.ceil((pending * slotIntervalMs) / 1000);
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    status: run.status,
    trigger: run.trigger,
    scope: run.scope,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    elapsedSeconds: Math.round(((run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.startedAt)) / 1000),
    mode: run.mode ?? null,
    modeReason: run.modeReason ?? null,
    phase: runPhase(run),
    progress: { total: run.status === "enumerating" ? null : run.expected, checked: run.checked, deleted: run.deleted, failed: run.failed, pending },
    requests: run.requests,
    apiRequests: run.apiRequests,
    throttled: run.throttled,
    etaSeconds,
    error: run.error ?? null,
    reportStatus: run.reportStatus ?? "pending",
    emailStatus: run.emailStatus ?? null,
    links: { self: runLocation(run.runId), report: `${runLocation(run.runId)}/report?format=html` },
  };
}

async function existingRun(ctx: ApiContext, rawRunId: string | undefined): Promise<AuditRun> {
  const runId = parseRunId(rawRunId);
  const run = await getRun(ctx.deps.storage, runId);
  if (!run || run.tenantId !== ctx.tenantId) throw notFound(`No audit run ${runId}`);
  return run;
}

/** `GET /api/audits/{runId}`. */
export function getAuditRequest(ctx: ApiContext, runId: string | undefined): Promise<ApiResponse> {
  return answer(async () => ({ status: 200, json: runStatusBody(await existingRun(ctx, runId), ctx.deps.limiter.intervalMs) }));
}

async function reportResponse(ctx: ApiContext, run: AuditRun, format: ReportFormat): Promise<ApiResponse> {
  if (run.status !== "complete") {
    return problem(409, "Conflict", `Run ${run.runId} is ${run.status}; its report exists once it is complete`, { runId: run.runId, status: run.status });
  }
  const report = (await readStoredReport(ctx.deps.storage, run.runId)) ?? (await buildRunReport(ctx.deps, run.runId, ctx.findings));
  const rendered = renderReport(report, format);
  return { status: 200, headers: { "content-type": rendered.contentType }, body: rendered.body };
}

/** `GET /api/audits/{runId}/report?format=`. */
export function getReportRequest(ctx: ApiContext, runId: string | undefined, format: string | null): Promise<ApiResponse> {
  return answer(async () => {
    const parsed = parseFormat(format);
    return reportResponse(ctx, await existingRun(ctx, runId), parsed);
  });
}

/** `GET /api/reports/latest?format=`. */
export function getLatestReportRequest(ctx: ApiContext, format: string | null): Promise<ApiResponse> {
  return answer(async () => {
    const parsed = parseFormat(format);
    const run = await latestCompletedRun(ctx.deps.storage, ctx.tenantId);
    if (!run) throw notFound(`No completed audit of tenant ${ctx.tenantId} yet`);
    return reportResponse(ctx, run, parsed);
  });
}

/** `GET /api/identities/{subscriptionId}/{resourceGroup}/{name}`: the identity across runs, newest first. */
export function getIdentityHistoryRequest(ctx: ApiContext, params: { subscriptionId?: string; resourceGroup?: string; name?: string }): Promise<ApiResponse> {
  return answer(async () => {
    const identity = parseIdentityPath(params);
    // History is keyed by identity id alone, and apps of several tenants may share one storage account.
    const records = (await readHistory(ctx.deps.storage, identity.id)).filter((r) => r.tenantId.toLowerCase() === ctx.tenantId.toLowerCase());
    if (records.length === 0) throw notFound(`No audit has seen identity ${identity.name} in resource group ${identity.resourceGroup}`);
    const history = records.map((r) => ({
      runId: r.runId,
      runStartedAt: r.runStartedAt,
      status: r.status,
      // The verdict the run's report step decided and stored, from all the run's evidence; a run whose
      // report is not built yet has none (a verdict on partial evidence could say `unused` too early).
      verdict: r.verdict ?? null,
      reasons: r.reasons ?? null,
      confirmed: r.confirmed ?? null,
      disagreement: r.disagreement ?? null,
      evidence: {
        referenceCount: r.referenceCount ?? null,
        references: r.references ?? [],
        createdTime: r.createdTime ?? null,
        lastSignInAt: r.lastSignInAt ?? null,
        signInResource: r.signInResource ?? null,
      },
      associationCount: r.associationCount ?? null,
      federatedCredentialCount: r.federatedCredentialCount ?? null,
      checkedAt: r.checkedAt ?? null,
      error: r.error ?? null,
    }));
    const latest = records[0]!;
    return {
      status: 200,
      json: {
        id: latest.id,
        name: latest.name,
        subscriptionId: latest.subscriptionId,
        resourceGroup: latest.resourceGroup,
        principalId: latest.principalId,
        clientId: latest.clientId,
        createdAt: latest.createdAt ?? null,
        tags: latest.tags,
        history,
      },
    };
  });
}
