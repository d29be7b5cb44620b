/**
 * 3. Paging through the associated resources of one identity with about 1,000 of them
 * (`listAllAssociatedResources` to the end): at Azure's 1 request per second, paced by the project's
 * TenantRateLimiter on an Azurite table, and with the simulator's limit lifted and no limiter.
 */
import type { RunningSimulator } from "../simulator/index.js";
import { createArmConnection } from "../src/arm/connection.js";
import { listAllAssociatedResources } from "../src/arm/associatedResources.js";
import { TenantRateLimiter } from "../src/limiter/tenantRateLimiter.js";
import { tableClient } from "../src/store/storageAccount.js";
import type { FigureRecorder, Measurement } from "./measurement.js";
import { benchPrefix, secondsSince, withAzurite, withSimulator } from "./scopedServices.js";

/** Enough for the generator's guarantees (one identity with about 1,000 associations from 10 identities up). */
const IDENTITIES = 200;

function busiestIdentity(sim: RunningSimulator): { id: string; associationCount: number } {
  const identities = sim.truth.tenants[0]?.identities ?? [];
  let best: { id: string; associationCount: number } | undefined;
  for (const i of identities) if (!best || i.associationCount > best.associationCount) best = { id: i.id, associationCount: i.associationCount };
  if (!best) throw new Error("the simulated tenant has no identity");
  return best;
}

async function pageToEnd(sim: RunningSimulator, out: FigureRecorder, beforeEachRequest?: () => Promise<void>): Promise<void> {
  const tenant = sim.tenants[0];
  if (!tenant) throw new Error("the simulator has no tenant");
  const conn = createArmConnection({ endpoint: sim.endpoint, token: tenant.token, ca: sim.ca });
  const target = busiestIdentity(sim);
  sim.clearRequestLog();
  const started = performance.now();
  let pages = 0;
  let items = 0;
  for await (const page of listAllAssociatedResources(conn, target.id, {}, beforeEachRequest)) {
    pages += 1;
    items += page.value.length;
  }
  const seconds = secondsSince(started);
  const throttled = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.status === 429).length;
  out.figure("associations of the busiest identity (truth)", target.associationCount, "resources");
  out.figure("pages", pages, "pages");
  out.figure("items", items, "resources");
  out.figure("time", seconds, "s");
  out.figure("pages per second", pages / seconds, "pages/s");
  out.figure("429 answers", throttled, "responses");
  if (items !== target.associationCount) out.note(`paged ${items} items, the identity has ${target.associationCount}`);
}

export const associationPaging: Measurement = {
  name: "associationPaging",
  title: "Paging through one identity with ~1,000 associated resources",
  async run(out: FigureRecorder) {
    await withAzurite(async (_azurite, account) => {
      const table = tableClient(account, `${benchPrefix("limit")}ratelimits`);
      await table.createTable();
      const limiter = new TenantRateLimiter(table, { ratePerSecond: 1, safetyMs: 50 });
      await withSimulator({ identities: IDENTITIES, seed: "bench", rate: 1 }, async (sim) => {
        const tenantId = sim.tenants[0]?.tenantId ?? "";
        await pageToEnd(sim, out.forCase("rate 1/s, TenantRateLimiter"), async () => {
          const grant = await limiter.acquire(tenantId);
          if (!grant.granted) throw new Error(`no rate-limit slot within 20 s (next in ${grant.retryAfterMs} ms)`);
        });
      });
    });
    await withSimulator({ identities: IDENTITIES, seed: "bench", rate: 1000 }, async (sim) => {
      await pageToEnd(sim, out.forCase("unlimited, no limiter"), undefined);
    });
  },
};
