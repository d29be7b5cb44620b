/**
 * Identity rows of a run (inventory, then results), their stored associated resources, and each
 * identity's history across runs.
 */
import { odata, type TransactionAction } from "@azure/data-tables";
import type { IdentityResult } from "../model/identityResult.js";
import type { AssociatedResource, IdentityInventoryItem } from "../arm/types.js";
import type { AuditStorage } from "./auditStorage.js";
import { entityToIdentity, IDENTITY_ROW_PREFIX, identityToEntity, type Entity } from "./entities.js";
import { identityKey, invertedTimeKey } from "./keys.js";
import { statusCode } from "./storageAccount.js";
import { chunks, submitInBatches } from "./batches.js";
import { identityRowKey } from "./runs.js";

export function pendingIdentity(runId: string, item: IdentityInventoryItem): IdentityResult {
  return { ...item, runId, status: "pending", associations: [] };
}

/**
 * Stores a page of the inventory as pending rows and returns how many were NEW. Rows are inserted,
 * not upserted: an identity listed twice by Resource Graph is counted once, so the run's expected
 * count is exact without keeping every id in memory.
 */
export async function insertInventory(storage: AuditStorage, runId: string, items: IdentityInventoryItem[]): Promise<IdentityInventoryItem[]> {
  const inserted: IdentityInventoryItem[] = [];
  const unique = new Map<string, IdentityInventoryItem>();
  for (const item of items) unique.set(identityRowKey(item.id), item);
  await Promise.all(
    chunks([...unique.entries()]).map(async (batch) => {
      const actions: TransactionAction[] = batch.map(([rowKey, item]) => ["create", identityToEntity(pendingIdentity(runId, item), rowKey)]);
      try {
        await storage.audits.submitTransaction(actions);
        inserted.push(...batch.map(([, item]) => item));
      } catch (error) {
        if (statusCode(error) !== 409) throw new Error(`Storing inventory of run ${runId} failed: ${(error as Error).message}`, { cause: error });
        // Some rows exist already (a duplicate page): insert one by one, keeping only the new ones.
        for (const [rowKey, item] of batch) {
          try {
            await storage.audits.createEntity(identityToEntity(pendingIdentity(runId, item), rowKey));
            inserted.push(item);
          } catch (inner) {
            if (statusCode(inner) !== 409) throw inner;
          }
        }
      }
    }),
  );
  return inserted;
}

export async function getIdentityResult(storage: AuditStorage, runId: string, id: string): Promise<IdentityResult | undefined> {
  try {
    const e = await storage.audits.getEntity<Record<string, unknown>>(runId, identityRowKey(id));
    return entityToIdentity(e);
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

/** Streams a run's identity rows (without associations) in key order, each with its ETag. */
export async function* listIdentityRows(storage: AuditStorage, runId: string): AsyncGenerator<{ identity: IdentityResult; etag: string }> {
  const rows = storage.audits.listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${runId} and RowKey ge ${IDENTITY_ROW_PREFIX} and RowKey lt ${"i`"}` },
  });
  for await (const row of rows) yield { identity: entityToIdentity(row), etag: row.etag };
}

/** Streams a run's identity rows (without associations) in key order. */
export async function* listIdentityResults(storage: AuditStorage, runId: string): AsyncGenerator<IdentityResult> {
  for await (const { identity } of listIdentityRows(storage, runId)) yield identity;
}

const associationsPartition = (runId: string, id: string) => `${runId}_${identityKey(id)}`;

/** Replaces (idempotently) the stored associated resources of one identity in one run. */
export async function writeAssociations(storage: AuditStorage, runId: string, id: string, resources: AssociatedResource[]): Promise<void> {
  const partitionKey = associationsPartition(runId, id);
  const entities: Entity[] = resources.map((r, i) => ({
    partitionKey,
    rowKey: String(i).padStart(6, "0"),
    id: r.id,
    name: r.name,
    type: r.type,
    resourceGroup: r.resourceGroup,
    subscriptionId: r.subscriptionId,
    subscriptionDisplayName: r.subscriptionDisplayName,
  }));
  await submitInBatches(storage.associations, entities.map((e): TransactionAction => ["upsert", e, "Replace"]));
}

export async function readAssociations(storage: AuditStorage, runId: string, id: string): Promise<AssociatedResource[]> {
  const out: AssociatedResource[] = [];
  const rows = storage.associations.listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${associationsPartition(runId, id)}` },
  });
  for await (const r of rows) {
    out.push({
      id: String(r.id ?? ""),
      name: String(r.name ?? ""),
      type: String(r.type ?? ""),
      resourceGroup: String(r.resourceGroup ?? ""),
      subscriptionId: String(r.subscriptionId ?? ""),
      subscriptionDisplayName: String(r.subscriptionDisplayName ?? ""),
    });
  }
  return out;
}

/** One identity's result in one run, as kept in its history (newest first). */
export interface HistoryRecord extends Omit<IdentityResult, "associations"> {
  runStartedAt: string;
}

export async function writeHistory(storage: AuditStorage, result: IdentityResult, runStartedAt: string): Promise<void> {
  const { associations: _ignored, ...rest } = result;
  const entity = identityToEntity({ ...rest, associations: [] }, invertedTimeKey(runStartedAt, result.runId));
  await storage.history.upsertEntity({ ...entity, partitionKey: identityKey(result.id), runStartedAt }, "Replace");
}

export async function readHistory(storage: AuditStorage, id: string, limit = 1000): Promise<HistoryRecord[]> {
  const out: HistoryRecord[] = [];
  const rows = storage.history.listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${identityKey(id)}` },
  });
  for await (const row of rows) {
    const { associations: _a, ...identity } = entityToIdentity(row);
    out.push({ ...identity, runStartedAt: String(row.runStartedAt ?? "") });
    if (out.length >= limit) break;
  }
  return out;
}
