/**
 * The earlier verdicts of a run's identities, read from the store: enough to say "unused since" and "new"
 * (history.ts decides both from them), and the first audit that saw each identity Azure gave no creation
 * time for.
 */
import pMap from "p-map";
import type { IdentityResult } from "../model/identityResult.js";
import type { AuditRun } from "../model/run.js";
import type { AuditStorage } from "../store/auditStorage.js";
import { listIdentityResults, readHistory, type HistoryRecord } from "../store/identityResults.js";
import type { HistoryEntry } from "./history.js";
import { azureCreationTime, sourceFlags, verdictFor, verdictOptions, type Verdict, type VerdictOptions } from "./verdicts.js";

/** The settings earlier verdicts are judged with, when a record predates stored verdicts. */
type VerdictSettings = Pick<VerdictOptions, "gracePeriodDays" | "exemptTag">;

/** Earlier verdicts of each identity, enough to say "unused since" and "new". */
export async function historyFor(
  storage: AuditStorage,
  run: AuditRun,
  identities: IdentityResult[],
  previous: AuditRun | undefined,
  settings: VerdictSettings,
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
function storedOrLegacyVerdict(record: HistoryRecord, settings: VerdictSettings): Verdict {
  return (record.verdict as Verdict | undefined) ?? verdictFor({ ...record, associations: [] }, verdictOptions(settings, record.runStartedAt)).verdict;
}

/**
 * The first audit sighting of identities Azure gave no creation time for, from their whole history (every
 * run, every scope): an audit that saw an identity long enough ago proves it old. Read only for those
 * identities, one history query each: with ARM's createdTime listing working, there are none.
 */
export async function firstSeenFor(storage: AuditStorage, run: AuditRun, identities: IdentityResult[]): Promise<Map<string, string>> {
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
