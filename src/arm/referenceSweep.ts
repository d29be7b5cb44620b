/**
 * The reference sweep: every user-assigned identity that a resource in scope names, found with three Resource
 * Graph queries (queries.ts: `identityBagReferencesQuery`, `propertyReferencesQuery`,
 * `policyAssignmentReferencesQuery`), so that "unused" never rests on the one preview API's zero count.
 *
 * The queries summarise in Resource Graph: one row per identity (and kind), `{id, referenceCount,
 * resourceIds}` (the property query adds `isKubelet`). Each becomes an `IdentityReferenceSummary` whose
 * `identityId` is normalised to `resourceIdKey` form (lower case, `resourcegroups`, no trailing slash), so
 * callers compare it with `resourceIdKey(identity.id)` directly. A resource's type is read from its id (the
 * last provider namespace and the type segments after it), which is how ARM builds both.
 *
 * Rows in the per-resource shape `{id (the resource), type, identityId[, kubeletIdentityId]}` (the sweep's
 * earlier queries, and what a Resource Graph stand-in may answer) are accepted too, each as a summary of one
 * reference; within one resource one kind names an identity at most once (rows come ordered by id). The same
 * identity under two kinds (an AKS cluster's kubelet identity is in its identity bag and in
 * `identityProfile`), or in two scope batches, comes once per kind and batch: the caller adds them up.
 */
import type { AuthorizationScopeFilter } from "@azure/arm-resourcegraph";
import type { AuditScope } from "./types.js";
import type { ArmConnection } from "./connection.js";
import { ArmError, malformedBody, type ResponseContext } from "./errors.js";
import { optionalString, requireString, show } from "./bodyFields.js";
import { identityBagReferencesQuery, policyAssignmentReferencesQuery, propertyReferencesQuery } from "./queries.js";
import { queryResourceGraph, type ResourceGraphOptions } from "./resourceGraph.js";
import { canonicalIdentityId, parseIdentityId, resourceIdKey } from "./resourceId.js";

export type ReferenceKind = "identity" | "kubelet" | "properties" | "policyAssignment";

export interface IdentityReference {
  /** The referenced identity's ARM id, in `resourceIdKey` form (lower case, `resourcegroups`, no trailing slash). */
  identityId: string;
  /** The referencing resource (or policy assignment) id, as Resource Graph returned it. */
  resourceId: string;
  /** Its type, lower-cased (`microsoft.web/sites`, `microsoft.authorization/policyassignments`). */
  resourceType: string;
  kind: ReferenceKind;
}

/** What one query says of one identity: how many resources name it (this way), and some of them. */
export interface IdentityReferenceSummary {
  /** In `resourceIdKey` form. */
  identityId: string;
  kind: ReferenceKind;
  /** Distinct resources that name the identity this way (exact, whatever the sample's size). */
  referenceCount: number;
  /** Up to REFERENCE_SAMPLE_SIZE of those resources. */
  references: IdentityReference[];
}

export type ReferenceQueryName = "identityBagReferences" | "propertyReferences" | "policyAssignmentReferences";

export interface InvalidReferenceRow {
  query: ReferenceQueryName;
  row: Record<string, unknown>;
  reason: string;
}

export interface ReferenceSweepOptions extends ResourceGraphOptions {
  /**
   * Given: a row that does not fit (no `id`, an `id` that is not a user-assigned identity id, a count that is
   * not a number) is skipped and reported here. Not given: such a row is skipped silently; a sweep is evidence
   * gathering and one odd resource must not stop it.
   */
  onInvalidRow?: (invalid: InvalidReferenceRow) => void;
}

/**
 * The scope filter of the policy assignment query. Policy assignments that run as an identity sit at
 * management groups above an audited subscription and at resource groups (or resources) below it; ARG's
 * default `AtScopeAndBelow` misses the first, `AtScopeAndAbove` the second. `AtScopeAboveAndBelow` (an option
 * of the 2024-04-01 API, resourcegraph.json `QueryRequestOptions.authorizationScopeFilter`) returns both, as
 * listRoleAssignments already does for role assignments.
 */
