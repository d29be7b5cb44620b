/** Azurite and the simulator for the length of one function: whatever happens inside, they are stopped. */
import { randomBytes } from "node:crypto";
import { startSimulator, type RunningSimulator, type SimulatorOptions } from "../simulator/index.js";
import { startLocalAzurite, type LocalAzurite } from "../src/cli/localAzurite.js";
import type { StorageAccount } from "../src/store/storageAccount.js";

export async function withAzurite<T>(fn: (azurite: LocalAzurite, account: StorageAccount) => Promise<T>): Promise<T> {
  const azurite = await startLocalAzurite();
  try {
    return await fn(azurite, { kind: "connectionString", connectionString: azurite.connectionString });
  } finally {
    await azurite.stop();
  }
}

/** Starts a simulator and tells how long it took to be ready (generation, certificate, listen). */
export async function withSimulator<T>(options: SimulatorOptions, fn: (sim: RunningSimulator, readySeconds: number) => Promise<T>): Promise<T> {
  const started = performance.now();
  const sim = await startSimulator(options);
  const readySeconds = (performance.now() - started) / 1000;
  try {
    return await fn(sim, readySeconds);
  } finally {
    await sim.close();
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
export const secondsSince = (start: number): number => (performance.now() - start) / 1000;

/** A storage name prefix (1-20 lower-case letters or digits, src/queues.ts) unique to one case. */
export function benchPrefix(label: string): string {
  return `b${label.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 10)}${randomBytes(4).toString("hex")}`;
}
