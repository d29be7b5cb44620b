import { randomBytes } from "node:crypto";
import { ensureAuditStorage, openAuditStorage, type AuditStorage } from "../../src/store/auditStorage.js";
import type { StorageAccount } from "../../src/store/storageAccount.js";

/** The Azurite started by test/setup/azurite.global.ts (or the account in UAMI_TEST_STORAGE). */
export function testStorageAccount(): StorageAccount {
  const connectionString = process.env.UAMI_TEST_STORAGE;
  if (!connectionString) throw new Error("UAMI_TEST_STORAGE is not set: run the tests with vitest (its global setup starts Azurite)");
  return { kind: "connectionString", connectionString };
}

/** A lower-case prefix unique to one test, so tests sharing Azurite never see each other's tables or queues. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString("hex")}`;
}

export async function freshAuditStorage(prefix = uniquePrefix()): Promise<AuditStorage> {
  const storage = openAuditStorage(testStorageAccount(), prefix);
  await ensureAuditStorage(storage);
  return storage;
}
