/**
 * A run's scope in Table Storage, whatever its size. The API accepts 5,000 subscriptions or management
 * groups (about 200 KB and 470 KB of JSON), but one table property holds 32K characters (64 KiB of
 * UTF-16), and the run row is rewritten with every recorded identity, so a large scope must not ride
 * along in it. A scope that fits in INLINE_MAX_CHARS stays in the run row's `scope` property, as before;
 * a larger one is split into rows `scope_0000`, `scope_0001`, ... of the run's partition, written in the
 * same batch transaction as the run row when the run is created. A scope never changes, so those rows
 * are never rewritten, and a process reads them once per run (they are cached).
 */
import { odata, type TableClient } from "@azure/data-tables";
import type { AuditScope } from "../arm/types.js";
import type { Entity } from "./entities.js";

export const SCOPE_ROW_PREFIX = "scope_";
/** Small scopes (up to ~400 subscriptions) stay in the run row: one read, as before. */
const INLINE_MAX_CHARS = 16_000;
/** Characters per scope row: under the 32K-character property limit. */
const CHUNK_CHARS = 30_000;
const CACHED_RUNS = 64;

const scopeRowKey = (index: number) => `${SCOPE_ROW_PREFIX}${String(index).padStart(4, "0")}`;

/** The run row's scope columns: the scope itself, or how many scope rows hold it. */
export function scopeColumns(scope: AuditScope): { scope: string; scopeRows: number } {
  const json = JSON.stringify(scope);
  return json.length <= INLINE_MAX_CHARS ? { scope: json, scopeRows: 0 } : { scope: "", scopeRows: Math.ceil(json.length / CHUNK_CHARS) };
}

/** The scope rows to create with the run row (none for a scope kept inline). */
export function scopeRowEntities(runId: string, scope: AuditScope): Entity[] {
  const json = JSON.stringify(scope);
  if (json.length <= INLINE_MAX_CHARS) return [];
  const rows: Entity[] = [];
  for (let start = 0, index = 0; start < json.length; start += CHUNK_CHARS, index++) {
    rows.push({ partitionKey: runId, rowKey: scopeRowKey(index), chunk: json.slice(start, start + CHUNK_CHARS) });
  }
  return rows;
}

const cache = new Map<string, AuditScope>();

/** Reads a scope kept in `rows` scope rows. */
export async function readScopeRows(audits: TableClient, runId: string, rows: number): Promise<AuditScope> {
  const key = `${audits.tableName}/${runId}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const chunks: { rowKey: string; chunk: string }[] = [];
  const entities = audits.listEntities<{ chunk?: string }>({
    queryOptions: { filter: odata`PartitionKey eq ${runId} and RowKey ge ${SCOPE_ROW_PREFIX} and RowKey lt ${scopeRowKey(rows)}` },
  });
  for await (const e of entities) chunks.push({ rowKey: e.rowKey ?? "", chunk: typeof e.chunk === "string" ? e.chunk : "" });
  if (chunks.length !== rows) throw new Error(`Run ${runId}: its scope is stored in ${rows} rows, found ${chunks.length}`);
  chunks.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
  const parsed = JSON.parse(chunks.map((c) => c.chunk).join("")) as Partial<AuditScope>;
  const scope: AuditScope = { subscriptions: parsed.subscriptions ?? [], managementGroups: parsed.managementGroups ?? [] };
  if (cache.size >= CACHED_RUNS) cache.delete(cache.keys().next().value!);
  cache.set(key, scope);
  return scope;
}
