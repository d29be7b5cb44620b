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
 *
 * The row is shared by processes that do not share a clock or settings, so it trusts neither:
 * - Times are the storage service's: each process measures its offset to storage's clock from the
 *   server time in the ETag of its own writes (Azure and Azurite stamp it to 100 ns), so one process
 *   whose clock is an hour fast reads and writes the same schedule as the others.
 * - A slot further ahead than any reservation or honoured Retry-After can put it (`maxAheadMs`) is a
 *   clock that was wrong or a hand edit, not a schedule: it is repaired under its ETag, with a warning,
 *   instead of holding every worker's messages back for as long as it says.
 * - The row keeps the interval it was written with; the longest one (the slowest rate) wins while its
 *   writer is active, so a worker configured with a faster rate does not crowd a slower one's slots.
 */
import type { TableClient } from "@azure/data-tables";
import { statusCode } from "../store/storageAccount.js";

/** Azure's limit for listAssociatedResources: one request per second per tenant (UAMI_RATE_LIMIT_PER_SECOND, `--rate`). */
export const DEFAULT_RATE_PER_SECOND = 1;
/** How far ahead a worker reserves a slot before it hands the message back instead (UAMI_MAX_SLOT_WAIT_MS). */
export const DEFAULT_MAX_SLOT_WAIT_MS = 20_000;

export interface TenantRateLimiterOptions {
  ratePerSecond: number;
  /** Extra milliseconds between slots. Default `defaultSafetyMs(ratePerSecond)`. */
  safetyMs?: number;
  /** A reservation further away than this is not taken: the caller defers the work instead. Default DEFAULT_MAX_SLOT_WAIT_MS (20 s). */
  maxWaitMs?: number;
  /** The longest Retry-After honoured (a longer one is cut to it, with a warning). Default 5 minutes. */
  maxRetryAfterMs?: number;
  /** Operation the budget belongs to (the row key). Default "listAssociatedResources". */
  operation?: string;
  /**
   * Read the time from the storage service (the server time of this process's writes) rather than trust
   * the local clock. Default true, unless `now` is given (a test's clock is the authority).
   */
  storageClock?: boolean;
  /** Where a repaired row or a cut Retry-After is reported. Default `console.warn`. */
  onWarning?: (message: string, data: Record<string, unknown>) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type SlotGrant = { granted: true; slotAt: number; waitedMs: number } | { granted: false; retryAfterMs: number };

/** The row as stored. Rows of older versions have `nextSlotAt` only. */
interface SlotRow {
  /** Earliest time (storage clock, ms) the next request may leave: the last slot plus its interval, or a 429's Retry-After. */
  nextSlotAt: number;
  /** The latest slot granted (0 in rows of older versions: their nextSlotAt already spaces it). */
  lastSlotAt: number;
  /** The interval the schedule keeps: the longest of the active writers'. */
  intervalMs: number;
  /** Until when `intervalMs` holds unless its writer (or a slower one) writes again. */
  intervalHeldUntil: number;
  etag?: string;
}

/** 50 ms at 1 request/s or slower; 5% of the interval above (25 ms at 2/s, 10 ms at 5/s). */
export function defaultSafetyMs(ratePerSecond: number): number {
  return 50 * Math.min(1, 1 / ratePerSecond);
}

/** Slots one acquire may miss by waking up late before it gives up. */
const MAX_MISSED_SLOTS = 8;
/** A slower rate written to the row holds this long after its writer last reserved a slot. */
const INTERVAL_HOLD_MS = 10 * 60 * 1000;
/** A local clock further than this from storage's (beyond the sample's uncertainty) is corrected. */
const PLAINLY_WRONG_MS = 1000;
/** A clock sample is replaced by a later one with a longer round trip only once it is this old. */
const CLOCK_SAMPLE_TTL_MS = 60_000;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const defaultWarning = (message: string, data: Record<string, unknown>) => console.warn(`${message} ${JSON.stringify(data)}`);

/** The server time a Table Storage ETag carries: `W/"datetime'2026-12-02T05%3A56%3A53.0038144Z'"`. */
export function serverTimeOfEtag(etag: string | undefined): number | undefined {
  const match = /datetime'([^']+)'/.exec(etag ?? "");
  if (!match) return undefined;
  const time = Date.parse(decodeURIComponent(match[1]!));
  return Number.isFinite(time) ? time : undefined;
}

/**
 * The storage service's clock, as an offset to the local one. A write's server time lies between the
 * moment the request left and the moment its answer arrived, so the offset is known to within half the
 * round trip; the sample with the shortest round trip (of the last minute) is kept. Until the first
 * write, the Date header of a read (whole seconds) corrects only a clock that is plainly wrong.
 */
