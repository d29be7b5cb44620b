/** What the audit's core functions need, passed in so tests give real clients pointed at Azurite and the simulator. */
import pThrottle from "p-throttle";
import type { SignInSettings } from "../activity/signInActivity.js";
import type { ArmConnection } from "../arm/index.js";
import type { AuditMode } from "./model.js";
import type { TenantRateLimiter } from "../limiter/tenantRateLimiter.js";
import type { AuditStorage } from "../store/auditStorage.js";

export interface AuditLog {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export const silentLog: AuditLog = { info: () => {}, warn: () => {}, error: () => {} };

export interface AuditSettings {
  /** `fast`: referenced identities are decided by the Resource Graph sweep; `exhaustive`: every identity through the API. */
  mode: AuditMode;
  /** Associated resources stored per identity (0 = count only). */
  associationsToStore: number;
  /** The queue's maxDequeueCount: the attempt with this count is the last before poison. */
  maxDequeueCount: number;
  /** Parallel enqueues / table batches during enumeration. */
  enqueueConcurrency: number;
  /** Ordinary ARM reads (identity GET, federated credentials) per second per process: they are not under the 1/s limit. */
  readsPerSecond: number;
}

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = {
  mode: "fast",
  associationsToStore: 10,
  maxDequeueCount: 5,
  enqueueConcurrency: 64,
  readsPerSecond: 20,
};

export interface AuditDeps {
  storage: AuditStorage;
  arm: ArmConnection;
  limiter: TenantRateLimiter;
  settings: AuditSettings;
  log: AuditLog;
  now: () => Date;
  /** Where sign-in activity is read from; undefined: sign-ins are not checked (the report says so). */
  signIns?: SignInSettings;
  /** Paces this process's ordinary ARM reads. */
  paceRead: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function createReadPacer(perSecond: number): <T>(fn: () => Promise<T>) => Promise<T> {
  const throttle = pThrottle({ limit: Math.max(1, Math.floor(perSecond)), interval: 1000 });
  const run = throttle(<T>(fn: () => Promise<T>) => fn());
  return <T>(fn: () => Promise<T>) => run(fn) as Promise<T>;
}
