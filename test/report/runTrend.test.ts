/**
 * The trend of a run's report, from the stored reports of earlier runs (against Azurite): the previous
 * comparable run's trend is carried on, reports from before trends give their own point, other scopes,
 * unfinished runs and later runs are left out, and a report that cannot be read shortens the trend with a
 * warning instead of failing the report.
 */
import { describe, expect, it } from "vitest";
import type { AuditScope } from "../../src/arm/types.js";
import type { AuditLog } from "../../src/audit/deps.js";
import type { AuditRun } from "../../src/model/run.js";
import { readStoredReport, storeReport } from "../../src/audit/runReport.js";
import { earlierTrend } from "../../src/audit/runTrend.js";
import { buildReport, type AuditReport } from "../../src/report/model.js";
import { TREND_LENGTH, type TrendPoint } from "../../src/report/trend.js";
import type { AuditStorage } from "../../src/store/auditStorage.js";
import { finishEnumeration, getRun, releaseRunLock, startRun } from "../../src/store/runs.js";
import { TENANT_ID, identityResult, verdictOptions } from "../findings/builders.js";
import { freshAuditStorage } from "../helpers/storage.js";

const WHOLE_TENANT: AuditScope = { subscriptions: [], managementGroups: [] };

function capturingLog(): AuditLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, warn: (message) => warnings.push(message), error: () => {} };
}

/** A completed run started `day` days into November, with `unused` unused identities, its report stored or not. */
async function completedRun(
  storage: AuditStorage,
  day: number,
  unused: number,
  options: { scope?: AuditScope; store?: "report" | "report without trend" | "none"; earlier?: TrendPoint[] } = {},
): Promise<AuditRun> {
  const now = new Date(Date.UTC(2026, 10, day, 6));
  const started = await startRun(storage, { tenantId: TENANT_ID, scope: options.scope ?? WHOLE_TENANT, trigger: "timer", now });
  if (!started.started) throw new Error("a run is in progress");
  await finishEnumeration(storage, started.run.runId, 0, now);
  await releaseRunLock(storage, TENANT_ID, started.run.runId);
  const run = (await getRun(storage, started.run.runId))!;
  const store = options.store ?? "report";
  if (store !== "none") {
    const identities = Array.from({ length: unused }, (_, index) => identityResult({ name: `id-${day}-${index}` }));
    const report = buildReport({ run, identities, roleAssignments: [], history: new Map(), options: verdictOptions({ now }), trend: options.earlier ?? [] });
    if (store === "report without trend") {
      const { trend: _trend, ...old } = report;
      await storeReport(storage, old as AuditReport);
    } else {
      await storeReport(storage, report);
    }
  }
  return run;
}

const totals = (trend: TrendPoint[]) => trend.map((point) => point.unusedByRisk.none);

describe("earlierTrend (against Azurite)", () => {
  it("carries the previous comparable report's trend on, and skips other scopes and runs without a report", async () => {
    const storage = await freshAuditStorage();
    const log = capturingLog();
    const read = (runId: string) => readStoredReport(storage, runId);
    const first = await completedRun(storage, 1, 3);
    const firstTrend = await earlierTrend({ storage, log }, { ...first, runId: "next", startedAt: "2026-11-02T06:00:00.000Z" }, read);
    expect(totals(firstTrend)).toEqual([3]);
    const second = await completedRun(storage, 2, 5, { earlier: firstTrend });
    await completedRun(storage, 3, 99, { scope: { subscriptions: ["00000000-0000-0000-0000-00000000000a"], managementGroups: [] } });
    await completedRun(storage, 4, 99, { store: "none" });
    const current = await completedRun(storage, 5, 7, { store: "none" });

    const trend = await earlierTrend({ storage, log }, current, read);
    expect(trend.map((point) => point.runId)).toEqual([first.runId, second.runId]);
    expect(totals(trend)).toEqual([3, 5]);
    expect(log.warnings).toEqual([]);
    // A run's report never shows later runs: rebuilding the second run's report sees only the first.
    expect(totals(await earlierTrend({ storage, log }, second, read))).toEqual([3]);
  });

  it("reads on through reports stored before trends existed, each giving its own point", async () => {
    const storage = await freshAuditStorage();
    const log = capturingLog();
    await completedRun(storage, 1, 1, { store: "report without trend" });
    await completedRun(storage, 2, 2, { store: "report without trend" });
    const current = await completedRun(storage, 3, 3, { store: "none" });
    const trend = await earlierTrend({ storage, log }, current, (runId) => readStoredReport(storage, runId));
    expect(totals(trend)).toEqual([1, 2]);
    // And buildReport keeps at most TREND_LENGTH runs of a long history.
    const long = Array.from({ length: 40 }, (_, index) => ({ runId: `r${index}`, startedAt: new Date(Date.UTC(2026, 6, index + 1)).toISOString(), unusedByRisk: { critical: 0, high: 0, medium: 0, low: 0, none: index } }));
    const report = buildReport({ run: current, identities: [], roleAssignments: [], history: new Map(), options: verdictOptions(), trend: long });
    expect(report.trend).toHaveLength(TREND_LENGTH);
  });

  it("gives a shorter trend and a warning when a stored report cannot be read", async () => {
    const storage = await freshAuditStorage();
    const log = capturingLog();
    await completedRun(storage, 1, 1);
    const current = await completedRun(storage, 2, 2, { store: "none" });
    const trend = await earlierTrend({ storage, log }, current, () => Promise.reject(new Error("storage is down")));
    expect(trend).toEqual([]);
    expect(log.warnings).toEqual([`The trend of run ${current.runId} is shorter than it could be: reading earlier reports failed: storage is down`]);
  });
});
