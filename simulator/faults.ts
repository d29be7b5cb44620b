/**
 * Fault injection: random 500/503s, added latency, dropped connections, forced 429 bursts per tenant
 * and per-identity failures. Decisions come from a PRNG seeded with the simulator's seed, so a failing
 * run can be replayed with the same request order.
 */
import { Prng } from "./prng.js";

export type Operation = "resourceGraph" | "listAssociatedResources" | "getIdentity" | "listFederatedCredentials" | "listResources";

export const OPERATIONS: readonly Operation[] = ["resourceGraph", "listAssociatedResources", "getIdentity", "listFederatedCredentials", "listResources"];

export interface FaultOptions {
  /** Share (0..1) of requests answered 500 or 503 with a CloudError. */
  errorRate?: number;
  /** Milliseconds added before each answer. */
  latencyMs?: number;
  /** Share (0..1) of requests whose connection is destroyed without an answer. */
  dropRate?: number;
  /** Operations the faults apply to; default every operation but resourceGraph. */
  operations?: Operation[];
}

export type FaultDecision = { action: "none" } | { action: "drop" } | { action: "error"; status: 500 | 503 };

const DEFAULT_OPERATIONS: readonly Operation[] = ["listAssociatedResources", "getIdentity", "listFederatedCredentials", "listResources"];

function validShare(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) throw new TypeError(`faults.${name} must be a number between 0 and 1, got ${String(value)}`);
  return value;
}

/** Validates and normalises fault options (a `TypeError` names the bad option). */
export function normaliseFaults(options: FaultOptions | undefined): Required<FaultOptions> {
  const latencyMs = options?.latencyMs ?? 0;
  if (typeof latencyMs !== "number" || !(latencyMs >= 0) || !Number.isFinite(latencyMs)) {
    throw new TypeError(`faults.latencyMs must be a non-negative number, got ${String(latencyMs)}`);
  }
  const operations = options?.operations ?? [...DEFAULT_OPERATIONS];
  if (!Array.isArray(operations) || operations.some((op) => !OPERATIONS.includes(op))) {
    throw new TypeError(`faults.operations must list operations among ${OPERATIONS.join(", ")}, got ${JSON.stringify(operations)}`);
  }
  return {
    errorRate: validShare("errorRate", options?.errorRate),
    dropRate: validShare("dropRate", options?.dropRate),
    latencyMs,
    operations: [...operations],
  };
}

export class FaultInjector {
  private faults: Required<FaultOptions>;
  private readonly prng: Prng;
  private readonly forcedThrottles = new Map<string, { count: number; retryAfterSeconds: number }>();
  private readonly identityFailures = new Map<string, number>();

  constructor(seed: string, options?: FaultOptions) {
    this.prng = new Prng(`${seed}/faults`);
    this.faults = normaliseFaults(options);
  }

  set(options: FaultOptions): void {
    this.faults = normaliseFaults(options);
  }

  get current(): Required<FaultOptions> {
    return { ...this.faults, operations: [...this.faults.operations] };
  }

  private applies(operation: Operation): boolean {
    return this.faults.operations.includes(operation);
  }

  latencyFor(operation: Operation): number {
    return this.applies(operation) ? this.faults.latencyMs : 0;
  }

  decide(operation: Operation): FaultDecision {
    if (!this.applies(operation)) return { action: "none" };
    const { dropRate, errorRate } = this.faults;
    if (dropRate > 0 && this.prng.next() < dropRate) return { action: "drop" };
    if (errorRate > 0 && this.prng.next() < errorRate) return { action: "error", status: this.prng.chance(0.5) ? 500 : 503 };
    return { action: "none" };
  }

  forceThrottle(tenantId: string, count: number, retryAfterSeconds = 1): void {
    if (!Number.isInteger(count) || count < 0) throw new TypeError(`count must be a non-negative integer, got ${count}`);
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) throw new TypeError(`retryAfterSeconds must be a non-negative integer, got ${retryAfterSeconds}`);
    this.forcedThrottles.set(tenantId.toLowerCase(), { count, retryAfterSeconds });
  }

  /** Consumes one forced 429 of the tenant, if any is pending; returns its Retry-After. */
  takeForcedThrottle(tenantId: string): number | undefined {
    const key = tenantId.toLowerCase();
    const pending = this.forcedThrottles.get(key);
    if (!pending || pending.count <= 0) return undefined;
    pending.count--;
    if (pending.count === 0) this.forcedThrottles.delete(key);
    return pending.retryAfterSeconds;
  }

  /** `status` 0 or 200 clears the failure. */
  failIdentity(identityKey: string, status: number): void {
    if (!Number.isInteger(status) || status < 0 || status > 599) throw new TypeError(`status must be an HTTP status code, got ${status}`);
    if (status === 0 || status === 200) this.identityFailures.delete(identityKey);
    else this.identityFailures.set(identityKey, status);
  }

  identityFailure(identityKey: string): number | undefined {
    return this.identityFailures.get(identityKey);
  }
}
