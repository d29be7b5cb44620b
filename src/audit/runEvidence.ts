/**
 * The run-wide evidence, gathered once per run between listing the inventory and enqueueing the checks:
 *
 * - the listAssociatedResources api-version to start with (probed lazily, see associationsApiState);
 * - the Resource Graph reference sweep: every resource that refers to an identity;
 * - creation times from ARM's resource list (`$expand=createdTime`), one listing per subscription, because
 *   real Azure sends no `systemData` on the identity GET;
 * - the latest successful sign-in of each identity, when a Log Analytics workspace is configured.
 *
 * A source that fails never fails the run: its state says why, the verdicts read the states, and the
 * report shows them. The per-identity part lands on the identity rows (Merge, in batches of the run's
 * partition): a candidate's before its check is enqueued; in fast mode, a referenced identity's with its
 * result (startAudit.ts), one write instead of two.
 */
import type { TransactionAction } from "@azure/data-tables";
import { DEFAULT_ASSOCIATED_RESOURCES_API_VERSION, listIdentityCreatedTimes, REFERENCE_SAMPLE_SIZE, sweepIdentityReferences } from "../arm/index.js";
import { lastSuccessfulSignIns } from "../activity/signInActivity.js";
import { submitInBatches } from "../store/batches.js";
import { identityRowKey } from "../store/runs.js";
import type { AuditDeps } from "./deps.js";
import type { AuditRun, RunSources, SourceState } from "../model/run.js";
import type { ResourceGraphReference } from "../model/identityResult.js";

/**
 * References kept per identity on its row, across the sweep's kinds: as many as one query names per identity
 * (the count is exact; the full list is Resource Graph's to give).
 */
const STORED_REFERENCES = REFERENCE_SAMPLE_SIZE;

/** What enumeration learnt of the inventory that the evidence needs. */
export interface InventoryIndex {
  /** Row keys of the run's identities: evidence about anything else (out of scope, deleted) is dropped. */
  rowKeys: Set<string>;
  /** Lower-cased principal id to row key, for sign-ins (which name the principal). */
  byPrincipal: Map<string, string>;
  /** Subscriptions that hold identities (as listed), for the creation-time listing. */
  subscriptions: Set<string>;
}

export function emptyInventoryIndex(): InventoryIndex {
  return { rowKeys: new Set(), byPrincipal: new Map(), subscriptions: new Set() };
}

export function addToInventoryIndex(index: InventoryIndex, item: { id: string; principalId: string; subscriptionId: string }): void {
  const rowKey = identityRowKey(item.id);
  index.rowKeys.add(rowKey);
  if (item.principalId) index.byPrincipal.set(item.principalId.toLowerCase(), rowKey);
  index.subscriptions.add(item.subscriptionId.toLowerCase());
}

/** What the run-wide sources said of one identity (the row's evidence fields). */
export interface RowEvidence {
  referenceCount?: number;
  references?: ResourceGraphReference[];
  createdTime?: string;
  lastSignInAt?: string;
  signInResource?: string;
}

export interface GatheredEvidence {
  sources: RunSources;
  /** Per row key, what the sources said; not yet on the rows (see writeRowEvidence). */
  rows: Map<string, RowEvidence>;
}

