/**
 * Every request the simulator received, 429s and dropped connections included, with the time it
 * arrived: tests assert the request rate the server saw per tenant from it.
 */
import type { Operation } from "./faults.js";

export interface RequestLogEntry {
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
  /** The tenant of the bearer token, when it was valid. */
  tenantId?: string;
  operation: Operation | "admin" | "unknown";
  method: string;
  /** Path and query string as received. */
  path: string;
  /** HTTP status answered; 0 when the connection was dropped without an answer. */
  status: number;
  /** The identity the request was about (its id as Resource Graph returns it when it exists). */
  identityId?: string;
}

export interface RequestLogFilter {
  tenantId?: string;
  operation?: RequestLogEntry["operation"];
  /** Only entries that arrived at or after this time (ms since the epoch). */
  since?: number;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];

  push(entry: RequestLogEntry): void {
    this.entries.push(entry);
  }

  /** A copy of the entries, oldest first by arrival. */
  list(filter: RequestLogFilter = {}): RequestLogEntry[] {
    const tenant = filter.tenantId?.toLowerCase();
    return this.entries
      .filter(
        (e) =>
          (tenant === undefined || e.tenantId?.toLowerCase() === tenant) &&
          (filter.operation === undefined || e.operation === filter.operation) &&
          (filter.since === undefined || e.at >= filter.since),
      )
      .sort((a, b) => a.at - b.at);
  }

  clear(): void {
    this.entries = [];
  }
}
