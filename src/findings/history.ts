/**
 * How long an identity has been unused, and whether it just became so, from its verdicts across completed
 * runs. A run that did not list the identity (another scope, or it was briefly gone) leaves no entry and so
 * does not break a series: only a run that saw it and said something else does.
 */
import type { Verdict } from "./verdicts.js";

/** One identity's verdict in one completed run. */
export interface HistoryEntry {
  runId: string;
  /** The run's start (ISO 8601). */
  startedAt: string;
  verdict: Verdict;
}

/**
 * Entries ordered by run start, oldest first. Stable, and robust to callers that did not sort; entries
 * with an unparseable date keep their place relative to each other and go first (they cannot be latest).
 */
export function sortHistory(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history
    .map((entry, index) => ({ entry, index, time: Date.parse(entry.startedAt) }))
    .sort((a, b) => {
      const timeA = Number.isNaN(a.time) ? -Infinity : a.time;
      const timeB = Number.isNaN(b.time) ? -Infinity : b.time;
      return timeA === timeB ? a.index - b.index : timeA < timeB ? -1 : 1;
    })
    .map(({ entry }) => entry);
}

/**
 * The start of the first run in the unbroken series of `unused` verdicts that ends at the latest run;
 * undefined when the latest verdict is not `unused` (or there is no history).
 */
export function unusedSince(history: readonly HistoryEntry[]): string | undefined {
  const ordered = sortHistory(history);
  let since: string | undefined;
  for (let index = ordered.length - 1; index >= 0; index--) {
    const entry = ordered[index];
    if (!entry || entry.verdict !== "unused") break;
    since = entry.startedAt;
  }
  return since;
}

/**
 * Unused now and not unused in the previous completed run. An identity the previous run did not list
 * (`previousRunVerdict` undefined) is new: nobody has been told about it yet.
 */
export function isNew(current: Verdict, previousRunVerdict?: Verdict): boolean {
  return current === "unused" && previousRunVerdict !== "unused";
}
