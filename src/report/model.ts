/**
 * The report of one run: a stable JSON document (schemaVersion 2, described in docs/report-schema.md) that
 * every renderer and the alert email read. Built by a pure function, so the same inputs always give the same
 * report, byte for byte once rendered.
 */
import type { RoleAssignment } from "../arm/types.js";
import { runCounters, type AuditRun, type RunCounters, type RunSources } from "../model/run.js";
import type { CheckStatus, IdentityResult, ResourceGraphReference } from "../model/identityResult.js";
import { isNew, sortHistory, unusedSince, type HistoryEntry } from "../findings/history.js";
import {
  assignmentsByPrincipal,
  compareByName,
  compareByRisk,
  compareText,
  dedupeById,
  displayRoleName,
  isPrivileged,
  rankUnused,
  riskFor,
  scopeLevelOf,
  type RiskLevel,
  type ScopeLevel,
} from "../findings/risk.js";
import {
  VERDICTS,
  assertVerdictOptions,
  azureCreationTime,
  sourceFlags,
  verdictFor,
  type CreationSource,
  type Verdict,
  type VerdictOptions,
} from "../findings/verdicts.js";
import { DEFAULT_PORTAL_BASE_URL, deleteCommandFor, normalizePortalBaseUrl, portalUrlFor } from "./links.js";
import { countByRisk, mergeTrend, type TrendPoint } from "./trend.js";

/** 2: evidence per identity, the `active` verdict, the run's sources and banners (docs/report-schema.md). */
export const REPORT_SCHEMA_VERSION = 2;

export interface AuditReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** `options.now`, ISO 8601. */
  generatedAt: string;
  settings: { gracePeriodDays: number; exemptTag: string; portalBaseUrl: string };
  run: RunSummary;
  /**
   * Unused identities by risk over the last completed runs of the same scope (at most `TREND_LENGTH`),
   * oldest first, this run last. Reports stored before trends existed lack the key: readers use `?? []`.
   */
  trend: TrendPoint[];
  /** The action list: highest risk first. */
  unused: IdentityFinding[];
  /** Review lists, highest risk first. */
  active: IdentityFinding[];
  federated: IdentityFinding[];
  recent: IdentityFinding[];
  exempt: IdentityFinding[];
  error: IdentityFinding[];
  deleted: IdentityFinding[];
  inUseCount: number;
  /** In the JSON only; the HTML report shows the count. Sorted by name. */
  inUse: IdentityFinding[];
}

/** The run as the report gives it: the run's identity and counters (RunCounters), and more. */
export interface RunSummary extends RunCounters, Pick<AuditRun, "runId" | "tenantId" | "scope" | "trigger" | "status" | "startedAt"> {
  finishedAt: string | null;
  durationSeconds: number | null;
  error: string | null;
  identityCount: number;
  /** Every verdict is a key, in `VERDICTS` order, zero when none. */
  countsByVerdict: Record<Verdict, number>;
  newUnusedCount: number;
  /** `fast` or `exhaustive` (null for runs from before modes), and why not the mode asked for. */
  mode: AuditRun["mode"] | null;
  modeReason: string | null;
  /** Which sources of evidence the run had; null for runs from before they were gathered. */
  sources: RunSources | null;
  /** Resource Graph queried only part of the tenant (its 10,000-subscription cap). */
  partial: boolean;
  /** Identities listAssociatedResources called unused while Resource Graph showed a reference. */
  disagreementCount: number;
  /** Unused identities whose zero the API could not confirm (it was unavailable). */
  unconfirmedUnusedCount: number;
  /** What a reader must know before trusting the lists: missing sources, a partial run. */
  banners: Banner[];
  /** Sorted by subscription id. */
  subscriptions: SubscriptionSummary[];
}

export interface Banner {
  level: "warning" | "info";
  source: keyof RunSources | "run";
  text: string;
}

export interface SubscriptionSummary {
  subscriptionId: string;
  /** Known only when some associated resource lived in that subscription (Azure names it there). */
  subscriptionName: string | null;
  identityCount: number;
  countsByVerdict: Record<Verdict, number>;
}

export interface RoleAssignmentSummary {
  roleName: string;
  scope: string;
  scopeLevel: ScopeLevel;
  privileged: boolean;
}

