/**
 * The global per-tenant rate limiter for `listAssociatedResources` (Azure: 1 request per second per
 * tenant, shared by every caller; HTTP 429 beyond).
 *
 * Design (docs/decisions/0002-global-rate-limiter.md): a slot schedule in Table Storage. One row per
 * tenant holds `nextSlotAt`, the earliest time the next request may be sent. To send, a worker reads the
 * row, takes slot = max(now, nextSlotAt), writes nextSlotAt = slot + interval under the row's ETag (a
 * conditional update: exactly one of two racing workers wins, the other re-reads), then sleeps until its
 * slot. Every process of every instance draws from the same schedule, so slots never overlap however far
 * the app scales out. `p-throttle` could only pace one process.
 *
 * interval = 1000 / ratePerSecond + safetyMs: the margin absorbs clock skew between instances and the
 * jitter between "timer fired" and "request reached Azure". Its default, 50 ms at 1 request/s, is 5% of
 * the interval at faster rates, so the limiter's own ceiling stays at 95% of any rate.
 *
 * A 429 (someone else in the tenant used the budget, or Azure counts differently) pushes nextSlotAt past
 * the Retry-After for everyone: no instance retries faster than Azure asked.
 */
import type { TableClient } from "@azure/data-tables";
import { statusCode } from "../storage/storageAccount.js";

export interface TenantRateLimiterOptions {
  ratePerSecond: number;
  /** Extra milliseconds between slots. Default `defaultSafetyMs(ratePerSecond)`. */
  safetyMs?: number;
  /** A reservation further away than this is not taken: the caller defers the work instead. Default 20 s. */
  maxWaitMs?: number;
  /** Operation the budget belongs to (the row key). Default "listAssociatedResources". */
  operation?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type SlotGrant = { granted: true; slotAt: number; waitedMs: number } | { granted: false; retryAfterMs: number };

interface SlotRow {
  partitionKey: string;
  rowKey: string;
  nextSlotAt: number;
  etag?: string;
}

/** 50 ms at 1 request/s or slower; 5% of the interval above (25 ms at 2/s, 10 ms at 5/s). */
export function defaultSafetyMs(ratePerSecond: number): number {
  return 50 * Math.min(1, 1 / ratePerSecond);
}

/** Slots one acquire may miss by waking up late before it gives up. */
const MAX_MISSED_SLOTS = 8;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TenantRateLimiter {
  readonly intervalMs: number;
  /** How late after its slot a request may still leave: the safety margin (at least a few ms of timer jitter). */
  private readonly lateToleranceMs: number;
  private readonly maxWaitMs: number;
  private readonly operation: string;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly table: TableClient, options: TenantRateLimiterOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new TypeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    const safety = options.safetyMs ?? defaultSafetyMs(options.ratePerSecond);
    if (!(safety >= 0)) throw new TypeError(`safetyMs must be >= 0, got ${safety}`);
    this.intervalMs = 1000 / options.ratePerSecond + safety;
    this.lateToleranceMs = Math.max(safety, 5);
    this.maxWaitMs = options.maxWaitMs ?? 20_000;
    this.operation = options.operation ?? "listAssociatedResources";
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  private async read(tenantId: string): Promise<SlotRow | undefined> {
    try {
      const row = await this.table.getEntity<{ nextSlotAt?: number }>(tenantId, this.operation);
      return { partitionKey: tenantId, rowKey: this.operation, nextSlotAt: Number(row.nextSlotAt ?? 0), etag: row.etag };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw new Error(`Rate limiter: reading the slot of tenant ${tenantId} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Writes nextSlotAt if nobody else changed the row since it was read. False on a lost race. */
  private async write(tenantId: string, nextSlotAt: number, previous: SlotRow | undefined): Promise<boolean> {
    const entity = { partitionKey: tenantId, rowKey: this.operation, nextSlotAt };
    try {
      if (previous?.etag) await this.table.updateEntity(entity, "Replace", { etag: previous.etag });
      else await this.table.createEntity(entity);
      return true;
    } catch (error) {
      const status = statusCode(error);
      if (status === 412 || status === 409) return false;
      throw new Error(`Rate limiter: reserving a slot for tenant ${tenantId} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Reserves the next slot without waiting for it. */
  async reserve(tenantId: string): Promise<SlotGrant> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const row = await this.read(tenantId);
      const now = this.now();
      const slotAt = Math.max(now, row?.nextSlotAt ?? 0);
      if (slotAt - now > this.maxWaitMs) return { granted: false, retryAfterMs: Math.ceil(slotAt - now) };
      if (await this.write(tenantId, slotAt + this.intervalMs, row)) return { granted: true, slotAt, waitedMs: 0 };
      await this.sleep(Math.random() * 20);
    }
    throw new Error(`Rate limiter: could not reserve a slot for tenant ${tenantId}: too much contention`);
  }

  /**
   * Reserves a slot and waits for it. A worker that wakes up later than its slot by more than the safety
   * margin (its process was stalled) gives the slot up and reserves another: sending late would leave less
   * than one interval before the next worker's on-time request. It tries again (a check half-way through
   * its pages should not start over for one GC pause), but each slot it misses is lost to every worker of
   * the tenant, so a process that keeps stalling stops after MAX_MISSED_SLOTS or `maxWaitMs` and the
   * message goes back to the queue, for a healthier instance.
   */
  async acquire(tenantId: string): Promise<SlotGrant> {
    const started = this.now();
    for (let attempt = 0; attempt < MAX_MISSED_SLOTS; attempt++) {
      const grant = await this.reserve(tenantId);
      if (!grant.granted) return grant;
      const waitMs = Math.max(0, grant.slotAt - this.now());
      if (waitMs > 0) await this.sleep(waitMs);
      if (this.now() - grant.slotAt <= this.lateToleranceMs) return { ...grant, waitedMs: this.now() - started };
      if (this.now() - started > this.maxWaitMs) break;
    }
    return { granted: false, retryAfterMs: Math.ceil(this.intervalMs) };
  }

  /** Azure answered 429: nobody in the tenant sends before `retryAfterMs` has passed. */
  async penalize(tenantId: string, retryAfterMs: number): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const row = await this.read(tenantId);
      const until = this.now() + retryAfterMs;
      if ((row?.nextSlotAt ?? 0) >= until) return;
      if (await this.write(tenantId, until, row)) return;
      await this.sleep(Math.random() * 20);
    }
  }
}
