/**
 * The trend of a run's report (unused identities by risk over the last completed runs of the same scope),
 * read from the stored reports of earlier runs. Each stored report carries its own trend, so this usually
 * reads one report: the previous comparable run's. Reports stored before trends existed give their own
 * point (from their unused list) and the walk goes on to the run before; runs without a stored report are
 * skipped. Cosmetic: a failure to read gives a shorter trend and a warning, never a failed report.
 */
import { TREND_LENGTH, trendPointOf, type TrendPoint } from "../report/trend.js";
import type { AuditReport } from "../report/model.js";
import { listRuns } from "../store/runs.js";
import type { AuditDeps } from "./deps.js";
import { sameScope, type AuditRun } from "../model/run.js";

/** How many earlier runs of the tenant are looked at, at most (other scopes, failed runs included). */
const MAX_RUNS_EXAMINED = 200;

/**
 * Trend points of the completed runs of `run`'s scope that started before it, oldest first (at most
 * `TREND_LENGTH - 1`); `buildReport` adds this run's point. `readReport` reads a run's stored report
 * (`readStoredReport`), undefined when there is none.
 */
export async function earlierTrend(
  deps: Pick<AuditDeps, "storage" | "log">,
  run: AuditRun,
  readReport: (runId: string) => Promise<AuditReport | undefined>,
): Promise<TrendPoint[]> {
  const newestFirst: TrendPoint[] = [];
  let examined = 0;
  try {
    for await (const candidate of listRuns(deps.storage, run.tenantId)) {
      if (++examined > MAX_RUNS_EXAMINED || newestFirst.length >= TREND_LENGTH - 1) break;
      if (candidate.status !== "complete" || candidate.runId === run.runId || !(candidate.startedAt < run.startedAt) || !sameScope(candidate, run)) continue;
      const report = await readReport(candidate.runId);
      if (!report) continue;
      const carried = Array.isArray(report.trend) ? report.trend : [];
      if (carried.length > 0) {
        // That report's trend ends with its own run and holds the runs before it: nothing older to read.
        return [...carried, ...newestFirst.reverse()];
      }
      newestFirst.push(trendPointOf(report));
    }
  } catch (error) {
    deps.log.warn(`The trend of run ${run.runId} is shorter than it could be: reading earlier reports failed: ${(error as Error).message}`, { runId: run.runId });
  }
  return newestFirst.reverse();
}