export const POLICY_ASSIGNMENT_SCOPE_FILTER: AuthorizationScopeFilter = "AtScopeAboveAndBelow";

/**
 * An identity id from a row, in `resourceIdKey` form, or a thrown `InvalidResourceIdError` when the text is
 * not the id of a user-assigned identity (any casing of the fixed segments, an optional trailing slash).
 */
function normaliseIdentityReferenceId(raw: string): string {
  return resourceIdKey(canonicalIdentityId(parseIdentityId(raw)));
}

/**
 * A resource's type from its id: the namespace after the last `/providers/` and every other segment after it
 * (`/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a/slots/b` is `microsoft.web/sites/slots`),
 * lower-cased as Resource Graph lists types; "" when the id has no provider segment.
 */
export function resourceTypeFromId(resourceId: string): string {
  const segments = resourceId.split("/").filter((s) => s !== "");
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  if (at < 0 || at + 2 >= segments.length) return "";
  const [namespace, ...rest] = segments.slice(at + 1);
  const types = rest.filter((_, i) => i % 2 === 0);
  return [namespace, ...types].join("/").toLowerCase();
}

interface QueryPlan {
  name: ReferenceQueryName;
  text: string;
  options: ResourceGraphOptions;
  /** The kind of a summary row's references. */
  summaryKind: (row: Record<string, unknown>) => ReferenceKind;
  /** The kind of a per-resource row's reference, from its normalised identity key. */
  rowKind: (identityKey: string, row: Record<string, unknown>) => ReferenceKind;
}

/** The kubelet identity of a per-resource property row, normalised, or undefined when the row has none. */
function kubeletKey(row: Record<string, unknown>): string | undefined {
  const raw = row.kubeletIdentityId;
  if (typeof raw !== "string" || raw.trim() === "") return undefined;
  try {
    return normaliseIdentityReferenceId(raw);
  } catch {
    return undefined;
  }
}

/**
 * One per-resource row (`{id: resource, type, identityId}`) to a reference (or a `MalformedResponse` ArmError /
 * `InvalidResourceIdError` naming what is wrong). `kind` decides the reference's kind from its identity key.
 */
function parseReferenceRow(
  row: Record<string, unknown>,
  kind: ReferenceKind | ((identityKey: string, row: Record<string, unknown>) => ReferenceKind),
  ctx: ResponseContext = { operation: "sweepIdentityReferences" },
): IdentityReference {
  const where = typeof row.id === "string" ? `row ${row.id}` : `row ${show(row)}`;
  const resourceId = requireString(ctx, row, "id", where);
  const rawIdentity = requireString(ctx, row, "identityId", where);
  const identityId = normaliseIdentityReferenceId(rawIdentity);
  const resourceType = optionalString(ctx, row, "type", where, "").toLowerCase() || resourceTypeFromId(resourceId);
  return { identityId, resourceId, resourceType, kind: typeof kind === "function" ? kind(identityId, row) : kind };
}

/** The resource ids of a summary row: a JSON array (objectArray results), or its text. */
function resourceIdsOf(ctx: ResponseContext, value: unknown, where: string): string[] {
  let list = value;
  if (typeof value === "string") {
    try {
      list = JSON.parse(value);
    } catch {
      list = undefined;
    }
  }
  if (!Array.isArray(list)) throw malformedBody(ctx, `${where}: field "resourceIds" must be an array of resource ids, got ${show(value)}`);
  return list.filter((id): id is string => typeof id === "string" && id.trim() !== "");
}

/**
 * One summary row (`{id: identity, referenceCount, resourceIds}`) to a summary (or a `MalformedResponse`
 * ArmError / `InvalidResourceIdError` naming what is wrong).
 */
