/**
 * The per-tenant limit of listAssociatedResources ("one request per second per tenant", 429 beyond),
 * across clients and tokens, and the limiters as pure objects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index.js";
import { startSimulator } from "../index.js";
import { formatResetsAfter, retryAfterSeconds, SlidingWindowLimiter, WindowQuota } from "../rateLimit.js";
import { listUrl } from "./fixture.js";
import { SimClient } from "./httpsClient.js";

describe("SlidingWindowLimiter", () => {
  it("admits `limit` requests per window and says when the next slot frees", () => {
    const limiter = new SlidingWindowLimiter(2, 1000);
    expect(limiter.tryAcquire("t", 0)).toEqual({ admitted: true });
    expect(limiter.tryAcquire("t", 100)).toEqual({ admitted: true });
    expect(limiter.tryAcquire("t", 200)).toEqual({ admitted: false, retryAfterMs: 800 });
    expect(limiter.tryAcquire("t", 999)).toEqual({ admitted: false, retryAfterMs: 1 });
    expect(limiter.tryAcquire("t", 1000)).toEqual({ admitted: true });
    expect(limiter.tryAcquire("other", 1000)).toEqual({ admitted: true });
  });

  it("does not count rejected requests", () => {
    const limiter = new SlidingWindowLimiter(1, 1000);
    limiter.tryAcquire("t", 0);
    for (let t = 10; t < 1000; t += 10) expect(limiter.tryAcquire("t", t).admitted).toBe(false);
    expect(limiter.tryAcquire("t", 1000).admitted).toBe(true);
  });
});

describe("WindowQuota and header formats", () => {
  it("opens a window at the first request and resets after it", () => {
    const quota = new WindowQuota(3, 5000);
    expect(quota.tryConsume("u", 0)).toEqual({ allowed: true, remaining: 2, resetsAfterMs: 5000 });
    expect(quota.tryConsume("u", 2000)).toEqual({ allowed: true, remaining: 1, resetsAfterMs: 3000 });
    expect(quota.tryConsume("u", 2500)).toEqual({ allowed: true, remaining: 0, resetsAfterMs: 2500 });
    expect(quota.tryConsume("u", 2600)).toEqual({ allowed: false, remaining: 0, resetsAfterMs: 2400 });
    expect(quota.tryConsume("u", 5000)).toEqual({ allowed: true, remaining: 2, resetsAfterMs: 5000 });
  });

  it("formats hh:mm:ss and whole Retry-After seconds", () => {
    expect(formatResetsAfter(5000)).toBe("00:00:05");
    expect(formatResetsAfter(2001)).toBe("00:00:03");
    expect(formatResetsAfter(3_725_000)).toBe("01:02:05");
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});

describe("listAssociatedResources: one request per second per tenant", () => {
  let sim: RunningSimulator;
  let first: SimClient;
  let second: SimClient;
  let otherTenant: SimClient;

  beforeAll(async () => {
    sim = await startSimulator({ identities: 20, seed: "rate", tenants: 2, rate: 1 });
    const secondToken = sim.issueToken(sim.tenants[0]!.tenantId);
    expect(secondToken).not.toBe(sim.tenants[0]!.token);
    first = new SimClient(sim.endpoint, sim.ca, sim.tenants[0]!.token);
    second = new SimClient(sim.endpoint, sim.ca, secondToken);
    otherTenant = new SimClient(sim.endpoint, sim.ca, sim.tenants[1]!.token);
  });

  afterAll(async () => {
    first.close();
    second.close();
    otherTenant.close();
    await sim.close();
  });

  const identity = (tenant: number, k = 0) => sim.truth.tenants[tenant]!.identities[k]!;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("answers 429 to the second request within a second, from another client and token of the same tenant", async () => {
    await pause(1100);
    const [a, b] = await Promise.all([first.post(listUrl(identity(0, 1), "$top=0")), second.post(listUrl(identity(0, 2), "$top=0"))]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 429]);
    const throttled = a.status === 429 ? a : b;
    expect(throttled.body.error.code).toBe("TooManyRequests");
    expect(throttled.body.error.message).toMatch(/1 request per second per tenant/);
    const retryAfter = Number(throttled.headers["retry-after"]);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
  });

  it("gives each tenant its own budget", async () => {
    await pause(1100);
    const [a, b] = await Promise.all([first.post(listUrl(identity(0, 3), "$top=0")), otherTenant.post(listUrl(identity(1, 3), "$top=0"))]);
    expect([a.status, b.status]).toEqual([200, 200]);
  });

  it("admits again once Retry-After has passed, and logs every request with its status", async () => {
    await pause(1100);
    sim.clearRequestLog();
    const tenantId = sim.tenants[0]!.tenantId;
    const ok = await first.post(listUrl(identity(0, 4), "$top=0"));
    const throttled = await second.post(listUrl(identity(0, 4), "$top=0"));
    expect(ok.status).toBe(200);
    expect(throttled.status).toBe(429);
    await pause(Number(throttled.headers["retry-after"]) * 1000 + 50);
    const again = await second.post(listUrl(identity(0, 4), "$top=0"));
    expect(again.status).toBe(200);

    const log = sim.requestLog().filter((e) => e.tenantId === tenantId && e.operation === "listAssociatedResources");
    expect(log.map((e) => e.status)).toEqual([200, 429, 200]);
    expect(log[0]!.identityId).toBe(identity(0, 4).id);
    // The server never accepted two requests of the tenant within one second.
    const accepted = log.filter((e) => e.status === 200).map((e) => e.at);
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]! - accepted[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it("does not limit the identity GET", async () => {
    const responses = await Promise.all([1, 2, 3].map(() => first.get(`${listUrl(identity(0, 5)).split("/listAssociatedResources")[0]}?api-version=2023-01-31`)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it("forces 429 bursts with the requested Retry-After, without spending the budget", async () => {
    await pause(1100);
    sim.forceThrottle(sim.tenants[1]!.tenantId, { count: 2, retryAfterSeconds: 7 });
    const a = await otherTenant.post(listUrl(identity(1, 6), "$top=0"));
    const b = await otherTenant.post(listUrl(identity(1, 6), "$top=0"));
    const c = await otherTenant.post(listUrl(identity(1, 6), "$top=0"));
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    expect(a.headers["retry-after"]).toBe("7");
    expect(a.body.error.code).toBe("TooManyRequests");
  });
});

describe("listAssociatedResources: a configured rate", () => {
  it("admits R requests per second and answers 429 to the R+1st", async () => {
    const sim = await startSimulator({ identities: 20, seed: "rate-3", rate: 3 });
    const clients = [sim.tenants[0]!.token, sim.issueToken(sim.tenants[0]!.tenantId)].map((token) => new SimClient(sim.endpoint, sim.ca, token));
    try {
      const identity = sim.truth.tenants[0]!.identities[7]!;
      const responses = await Promise.all([0, 1, 2, 3].map((i) => clients[i % 2]!.post(listUrl(identity, "$top=0"))));
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 429]);
      expect(responses.find((r) => r.status === 429)!.body.error.message).toMatch(/3 requests per second per tenant/);
    } finally {
      for (const c of clients) c.close();
      await sim.close();
    }
  });
});
