/**
 * What to do about one identity after a run: the verdict and the human reasons behind it.
 *
 * The rules are applied in a fixed order, first match wins (see docs/report-schema.md, "Verdicts"):
 *
 * 1. `exempt`    the exemption tag is present (tag NAME, case-insensitive like Azure tag names; any value).
 *                Exempt beats everything, even `deleted` and `error`: an exemption is a person's decision
 *                never to act on the identity, so no list asks anyone to act on it. The verdict it would
 *                otherwise have had is kept as a reason, so stale exemptions stay visible.
 * 2. `deleted`   carried from the run: the identity disappeared while the run was checking it.
 *    `error`     carried from the run (`error`, or `pending`: never checked). Never `unused` or `in-use`.
 * 3. `in-use`    at least one associated resource.
 *    `error`     checked but no association count: nothing is proven.
 * 4. `error`     zero associations but the federated credential count is unknown: an identity used only
 *                through federation (GitHub Actions, AKS workload identity, other clouds) has no Azure
 *                resource attached, so "unused" would be a guess, and we never call unused what we could
 *                not prove.
 *    `federated` zero associations and at least one federated identity credential: for review.
 * 5. `recent`    zero associations, no federated credentials, younger than the grace period; also when the
 *                creation date is unknown (Azure sent no `systemData.createdAt`) and no earlier audit saw
 *                the identity at least a grace period ago. An unknown age is never taken for an old one.
 * 6. `unused`    zero associations, zero federated credentials, at least `gracePeriodDays` old, not exempt.
 */
import type { IdentityResult } from "../audit/model.js";

export type Verdict = "unused" | "in-use" | "federated" | "recent" | "exempt" | "deleted" | "error";

/** Every verdict, in the order reports list them (the action list first, then the review lists). */
export const VERDICTS: readonly Verdict[] = ["unused", "federated", "recent", "exempt", "error", "deleted", "in-use"];

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
 * What we know about an identity beyond the run itself.
 * `firstSeenAt`: the start of the earliest audit run that listed this identity. An identity an audit saw
 * that long ago is at least that old, which settles the age of identities Azure gives no creation date for.
 */
export interface VerdictEvidence {
  firstSeenAt?: string;
}

export interface VerdictResult {
  verdict: Verdict;
  reasons: string[];
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
      verdict: "exempt",
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
  switch (identity.status) {
    case "deleted":
      return { verdict: "deleted", reasons: ["deleted while the run was checking it"] };
    case "error":
      return { verdict: "error", reasons: [`check failed: ${identity.error?.trim() || "no error recorded"}`] };
    case "pending":
      return { verdict: "error", reasons: ["not checked"] };
    case "checked":
      break;
    default:
      // A status this code does not know proves nothing.
      return { verdict: "error", reasons: [`unknown check status ${JSON.stringify(identity.status)}`] };
  }

  const associations = identity.associationCount;
  if (associations === undefined || !Number.isFinite(associations) || associations < 0) {
    return { verdict: "error", reasons: ["associated resource count unknown"] };
  }
  if (associations >= 1) {
    return { verdict: "in-use", reasons: [plural(associations, "associated resource")] };
  }

  const reasons = [plural(0, "associated resource")];
  const federated = identity.federatedCredentialCount;
  if (federated === undefined || !Number.isFinite(federated) || federated < 0) {
    return { verdict: "error", reasons: [...reasons, "federated credentials unknown"] };
  }
  if (federated > 0) {
    return { verdict: "federated", reasons: [...reasons, plural(federated, "federated identity credential")] };
  }
  reasons.push(plural(0, "federated identity credential"));

  const graceMs = options.gracePeriodDays * DAY_MS;
  const age = ageOf(identity.createdAt, evidence.firstSeenAt, options.now, graceMs);
  const grace = `the ${options.gracePeriodDays}-day grace period`;
  if (age.kind === "unknown") {
    return { verdict: "recent", reasons: [...reasons, `creation date unknown; treated as within ${grace}`] };
  }
  const ageMs = options.now.getTime() - age.since.getTime();
  const when = `${age.kind === "created" ? "created" : "first seen by an audit"} ${isoDate(age.since)}`;
  if (ageMs < graceMs) {
    return { verdict: "recent", reasons: [...reasons, `${when}, within ${grace}`] };
  }
  return { verdict: "unused", reasons: [...reasons, `${when}, ${plural(Math.floor(ageMs / DAY_MS), "day")} ago`] };
}

type Age = { kind: "created" | "first-seen"; since: Date } | { kind: "unknown" };

/**
 * The creation date when Azure gave one. Otherwise the first audit sighting, but only once it is at least a
 * grace period old: a lower bound on the age is proof enough for "old", never for "young".
 */
function ageOf(createdAt: string | undefined, firstSeenAt: string | undefined, now: Date, graceMs: number): Age {
  const created = parseDate(createdAt);
  if (created) return { kind: "created", since: created };
  const firstSeen = parseDate(firstSeenAt);
  if (firstSeen && now.getTime() - firstSeen.getTime() >= graceMs) return { kind: "first-seen", since: firstSeen };
  return { kind: "unknown" };
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
