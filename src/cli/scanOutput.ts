/** The `--out` JSON of `uami-audit scan`: the run, its sources of evidence, and every identity with its verdict and evidence. */
import type { AuditDeps } from "../audit/deps.js";
import type { AuditRun, RunSources } from "../model/run.js";
import type { IdentityResult } from "../model/identityResult.js";
import { sourceFlags, verdictFor, VERDICTS, type Verdict, type VerdictOptions, type VerdictResult } from "../findings/verdicts.js";
import { allFindings, bannersFor, findingEvidence, type AuditReport, type Banner, type FindingEvidence, type IdentityFinding } from "../report/model.js";
import { listIdentityResults, readAssociations } from "../store/identityResults.js";

/** One identity of `--out`: what the inventory says of it, what its check found, and its verdict (VerdictResult) with the evidence. */
export interface ScanOutputIdentity
  extends Pick<IdentityResult, "id" | "name" | "subscriptionId" | "resourceGroup" | "principalId" | "clientId" | "associations">,
    VerdictResult {
  associationCount: number | null;
  federatedCredentialCount: number | null;
  evidence: FindingEvidence;
}

export interface ScanOutput {
  runId: string;
  tenantId: string;
  status: AuditRun["status"];
  startedAt: string;
  finishedAt: string | null;
  /** `fast` or `exhaustive`, and why not the mode asked for (null when it is). */
  mode: AuditRun["mode"] | null;
  modeReason: string | null;
  /** Requests to listAssociatedResources (the throttled API), and every ARM request of the run. */
  apiRequests: number;
  requests: number;
  sources: RunSources | null;
  banners: Banner[];
  countsByVerdict: Record<Verdict, number>;
  disagreementCount: number;
  identities: ScanOutputIdentity[];
}

type Decided = Pick<IdentityFinding, keyof VerdictResult | "evidence">;

/**
 * Verdicts come from the run's report when it was built (decided once, from all the run's evidence);
 * otherwise (a run that did not complete) from the same `verdictFor` over the same evidence.
 */
export async function scanOutput(
  deps: Pick<AuditDeps, "storage">,
  run: AuditRun,
  findings: { report?: AuditReport; options: VerdictOptions },
): Promise<ScanOutput> {
  const reported = new Map<string, Decided>(findings.report ? allFindings(findings.report).map((f) => [f.key, f] as const) : []);
  const decide = (identity: IdentityResult): Decided => {
    const stored = reported.get(identity.id.toLowerCase());
    if (stored) return stored;
    const decided = verdictFor(identity, findings.options, { sources: sourceFlags(run.sources) });
    return { ...decided, evidence: findingEvidence(identity, run.sources, undefined, decided.createdAt, decided.createdAtSource) };
  };
  const identities: ScanOutputIdentity[] = [];
  for await (const identity of listIdentityResults(deps.storage, run.runId)) {
    // Fast mode keeps the Resource Graph references of an identity it decided on its row (source `resourceGraph`).
    const stored = identity.status === "checked" ? await readAssociations(deps.storage, run.runId, identity.id) : [];
    const associations = stored.length > 0 ? stored : identity.associations.filter((a) => a.source === "resourceGraph");
    const decided = decide({ ...identity, associations });
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
      verdict: decided.verdict,
      reasons: decided.reasons,
      confirmed: decided.confirmed,
      disagreement: decided.disagreement,
      createdAt: decided.createdAt,
      createdAtSource: decided.createdAtSource,
      evidence: decided.evidence,
    });
  }
  const countsByVerdict = Object.fromEntries(VERDICTS.map((v) => [v, identities.filter((i) => i.verdict === v).length])) as Record<Verdict, number>;
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    mode: run.mode ?? null,
    modeReason: run.modeReason ?? null,
    apiRequests: run.apiRequests,
    requests: run.requests,
    sources: run.sources ?? null,
    banners: bannersFor(run.sources),
    countsByVerdict,
    disagreementCount: identities.filter((i) => i.disagreement).length,
    identities,
  };
}
