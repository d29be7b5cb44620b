/** Builds the audit's collaborators from settings: the one place where real clients are created. */
import type { SignInSettings } from "../activity/signInActivity.js";
import { createArmConnection, staticTokenCredential, type ArmConnection } from "../arm/index.js";
import type { AppConfig } from "../config.js";
import type { AuditMode } from "../model/run.js";
import { TenantRateLimiter } from "../limiter/tenantRateLimiter.js";
import { openAuditStorage } from "../store/auditStorage.js";
import type { StorageAccount } from "../store/storageAccount.js";
import { DEFAULT_AUDIT_SETTINGS } from "../model/auditSettings.js";
import { createReadPacer, silentLog, type AuditDeps, type AuditLog } from "./deps.js";

export type ArmSettings = Pick<AppConfig, "armEndpoint" | "armToken" | "armCaFile">;
export type LimiterSettings = Pick<AppConfig, "ratePerSecond" | "rateSafetyMs" | "maxSlotWaitMs">;
export type SignInConfig = NonNullable<AppConfig["signIns"]>;

/** Sign-ins are read with their own static token when given, else with the ARM connection's credential. */
export function signInSettingsFor(config: SignInConfig, arm: ArmConnection, caFile: string | undefined): SignInSettings {
  return {
    workspaceId: config.workspaceId,
    windowDays: config.windowDays,
    endpoint: config.endpoint,
    credential: config.token ? staticTokenCredential(config.token) : arm.credential,
    ...(caFile ? { caFile } : {}),
  };
}

export function createAuditDeps(input: {
  arm: ArmSettings;
  limiter: LimiterSettings;
  storageAccount: StorageAccount;
  storagePrefix?: string;
  associationsToStore?: number;
  maxDequeueCount?: number;
  mode?: AuditMode;
  /** Where sign-in activity is read from; undefined: not checked. */
  signIns?: SignInConfig;
  log?: AuditLog;
  /** How long each storage request is retried through an outage; default DEFAULT_STORAGE_RETRY_MS (a minute). */
  storageRetryMs?: number;
}): AuditDeps {
  const storage = openAuditStorage(input.storageAccount, input.storagePrefix ?? "", input.storageRetryMs !== undefined ? { retryMs: input.storageRetryMs } : {});
  const settings = {
    ...DEFAULT_AUDIT_SETTINGS,
    // Each check makes two ordinary reads per rate-limited request: keep reads from becoming the bottleneck.
    readsPerSecond: Math.max(DEFAULT_AUDIT_SETTINGS.readsPerSecond, Math.ceil(input.limiter.ratePerSecond * 4)),
    ...(input.associationsToStore !== undefined ? { associationsToStore: input.associationsToStore } : {}),
    ...(input.maxDequeueCount !== undefined ? { maxDequeueCount: input.maxDequeueCount } : {}),
    ...(input.mode !== undefined ? { mode: input.mode } : {}),
  };
  const arm = createArmConnection({ endpoint: input.arm.armEndpoint, token: input.arm.armToken, caFile: input.arm.armCaFile || undefined });
  return {
    storage,
    arm,
    ...(input.signIns ? { signIns: signInSettingsFor(input.signIns, arm, input.arm.armCaFile || undefined) } : {}),
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
