/**
 * What to do about one identity after a run: the verdict and the human reasons behind it, from every
 * source of evidence the run had. Computed once per identity per run (the report step) and stored; the
 * report, the API, the CLI and the email read the stored verdict.
 *
 * The rules are applied in a fixed order, first match wins (see docs/report-schema.md, "Verdicts"):
 *
 * 1. `exempt`    the exemption tag is present (tag NAME, case-insensitive like Azure tag names; any value).
 *                Exempt beats everything, even `deleted` and `error`: an exemption is a person's decision
 *                never to act on the identity. The verdict it would otherwise have had is kept as a reason.
 * 2. `deleted`   carried from the run: the identity disappeared while the run was checking it.
 *    `error`     carried from the run (`error`, or `pending`: never checked). Never `unused` or `in-use`.
 * 3. `in-use`    listAssociatedResources counts at least one associated resource, or the Resource Graph
 *                sweep found a resource that refers to the identity (its identity bag, the AKS kubelet
 *                identity, an id in its properties, a policy assignment). When the API said 0 and Resource
 *                Graph shows a reference, the identity is flagged as a disagreement: the API is documented
 *                to miss preview resource types, and we never call unused what something still refers to.
 *    `error`     the API was available but gave no count for this identity; or no source of associations
 *                at all was available (no API, no sweep): nothing is proven.
 * 4. `error`     federated credential count unknown (an identity used only through federation has no
 *                Azure resource attached, so "unused" would be a guess).
 *    `federated` at least one federated identity credential: for review.
 * 5. `active`    no associations anywhere, but a successful sign-in within the sign-in window: something
 *                outside Azure's resource index (a deployment script, a container group, an ML job that
 *                exists only while it runs) uses it. For review, never a delete candidate.
 * 6. `recent`    younger than the grace period, or of unknown age: the creation time comes from
 *                `systemData.createdAt` when Azure sent it, else ARM's resource list (`createdTime`), else
 *                the first audit that saw the identity, once that is at least a grace period ago. An
 *                unknown age is never taken for an old one.
 * 7. `unused`    none of the above: the delete candidates. `confirmed` is false when listAssociatedResources
 *                was unavailable for the run and the verdict rests on the other evidence.
 */
import type { IdentityResult } from "../model/identityResult.js";
import type { RunSources } from "../model/run.js";

export type Verdict = "unused" | "in-use" | "federated" | "active" | "recent" | "exempt" | "deleted" | "error";

/** Every verdict, in the order reports list them (the action list first, then the review lists). */
export const VERDICTS: readonly Verdict[] = ["unused", "active", "federated", "recent", "exempt", "error", "deleted", "in-use"];

/** Where an identity's creation time came from. */
export type CreationSource = "systemData" | "createdTime" | "firstSeen" | "unknown";

export const DEFAULT_GRACE_PERIOD_DAYS = 7;
export const DEFAULT_EXEMPT_TAG = "uami-audit-exempt";

export interface VerdictOptions {
  /** The moment ages are measured from (the run's time, so a report can be rebuilt identically). */
  now: Date;
  /** Identities younger than this many days are `recent`, never `unused`. Default 7. */
  gracePeriodDays: number;
  /** Name of the tag that exempts an identity (matched case-insensitively, any value). Default "uami-audit-exempt". */
  exemptTag: string;
}

/**
 * What we know beyond the identity's own row.
 * `firstSeenAt`: the start of the earliest audit run that listed this identity. An identity an audit saw
 * that long ago is at least that old, which settles the age of identities Azure gives no creation date for.
 * `sources`: which run-wide sources answered (absent: a run from before evidence was gathered, read as
 * "the API answered, no sweep, no sign-ins", which is how those runs decided).
 */
export interface VerdictEvidence {
  firstSeenAt?: string;
  sources?: RunSourceFlags;
}

/** The run-wide facts a verdict needs, reduced from `RunSources`. */
export interface RunSourceFlags {
  /** listAssociatedResources answered the run's probe. */
  associationsApi: boolean;
  /** The Resource Graph reference sweep completed. */
  resourceGraph: boolean;
  /** Sign-ins were checked, over this many days; undefined when not configured or failed. */
  signInWindowDays?: number;
}

export const LEGACY_SOURCES: RunSourceFlags = { associationsApi: true, resourceGraph: false };

export interface VerdictResult {
  verdict: Verdict;
  reasons: string[];
  /** For `unused`: listAssociatedResources confirmed the zero. False when the API was unavailable. */
  confirmed: boolean;
  /** listAssociatedResources said 0 while Resource Graph showed a reference (the verdict is `in-use`). */
  disagreement: boolean;
  /** The creation time the age was measured from, and where it came from. */
  createdAt: string | null;
  createdAtSource: CreationSource;
}

