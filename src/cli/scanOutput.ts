/** The `--out` JSON of `uami-audit scan`: the run and every identity with its result and verdict. */
import type { AssociatedResource } from "../arm/types.js";
import type { AuditDeps } from "../audit/deps.js";
import type { AuditRun, IdentityResult } from "../audit/model.js";
import { verdictFor, type VerdictOptions } from "../findings/verdicts.js";
import { allFindings, type AuditReport } from "../report/model.js";
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

/**
 * Verdicts come from the run's report when it was built; otherwise (a run that did not complete) from the
 * same `verdictFor` rules, so the output never calls an identity unused on weaker evidence than the report.
 */
export async function scanOutput(
  deps: Pick<AuditDeps, "storage">,
  run: AuditRun,
  findings: { report?: AuditReport; options: VerdictOptions },
): Promise<ScanOutput> {
  const reported = new Map(findings.report ? allFindings(findings.report).map((f) => [f.key, f.verdict] as const) : []);
  const verdictOf = (identity: IdentityResult) => reported.get(identity.id.toLowerCase()) ?? verdictFor(identity, findings.options).verdict;
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
