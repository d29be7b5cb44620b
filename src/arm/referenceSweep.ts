/**
 * The reference sweep: every resource in scope that names a user-assigned identity, found with three
 * Resource Graph queries (queries.ts: `identityBagReferencesQuery`, `propertyReferencesQuery`,
 * `policyAssignmentReferencesQuery`), so that "unused" never rests on the one preview API's zero count.
 *
 * Rows are `{id, type, identityId}` (the property query adds `kubeletIdentityId`); each becomes an
 * `IdentityReference` whose `identityId` is normalised to `resourceIdKey` form (lower case, `resourcegroups`,
 * no trailing slash), so callers compare it with `resourceIdKey(identity.id)` directly.
 *
 * De-duplication, kept simple: within one resource, one kind names an identity at most once (the property
 * query yields a row per `extract_all` match, so an id written twice in `properties` would otherwise come
 * twice). It relies on the queries' `order by id asc, identityId asc` and holds only the current resource's
 * keys. The same (resource, identity) under two kinds (an AKS cluster's kubelet identity is both in its
 * identity bag and in `identityProfile`) is yielded once per kind: the caller de-duplicates across kinds, and
 * across overlapping scope batches (a subscription listed beside its own management group), if it cares.
 */
import type { AuthorizationScopeFilter } from "@azure/arm-resourcegraph";
import type { AuditScope } from "./types.js";
import type { ArmConnection } from "./connection.js";
import { ArmError, type ResponseContext } from "./errors.js";
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

export type ReferenceQueryName = "identityBagReferences" | "propertyReferences" | "policyAssignmentReferences";

export interface InvalidReferenceRow {
  query: ReferenceQueryName;
  row: Record<string, unknown>;
  reason: string;
}

export interface ReferenceSweepOptions extends ResourceGraphOptions {
  /**
   * Given: a row that does not fit (no `id`, or an `identityId` that is not a user-assigned identity id) is
   * skipped and reported here. Not given: such a row is skipped silently; a sweep is evidence gathering and one
   * odd resource must not stop it.
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
export function normaliseIdentityReferenceId(raw: string): string {
  return resourceIdKey(canonicalIdentityId(parseIdentityId(raw)));
}

interface QueryPlan {
  name: ReferenceQueryName;
  text: string;
  options: ResourceGraphOptions;
  kindOf: (identityKey: string, row: Record<string, unknown>) => ReferenceKind;
}

/** The kubelet identity of the property row, normalised, or undefined when the row has none. */
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
 * One row to a reference (or a `MalformedResponse` ArmError / `InvalidResourceIdError` naming what is wrong).
 * `kind` decides the reference's kind from its normalised identity key.
 */
export function parseReferenceRow(
  row: Record<string, unknown>,
  kind: ReferenceKind | ((identityKey: string, row: Record<string, unknown>) => ReferenceKind),
  ctx: ResponseContext = { operation: "sweepIdentityReferences" },
): IdentityReference {
  const where = typeof row.id === "string" ? `row ${row.id}` : `row ${show(row)}`;
  const resourceId = requireString(ctx, row, "id", where);
  const rawIdentity = requireString(ctx, row, "identityId", where);
  const identityId = normaliseIdentityReferenceId(rawIdentity);
  return {
    identityId,
    resourceId,
    resourceType: optionalString(ctx, row, "type", where, "").toLowerCase(),
    kind: typeof kind === "function" ? kind(identityId, row) : kind,
  };
}

/** Remembers the identities already yielded for the current resource (rows come ordered by id). */
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

/**
 * Runs the three queries one after the other over the scope and yields their references page by page
 * (empty pages are not yielded). Paging, scope batching, quota pacing and bounded retries are
 * `queryResourceGraph`'s; `options` go to every query (`onWait`, `onWarning`, `onSubscriptionLimitHit`, …),
 * except that the policy assignment query always uses `POLICY_ASSIGNMENT_SCOPE_FILTER`.
 */
export async function* sweepIdentityReferences(
  conn: ArmConnection,
  scope: AuditScope,
  options: ReferenceSweepOptions = {},
): AsyncGenerator<IdentityReference[], void, undefined> {
  const { onInvalidRow, ...graphOptions } = options;
  const plans: QueryPlan[] = [
    { name: "identityBagReferences", text: identityBagReferencesQuery(), options: graphOptions, kindOf: () => "identity" },
    {
      name: "propertyReferences",
      text: propertyReferencesQuery(),
      options: graphOptions,
      kindOf: (identityKey, row) => (identityKey === kubeletKey(row) ? "kubelet" : "properties"),
    },
    {
      name: "policyAssignmentReferences",
      text: policyAssignmentReferencesQuery(),
      options: { ...graphOptions, authorizationScopeFilter: POLICY_ASSIGNMENT_SCOPE_FILTER },
      kindOf: () => "policyAssignment",
    },
  ];
  for (const plan of plans) {
    const ctx: ResponseContext = { operation: `sweepIdentityReferences/${plan.name}` };
    const dedupe = new PerResourceDedupe();
    for await (const rows of queryResourceGraph(conn, plan.text, scope, plan.options)) {
      const references: IdentityReference[] = [];
      for (const row of rows) {
        let reference: IdentityReference;
        try {
          reference = parseReferenceRow(row, plan.kindOf, ctx);
        } catch (e) {
          if (!(e instanceof TypeError) && !(e instanceof ArmError)) throw e;
          const reason = e instanceof ArmError ? e.armMessage : e.message;
          onInvalidRow?.({ query: plan.name, row, reason });
          continue;
        }
        if (dedupe.first(reference)) references.push(reference);
      }
      if (references.length > 0) yield references;
    }
  }
}