class StorageClock {
  private offsetMs = 0;
  private precise = false;
  private bestRoundTripMs = Number.POSITIVE_INFINITY;
  private sampledAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly local: () => number) {}

  now(): number {
    return this.local() + this.offsetMs;
  }

  /** Local time of a storage-clock time. */
  toLocal(storageTime: number): number {
    return storageTime - this.offsetMs;
  }

  fromWrite(serverTime: number | undefined, sentAt: number, receivedAt: number): void {
    if (serverTime === undefined) return;
    const roundTrip = receivedAt - sentAt;
    if (this.precise && roundTrip > this.bestRoundTripMs && receivedAt - this.sampledAt < CLOCK_SAMPLE_TTL_MS) return;
    const measured = serverTime - (sentAt + roundTrip / 2);
    // Only a clock that is plainly wrong is corrected: a sample is uncertain by half its round trip, and
    // on a busy machine that is more than the safety margin, so small offsets would move one worker's
    // slots against another's by more than they fix (two requests inside one second, a 429). Clocks within
    // a second of storage's keep their own time, as the safety margin assumes.
    this.offsetMs = Math.abs(measured) - roundTrip / 2 > PLAINLY_WRONG_MS ? measured : 0;
    this.precise = true;
    this.bestRoundTripMs = roundTrip;
    this.sampledAt = receivedAt;
  }

  fromDateHeader(header: string | undefined | null, receivedAt: number): void {
    if (this.precise || !header) return;
    const second = Date.parse(header);
    if (!Number.isFinite(second)) return;
    // The server's time was within [second, second + 1000) when it answered.
    const local = receivedAt + this.offsetMs;
    if (local < second - 1000 || local > second + 2000) this.offsetMs = second + 500 - receivedAt;
  }
}

export class TenantRateLimiter {
  readonly intervalMs: number;
  /** How late after its slot a request may still leave: the safety margin (at least a few ms of timer jitter). */
  private readonly lateToleranceMs: number;
  private readonly maxWaitMs: number;
  private readonly maxRetryAfterMs: number;
  /** The furthest ahead a slot can legitimately be: a full Retry-After, then a full wait, plus slack. */
  readonly maxAheadMs: number;
  private readonly operation: string;
  private readonly localNow: () => number;
  private readonly clock: StorageClock | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly warn: (message: string, data: Record<string, unknown>) => void;

  constructor(private readonly table: TableClient, options: TenantRateLimiterOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new TypeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    const safety = options.safetyMs ?? defaultSafetyMs(options.ratePerSecond);
    if (!(safety >= 0)) throw new TypeError(`safetyMs must be >= 0, got ${safety}`);
    this.intervalMs = 1000 / options.ratePerSecond + safety;
    this.lateToleranceMs = Math.max(safety, 5);
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_SLOT_WAIT_MS;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 5 * 60_000;
    if (!(this.maxRetryAfterMs > 0)) throw new TypeError(`maxRetryAfterMs must be > 0, got ${this.maxRetryAfterMs}`);
    this.maxAheadMs = this.maxRetryAfterMs + this.maxWaitMs + 2 * this.intervalMs;
    this.operation = options.operation ?? "listAssociatedResources";
    this.localNow = options.now ?? Date.now;
    this.clock = (options.storageClock ?? options.now === undefined) ? new StorageClock(this.localNow) : undefined;
    this.sleep = options.sleep ?? defaultSleep;
    this.warn = options.onWarning ?? defaultWarning;
  }

  /** Now, on the clock the schedule is kept in (storage's, unless disabled). */
  private now(): number {
    return this.clock ? this.clock.now() : this.localNow();
  }

