/**
 * The limiter's row is shared by processes whose clocks and settings differ: a row pushed far into the
 * future (a clock an hour fast, a hand edit, an absurd Retry-After) must not stop the tenant's audit, and
 * a worker configured with a faster rate must not crowd a slower one. Real limiters on real Azurite; the
 * skewed clock is the limiter's own clock option, as a process with a wrong clock would have.
 */
import { describe, expect, it } from "vitest";
import { serverTimeOfEtag, TenantRateLimiter } from "../../src/limiter/tenantRateLimiter.js";
import { freshAuditStorage } from "../helpers/storage.js";

const HOUR = 3600_000;

function warnings() {
  const seen: { message: string; data: Record<string, unknown> }[] = [];
  return { seen, onWarning: (message: string, data: Record<string, unknown>) => seen.push({ message, data }) };
}

describe("TenantRateLimiter under a wrong clock or a corrupt row (Azurite)", () => {
  it("a slot row 24 h ahead is repaired once under its ETag, with a warning, and four racing workers get slots from now on", async () => {
    const storage = await freshAuditStorage();
    await storage.rateLimits.createEntity({ partitionKey: "t", rowKey: "listAssociatedResources", nextSlotAt: Date.now() + 24 * HOUR });
    const { seen, onWarning } = warnings();
    const limiters = Array.from({ length: 4 }, () => new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 10, onWarning }));
    const before = Date.now();
    const grants = await Promise.all(limiters.map((l) => l.reserve("t")));
    const slots = grants.map((g) => (g.granted ? g.slotAt : Number.NaN)).sort((a, b) => a - b);
    expect(slots.every(Number.isFinite)).toBe(true);
    expect(slots[0]!).toBeLessThan(before + 2000);
    expect(slots[3]!).toBeLessThan(before + 2000 + 4 * limiters[0]!.intervalMs);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(limiters[0]!.intervalMs - 1e-6);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.message).toMatch(/tenant t was 86\d{3} s ahead.*reset to now/);
  });

  it("a row written by a worker whose clock is 1 h fast does not hold back a worker with the right time", async () => {
    const storage = await freshAuditStorage();
    const fast = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 2, now: () => Date.now() + HOUR, storageClock: true });
    const right = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 2 });
    const slots: number[] = [];
    for (let i = 0; i < 6; i++) {
      const grant = await (i % 2 ? right : fast).reserve("t");
      expect(grant, `reservation ${i}`).toMatchObject({ granted: true });
      if (grant.granted) slots.push(grant.slotAt);
    }
    // One schedule, on storage's clock: no slot an hour away, each one interval after the last.
    expect(Math.max(...slots) - Date.now()).toBeLessThan(6 * right.intervalMs + 2000);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(right.intervalMs - 1e-6);
  });

  it("acquire on a clock 1 h fast waits for its slot in real time, not an hour, and not zero", async () => {
    const storage = await freshAuditStorage();
    const fast = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 4, now: () => Date.now() + HOUR, storageClock: true });
    const first = await fast.acquire("t");
    const started = Date.now();
    const second = await fast.acquire("t");
    const waited = Date.now() - started;
    expect(first.granted && second.granted).toBe(true);
    expect(waited).toBeGreaterThan(fast.intervalMs - 60);
    expect(waited).toBeLessThan(fast.intervalMs + 1000);
  });

  it("a Retry-After longer than the longest honoured is cut to it, with a warning", async () => {
    const storage = await freshAuditStorage();
    const { seen, onWarning } = warnings();
    const limiter = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 1, maxRetryAfterMs: 60_000, maxWaitMs: 20_000, onWarning });
    await limiter.penalize("t", 24 * HOUR);
    const grant = await limiter.reserve("t");
    expect(grant.granted).toBe(false);
    if (!grant.granted) {
      expect(grant.retryAfterMs).toBeGreaterThan(55_000);
      expect(grant.retryAfterMs).toBeLessThanOrEqual(61_000);
    }
    expect(seen.map((w) => w.message)).toEqual([expect.stringMatching(/Retry-After of 86400 s .* honoured for 60 s only/)]);
  });

  it("workers configured with different rates keep the slowest one's interval", async () => {
    const storage = await freshAuditStorage();
    const slow = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 1 });
    const quick = new TenantRateLimiter(storage.rateLimits, { ratePerSecond: 4 });
    const slots: number[] = [];
    for (let i = 0; i < 8; i++) {
      const grant = await (i % 4 === 0 ? slow : quick).reserve("t");
      if (grant.granted) slots.push(grant.slotAt);
    }
    expect(slots).toHaveLength(8);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!, `slot ${i}`).toBeGreaterThanOrEqual(slow.intervalMs - 1e-6);
  });

  it("the ETag of a Table Storage write carries the server's time", () => {
    expect(serverTimeOfEtag(`W/"datetime'2026-12-02T05%3A56%3A53.0038144Z'"`)).toBe(Date.parse("2026-12-02T05:56:53.003Z"));
    expect(serverTimeOfEtag(`"0x8D9"`)).toBeUndefined();
    expect(serverTimeOfEtag(undefined)).toBeUndefined();
  });
});
