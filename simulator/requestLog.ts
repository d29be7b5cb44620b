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
  operation: Operation | "unknown";
  method: string;
  /** Path and query string as received. */
  path: string;
  /** HTTP status answered; 0 when the connection was dropped without an answer. */
  status: number;
  /** The identity the request was about (its id as Resource Graph returns it when it exists). */
  identityId?: string;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];

  push(entry: RequestLogEntry): void {
    this.entries.push(entry);
  }

  /** A copy of the entries, oldest first by arrival. */
  list(): RequestLogEntry[] {
    return [...this.entries].sort((a, b) => a.at - b.at);
  }

  clear(): void {
    this.entries = [];
  }
}
