/**
 * Every setting of the app, read once, validated and typed. The README's settings table lists exactly
 * these names (test/config.test.ts checks it). Secrets (SMTP password, static ARM token) are never echoed
 * in errors or logs.
 */
import { DEFAULT_LOGS_ENDPOINT, DEFAULT_SIGNIN_WINDOW_DAYS, MAX_SIGNIN_WINDOW_DAYS } from "./activity/signInActivity.js";
import type { AuditScope } from "./arm/types.js";
import type { AuditMode } from "./audit/model.js";

export type MailTransportKind = "none" | "smtp" | "acs";

export interface AppConfig {
  /** The tenant audited. Required: the rate limit, runs and reports are per tenant. */
  tenantId: string;
  armEndpoint: string;
  /** Static bearer token for ARM (local use, the simulator); otherwise DefaultAzureCredential. */
  armToken?: string;
  /** Extra CA (PEM file) to trust for ARM: the simulator's self-signed certificate. */
  armCaFile?: string;
  scope: AuditScope;
  ratePerSecond: number;
  /** Milliseconds added between slots so clock skew and network jitter never push two requests into one window; unset: the limiter's default for the rate. */
  rateSafetyMs?: number;
  /** How many associated resources to store per identity: the portal's delete dialog shows 10. */
  associationsToStore: number;
  /** `fast` (default): only identities Resource Graph shows unreferenced go through listAssociatedResources; `exhaustive`: every identity. */
  mode: AuditMode;
  gracePeriodDays: number;
  exemptTag: string;
  /** Queue trigger's maxDequeueCount; must match host.json (checked by a test). */
  maxDequeueCount: number;
  /** Longest a worker waits for its rate-limit slot before handing the message back to the queue. */
  maxSlotWaitMs: number;
  mail: {
    transport: MailTransportKind;
    from?: string;
    to: string[];
    alwaysSend: boolean;
    smtp?: { host: string; port: number; secure: boolean; user?: string; password?: string };
    acsEndpoint?: string;
  };
  /** Public base URL of the app, for links to reports in emails. */
  reportBaseUrl?: string;
  /** Sign-ins from a Log Analytics workspace receiving Entra's ManagedIdentitySignInLogs; unset: not checked. */
  signIns?: {
    /** The workspace's Workspace ID (GUID). */
    workspaceId: string;
    windowDays: number;
    /** Logs query endpoint without `/v1`. */
    endpoint: string;
    /** Static bearer token for Log Analytics; otherwise the same credential as ARM. Never logged. */
    token?: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n- ${problems.join("\n- ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

export interface SettingDoc {
  name: string;
  default: string;
  description: string;
}

/** The documented settings. Order is the README's order. */
export const SETTINGS: readonly SettingDoc[] = [
  { name: "AzureWebJobsStorage", default: "(required)", description: "Storage for queues, tables and the Functions host: a connection string, or identity-based `AzureWebJobsStorage__accountName` (+ `__credential`, `__clientId`)." },
  { name: "UAMI_AUDIT_TENANT_ID", default: "(required)", description: "Tenant (directory) id to audit." },
  { name: "UAMI_ARM_ENDPOINT", default: "https://management.azure.com", description: "Azure Resource Manager endpoint (sovereign clouds, the simulator)." },
  { name: "UAMI_ARM_TOKEN", default: "(none)", description: "Static ARM bearer token (e.g. `az account get-access-token`); otherwise `DefaultAzureCredential`. Never logged." },
  { name: "UAMI_ARM_CA_FILE", default: "(none)", description: "Extra PEM CA to trust for ARM (the simulator's test certificate)." },
  { name: "UAMI_SIGNIN_WORKSPACE_ID", default: "(none)", description: "Workspace ID (GUID) of a Log Analytics workspace receiving Entra's `ManagedIdentitySignInLogs`: identities that signed in within the window are `active`, not `unused`. Unset: sign-ins are not checked." },
  { name: "UAMI_SIGNIN_WINDOW_DAYS", default: String(DEFAULT_SIGNIN_WINDOW_DAYS), description: `Days of sign-ins that count (1 to ${MAX_SIGNIN_WINDOW_DAYS}, the longest a workspace keeps data queryable).` },
  { name: "UAMI_LOGS_ENDPOINT", default: DEFAULT_LOGS_ENDPOINT, description: "Log Analytics query endpoint (sovereign clouds, the simulator)." },
  { name: "UAMI_LOGS_TOKEN", default: "(none)", description: "Static Log Analytics bearer token (e.g. `az account get-access-token --resource https://api.loganalytics.io`); otherwise the same credential as ARM. Never logged." },
  { name: "UAMI_AUDIT_SUBSCRIPTIONS", default: "(whole tenant)", description: "Comma-separated subscription ids to audit (at most 5,000)." },
  { name: "UAMI_AUDIT_MANAGEMENT_GROUPS", default: "(whole tenant)", description: "Comma-separated management group ids to audit (at most 5,000)." },
  { name: "UAMI_AUDIT_SCHEDULE", default: "0 0 2 * * *", description: "NCRONTAB schedule of the `startAudit` timer (nightly at 02:00 UTC)." },
  { name: "UAMI_REPORT_SCHEDULE", default: "0 0 6 * * *", description: "NCRONTAB schedule of the `nightlyReport` timer (a backstop: reports are also built when a run completes)." },
  { name: "UAMI_RATE_LIMIT_PER_SECOND", default: "1", description: "listAssociatedResources requests per second for the tenant, across every instance (Azure's limit is 1)." },
  { name: "UAMI_RATE_SAFETY_MS", default: "50 at 1/s; 5% of the interval at faster rates", description: "Extra milliseconds between rate-limit slots, absorbing clock skew and network jitter." },
  { name: "UAMI_MAX_SLOT_WAIT_MS", default: "20000", description: "A worker that would wait longer for its slot re-enqueues the message with that delay instead." },
  { name: "UAMI_AUDIT_MODE", default: "fast", description: "`fast`: identities the Resource Graph sweep shows referenced are `in-use` without a throttled request, only the others go through listAssociatedResources; `exhaustive`: every identity goes through listAssociatedResources (the API's view of every identity). A failed sweep falls back to exhaustive." },
  { name: "UAMI_ASSOCIATIONS_TO_STORE", default: "10", description: "Associated resources stored per identity (the portal's delete dialog shows 10); `all` pages to the end at the rate limit." },
  { name: "UAMI_GRACE_PERIOD_DAYS", default: "7", description: "Identities younger than this are `recent`, not `unused`." },
  { name: "UAMI_EXEMPT_TAG", default: "uami-audit-exempt", description: "Tag name that makes an identity `exempt`." },
  { name: "UAMI_MAX_DEQUEUE_COUNT", default: "5", description: "Must equal `extensions.queues.maxDequeueCount` in host.json; after this many failures an identity is recorded as `error`." },
  { name: "UAMI_MAIL_TRANSPORT", default: "none", description: "`none`, `smtp` or `acs` (Azure Communication Services Email with the app's managed identity)." },
  { name: "UAMI_MAIL_FROM", default: "(none)", description: "Sender address of alert emails." },
  { name: "UAMI_MAIL_TO", default: "(none)", description: "Comma-separated security team recipients." },
  { name: "UAMI_MAIL_ALWAYS_SEND", default: "false", description: "Send the digest even when no identity is newly unused." },
  { name: "UAMI_SMTP_HOST", default: "(none)", description: "SMTP server (with `UAMI_MAIL_TRANSPORT=smtp`)." },
  { name: "UAMI_SMTP_PORT", default: "587", description: "SMTP port." },
  { name: "UAMI_SMTP_SECURE", default: "false", description: "`true` for implicit TLS (port 465); STARTTLS is used when offered otherwise." },
  { name: "UAMI_SMTP_USER", default: "(none)", description: "SMTP user name." },
  { name: "UAMI_SMTP_PASSWORD", default: "(none)", description: "SMTP password (use a Key Vault reference). Never logged." },
  { name: "UAMI_ACS_ENDPOINT", default: "(none)", description: "`https://<resource>.communication.azure.com` (with `UAMI_MAIL_TRANSPORT=acs`)." },
  { name: "UAMI_REPORT_BASE_URL", default: "(none)", description: "Public base URL of the function app, for report links in emails." },
];

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MANAGEMENT_GROUP = /^[A-Za-z0-9\-_().]{1,90}$/;
const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

/**
 * Most subscriptions or management groups one audit's scope may list, whether from the settings or from
 * `POST /api/audits`; beyond it, audit a parent management group or the whole tenant instead.
 */
export const MAX_SCOPE_ITEMS = 5000;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function isManagementGroupId(value: string): boolean {
  return MANAGEMENT_GROUP.test(value);
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Reads settings into a typed config, collecting every problem before failing. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const number = (name: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      problems.push(`${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const optionalNumber = (name: string, min: number, max: number): number | undefined =>
    text(name) === undefined ? undefined : number(name, Number.NaN, min, max);
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };

  const tenantId = text("UAMI_AUDIT_TENANT_ID") ?? "";
  if (!tenantId) problems.push("UAMI_AUDIT_TENANT_ID is required (the tenant to audit)");
  else if (!isGuid(tenantId)) problems.push(`UAMI_AUDIT_TENANT_ID must be a GUID, got "${tenantId}"`);

  const armEndpoint = (text("UAMI_ARM_ENDPOINT") ?? "https://management.azure.com").replace(/\/+$/, "");
  if (!/^https:\/\/[^\s/]+/.test(armEndpoint)) problems.push(`UAMI_ARM_ENDPOINT must be an https:// URL, got "${armEndpoint}"`);

  const signInWorkspace = text("UAMI_SIGNIN_WORKSPACE_ID");
  if (signInWorkspace !== undefined && !isGuid(signInWorkspace)) {
    problems.push(`UAMI_SIGNIN_WORKSPACE_ID must be the workspace's Workspace ID (a GUID), not its name or resource id, got "${signInWorkspace}"`);
  }
  const signInWindowDays = number("UAMI_SIGNIN_WINDOW_DAYS", DEFAULT_SIGNIN_WINDOW_DAYS, 1, MAX_SIGNIN_WINDOW_DAYS);
  const logsEndpoint = (text("UAMI_LOGS_ENDPOINT") ?? DEFAULT_LOGS_ENDPOINT).replace(/\/+$/, "");
  if (!/^https:\/\/[^\s/]+/.test(logsEndpoint)) problems.push(`UAMI_LOGS_ENDPOINT must be an https:// URL, got "${logsEndpoint}"`);
  const logsToken = text("UAMI_LOGS_TOKEN");

  const subscriptions = list(env.UAMI_AUDIT_SUBSCRIPTIONS);
  for (const s of subscriptions) if (!isGuid(s)) problems.push(`UAMI_AUDIT_SUBSCRIPTIONS: "${s}" is not a subscription id (GUID)`);
  const managementGroups = list(env.UAMI_AUDIT_MANAGEMENT_GROUPS);
  for (const g of managementGroups) if (!isManagementGroupId(g)) problems.push(`UAMI_AUDIT_MANAGEMENT_GROUPS: "${g}" is not a management group id`);
  if (subscriptions.length > MAX_SCOPE_ITEMS) {
    problems.push(`UAMI_AUDIT_SUBSCRIPTIONS lists ${subscriptions.length} subscriptions; at most ${MAX_SCOPE_ITEMS} (as POST /api/audits): use UAMI_AUDIT_MANAGEMENT_GROUPS, or the whole tenant`);
  }
  if (managementGroups.length > MAX_SCOPE_ITEMS) {
    problems.push(`UAMI_AUDIT_MANAGEMENT_GROUPS lists ${managementGroups.length} management groups; at most ${MAX_SCOPE_ITEMS} (as POST /api/audits): use a parent management group, or the whole tenant`);
  }
  if (subscriptions.length > 0 && managementGroups.length > 0) {
    problems.push("Set UAMI_AUDIT_SUBSCRIPTIONS or UAMI_AUDIT_MANAGEMENT_GROUPS, not both");
  }

  const modeRaw = (text("UAMI_AUDIT_MODE") ?? "fast").toLowerCase();
  const mode: AuditMode = modeRaw === "exhaustive" ? "exhaustive" : "fast";
  if (modeRaw !== "fast" && modeRaw !== "exhaustive") problems.push(`UAMI_AUDIT_MODE must be fast or exhaustive, got "${modeRaw}"`);
  const storeRaw = text("UAMI_ASSOCIATIONS_TO_STORE");
  const associationsToStore =
    storeRaw?.toLowerCase() === "all" ? Number.MAX_SAFE_INTEGER : number("UAMI_ASSOCIATIONS_TO_STORE", 10, 0, 100_000);

  const transportRaw = (text("UAMI_MAIL_TRANSPORT") ?? "none").toLowerCase();
  let transport: MailTransportKind = "none";
  if (transportRaw === "none" || transportRaw === "smtp" || transportRaw === "acs") transport = transportRaw;
  else problems.push(`UAMI_MAIL_TRANSPORT must be none, smtp or acs, got "${transportRaw}"`);
  const from = text("UAMI_MAIL_FROM");
  const to = list(env.UAMI_MAIL_TO);
  if (from && !EMAIL.test(from)) problems.push(`UAMI_MAIL_FROM is not an email address: "${from}"`);
  for (const address of to) if (!EMAIL.test(address)) problems.push(`UAMI_MAIL_TO: "${address}" is not an email address`);
  if (transport !== "none" && (!from || to.length === 0)) {
    problems.push(`UAMI_MAIL_TRANSPORT=${transport} needs UAMI_MAIL_FROM and UAMI_MAIL_TO`);
  }
  const smtpHost = text("UAMI_SMTP_HOST");
  if (transport === "smtp" && !smtpHost) problems.push("UAMI_MAIL_TRANSPORT=smtp needs UAMI_SMTP_HOST");
  const acsEndpoint = text("UAMI_ACS_ENDPOINT");
  if (transport === "acs" && !acsEndpoint?.startsWith("https://")) {
    problems.push("UAMI_MAIL_TRANSPORT=acs needs UAMI_ACS_ENDPOINT (https://<resource>.communication.azure.com)");
  }

  const config: AppConfig = {
    tenantId,
    armEndpoint,
    armToken: text("UAMI_ARM_TOKEN"),
    armCaFile: text("UAMI_ARM_CA_FILE"),
    scope: { subscriptions, managementGroups },
    ratePerSecond: number("UAMI_RATE_LIMIT_PER_SECOND", 1, 0.01, 1000, false),
    rateSafetyMs: optionalNumber("UAMI_RATE_SAFETY_MS", 0, 10_000),
    maxSlotWaitMs: number("UAMI_MAX_SLOT_WAIT_MS", 20_000, 0, 600_000),
    associationsToStore,
    mode,
    gracePeriodDays: number("UAMI_GRACE_PERIOD_DAYS", 7, 0, 3650),
    exemptTag: text("UAMI_EXEMPT_TAG") ?? "uami-audit-exempt",
    maxDequeueCount: number("UAMI_MAX_DEQUEUE_COUNT", 5, 1, 100),
    mail: {
      transport,
      from,
      to,
      alwaysSend: bool("UAMI_MAIL_ALWAYS_SEND", false),
      smtp: smtpHost
        ? {
            host: smtpHost,
            port: number("UAMI_SMTP_PORT", 587, 1, 65535),
            secure: bool("UAMI_SMTP_SECURE", false),
            user: text("UAMI_SMTP_USER"),
            password: text("UAMI_SMTP_PASSWORD"),
          }
        : undefined,
      acsEndpoint,
    },
    reportBaseUrl: text("UAMI_REPORT_BASE_URL")?.replace(/\/+$/, ""),
    ...(signInWorkspace !== undefined
      ? { signIns: { workspaceId: signInWorkspace, windowDays: signInWindowDays, endpoint: logsEndpoint, ...(logsToken !== undefined ? { token: logsToken } : {}) } }
      : {}),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
