/** What the audit's core functions need, passed in so tests give real clients pointed at Azurite and the simulator. */
import pThrottle from "p-throttle";
import type { SignInSettings } from "../activity/signInActivity.js";
import type { ArmConnection } from "../arm/index.js";
import type { AuditSettings } from "../model/auditSettings.js";
import type { TenantRateLimiter } from "../limiter/tenantRateLimiter.js";
import type { AuditStorage } from "../store/auditStorage.js";

export interface AuditLog {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export const silentLog: AuditLog = { info: () => {}, warn: () => {}, error: () => {} };

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
