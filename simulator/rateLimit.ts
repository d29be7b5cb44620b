/**
 * The two limits the simulator enforces:
 * - listAssociatedResources: "limited to one per second per tenant; beyond, HTTP 429"
 *   (seeds/000_94790adf3cc96801.txt). Modelled as a sliding window over accepted requests, counted
 *   across every caller and token of the tenant, so a client cannot escape it by adding processes.
 * - Resource Graph's per-user quota: 15 queries per 5-second window, reported in
 *   `x-ms-user-quota-remaining` / `x-ms-user-quota-resets-after` (learn.microsoft.com,
 *   guidance-for-throttled-requests). The window opens at the first query after a reset, as the docs'
 *   example (remaining 10 with 3 s left, then 15 / 00:00:05) shows.
 */

export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number };

export class SlidingWindowLimiter {
  private readonly accepted = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 1000,
  ) {}

  /** Admits when fewer than `limit` requests were accepted in (now - window, now]. */
  tryAcquire(key: string, now: number): Admission {
    let times = this.accepted.get(key);
    if (!times) {
      times = [];
      this.accepted.set(key, times);
    }
    while (times.length > 0 && (times[0] as number) <= now - this.windowMs) times.shift();
    if (times.length < this.limit) {
      times.push(now);
      return { admitted: true };
    }
    // The slot frees when the oldest request still in the window leaves it.
    const oldest = times[times.length - this.limit] as number;
    return { admitted: false, retryAfterMs: Math.max(1, oldest + this.windowMs - now) };
  }
}

export interface QuotaState {
  allowed: boolean;
  remaining: number;
  resetsAfterMs: number;
}

export class WindowQuota {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  tryConsume(key: string, now: number): QuotaState {
    let window = this.windows.get(key);
    if (!window || now >= window.start + this.windowMs) {
      window = { start: now, used: 0 };
      this.windows.set(key, window);
    }
    const resetsAfterMs = window.start + this.windowMs - now;
    if (window.used >= this.limit) return { allowed: false, remaining: 0, resetsAfterMs };
    window.used++;
    return { allowed: true, remaining: this.limit - window.used, resetsAfterMs };
  }
}

/** `hh:mm:ss`, rounded up to the second, as ARG writes `x-ms-user-quota-resets-after`. */
export function formatResetsAfter(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hh = Math.floor(total / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = total % 60;
  return [hh, mm, ss].map((n) => String(n).padStart(2, "0")).join(":");
}

/** Whole seconds for a `Retry-After` header, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The `x-ms-ratelimit-remaining-subscription-reads` header of the recordings ("11999", "11989"...):
 * a bucket of 12,000 reads per subscription refilled at 12,000 per hour. Informational only: the
 * simulator never throttles on it.
 */
export class ReadsBucket {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private static readonly capacity = 12_000;
  private static readonly refillPerMs = 12_000 / 3_600_000;

  take(key: string, now: number): number {
    const bucket = this.buckets.get(key) ?? { tokens: ReadsBucket.capacity, at: now };
    bucket.tokens = Math.min(ReadsBucket.capacity, bucket.tokens + (now - bucket.at) * ReadsBucket.refillPerMs);
    bucket.at = now;
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(key, bucket);
    return Math.floor(bucket.tokens);
  }
}
