/**
 * The trend of a report: unused identities by risk over the last completed runs of the same scope, so a
 * reader sees whether the pile grows or shrinks. Each stored report carries its own trend, so the next
 * report needs only the previous one (src/audit/runTrend.ts reads it).
 */
import { RISK_LEVELS, type RiskLevel } from "../findings/risk.js";

/** How many runs a trend covers, this run included. */
export const TREND_LENGTH = 30;

export interface TrendPoint {
  runId: string;
  startedAt: string;
  /** Unused identities of that run by risk level; every level is a key. */
  unusedByRisk: Record<RiskLevel, number>;
}

/** Unused identities by risk level, every level a key, in `RISK_LEVELS` order. */
export function countByRisk(findings: readonly { risk: { level: RiskLevel } }[]): Record<RiskLevel, number> {
  const counts = Object.fromEntries(RISK_LEVELS.map((level) => [level, 0])) as Record<RiskLevel, number>;
  for (const finding of findings) counts[finding.risk.level] += 1;
  return counts;
}

/** The trend point of one report (for reports stored before trends existed, from their unused list). */
export function trendPointOf(report: { run: { runId: string; startedAt: string }; unused: readonly { risk: { level: RiskLevel } }[] }): TrendPoint {
  return { runId: report.run.runId, startedAt: report.run.startedAt, unusedByRisk: countByRisk(report.unused) };
}

export function unusedTotal(point: TrendPoint): number {
  return RISK_LEVELS.reduce((sum, level) => sum + (point.unusedByRisk[level] ?? 0), 0);
}

/**
 * Earlier points and this run's, oldest first: earlier points of this run or later runs are dropped (a
 * report rebuilt for an old run must not show its future), duplicates by run id keep the first seen, and
 * only the last `TREND_LENGTH` runs are kept.
 */
export function mergeTrend(earlier: readonly TrendPoint[], current: TrendPoint): TrendPoint[] {
  const seen = new Set<string>([current.runId]);
  const kept: TrendPoint[] = [];
  for (const point of earlier) {
    if (seen.has(point.runId) || !(point.startedAt < current.startedAt)) continue;
    seen.add(point.runId);
    kept.push({ runId: point.runId, startedAt: point.startedAt, unusedByRisk: normalizedCounts(point.unusedByRisk) });
  }
  kept.sort((a, b) => (a.startedAt === b.startedAt ? (a.runId < b.runId ? -1 : 1) : a.startedAt < b.startedAt ? -1 : 1));
  return [...kept.slice(-(TREND_LENGTH - 1)), current];
}

/** Counts read back from storage: every level present, anything else than a non-negative integer is 0. */
function normalizedCounts(counts: Partial<Record<RiskLevel, unknown>> | undefined): Record<RiskLevel, number> {
  return Object.fromEntries(
    RISK_LEVELS.map((level) => {
      const value = counts?.[level];
      return [level, typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : 0];
    }),
  ) as Record<RiskLevel, number>;
}
