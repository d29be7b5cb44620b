import { startLocalAzurite } from "../../src/cli/localAzurite.js";

/**
 * One in-memory Azurite for the whole test run, unless the caller already provides a storage
 * account (UAMI_TEST_STORAGE). Tests isolate themselves with unique table and queue names.
 */
export default async function setup(): Promise<(() => Promise<void>) | void> {
  if (process.env.UAMI_TEST_STORAGE) return;
  const azurite = await startLocalAzurite();
  process.env.UAMI_TEST_STORAGE = azurite.connectionString;
  return () => azurite.stop();
}
