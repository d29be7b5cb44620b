/**
 * Which run a `scan` drives: a new one, or with `--resume` the tenant's run that a stopped or killed scan left
 * behind (its identity rows, queue messages and lock are in storage).
 *
 * `scan --resume`, by the state of the tenant's newest run:
 * - `running` (enumeration over, checks under way): continued: the remaining messages are drained, lost ones
 *   sent again (lostChecks.ts), then the report step runs; no identity already recorded is checked again;
 * - `enumerating`, having reached its checks (phase `checks`: inventory and evidence complete): its
 *   enumeration is finished (finishInterruptedEnumeration), then as above;
 * - `enumerating` earlier (inventory or evidence half done): failed, and a new run started in its place
 *   (before its checks, a run has sent no per-identity request); unless it was started by the function app's
 *   timer or HTTP API and is not abandoned: that one is still being enumerated elsewhere, so the scan refuses;
 * - `complete` without a built report: its report step runs (report, verdicts, email);
 * - anything else (complete, failed, no run): nothing to resume, a new run starts.
 */
import type { AuditScope } from "../arm/types.js";
import type { AuditDeps } from "../audit/deps.js";
import { accountedFor, runPhase, type AuditRun } from "../model/run.js";
import { createAuditRun, finishInterruptedEnumeration, type StartAuditRequest } from "../audit/startAudit.js";
import { abandonedBecause, failRun, getRun, listRuns, releaseRunLock } from "../store/runs.js";

/** How the CLI names the storage it was given, in the commands it suggests (never a connection string: it holds the key). */
export interface ResumeHint {
  tenantId: string;
  /** The `--storage` value when it is a bare account name (no secret), else undefined. */
  storageName?: string;
  prefix?: string;
}

function storageArgs(hint: ResumeHint): string {
  const storage = hint.storageName ? `--storage ${hint.storageName}` : `--storage "<the same connection string>"`;
  return `${storage}${hint.prefix ? ` --prefix ${hint.prefix}` : ""}`;
}

export function resumeCommand(hint: ResumeHint): string {
  return `uami-audit scan --resume --tenant ${hint.tenantId} ${storageArgs(hint)}`;
}

export function workerCommand(hint: ResumeHint, runId: string): string {
  return `uami-audit worker --run ${runId} --tenant ${hint.tenantId} ${storageArgs(hint)}`;
}

/** Another run holds the tenant; the message says whose, where it stands, and which command continues it. */
export class RunInProgressError extends Error {
  constructor(readonly runId: string, message: string) {
    super(message);
    this.name = "RunInProgressError";
  }
}

/** `--resume` with a scope that is not the run's. */
export class ResumeScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResumeScopeError";
  }
}

function describeRun(run: AuditRun): string {
  const progress = run.status === "running" ? `, ${accountedFor(run)} of ${run.expected} identities accounted for` : "";
  return `run ${run.runId} (started ${run.startedAt} by ${run.trigger === "cli" ? "a scan" : `the function app's ${run.trigger}`}, phase ${runPhase(run)}${progress})`;
}

export async function runInProgressError(deps: Pick<AuditDeps, "storage">, activeRunId: string, hint: ResumeHint): Promise<RunInProgressError> {
  const run = await getRun(deps.storage, activeRunId).catch(() => undefined);
  const what = run ? describeRun(run) : `run ${activeRunId}`;
  return new RunInProgressError(
    activeRunId,
    `A run is already in progress for tenant ${hint.tenantId}: ${what}. If no process runs it any more (a scan that was stopped or killed), ` +
      `continue it with \`${resumeCommand(hint)}\` or add a worker with \`${workerCommand(hint, activeRunId)}\`; otherwise wait for it.`,
  );
}

export type OpenedRun =
  /** A new run, still to enumerate. `restartedFrom`: the interrupted run it replaces. */
  | { kind: "new"; run: AuditRun; restartedFrom?: string; note?: string }
  /** A run whose enumeration is over: drain its checks. */
  | { kind: "resumed"; run: AuditRun; note?: string }
  /** A complete run whose report was never built. */
  | { kind: "unreported"; run: AuditRun; note?: string };