const DAY_MS = 86_400_000;

/** Fills the documented defaults and validates, naming the option that is wrong. */
export function createVerdictOptions(options: Partial<VerdictOptions> = {}): VerdictOptions {
  const resolved: VerdictOptions = {
    now: options.now ?? new Date(),
    gracePeriodDays: options.gracePeriodDays ?? DEFAULT_GRACE_PERIOD_DAYS,
    exemptTag: options.exemptTag ?? DEFAULT_EXEMPT_TAG,
  };
  assertVerdictOptions(resolved);
  return resolved;
}

/** The verdict options of a run started (or a history record made) at `at`, from the app's settings. */
export function verdictOptions(settings: Pick<VerdictOptions, "gracePeriodDays" | "exemptTag">, at: string): VerdictOptions {
  return { now: new Date(at), gracePeriodDays: settings.gracePeriodDays, exemptTag: settings.exemptTag };
}

export function assertVerdictOptions(options: VerdictOptions): void {
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new TypeError("Expected `now` to be a valid Date");
  }
  if (!Number.isFinite(options.gracePeriodDays) || options.gracePeriodDays < 0) {
    throw new TypeError(`Expected \`gracePeriodDays\` to be a finite number >= 0, got ${String(options.gracePeriodDays)}`);
  }
  if (typeof options.exemptTag !== "string" || options.exemptTag.trim() === "") {
    throw new TypeError("Expected `exemptTag` to be a non-empty tag name");
  }
}

/** The verdict for one identity in one run, with the reasons a person reads. */
export function verdictFor(
  identity: IdentityResult,
  options: VerdictOptions,
  evidence: VerdictEvidence = {},
): VerdictResult {
  assertVerdictOptions(options);
  const unexempted = verdictIgnoringExemption(identity, options, evidence);
  const exemption = findExemptionTag(identity.tags, options.exemptTag);
  if (exemption) {
    return {
      ...unexempted,
      verdict: "exempt",
      confirmed: false,
      reasons: [`tag ${exemption.name}=${exemption.value}`, `without the exemption: ${unexempted.verdict}`],
    };
  }
  return unexempted;
}

/** The tag that exempts the identity, if any. Azure tag names are case-insensitive. */
export function findExemptionTag(
  tags: Record<string, string> | undefined,
  exemptTag: string,
): { name: string; value: string } | undefined {
  const wanted = exemptTag.toLowerCase();
  for (const [name, value] of Object.entries(tags ?? {})) {
    if (name.toLowerCase() === wanted) return { name, value: String(value) };
  }
  return undefined;
}

function verdictIgnoringExemption(
  identity: IdentityResult,
  options: VerdictOptions,
  evidence: VerdictEvidence,
): VerdictResult {
  const sources = evidence.sources ?? LEGACY_SOURCES;
  const graceMs = options.gracePeriodDays * DAY_MS;
  const age = ageOf(identity, evidence.firstSeenAt, options.now, graceMs);
  const creation = { createdAt: age.kind === "unknown" ? null : age.since.toISOString(), createdAtSource: age.kind };
  const result = (verdict: Verdict, reasons: string[], extra: Partial<Pick<VerdictResult, "confirmed" | "disagreement">> = {}): VerdictResult => ({
    verdict,
    reasons,
    confirmed: extra.confirmed ?? false,
    disagreement: extra.disagreement ?? false,
    ...creation,
  });

  switch (identity.status) {
    case "deleted":
      return result("deleted", ["deleted while the run was checking it"]);
    case "error":
      return result("error", [`check failed: ${identity.error?.trim() || "no error recorded"}`]);
    case "pending":
      return result("error", ["not checked"]);
    case "checked":
      break;
    default:
      // A status this code does not know proves nothing.
      return result("error", [`unknown check status ${JSON.stringify(identity.status)}`]);
  }

  const apiCount = sources.associationsApi ? countOrUndefined(identity.associationCount) : undefined;
  const references = sources.resourceGraph ? (countOrUndefined(identity.referenceCount) ?? 0) : undefined;
  const apiReason = apiCount === undefined ? undefined : `${plural(apiCount, "associated resource")} (listAssociatedResources)`;
  const graphReason = references === undefined ? undefined : `${plural(references, "Resource Graph reference")}${referenceKinds(identity)}`;

  if (apiCount !== undefined && apiCount >= 1) {
    return result("in-use", [apiReason!, ...(graphReason && references! > 0 ? [graphReason] : [])]);
  }
  if (references !== undefined && references >= 1) {
    const disagreement = apiCount === 0;
    return result("in-use", [graphReason!, ...(disagreement ? ["listAssociatedResources said 0: the sources disagree"] : [])], { disagreement });
  }
  if (sources.associationsApi && apiCount === undefined) {
    return result("error", ["associated resource count unknown"]);
  }
  if (!sources.associationsApi && !sources.resourceGraph) {
    return result("error", ["no source of associations was available (listAssociatedResources and the Resource Graph sweep both failed)"]);
  }
  const reasons = [apiReason ?? "listAssociatedResources unavailable", ...(graphReason ? [graphReason] : [])];

  const federated = identity.federatedCredentialCount;
  if (federated === undefined || !Number.isFinite(federated) || federated < 0) {
    return result("error", [...reasons, "federated credentials unknown"]);
  }
  if (federated > 0) {
    return result("federated", [...reasons, plural(federated, "federated identity credential")]);
  }
  reasons.push(plural(0, "federated identity credential"));

  const signIn = recentSignIn(identity, sources, options.now);
  if (signIn) {
    return result("active", [...reasons, `signed in ${signIn}`]);
  }
  if (sources.signInWindowDays !== undefined) reasons.push(`no successful sign-in in ${plural(sources.signInWindowDays, "day")}`);

  const grace = `the ${options.gracePeriodDays}-day grace period`;
  if (age.kind === "unknown") {
    return result("recent", [...reasons, `creation date unknown; treated as within ${grace}`]);
  }
  const ageMs = options.now.getTime() - age.since.getTime();
  const when = `${age.kind === "firstSeen" ? "first seen by an audit" : "created"} ${isoDate(age.since)}`;
  if (ageMs < graceMs) {
    return result("recent", [...reasons, `${when}, within ${grace}`]);
  }
  const confirmed = apiCount === 0;
  return result("unused", [...reasons, `${when}, ${plural(Math.floor(ageMs / DAY_MS), "day")} ago`, ...(confirmed ? [] : ["unconfirmed: listAssociatedResources was unavailable"])], { confirmed });
}