function parseSummaryRow(row: Record<string, unknown>, kind: ReferenceKind, ctx: ResponseContext = { operation: "sweepIdentityReferences" }): IdentityReferenceSummary {
  const where = typeof row.id === "string" ? `row ${row.id}` : `row ${show(row)}`;
  const identityId = normaliseIdentityReferenceId(requireString(ctx, row, "id", where));
  // make_set's order is unspecified: sorted, the same sample always reads the same.
  const resourceIds = resourceIdsOf(ctx, row.resourceIds, where).sort();
  const count = typeof row.referenceCount === "string" ? Number(row.referenceCount) : row.referenceCount;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
    throw malformedBody(ctx, `${where}: field "referenceCount" must be a whole number, got ${show(row.referenceCount)}`);
  }
  return {
    identityId,
    kind,
    // A count below its own sample would be a stand-in's mistake; the sample is evidence all the same.
    referenceCount: Math.max(count, resourceIds.length),
    references: resourceIds.map((resourceId) => ({ identityId, resourceId, resourceType: resourceTypeFromId(resourceId), kind })),
  };
}

/** Remembers the identities already yielded for the current resource (per-resource rows come ordered by id). */
class PerResourceDedupe {
  private resourceKey = "";
  private readonly seen = new Set<string>();

  /** True the first time this (resource, kind, identity) is offered since the resource changed. */
  first(reference: IdentityReference): boolean {
    const key = resourceIdKey(reference.resourceId);
    if (key !== this.resourceKey) {
      this.resourceKey = key;
      this.seen.clear();
    }
    const entry = `${reference.kind}|${reference.identityId}`;
    if (this.seen.has(entry)) return false;
    this.seen.add(entry);
    return true;
  }
}

/** A summary row names the identity in `id` and carries `resourceIds`; a per-resource row names it in `identityId`. */
function isSummaryRow(row: Record<string, unknown>): boolean {
  return "resourceIds" in row || "referenceCount" in row;
}

/**
 * Runs the three queries one after the other over the scope and yields what they say per identity, page by
 * page (empty pages are not yielded). Paging, scope batching, quota pacing and bounded retries are
 * `queryResourceGraph`'s; `options` go to every query (`onWait`, `onWarning`, `onSubscriptionLimitHit`, …),
 * except that the policy assignment query always uses `POLICY_ASSIGNMENT_SCOPE_FILTER`.
 */
export async function* sweepIdentityReferences(
  conn: ArmConnection,
  scope: AuditScope,
  options: ReferenceSweepOptions = {},
): AsyncGenerator<IdentityReferenceSummary[], void, undefined> {
  const { onInvalidRow, ...graphOptions } = options;
  const plans: QueryPlan[] = [
    { name: "identityBagReferences", text: identityBagReferencesQuery(), options: graphOptions, summaryKind: () => "identity", rowKind: () => "identity" },
    {
      name: "propertyReferences",
      text: propertyReferencesQuery(),
      options: graphOptions,
      summaryKind: (row) => (row.isKubelet === true || row.isKubelet === "true" ? "kubelet" : "properties"),
      rowKind: (identityKey, row) => (identityKey === kubeletKey(row) ? "kubelet" : "properties"),
    },
    {
      name: "policyAssignmentReferences",
      text: policyAssignmentReferencesQuery(),
      options: { ...graphOptions, authorizationScopeFilter: POLICY_ASSIGNMENT_SCOPE_FILTER },
      summaryKind: () => "policyAssignment",
      rowKind: () => "policyAssignment",
    },
  ];
  for (const plan of plans) {
    const ctx: ResponseContext = { operation: `sweepIdentityReferences/${plan.name}` };
    const dedupe = new PerResourceDedupe();
    for await (const rows of queryResourceGraph(conn, plan.text, scope, plan.options)) {
      const summaries: IdentityReferenceSummary[] = [];
      for (const row of rows) {
        try {
          if (isSummaryRow(row)) {
            summaries.push(parseSummaryRow(row, plan.summaryKind(row), ctx));
            continue;
          }
          const reference = parseReferenceRow(row, plan.rowKind, ctx);
          if (dedupe.first(reference)) summaries.push({ identityId: reference.identityId, kind: reference.kind, referenceCount: 1, references: [reference] });
        } catch (e) {
          if (!(e instanceof TypeError) && !(e instanceof ArmError)) throw e;
          onInvalidRow?.({ query: plan.name, row, reason: e instanceof ArmError ? e.armMessage : e.message });
        }
      }
      if (summaries.length > 0) yield summaries;
    }
  }
}
