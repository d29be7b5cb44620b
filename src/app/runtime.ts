/**
 * The function app's runtime, shared by the function files (src/functions/, which the host loads by its
 * `main` glob, so this module lives outside that folder): settings and clients are built once per worker
 * process, on first use (a bad setting fails the invocation with a clear message instead of crashing the
 * host).
 */
import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import type { ApiContext } from "../api/auditsApi.js";
import type { ApiResponse } from "../api/responses.js";
import { createAcsTransport } from "../mail/acsTransport.js";
import { createSmtpTransport } from "../mail/smtpTransport.js";
import type { MailTransport } from "../mail/transport.js";
import type { AuditDeps, AuditLog } from "../audit/deps.js";
import { createAuditDeps } from "../audit/createAuditDeps.js";
import { ensureAuditStorage } from "../store/auditStorage.js";
import { loadConfig, unknownSettings, type AppConfig, type FindingsSettings, type MailSettings } from "../config.js";
import { storageAccountFromSettings } from "../store/storageAccount.js";

export interface AppRuntime {
  config: AppConfig;
  deps: AuditDeps;
}

let runtime: Promise<AppRuntime> | undefined;

async function build(): Promise<AppRuntime> {
  const config = loadConfig();
  // Once per process, in the host's log: a mistyped setting otherwise leaves its default in force unseen.
  for (const warning of unknownSettings()) console.warn(warning);
  const deps = createAuditDeps({
    arm: config,
    limiter: config,
    storageAccount: storageAccountFromSettings(config.storage),
    associationsToStore: config.associationsToStore,
    maxDequeueCount: config.maxDequeueCount,
    mode: config.mode,
    ...(config.signIns ? { signIns: config.signIns } : {}),
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

export function findingsSettings(config: AppConfig): FindingsSettings {
  return { gracePeriodDays: config.gracePeriodDays, exemptTag: config.exemptTag, reportBaseUrl: config.reportBaseUrl };
}

export function apiContext(runtime: AppRuntime, context: InvocationContext): ApiContext {
  const { config } = runtime;
  return {
    deps: withInvocationLog(runtime.deps, context),
    tenantId: config.tenantId,
    defaultScope: config.scope,
    findings: findingsSettings(config),
  };
}

let transport: MailTransport | undefined;

/** The configured mail transport, created once (SMTP pools connections; ACS holds a token cache). */
export function mailSettings(config: AppConfig): MailSettings {
  const { mail } = config;
  if (!transport && mail.transport === "smtp" && mail.smtp) {
    transport = createSmtpTransport({ host: mail.smtp.host, port: mail.smtp.port, secure: mail.smtp.secure, user: mail.smtp.user, password: mail.smtp.password });
  }
  if (!transport && mail.transport === "acs" && mail.acsEndpoint) {
    transport = createAcsTransport({ endpoint: mail.acsEndpoint, managedIdentityClientId: config.managedIdentityClientId });
  }
  return { transport: mail.transport === "none" ? undefined : transport, from: mail.from, to: mail.to, alwaysSend: mail.alwaysSend };
}

export function toHttpResponse(response: ApiResponse): HttpResponseInit {
  if (response.json !== undefined) return { status: response.status, headers: response.headers, jsonBody: response.json };
  return { status: response.status, headers: response.headers, body: response.body };
}