export interface AssociationSummary {
  id: string;
  name: string;
  type: string;
}

export interface IdentityFinding {
  /** Lower-cased ARM id: how history and previous verdicts are keyed. */
  key: string;
  id: string;
  name: string;
  subscriptionId: string;
  subscriptionName: string | null;
  resourceGroup: string;
  location: string;
  tenantId: string;
  principalId: string;
  clientId: string;
  createdAt: string | null;
  /** Sorted by tag name. */
  tags: Record<string, string>;
  status: CheckStatus;
  checkedAt: string | null;
  associationCount: number | null;
  federatedCredentialCount: number | null;
  /** The stored first page of associated resources (not all of them when associationCount is larger). */
  associations: AssociationSummary[];
  verdict: Verdict;
  reasons: string[];
  /** `unused` confirmed by listAssociatedResources; false for every other verdict. */
  confirmed: boolean;
  /** listAssociatedResources said 0 while Resource Graph showed a reference. */
  disagreement: boolean;
  /** Where `createdAt` came from. */
  createdAtSource: CreationSource;
  /** Each source, what it said, and when. */
  evidence: FindingEvidence;
  risk: { level: RiskLevel; score: number; reasons: string[] };
  /** Privileged first, then broadest scope first. */
  roleAssignments: RoleAssignmentSummary[];
  /** Start of the first run of the current unbroken series of unused verdicts; null unless unused. */
  unusedSince: string | null;
  /** Unused now and not unused in the previous completed run. */
  isNew: boolean;
  /** Why the check failed; set for the error verdict (and whenever the run recorded an error). */
  error: string | null;
  portalUrl: string;
  /** Only for unused identities: nobody should find a delete command next to an identity in use. */
  deleteCommand: string | null;
}

export interface FindingEvidence {
  associationsApi: { status: "checked" | "unavailable" | "not-checked"; count: number | null; apiVersion: string | null; at: string | null };
  resourceGraph: { status: "checked" | "unavailable"; referenceCount: number | null; references: ResourceGraphReference[]; at: string | null };
  federatedCredentials: { count: number | null; at: string | null };
  signIns: { status: "checked" | "not-configured" | "unavailable"; lastSignInAt: string | null; resource: string | null; windowDays: number | null; at: string | null };
  creation: { createdAt: string | null; source: CreationSource; systemDataCreatedAt: string | null; createdTime: string | null; firstSeenAt: string | null };
}

export interface BuildReportInput {
  run: AuditRun;
  identities: IdentityResult[];
  /** All role assignments of the run's principals (one Resource Graph query). */
  roleAssignments: RoleAssignment[];
  /** Per identity key (lower-cased ARM id): its verdicts in earlier completed runs. This run's is added. */
  history: Map<string, HistoryEntry[]>;
  /** Verdicts of the previous completed run; omitted when there was none (then every unused one is new). */
  previousRunVerdicts?: Map<string, Verdict>;
  options: VerdictOptions;
  /** Default https://portal.azure.com. */
  portalBaseUrl?: string;
  /** Subscription display names by lower-cased id (Resource Graph); names seen on associations fill the gaps. */
  subscriptionNames?: ReadonlyMap<string, string>;
  /** Per identity key: the start of the earliest run that listed it (any run, any scope). */
  firstSeen?: ReadonlyMap<string, string>;
  /** Trend points of earlier completed runs of the same scope (src/audit/runTrend.ts); this run's is added. */
  trend?: readonly TrendPoint[];
}

const SCOPE_ORDER: Record<ScopeLevel, number> = {
  root: 0,
  "management-group": 1,
  unknown: 2,
  subscription: 3,
  "resource-group": 4,
  resource: 5,
};

