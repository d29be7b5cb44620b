/**
 * Why identities of a run could not be checked, grouped: a scan whose every check got the same 403 says so
 * once, with the permission to grant (src/arm/errors.ts names it), instead of leaving it in each row.
 */
import type { AuditDeps } from "../audit/deps.js";
import { listIdentityResults } from "../store/identityResults.js";

export interface FailureGroup {
  /** The error with the identity's id replaced by `<identity>`. */
  reason: string;
  count: number;
}

const IDENTITY_ID = /\/subscriptions\/[^\s/]+\/resourcegroups\/[^\s/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^\s/:;,)]+/gi;

export function failureReason(error: string): string {
  return error.replace(IDENTITY_ID, "<identity>");
}

/** The most frequent reasons first, at most `limit` of them. */
export async function failureGroups(deps: Pick<AuditDeps, "storage">, runId: string, limit = 3): Promise<FailureGroup[]> {
  const counts = new Map<string, number>();
  for await (const identity of listIdentityResults(deps.storage, runId)) {
    if (identity.status !== "error") continue;
    const reason = failureReason(identity.error ?? "no reason recorded");
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count)
    .slice(0, limit);
}
