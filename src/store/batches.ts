/** Table Storage transactions: at most 100 operations each, all in one partition. */
import type { TableClient, TransactionAction } from "@azure/data-tables";

export const BATCH_LIMIT = 100;

export function chunks<T>(items: T[], size: number = BATCH_LIMIT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Submits the actions (one partition) in transactions of at most 100, one after another. */
export async function submitInBatches(table: TableClient, actions: TransactionAction[]): Promise<void> {
  for (const batch of chunks(actions)) await table.submitTransaction(batch);
}