export function buildReport(input: BuildReportInput): AuditReport {
  const { run, options } = input;
  assertVerdictOptions(options);
  const portalBaseUrl = normalizePortalBaseUrl(input.portalBaseUrl ?? DEFAULT_PORTAL_BASE_URL);
  const byPrincipal = assignmentsByPrincipal(input.roleAssignments);
  const subscriptionNames = new Map([...subscriptionNamesFrom(input.identities), ...(input.subscriptionNames ?? [])]);

  const findings = input.identities.map((identity) =>
    findingFor(identity, {
      run,
      options,
      firstSeenAt: input.firstSeen?.get(identity.id.toLowerCase()),
      portalBaseUrl,
      assignments: byPrincipal.get(identity.principalId.toLowerCase()) ?? [],
      history: input.history.get(identity.id.toLowerCase()) ?? [],
      previousRunVerdicts: input.previousRunVerdicts,
      subscriptionName: subscriptionNames.get(identity.subscriptionId.toLowerCase()) ?? null,
    }),
  );

  const withVerdict = (verdict: Verdict) => findings.filter((finding) => finding.verdict === verdict).sort(compareByRisk);
  const inUse = findings.filter((finding) => finding.verdict === "in-use").sort(compareByName);
  const unused = rankUnused(findings);

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: options.now.toISOString(),
    settings: { gracePeriodDays: options.gracePeriodDays, exemptTag: options.exemptTag, portalBaseUrl },
    run: summarizeRun(run, findings, subscriptionNames),
    trend: mergeTrend(input.trend ?? [], { runId: run.runId, startedAt: run.startedAt, unusedByRisk: countByRisk(unused) }),
    unused,
    active: withVerdict("active"),
    federated: withVerdict("federated"),
    recent: withVerdict("recent"),
    exempt: withVerdict("exempt"),
    error: withVerdict("error"),
    deleted: withVerdict("deleted"),
    inUseCount: inUse.length,
    inUse,
  };
}

/** Every finding of the report, in report order (unused first, in-use last). */
export function allFindings(report: AuditReport): IdentityFinding[] {
  return [
    ...report.unused,
    ...(report.active ?? []),
    ...report.federated,
    ...report.recent,
    ...report.exempt,
    ...report.error,
    ...report.deleted,
    ...report.inUse,
  ];
}

interface FindingContext {
  run: AuditRun;
  options: VerdictOptions;
  firstSeenAt: string | undefined;
  portalBaseUrl: string;
  assignments: RoleAssignment[];
  history: HistoryEntry[];
  previousRunVerdicts: Map<string, Verdict> | undefined;
  subscriptionName: string | null;
}

