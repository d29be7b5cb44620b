/**
 * Wiring shared by the function files: settings and clients are built once per worker process, on
 * first use (a bad setting fails the invocation with a clear message instead of crashing the host).
 */
import type { InvocationContext } from "@azure/functions";
import type { AuditDeps, AuditLog } from "../audit/deps.js";
import { createAuditDeps } from "../audit/createAuditDeps.js";
import { ensureAuditStorage } from "../store/auditStorage.js";
import { loadConfig, type AppConfig } from "../config.js";
import { storageAccountFromEnv } from "../storage/storageAccount.js";

export interface AppRuntime {
  config: AppConfig;
  deps: AuditDeps;
}

let runtime: Promise<AppRuntime> | undefined;

async function build(): Promise<AppRuntime> {
  const config = loadConfig();
  const deps = createAuditDeps({
    arm: config,
    limiter: config,
    storageAccount: storageAccountFromEnv(),
    associationsToStore: config.associationsToStore,
    maxDequeueCount: config.maxDequeueCount,
  });
  await ensureAuditStorage(deps.storage);
  return { config, deps };
}

/** The process-wide runtime; a failed build is retried on the next invocation. */
export function appRuntime(): Promise<AppRuntime> {
  runtime ??= build().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

/** Routes the core's log lines to the invocation's log, so they carry the invocation id. */
export function invocationLog(context: InvocationContext): AuditLog {
  const format = (message: string, data?: Record<string, unknown>) => (data ? `${message} ${JSON.stringify(data)}` : message);
  return {
    info: (m, d) => context.log(format(m, d)),
    warn: (m, d) => context.warn(format(m, d)),
    error: (m, d) => context.error(format(m, d)),
  };
}

/** The runtime's deps with this invocation's log. */
export function withInvocationLog(deps: AuditDeps, context: InvocationContext): AuditDeps {
  return { ...deps, log: invocationLog(context) };
}
