import { describe, expect, it } from "vitest";
import { TenantRateLimiter } from "../../src/limiter/tenantRateLimiter.js";
import { freshAuditStorage } from "../helpers/storage.js";

describe("TenantRateLimiter (Table Storage slot schedule, against Azurite)", () => {
  it("gives racing limiters (as separate processes would have) distinct slots at least one interval apart", async () => {
    const storage = await freshAuditStorage();
    const limiters = Array.from({ length: 4 }, () => new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 20, safetyMs: 0 }));
    const grants = await Promise.all(
      Array.from({ length: 24 }, (_, i) => limiters[i % 4]!.reserve("tenant-a")),
    );
    const slots = grants.map((g) => (g.granted ? g.slotAt : Number.NaN)).sort((a, b) => a - b);
    expect(slots.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(50 - 1e-6);
  });

  it("keeps each tenant's budget separate", async () => {
    const storage = await freshAuditStorage();
    const limiter = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 1, safetyMs: 0 });
    const a = await limiter.reserve("tenant-a");
    const b = await limiter.reserve("tenant-b");
    expect(a.granted && b.granted).toBe(true);
    if (a.granted && b.granted) expect(Math.abs(a.slotAt - b.slotAt)).toBeLessThan(1000);
    const a2 = await limiter.reserve("tenant-a");
    expect(a2.granted).toBe(true);
    if (a.granted && a2.granted) expect(a2.slotAt - a.slotAt).toBeGreaterThanOrEqual(1000);
  });

  it("refuses a slot further away than maxWaitMs instead of sleeping for it", async () => {
    const storage = await freshAuditStorage();
    const limiter = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 1, safetyMs: 0, maxWaitMs: 1500 });
    const grants = [];
    for (let i = 0; i < 4; i++) grants.push(await limiter.reserve("t"));
    expect(grants.slice(0, 2).every((g) => g.granted)).toBe(true);
    const refused = grants.find((g) => !g.granted);
    expect(refused).toBeDefined();
    if (refused && !refused.granted) expect(refused.retryAfterMs).toBeGreaterThan(1500);
  });

  it("after a 429, nobody in the tenant gets a slot before Retry-After has passed", async () => {
    const storage = await freshAuditStorage();
    let now = 1_000_000;
    const options = { ratePerSecond: 10, safetyMs: 0, maxWaitMs: 60_000, now: () => now, sleep: async (ms: number) => { now += ms; } };
    const first = new TenantRateLimiter(storage.rateLimits, options);
    const second = new TenantRateLimiter(storage.rateLimits, options);
    await first.acquire("t");
    await first.penalize("t", 5000);
    const grant = await second.reserve("t");
    expect(grant.granted).toBe(true);
    if (grant.granted) expect(grant.slotAt).toBeGreaterThanOrEqual(1_000_000 + 5000);
  });

  it("acquire waits until the reserved slot", async () => {
    const storage = await freshAuditStorage();
    let now = 5_000;
    const waits: number[] = [];
    const limiter = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 2, safetyMs: 100, now: () => now, sleep: async (ms) => { waits.push(ms); now += ms; } });
    await limiter.acquire("t");
    const second = await limiter.acquire("t");
    expect(second.granted && second.waitedMs).toBe(600);
  });

  it("by default keeps a 50 ms margin at 1/s or slower and 5% of the interval above, so its ceiling is 95% of any rate", () => {
    const interval = (ratePerSecond: number, safetyMs?: number) => new TenantRateLimiter({} as never, { ratePerSecond, safetyMs }).intervalMs;
    expect(interval(1)).toBe(1050);
    expect(interval(0.5)).toBe(2050);
    expect(interval(2)).toBe(525);
    expect(interval(10)).toBe(105);
    expect(interval(2, 0)).toBe(500);
    expect(interval(2, 40)).toBe(540);
  });

  it("validates its options with a TypeError naming the option", () => {
    expect(() => new TenantRateLimiter({} as never, { ratePerSecond: 0 })).toThrow(/ratePerSecond/);
    expect(() => new TenantRateLimiter({} as never, { ratePerSecond: 1, safetyMs: -1 })).toThrow(/safetyMs/);
  });
});

describe("TenantRateLimiter when its process stalls", () => {
  it("gives up a slot it woke up too late for and takes the next one, so the schedule keeps its spacing", async () => {
    const storage = await freshAuditStorage();
    let now = 10_000;
    let stall = 300; // the first wake-up is 300 ms late, as after a long GC pause
    const limiter = new TenantRateLimiter(storage.rateLimits, {
      ratePerSecond: 1,
      safetyMs: 50,
      now: () => now,
      sleep: async (ms) => {
        now += ms + stall;
        stall = 0;
      },
    });
    await limiter.reserve("t"); // someone holds the slot at 10 000; ours is at 11 050
    const grant = await limiter.acquire("t");
    expect(grant.granted).toBe(true);
    if (grant.granted) {
      expect(grant.slotAt).toBe(12_100);
      expect(now - grant.slotAt).toBeLessThanOrEqual(50);
    }
  });

  it("keeps trying through several late wake-ups while it is within maxWaitMs", async () => {
    const storage = await freshAuditStorage();
    let now = 0;
    let lateWakeUps = 5;
    const limiter = new TenantRateLimiter(storage.rateLimits, {
      ratePerSecond: 1,
      safetyMs: 50,
      maxWaitMs: 20_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms + (lateWakeUps-- > 0 ? 200 : 0);
      },
    });
    await limiter.reserve("t");
    const grant = await limiter.acquire("t");
    expect(grant).toMatchObject({ granted: true });
    if (grant.granted) expect(now - grant.slotAt).toBeLessThanOrEqual(50);
    expect(lateWakeUps).toBeLessThan(0);
  });

  it("defers the work when every wake-up is late", async () => {
    const storage = await freshAuditStorage();
    let now = 0;
    const limiter = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 1, safetyMs: 50, now: () => now, sleep: async (ms) => { now += ms + 500; } });
    await limiter.reserve("t");
    expect(await limiter.acquire("t")).toMatchObject({ granted: false });
  });
});