function findingFor(identity: IdentityResult, context: FindingContext): IdentityFinding {
  const key = identity.id.toLowerCase();
  const history = ownHistory(context.history, azureCreationTime(identity), context.run.runId);
  const firstSeenAt = earliest(context.firstSeenAt, sortHistory(history)[0]?.startedAt);
  const decided = verdictFor(identity, context.options, { ...(firstSeenAt ? { firstSeenAt } : {}), sources: sourceFlags(context.run.sources) });
  const { verdict, reasons } = decided;
  const risk = riskFor(context.assignments);
  const unused = verdict === "unused";
  const since = unused
    ? unusedSince([...history, { runId: context.run.runId, startedAt: context.run.startedAt, verdict }])
    : undefined;

  return {
    key,
    id: identity.id,
    name: identity.name,
    subscriptionId: identity.subscriptionId,
    subscriptionName: context.subscriptionName,
    resourceGroup: identity.resourceGroup,
    location: identity.location,
    tenantId: identity.tenantId || context.run.tenantId,
    principalId: identity.principalId,
    clientId: identity.clientId,
    createdAt: decided.createdAt,
    tags: sortedTags(identity.tags),
    status: identity.status,
    checkedAt: identity.checkedAt ?? null,
    associationCount: identity.associationCount ?? null,
    federatedCredentialCount: identity.federatedCredentialCount ?? null,
    associations: (identity.associations ?? []).map(({ id, name, type }) => ({ id, name, type })),
    verdict,
    reasons,
    confirmed: decided.confirmed,
    disagreement: decided.disagreement,
    createdAtSource: decided.createdAtSource,
    evidence: findingEvidence(identity, context.run.sources, firstSeenAt, decided.createdAt, decided.createdAtSource),
    risk: { level: risk.level, score: risk.score, reasons: risk.reasons },
    roleAssignments: summarizeAssignments(context.assignments),
    unusedSince: since ?? null,
    isNew: isNew(verdict, context.previousRunVerdicts?.get(key)),
    error: identity.error ?? (verdict === "error" ? reasons.join("; ") : null),
    portalUrl: portalUrlFor(identity.tenantId || context.run.tenantId, identity.id, context.portalBaseUrl),
    deleteCommand: unused ? deleteCommandFor(identity.id) : null,
  };
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

/** Each source of evidence about one identity: what it said, and when. */
export function findingEvidence(
  identity: IdentityResult,
  sources: RunSources | undefined,
  firstSeenAt: string | undefined,
  createdAt: string | null,
  createdAtSource: CreationSource,
): FindingEvidence {
  const flags = sourceFlags(sources);
  const checked = identity.status === "checked";
  const apiStatus = !flags.associationsApi ? "unavailable" : checked && identity.associationCount !== undefined ? "checked" : "not-checked";
  const signInStatus = sources?.signIns.status === "ok" ? "checked" : sources?.signIns.status === "failed" ? "unavailable" : "not-configured";
  return {
    associationsApi: {
      status: apiStatus,
      count: apiStatus === "checked" ? (identity.associationCount ?? null) : null,
      apiVersion: sources?.associationsApi.apiVersion ?? null,
      at: identity.checkedAt ?? null,
    },
    resourceGraph: {
      status: flags.resourceGraph ? "checked" : "unavailable",
      referenceCount: flags.resourceGraph ? (identity.referenceCount ?? 0) : null,
      references: flags.resourceGraph ? [...(identity.references ?? [])] : [],
      at: sources?.resourceGraph.at ?? null,
    },
    federatedCredentials: { count: identity.federatedCredentialCount ?? null, at: identity.checkedAt ?? null },
    signIns: {
      status: signInStatus,
      lastSignInAt: signInStatus === "checked" ? (identity.lastSignInAt ?? null) : null,
      resource: signInStatus === "checked" ? (identity.signInResource ?? null) : null,
      windowDays: sources?.signIns.windowDays ?? null,
      at: sources?.signIns.at ?? null,
    },
    creation: {
      createdAt,
      source: createdAtSource,
      systemDataCreatedAt: identity.createdAt ?? null,
      createdTime: identity.createdTime ?? null,
      firstSeenAt: firstSeenAt ?? null,
    },
  };
}

/** What a reader must know before trusting the run's lists. */
export function bannersFor(sources: RunSources | undefined): Banner[] {
  if (!sources) return [];
  const banners: Banner[] = [];
  const { associationsApi, resourceGraph, createdTime, signIns } = sources;
  if (associationsApi.status === "failed") {
    banners.push({
      level: "warning",
      source: "associationsApi",
      text: `listAssociatedResources was unavailable for this run: ${associationsApi.reason ?? "no reason given"}. Unused verdicts rest on the Resource Graph sweep, federated credentials, creation times and sign-ins, and are marked unconfirmed.`,
    });
  }
  if (resourceGraph.status === "failed") {
    banners.push({ level: "warning", source: "resourceGraph", text: `${resourceGraph.reason ?? "The Resource Graph reference sweep failed"}. Identities were judged without it.` });
  }
  if (resourceGraph.partial) {
    banners.push({ level: "warning", source: "run", text: `This run is partial: ${resourceGraph.reason ?? "Resource Graph queried only part of the tenant"}.` });
  }
  if (createdTime.status === "failed") {
    banners.push({ level: "warning", source: "createdTime", text: `${createdTime.reason ?? "Creation times could not be listed"}. Identities without a known creation time are listed as recent.` });
  }
  if (signIns.status === "failed") {
    banners.push({ level: "warning", source: "signIns", text: `Sign-in activity was not checked: ${signIns.reason ?? "the query failed"}.` });
  } else if (signIns.status === "not-configured") {
    banners.push({ level: "info", source: "signIns", text: "Sign-in activity was not checked: no Log Analytics workspace is configured (UAMI_SIGNIN_WORKSPACE_ID)." });
  }
  return banners;
}

/**
 * The identity's earlier verdicts, without the current run (its verdict is computed here) and without runs
 * that started before the identity was created: those saw an earlier identity of the same name, deleted
 * and created again, and must not date this one's age or unused series.
 */
function ownHistory(history: HistoryEntry[], createdAt: string | undefined, currentRunId: string): HistoryEntry[] {
  const created = createdAt ? Date.parse(createdAt) : Number.NaN;
  return history.filter(
    (entry) =>
      entry.runId !== currentRunId && (Number.isNaN(created) || !(Date.parse(entry.startedAt) < created)),
  );
}

function summarizeAssignments(assignments: RoleAssignment[]): RoleAssignmentSummary[] {
  return dedupeById(assignments)
    .map((assignment) => ({
      roleName: displayRoleName(assignment),
      scope: assignment.scope,
      scopeLevel: scopeLevelOf(assignment.scope),
      privileged: isPrivileged(assignment),
    }))
    .sort(
      (a, b) =>
        Number(b.privileged) - Number(a.privileged) ||
        SCOPE_ORDER[a.scopeLevel] - SCOPE_ORDER[b.scopeLevel] ||
        compareCodeUnits(a.roleName, b.roleName) ||
        compareCodeUnits(a.scope.toLowerCase(), b.scope.toLowerCase()),
    );
}

function summarizeRun(
  run: AuditRun,
  findings: IdentityFinding[],
  subscriptionNames: Map<string, string>,
): RunSummary {
  const bySubscription = new Map<string, { subscriptionId: string; findings: IdentityFinding[] }>();
  for (const finding of findings) {
    const key = finding.subscriptionId.toLowerCase();
    const entry = bySubscription.get(key) ?? { subscriptionId: finding.subscriptionId, findings: [] };
    entry.findings.push(finding);
    bySubscription.set(key, entry);
  }
  const subscriptions = [...bySubscription.entries()]
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .map(([key, entry]) => ({
      subscriptionId: entry.subscriptionId,
      subscriptionName: subscriptionNames.get(key) ?? null,
      identityCount: entry.findings.length,
      countsByVerdict: countByVerdict(entry.findings),
    }));

  return {
    runId: run.runId,
    tenantId: run.tenantId,
    scope: { subscriptions: [...run.scope.subscriptions], managementGroups: [...run.scope.managementGroups] },
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    durationSeconds: durationSeconds(run.startedAt, run.finishedAt),
    ...runCounters(run),
    error: run.error ?? null,
    identityCount: findings.length,
    countsByVerdict: countByVerdict(findings),
    newUnusedCount: findings.filter((finding) => finding.isNew).length,
    mode: run.mode ?? null,
    modeReason: run.modeReason ?? null,
    sources: run.sources ?? null,
    partial: run.sources?.resourceGraph.partial === true,
    disagreementCount: findings.filter((finding) => finding.disagreement).length,
    unconfirmedUnusedCount: findings.filter((finding) => finding.verdict === "unused" && !finding.confirmed).length,
    banners: bannersFor(run.sources),
    subscriptions,
  };
}

function countByVerdict(findings: IdentityFinding[]): Record<Verdict, number> {
  const counts = Object.fromEntries(VERDICTS.map((verdict) => [verdict, 0])) as Record<Verdict, number>;
  for (const finding of findings) counts[finding.verdict] += 1;
  return counts;
}

/**
 * Associated resources carry their subscription's name: the fallback when Resource Graph did not name a
 * subscription (it failed, or the scope did not reach it). Taken in resource id order, so a subscription renamed mid-run gets the same name whatever the order of the input.
 */
function subscriptionNamesFrom(identities: IdentityResult[]): Map<string, string> {
  const associations = identities
    .flatMap((identity) => identity.associations ?? [])
    .sort((a, b) => compareCodeUnits(a.id.toLowerCase(), b.id.toLowerCase()));
  const names = new Map<string, string>();
  for (const association of associations) {
    const key = association.subscriptionId?.toLowerCase();
    if (key && association.subscriptionDisplayName && !names.has(key)) {
      names.set(key, association.subscriptionDisplayName);
    }
  }
  return names;
}

function durationSeconds(startedAt: string, finishedAt: string | undefined): number | null {
  if (!finishedAt) return null;
  const milliseconds = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isNaN(milliseconds) ? null : Math.round(milliseconds / 1000);
}

function sortedTags(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags ?? {}).sort(([a], [b]) => compareText(a, b)),
  );
}

function compareCodeUnits(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
