/**
 * 2. Paging through Resource Graph: `listIdentities` over a 100,000-identity tenant, once under the
 * simulator's default per-user quota (15 queries per 5 s, as Azure) and once with a quota high enough
 * never to bite, which shows the raw speed of the client and the simulator.
 */
import type { RunningSimulator, SimulatorOptions } from "../simulator/index.js";
import { createArmConnection } from "../src/arm/connection.js";
import { listIdentities, type ResourceGraphWait } from "../src/arm/resourceGraph.js";
import type { FigureRecorder, Measurement } from "./measurement.js";
import { secondsSince, withSimulator } from "./scopedServices.js";

const IDENTITIES = 100_000;
const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };

interface Case {
  label: string;
  argQuota?: SimulatorOptions["argQuota"];
}

const CASES: Case[] = [
  { label: "default quota 15/5 s" },
  { label: "high quota 10000/5 s", argQuota: { limit: 10_000, windowMs: 5_000 } },
];

async function pageThrough(sim: RunningSimulator, out: FigureRecorder): Promise<void> {
  const tenant = sim.tenants[0];
  if (!tenant) throw new Error("the simulator has no tenant");
  const conn = createArmConnection({ endpoint: sim.endpoint, token: tenant.token, ca: sim.ca });
  const waits: ResourceGraphWait[] = [];
  sim.clearRequestLog();
  const started = performance.now();
  let identities = 0;
  for await (const page of listIdentities(conn, WHOLE_TENANT, { onWait: (w) => waits.push(w) })) identities += page.length;
  const seconds = secondsSince(started);

  const graphRequests = sim.requestLog().filter((e) => e.operation === "resourceGraph");
  const pages = graphRequests.filter((e) => e.status === 200).length;
  const throttled = graphRequests.filter((e) => e.status === 429).length;
  const quotaWaitSeconds = waits.filter((w) => w.reason === "quota").reduce((sum, w) => sum + w.waitMs, 0) / 1000;
  out.figure("identities listed", identities, "identities");
  out.figure("time", seconds, "s");
  out.figure("pages", pages, "pages");
  out.figure("pages per second", pages / seconds, "pages/s");
  out.figure("identities per second", identities / seconds, "identities/s");
  out.figure("waits for quota", waits.filter((w) => w.reason === "quota").length, "waits");
  out.figure("time spent waiting for quota", quotaWaitSeconds, "s");
  out.figure("429 answers", throttled, "responses");
  if (identities !== IDENTITIES) out.note(`listed ${identities} identities, expected ${IDENTITIES}`);
}

export const resourceGraphPaging: Measurement = {
  name: "resourceGraphPaging",
  title: `Paging through Resource Graph, ${IDENTITIES.toLocaleString("en")} identities`,
  async run(out: FigureRecorder) {
    for (const c of CASES) {
      const caseOut = out.forCase(c.label);
      await withSimulator({ identities: IDENTITIES, seed: "bench", ...(c.argQuota ? { argQuota: c.argQuota } : {}) }, async (sim, readySeconds) => {
        caseOut.figure("simulator ready (generate + listen)", readySeconds, "s");
        await pageThrough(sim, caseOut);
      });
    }
  },
};