function sameScope(a: AuditScope, b: AuditScope): boolean {
  const norm = (s: AuditScope) => JSON.stringify([[...s.subscriptions].map((x) => x.toLowerCase()).sort(), [...s.managementGroups].map((x) => x.toLowerCase()).sort()]);
  return norm(a) === norm(b);
}

async function newRun(deps: AuditDeps, request: StartAuditRequest, hint: ResumeHint, extra: { restartedFrom?: string; note?: string } = {}): Promise<OpenedRun> {
  const created = await createAuditRun(deps, request);
  if (!created.started) throw await runInProgressError(deps, created.activeRunId, hint);
  return { kind: "new", run: created.run, ...extra };
}

/**
 * The run a scan drives. Without `resume`: a new run, or a RunInProgressError naming the commands that
 * continue the one in progress. With `resume`: see the module comment. `scopeGiven`: the caller named a scope
 * (a resumed run keeps its own; a different one is a ResumeScopeError).
 */
export async function openRun(deps: AuditDeps, request: StartAuditRequest, options: { resume: boolean; scopeGiven: boolean; hint: ResumeHint }): Promise<OpenedRun> {
  const { hint } = options;
  if (!options.resume) return newRun(deps, request, hint);
  let latest: AuditRun | undefined;
  for await (const run of listRuns(deps.storage, request.tenantId)) {
    latest = run;
    break;
  }
  if (!latest) return newRun(deps, request, hint, { note: `No run of tenant ${request.tenantId} to resume: starting a new one.` });
  const unfinished = latest.status === "running" || latest.status === "enumerating";
  if (unfinished && options.scopeGiven && !sameScope(latest.scope, request.scope)) {
    throw new ResumeScopeError(`--resume continues run ${latest.runId}, whose scope differs from the --subscription/--management-group given: resume without them, or start a new run once it is over`);
  }
  if (latest.status === "running") return { kind: "resumed", run: latest, note: `Resuming ${describeRun(latest)}.` };
  if (latest.status === "enumerating" && latest.phase === "checks") {
    const finished = await finishInterruptedEnumeration(deps, latest);
    const note = `Resuming ${describeRun(latest)}: its enumeration had listed every identity and gathered the evidence; finished it.`;
    return finished.status === "complete" ? { kind: "unreported", run: finished, note } : { kind: "resumed", run: finished, note };
  }
  if (latest.status === "enumerating") {
    const abandoned = abandonedBecause(latest, deps.now());
    if (latest.trigger !== "cli" && !abandoned) throw await runInProgressError(deps, latest.runId, hint);
    const reason = `enumeration stopped in phase ${runPhase(latest)} (an interrupted scan); restarted by scan --resume`;
    await failRun(deps.storage, latest.runId, reason);
    await releaseRunLock(deps.storage, latest.tenantId, latest.runId);
    return newRun(deps, { ...request, scope: latest.scope }, hint, {
      restartedFrom: latest.runId,
      note: `Run ${latest.runId} stopped before its inventory and evidence were complete (no identity had been checked): marked failed, starting a new run.`,
    });
  }
  if (latest.status === "complete" && latest.reportStatus !== "built") {
    return { kind: "unreported", run: latest, note: `Run ${latest.runId} is complete; building its report.` };
  }
  return newRun(deps, request, hint, { note: `Nothing to resume (the newest run, ${latest.runId}, is ${latest.status}): starting a new run.` });
}

/**
 * What to do after a scan stopped during enumeration (Ctrl-C): a run that reached its checks can be resumed;
 * an earlier one is failed and its lock released now, so the next `scan` (or `scan --resume`) starts afresh.
 */
export async function settleInterruptedEnumeration(deps: Pick<AuditDeps, "storage">, runId: string): Promise<{ run: AuditRun | undefined; resumable: boolean }> {
  const run = await getRun(deps.storage, runId);
  if (!run) return { run, resumable: false };
  if (run.status !== "enumerating") return { run, resumable: run.status === "running" };
  if (run.phase === "checks") return { run, resumable: true };
  await failRun(deps.storage, runId, `interrupted in phase ${runPhase(run)}, before any identity was checked; run the scan again`);
  await releaseRunLock(deps.storage, run.tenantId, runId);
  return { run: await getRun(deps.storage, runId), resumable: false };
}
