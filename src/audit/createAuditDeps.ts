/** Builds the audit's collaborators from settings: the one place where real clients are created. */
import { createArmConnection } from "../arm/index.js";
import type { AppConfig } from "../config.js";
import { TenantRateLimiter } from "../limiter/tenantRateLimiter.js";
import { openAuditStorage } from "../store/auditStorage.js";
import type { StorageAccount } from "../storage/storageAccount.js";
import { createReadPacer, DEFAULT_AUDIT_SETTINGS, silentLog, type AuditDeps, type AuditLog } from "./deps.js";

export type ArmSettings = Pick<AppConfig, "armEndpoint" | "armToken" | "armCaFile">;
export type LimiterSettings = Pick<AppConfig, "ratePerSecond" | "rateSafetyMs" | "maxSlotWaitMs">;

export function createAuditDeps(input: {
  arm: ArmSettings;
  limiter: LimiterSettings;
  storageAccount: StorageAccount;
  storagePrefix?: string;
  associationsToStore?: number;
  maxDequeueCount?: number;
  log?: AuditLog;
}): AuditDeps {
  const storage = openAuditStorage(input.storageAccount, input.storagePrefix ?? "");
  const settings = {
    ...DEFAULT_AUDIT_SETTINGS,
    // Each check makes two ordinary reads per rate-limited request: keep reads from becoming the bottleneck.
    readsPerSecond: Math.max(DEFAULT_AUDIT_SETTINGS.readsPerSecond, Math.ceil(input.limiter.ratePerSecond * 4)),
    ...(input.associationsToStore !== undefined ? { associationsToStore: input.associationsToStore } : {}),
    ...(input.maxDequeueCount !== undefined ? { maxDequeueCount: input.maxDequeueCount } : {}),
  };
  return {
    storage,
    arm: createArmConnection({ endpoint: input.arm.armEndpoint, token: input.arm.armToken, caFile: input.arm.armCaFile || undefined }),
    limiter: new TenantRateLimiter(storage.rateLimits, {
      ratePerSecond: input.limiter.ratePerSecond,
      safetyMs: input.limiter.rateSafetyMs,
      maxWaitMs: input.limiter.maxSlotWaitMs,
    }),
    settings,
    log: input.log ?? silentLog,
    now: () => new Date(),
    paceRead: createReadPacer(settings.readsPerSecond),
  };
}