/** Resource Graph showed a resource that names the identity. */
export function isReferenced(evidence: RowEvidence | undefined): boolean {
  return (evidence?.referenceCount ?? 0) > 0;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const ok = (at: string): SourceState => ({ status: "ok", at });
const failed = (at: string, reason: string): SourceState => ({ status: "failed", reason, at });

/**
 * Gathers every run-wide source and returns the sources' states and the per-identity evidence, which the
 * caller writes (writeRowEvidence, or with the row's result in fast mode) in the order the run needs.
 */
export async function gatherRunEvidence(deps: AuditDeps, run: AuditRun, inventory: InventoryIndex): Promise<GatheredEvidence> {
  const rows = new Map<string, RowEvidence>();
  const rowOf = (rowKey: string): RowEvidence => {
    let row = rows.get(rowKey);
    if (!row) rows.set(rowKey, (row = {}));
    return row;
  };
  const associationsApi = associationsApiState(deps);
  // Three services with quotas of their own (Resource Graph, ARM reads, Log Analytics): asked side by side,
  // the evidence takes as long as the slowest (the sweep), not the sum. None throws: each returns its state.
  const [resourceGraph, createdTime, signIns] = await Promise.all([
    sweep(deps, run, inventory, rowOf),
    creationTimes(deps, run, inventory, rowOf),
    signInActivity(deps, run, inventory, rowOf),
  ]);
  return { sources: { associationsApi, resourceGraph, createdTime, signIns }, rows };
}

/**
 * listAssociatedResources starts at the default api-version without a request of its own: a probe would
 * cost a slot of the tenant's 1-per-second budget on every run, and ask one identity twice. The first check
 * that meets `InvalidApiVersionParameter`, `NoRegisteredProviderFound`, a 404 for the action or the
 * 5,000-subscription error probes the other versions once for the run (checkIdentity.ts), and the run moves
 * to the version that answers, or on without the API.
 */
function associationsApiState(deps: AuditDeps): RunSources["associationsApi"] {
  return { status: "ok", at: deps.now().toISOString(), apiVersion: DEFAULT_ASSOCIATED_RESOURCES_API_VERSION };
}

async function sweep(
  deps: AuditDeps,
  run: AuditRun,
  inventory: InventoryIndex,
  rowOf: (rowKey: string) => RowEvidence,
): Promise<RunSources["resourceGraph"]> {
  const at = deps.now().toISOString();
  let partial = false;
  const referenced = new Set<string>();
  try {
    for await (const page of sweepIdentityReferences(deps.arm, run.scope, {
      onSubscriptionLimitHit: () => {
        partial = true;
      },
      onInvalidRow: () => undefined,
    })) {
      for (const summary of page) {
        const rowKey = identityRowKey(summary.identityId);
        if (!inventory.rowKeys.has(rowKey) || summary.referenceCount <= 0) continue;
        const row = rowOf(rowKey);
        row.referenceCount = (row.referenceCount ?? 0) + summary.referenceCount;
        row.references ??= [];
        for (const reference of summary.references) {
          if (row.references.length >= STORED_REFERENCES) break;
          row.references.push({ resourceId: reference.resourceId, resourceType: reference.resourceType, kind: reference.kind });
        }
        referenced.add(rowKey);
      }
    }
  } catch (error) {
    deps.log.warn(`The Resource Graph reference sweep failed for run ${run.runId}: ${describe(error)}`, { runId: run.runId });
    return { ...failed(at, `Resource Graph reference sweep failed: ${describe(error)}`), referencedIdentities: 0 };
  }
  return {
    ...ok(at),
    referencedIdentities: referenced.size,
    ...(partial
      ? { partial: true, reason: "Resource Graph queried only the first 10,000 subscriptions of the tenant (x-ms-tenant-subscription-limit-hit)" }
      : {}),
  };
}

async function creationTimes(
  deps: AuditDeps,
  run: AuditRun,
  inventory: InventoryIndex,
  rowOf: (rowKey: string) => RowEvidence,
): Promise<SourceState> {
  const at = deps.now().toISOString();
  const failures: string[] = [];
  for (const subscriptionId of inventory.subscriptions) {
    try {
      for await (const page of listIdentityCreatedTimes(deps.arm, subscriptionId)) {
        for (const item of page) {
          const rowKey = identityRowKey(item.id);
          if (inventory.rowKeys.has(rowKey)) rowOf(rowKey).createdTime = item.createdTime;
        }
      }
    } catch (error) {
      failures.push(`subscription ${subscriptionId}: ${describe(error)}`);
    }
  }
  if (failures.length === 0) return ok(at);
  deps.log.warn(`Creation times could not be listed for run ${run.runId}: ${failures.join("; ")}`, { runId: run.runId });
  const more = failures.length > 3 ? ` (and ${failures.length - 3} more)` : "";
  return failed(at, `ARM's resource list (createdTime) failed for ${failures.length} of ${inventory.subscriptions.size} subscriptions: ${failures.slice(0, 3).join("; ")}${more}`);
}

async function signInActivity(
  deps: AuditDeps,
  run: AuditRun,
  inventory: InventoryIndex,
  rowOf: (rowKey: string) => RowEvidence,
): Promise<RunSources["signIns"]> {
  const at = deps.now().toISOString();
  const settings = deps.signIns;
  if (!settings) return { status: "not-configured", at, reason: "no Log Analytics workspace configured (UAMI_SIGNIN_WORKSPACE_ID): sign-in activity was not checked" };
  try {
    for (const activity of await lastSuccessfulSignIns(settings)) {
      const rowKey = inventory.byPrincipal.get(activity.principalId.toLowerCase());
      if (!rowKey) continue;
      const row = rowOf(rowKey);
      if (!row.lastSignInAt || row.lastSignInAt < activity.lastSignInAt) {
        row.lastSignInAt = activity.lastSignInAt;
        row.signInResource = activity.resource;
      }
    }
  } catch (error) {
    deps.log.warn(`Sign-in activity could not be read for run ${run.runId}: ${describe(error)}`, { runId: run.runId });
    return { status: "failed", at, windowDays: settings.windowDays, reason: `sign-in logs could not be read: ${describe(error)}` };
  }
  return { status: "ok", at, windowDays: settings.windowDays };
}

/** The row fields that hold an identity's evidence (merged onto its row). */
function evidenceFields(evidence: RowEvidence): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (evidence.referenceCount !== undefined) {
    fields.referenceCount = evidence.referenceCount;
    fields.references = JSON.stringify(evidence.references ?? []);
  }
  if (evidence.createdTime) fields.createdTime = evidence.createdTime;
  if (evidence.lastSignInAt) {
    fields.lastSignInAt = evidence.lastSignInAt;
    fields.signInResource = evidence.signInResource ?? "";
  }
  return fields;
}

/** Merges the evidence of the rows `keep` selects onto them, in batches of the run's partition. */
export async function writeRowEvidence(deps: AuditDeps, runId: string, rows: Map<string, RowEvidence>, keep: (rowKey: string) => boolean = () => true): Promise<void> {
  const actions: TransactionAction[] = [];
  for (const [rowKey, evidence] of rows) {
    if (keep(rowKey)) actions.push(["update", { partitionKey: runId, rowKey, ...evidenceFields(evidence) }, "Merge"]);
  }
  await submitInBatches(deps.storage.audits, actions);
}
