/**
 * 5. Enqueue time and table write rate: `startAudit` over 50,000 identities against Azurite, from the
 * start of the run to the end of enumeration (inventory rows written, one check message per identity
 * queued). Resource Graph's quota is lifted so storage, not the quota, sets the pace; the listing
 * alone is timed afterwards to show what part of the time is storage.
 */
import { createArmConnection } from "../src/arm/connection.js";
import { listIdentities } from "../src/arm/resourceGraph.js";
import { createAuditDeps } from "../src/audit/createAuditDeps.js";
import { startAudit } from "../src/audit/startAudit.js";
import { ensureAuditStorage } from "../src/store/auditStorage.js";
import type { FigureRecorder, Measurement } from "./measurement.js";
import { processCpuSeconds } from "./processMemory.js";
import { benchPrefix, secondsSince, withAzurite, withSimulator } from "./scopedServices.js";
import { DEFAULT_MAX_SLOT_WAIT_MS } from "../src/limiter/tenantRateLimiter.js";

const IDENTITIES = 50_000;
const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };

export const enqueue: Measurement = {
  name: "enqueue",
  title: `Enqueue time and table write rate, ${IDENTITIES.toLocaleString("en")} identities`,
  async run(out: FigureRecorder) {
    await withAzurite(async (azurite, account) => {
      await withSimulator({ identities: IDENTITIES, seed: "bench", argQuota: { limit: 10_000, windowMs: 5_000 } }, async (sim) => {
        const tenant = sim.tenants[0];
        if (!tenant) throw new Error("the simulator has no tenant");
        const deps = createAuditDeps({
          arm: { armEndpoint: sim.endpoint, armToken: tenant.token, armCaFile: sim.caFile },
          limiter: { ratePerSecond: 1, rateSafetyMs: 50, maxSlotWaitMs: DEFAULT_MAX_SLOT_WAIT_MS },
          storageAccount: account,
          storagePrefix: benchPrefix("enqueue"),
        });
        await ensureAuditStorage(deps.storage);

        const cpu = () => ({ app: process.cpuUsage(), queue: processCpuSeconds(azurite.pids.queue!), table: processCpuSeconds(azurite.pids.table!) });
        const cpuBefore = cpu();
        const started = performance.now();
        const result = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "cli" });
        const seconds = secondsSince(started);
        const cpuAfter = cpu();
        if (!result.started) throw new Error(`a run is already in progress: ${result.activeRunId}`);
        const enqueued = result.run.expected;
        const queued = (await deps.storage.checkQueue.getProperties()).approximateMessagesCount ?? Number.NaN;

        out.figure("identities enumerated", enqueued, "identities");
        out.figure("start to enumeration done", seconds, "s");
        out.figure("identities enqueued per second", enqueued / seconds, "identities/s");
        out.figure("inventory table rows written per second", enqueued / seconds, "rows/s");
        out.figure("table batch transactions (100 rows each)", Math.ceil(enqueued / 100), "batches");
        out.figure("messages in the check queue afterwards", queued, "messages");
        out.figure("enqueue concurrency (settings.enqueueConcurrency)", deps.settings.enqueueConcurrency, "in flight");
        // Where the CPU goes: on a small machine the emulator's queue process, single-threaded, sets the pace.
        const appCpu = process.cpuUsage(cpuBefore.app);
        out.figure("CPU per identity: this process (app + simulator)", ((appCpu.user + appCpu.system) / 1000) / enqueued, "ms");
        out.figure("CPU per identity: Azurite queue process", (1000 * (cpuAfter.queue - cpuBefore.queue)) / enqueued, "ms");
        out.figure("CPU per identity: Azurite table process", (1000 * (cpuAfter.table - cpuBefore.table)) / enqueued, "ms");
        out.figure("Azurite queue process busy", (100 * (cpuAfter.queue - cpuBefore.queue)) / seconds, "% of a core");

        // The same listing with no storage work, for the share of the time storage takes.
        const conn = createArmConnection({ endpoint: sim.endpoint, token: tenant.token, ca: sim.ca });
        const listStarted = performance.now();
        let listed = 0;
        for await (const page of listIdentities(conn, WHOLE_TENANT)) listed += page.length;
        const listSeconds = secondsSince(listStarted);
        out.figure("Resource Graph listing alone (same tenant)", listSeconds, "s");
        out.figure("storage share of enumeration time", (100 * Math.max(0, seconds - listSeconds)) / seconds, "%");
        if (listed !== enqueued || queued !== enqueued) out.note(`listed ${listed}, enumerated ${enqueued}, ${queued} messages queued: they should all be equal`);
      });
    });
  },
};
