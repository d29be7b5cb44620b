/**
 * A storage outage in the middle of a scan. Real `uami-audit scan` processes against the simulator, their
 * storage (blob, queue and table) reached through TCP proxies in front of the suite's Azurite; the proxies
 * reset every connection, open or new, for the length of the outage (clients see `socket hang up` /
 * `ECONNRESET`, as when a storage front end goes away). The test watches the run directly on Azurite.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import type { AuditRun } from "../../src/model/run.js";
import type { AuditStorage } from "../../src/store/auditStorage.js";
import { listIdentityResults } from "../../src/store/identityResults.js";
import { listRuns, startRun } from "../../src/store/runs.js";
import { proxyStorage, type StorageProxies } from "../helpers/latencyProxy.js";
import { freshAuditStorage, testStorageAccount, uniquePrefix } from "../helpers/storage.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const IDENTITIES = 24;
const OUTAGE_MS = 30_000;

interface Scan {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startScan(sim: RunningSimulator, tenantIndex: number, storage: string, prefix: string, extra: string[]): Scan {
  const tenant = sim.tenants[tenantIndex]!;
  const child = spawn(
    process.execPath,
    [
      "--import", "tsx", CLI, "scan",
      "--tenant", tenant.tenantId,
      "--storage", storage,
      "--prefix", prefix,
      "--arm-endpoint", sim.endpoint,
      "--ca-file", sim.caFile,
      "--rate", "2",
      "--mode", "exhaustive",
      "--quiet",
      ...extra,
    ],
    { env: { ...process.env, UAMI_ARM_TOKEN: tenant.token }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

/** The tenant's run, read on Azurite directly (not through the proxies), once it has checked `atLeast` identities. */
async function runOnceChecked(storage: AuditStorage, tenantId: string, atLeast: number, scan: Scan): Promise<AuditRun> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (scan.child.exitCode !== null) throw new Error(`scan exited early (${scan.child.exitCode}): ${scan.stderr()}`);
    for await (const run of listRuns(storage, tenantId)) {
      if (run.status === "running" && run.checked >= atLeast) return run;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no run of tenant ${tenantId} reached ${atLeast} checked identities: ${scan.stderr()}`);
}

describe("uami-audit scan through a storage outage (TCP proxies resetting every connection)", () => {
  let sim: RunningSimulator;
  let proxies: StorageProxies;
  let dir: string;
  beforeAll(async () => {
    // 24 identities at 2 requests/s: about 12 s of checks, so the outage lands mid-run.
    sim = await startSimulator({ identities: IDENTITIES, seed: 91, rate: 10, tenants: 2 });
    const account = testStorageAccount();
    if (account.kind !== "connectionString") throw new Error("needs a connection string");
    proxies = await proxyStorage(account.connectionString);
    dir = await mkdtemp(path.join(tmpdir(), "uami-outage-"));
  });
  afterAll(async () => {
    await proxies?.close();
    await sim?.close();
  });

  it(`an outage of ${OUTAGE_MS / 1000} s mid-run: the scan waits it out, every identity is checked exactly once, the counts are exact`, async () => {
    const prefix = uniquePrefix();
    const tenant = sim.tenants[0]!;
    const storage = await freshAuditStorage(prefix);
    const out = path.join(dir, "outage.json");
    const scan = startScan(sim, 0, proxies.connectionString, prefix, ["--out", out]);
    try {
      const before = await runOnceChecked(storage, tenant.tenantId, 4, scan);
      expect(before.checked).toBeLessThan(IDENTITIES / 2);
      proxies.cut("reset");
      const cutAt = Date.now();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      proxies.restore();
      const outageMs = Date.now() - cutAt;
      // The scan was there during the whole outage, and felt it.
      expect(scan.child.exitCode, scan.stderr()).toBeNull();
      expect(proxies.refusedConnections()).toBeGreaterThan(0);

      const code = await scan.exit;
      expect(code, scan.stderr()).toBe(0);
      const run = (await listRunsOf(storage, tenant.tenantId))[0]!;
      expect(run).toMatchObject({ runId: before.runId, status: "complete", expected: IDENTITIES, checked: IDENTITIES, deleted: 0, failed: 0 });
      const rows = [];
      for await (const row of listIdentityResults(storage, run.runId)) rows.push(row);
      expect(rows).toHaveLength(IDENTITIES);
      expect(new Set(rows.map((r) => r.id.toLowerCase())).size).toBe(IDENTITIES);
      for (const row of rows) {
        expect(row.status, row.id).toBe("checked");
        expect(row.associationCount, row.id).toBe(sim.truth.identity(row.id)!.associationCount);
      }
      const output = JSON.parse(await readFile(out, "utf8")) as { status: string; identities: unknown[] };
      expect(output.status).toBe("complete");
      expect(output.identities).toHaveLength(IDENTITIES);
      console.log(`storage outage survived: ${outageMs} ms, ${proxies.refusedConnections()} connections reset; run ${run.runId}: ${run.checked}/${run.expected} checked, ${run.requests} requests`);
    } finally {
      proxies.restore();
      scan.child.kill("SIGKILL");
    }
  }, 180_000);

  it("an outage longer than --storage-outage-limit: the scan gives up, fails its run and releases the tenant's lock", async () => {
    const prefix = uniquePrefix();
    const tenant = sim.tenants[1]!;
    const storage = await freshAuditStorage(prefix);
    const scan = startScan(sim, 1, proxies.connectionString, prefix, ["--storage-outage-limit", "5"]);
    try {
      await runOnceChecked(storage, tenant.tenantId, 2, scan);
      proxies.cut("reset");
      // Past the limit, with storage still down when the scan gives up; back before it stops trying to say so.
      await new Promise((r) => setTimeout(r, 12_000));
      expect(scan.child.exitCode, scan.stderr()).toBeNull();
      proxies.restore();
      const code = await scan.exit;
      expect(code, scan.stderr()).toBe(1);
      expect(scan.stderr()).toMatch(/storage/i);
      const run = (await listRunsOf(storage, tenant.tenantId))[0]!;
      expect(run.status).toBe("failed");
      expect(run.error).toMatch(/storage/i);
      // The tenant is free at once, not after the 6 hours a silent run holds it.
      const next = await startRun(storage, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli", now: new Date() });
      expect(next.started).toBe(true);
    } finally {
      proxies.restore();
      scan.child.kill("SIGKILL");
    }
  }, 120_000);
});

async function listRunsOf(storage: AuditStorage, tenantId: string): Promise<AuditRun[]> {
  const runs: AuditRun[] = [];
  for await (const run of listRuns(storage, tenantId)) runs.push(run);
  return runs;
}
