/**
 * The role assignments of a run's principals, kept with the run (one row per assignment under the run's
 * id, then a marker row that says the set is complete): Resource Graph is asked once per run, and a
 * rebuilt report ranks risk from the same assignments as the first.
 */
import { odata, type TransactionAction } from "@azure/data-tables";
import type { RoleAssignment } from "../arm/types.js";
import type { AuditStorage } from "./auditStorage.js";
import { submitInBatches } from "./batches.js";
import { identityKey } from "./keys.js";

const ROLE_MARKER = "_complete";

/** The run's stored role assignments; undefined when they were never stored completely. */
export async function readRunRoleAssignments(storage: AuditStorage, runId: string): Promise<RoleAssignment[] | undefined> {
  const stored: RoleAssignment[] = [];
  let complete = false;
  for await (const row of storage.roleAssignments.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${runId}` } })) {
    if (row.rowKey === ROLE_MARKER) complete = true;
    else stored.push(JSON.parse(String(row.assignment)) as RoleAssignment);
  }
  return complete ? stored : undefined;
}

/** Stores the run's role assignments, then the marker: a run interrupted half-way stores them again. */
export async function storeRunRoleAssignments(storage: AuditStorage, runId: string, assignments: readonly RoleAssignment[]): Promise<void> {
  const table = storage.roleAssignments;
  const actions: TransactionAction[] = assignments.map((a) => [
    "upsert",
    { partitionKey: runId, rowKey: identityKey(a.id), assignment: JSON.stringify(a) },
    "Replace",
  ]);
  await submitInBatches(table, actions);
  await table.upsertEntity({ partitionKey: runId, rowKey: ROLE_MARKER, count: assignments.length }, "Replace");
}
