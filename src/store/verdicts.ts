/**
 * Each identity's verdict, decided once by the report step and kept where everything reads it: on its run
 * row (for the next run's history and the CLI) and on its history record (for the identity API), so
 * nothing recomputes it.
 */
import type { TransactionAction } from "@azure/data-tables";
import pMap from "p-map";
import type { AuditStorage } from "./auditStorage.js";
import { submitInBatches } from "./batches.js";
import { identityKey, invertedTimeKey } from "./keys.js";
import { identityRowKey } from "./runs.js";
import { statusCode } from "./storageAccount.js";

/** One identity's verdict as the report step decided it (a report's finding has these fields). */
export interface VerdictRecord {
  /** The identity's ARM id. */
  id: string;
  verdict: string;
  unusedSince?: string | null;
  reasons: string[];
  confirmed: boolean;
  disagreement: boolean;
}

/** The stored form of a verdict: what the report, the API, the CLI and the email read. */
function storedVerdict(record: VerdictRecord) {
  return {
    verdict: record.verdict,
    unusedSince: record.unusedSince ?? "",
    reasons: JSON.stringify(record.reasons),
    confirmed: record.confirmed,
    disagreement: record.disagreement,
  };
}

/** Stores the verdicts of one run on its identity rows and on each identity's history record of that run. */
export async function storeVerdicts(storage: AuditStorage, run: { runId: string; startedAt: string }, verdicts: readonly VerdictRecord[]): Promise<void> {
  const actions: TransactionAction[] = verdicts.map((f) => ["update", { partitionKey: run.runId, rowKey: identityRowKey(f.id), ...storedVerdict(f) }, "Merge"]);
  await submitInBatches(storage.audits, actions);
  const historyRow = invertedTimeKey(run.startedAt, run.runId);
  await pMap(
    verdicts,
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
