/** The `--out` JSON of `uami-audit scan`: the run and every identity with its result and verdict. */
import type { AssociatedResource } from "../arm/types.js";
import type { AuditDeps } from "../audit/deps.js";
import type { AuditRun, IdentityResult } from "../audit/model.js";
import { listIdentityResults, readAssociations } from "../store/identityResults.js";

export interface ScanOutputIdentity {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  principalId: string;
  clientId: string;
  associationCount: number | null;
  associations: AssociatedResource[];
  federatedCredentialCount: number | null;
  verdict: string;
}

export interface ScanOutput {
  runId: string;
  tenantId: string;
  status: AuditRun["status"];
  startedAt: string;
  finishedAt: string | null;
  identities: ScanOutputIdentity[];
}

export type VerdictOf = (identity: IdentityResult) => string;

/** Until findings refine it: checked with zero associations is "unused". */
export const basicVerdict: VerdictOf = (identity) => {
  if (identity.status === "deleted") return "deleted";
  if (identity.status !== "checked") return "error";
  return (identity.associationCount ?? 0) > 0 ? "in-use" : "unused";
};

export async function scanOutput(deps: AuditDeps, run: AuditRun, verdictOf: VerdictOf = basicVerdict): Promise<ScanOutput> {
  const identities: ScanOutputIdentity[] = [];
  for await (const identity of listIdentityResults(deps.storage, run.runId)) {
    const associations = identity.status === "checked" ? await readAssociations(deps.storage, run.runId, identity.id) : [];
    identities.push({
      id: identity.id,
      name: identity.name,
      subscriptionId: identity.subscriptionId,
      resourceGroup: identity.resourceGroup,
      principalId: identity.principalId,
      clientId: identity.clientId,
      associationCount: identity.associationCount ?? null,
      associations,
      federatedCredentialCount: identity.federatedCredentialCount ?? null,
      verdict: verdictOf({ ...identity, associations }),
    });
  }
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    identities,
  };
}