  private async read(tenantId: string): Promise<SlotRow | undefined> {
    try {
      const row = await this.table.getEntity<Partial<Record<keyof SlotRow, unknown>>>(tenantId, this.operation, {
        onResponse: (response) => this.clock?.fromDateHeader(response.headers.get("date"), this.localNow()),
      });
      const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
      const nextSlotAt = num(row.nextSlotAt);
      return {
        nextSlotAt,
        lastSlotAt: num(row.lastSlotAt),
        intervalMs: num(row.intervalMs),
        intervalHeldUntil: num(row.intervalHeldUntil),
        etag: row.etag,
      };
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw new Error(`Rate limiter: reading the slot of tenant ${tenantId} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Writes the row if nobody else changed it since it was read. False on a lost race. */
  private async write(tenantId: string, next: Omit<SlotRow, "etag">, previous: SlotRow | undefined): Promise<boolean> {
    const entity = { partitionKey: tenantId, rowKey: this.operation, ...next };
    const sentAt = this.localNow();
    try {
      const result = previous?.etag
        ? await this.table.updateEntity(entity, "Replace", { etag: previous.etag })
        : await this.table.createEntity(entity);
      this.clock?.fromWrite(serverTimeOfEtag(result.etag), sentAt, this.localNow());
      return true;
    } catch (error) {
      const status = statusCode(error);
      if (status === 412 || status === 409) return false;
      throw new Error(`Rate limiter: reserving a slot for tenant ${tenantId} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The interval the schedule keeps after this worker's write: the slower of its own and a live one in the row. */
  private intervalAfter(row: SlotRow | undefined, now: number): Pick<SlotRow, "intervalMs" | "intervalHeldUntil"> {
    if (row && row.intervalMs > this.intervalMs && row.intervalHeldUntil > now) {
      return { intervalMs: row.intervalMs, intervalHeldUntil: row.intervalHeldUntil };
    }
    return { intervalMs: this.intervalMs, intervalHeldUntil: now + INTERVAL_HOLD_MS };
  }

  /**
   * A row further ahead than any schedule can be (a writer's clock was wrong, or someone edited it) is
   * reset to "the next slot is one interval from now", under its ETag. True when it was repaired (or
   * someone else changed it meanwhile): read it again.
   */
  private async repairIfBeyondReach(tenantId: string, row: SlotRow, now: number): Promise<boolean> {
    const ahead = Math.max(row.nextSlotAt, row.lastSlotAt) - now;
    if (ahead <= this.maxAheadMs) return false;
    const written = await this.write(tenantId, { nextSlotAt: now + this.intervalMs, lastSlotAt: now, ...this.intervalAfter(undefined, now) }, row);
    if (written) {
      this.warn(`Rate limiter: the slot schedule of tenant ${tenantId} was ${Math.round(ahead / 1000)} s ahead, beyond the ${Math.round(this.maxAheadMs / 1000)} s any reservation or Retry-After can reach (a clock far ahead, or an edited row); reset to now`, {
        tenantId,
        operation: this.operation,
        aheadMs: Math.round(ahead),
        maxAheadMs: Math.round(this.maxAheadMs),
      });
    }
    return true;
  }

  /** Reserves the next slot without waiting for it. `slotAt` is on the schedule's clock. */
  async reserve(tenantId: string): Promise<SlotGrant> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const row = await this.read(tenantId);
      const now = this.now();
      if (row && (await this.repairIfBeyondReach(tenantId, row, now))) continue;
      const interval = this.intervalAfter(row, now);
      // Spaced from the last slot by the schedule's interval, whatever interval its writer used.
      const slotAt = Math.max(now, row?.nextSlotAt ?? 0, row ? row.lastSlotAt + interval.intervalMs : 0);
      if (slotAt - now > this.maxWaitMs) return { granted: false, retryAfterMs: Math.ceil(slotAt - now) };
      if (await this.write(tenantId, { nextSlotAt: slotAt + interval.intervalMs, lastSlotAt: slotAt, ...interval }, row)) {
        return { granted: true, slotAt, waitedMs: 0 };
      }
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
    const started = this.localNow();
    for (let attempt = 0; attempt < MAX_MISSED_SLOTS; attempt++) {
      const grant = await this.reserve(tenantId);
      if (!grant.granted) return grant;
      // The slot is on storage's clock; the wait is measured on ours (the offset is known after the write).
      const waitMs = Math.max(0, grant.slotAt - this.now());
      if (waitMs > 0) await this.sleep(waitMs);
      if (this.now() - grant.slotAt <= this.lateToleranceMs) return { ...grant, waitedMs: this.localNow() - started };
      if (this.localNow() - started > this.maxWaitMs) break;
    }
    return { granted: false, retryAfterMs: Math.ceil(this.intervalMs) };
  }

  /** Azure answered 429: nobody in the tenant sends before `retryAfterMs` (at most `maxRetryAfterMs`) has passed. */
  async penalize(tenantId: string, retryAfterMs: number): Promise<void> {
    if (retryAfterMs > this.maxRetryAfterMs) {
      this.warn(`Rate limiter: a Retry-After of ${Math.round(retryAfterMs / 1000)} s for tenant ${tenantId} is honoured for ${Math.round(this.maxRetryAfterMs / 1000)} s only`, {
        tenantId,
        retryAfterMs,
        maxRetryAfterMs: this.maxRetryAfterMs,
      });
    }
    const penaltyMs = Math.min(Math.max(0, retryAfterMs), this.maxRetryAfterMs);
    for (let attempt = 0; attempt < 100; attempt++) {
      const row = await this.read(tenantId);
      const now = this.now();
      if (row && (await this.repairIfBeyondReach(tenantId, row, now))) continue;
      const until = now + penaltyMs;
      if ((row?.nextSlotAt ?? 0) >= until) return;
      const kept = row ?? { lastSlotAt: 0, ...this.intervalAfter(undefined, now) };
      if (await this.write(tenantId, { nextSlotAt: until, lastSlotAt: kept.lastSlotAt, intervalMs: kept.intervalMs, intervalHeldUntil: kept.intervalHeldUntil }, row)) return;
      await this.sleep(Math.random() * 20);
    }
  }
}