function countOrUndefined(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) || value < 0 ? undefined : value;
}

function referenceKinds(identity: IdentityResult): string {
  const kinds = [...new Set((identity.references ?? []).map((r) => r.kind))];
  return kinds.length > 0 ? ` (${kinds.join(", ")})` : "";
}

/** "on 2026-11-30 (to Azure Key Vault)" when the identity signed in within the run's window. */
function recentSignIn(identity: IdentityResult, sources: RunSourceFlags, now: Date): string | undefined {
  if (sources.signInWindowDays === undefined) return undefined;
  const at = parseDate(identity.lastSignInAt);
  if (!at || now.getTime() - at.getTime() > sources.signInWindowDays * DAY_MS) return undefined;
  return `on ${isoDate(at)}${identity.signInResource ? ` (to ${identity.signInResource})` : ""}`;
}

type Age = { kind: "systemData" | "createdTime" | "firstSeen"; since: Date } | { kind: "unknown" };

/**
 * `systemData.createdAt` when Azure sent it, else `createdTime` from ARM's resource list. Otherwise the
 * first audit sighting, but only once it is at least a grace period old: a lower bound on the age is proof
 * enough for "old", never for "young".
 */
function ageOf(identity: Pick<IdentityResult, "createdAt" | "createdTime">, firstSeenAt: string | undefined, now: Date, graceMs: number): Age {
  const systemData = parseDate(identity.createdAt);
  if (systemData) return { kind: "systemData", since: systemData };
  const createdTime = parseDate(identity.createdTime);
  if (createdTime) return { kind: "createdTime", since: createdTime };
  const firstSeen = parseDate(firstSeenAt);
  if (firstSeen && now.getTime() - firstSeen.getTime() >= graceMs) return { kind: "firstSeen", since: firstSeen };
  return { kind: "unknown" };
}

/** The creation time of an identity from Azure's own sources (systemData, then createdTime), if any. */
export function azureCreationTime(identity: Pick<IdentityResult, "createdAt" | "createdTime">): string | undefined {
  return parseDate(identity.createdAt) ? identity.createdAt : parseDate(identity.createdTime) ? identity.createdTime : undefined;
}

/** The run-wide flags a verdict reads, from the run's stored sources. */
export function sourceFlags(sources: RunSources | undefined): RunSourceFlags {
  if (!sources) return LEGACY_SOURCES;
  return {
    associationsApi: sources.associationsApi.status === "ok",
    resourceGraph: sources.resourceGraph.status === "ok",
    ...(sources.signIns.status === "ok" && sources.signIns.windowDays !== undefined ? { signInWindowDays: sources.signIns.windowDays } : {}),
  };
}

function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
