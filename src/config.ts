/**
 * Every setting of the app, read once, validated (one zod schema per setting) and typed: the only module
 * of src/ that reads `process.env` (eslint.config.js holds it to that); everything else receives values as
 * parameters. Defaults live beside their concepts (the limiter's slot wait, the verdicts' grace period and
 * exemption tag, ...) and are read from there, by this module and the CLI's options alike. The README's
 * settings table lists exactly these names and defaults (test/config.test.ts checks it, and the CLI's
 * defaults). Secrets (tokens, SMTP password, storage connection string) are never echoed in errors or logs.
 */
import { z } from "zod";
import { DEFAULT_LOGS_ENDPOINT, DEFAULT_SIGNIN_WINDOW_DAYS, MAX_SIGNIN_WINDOW_DAYS } from "./activity/signInActivity.js";
import { DEFAULT_ARM_ENDPOINT } from "./arm/connection.js";
import type { AuditScope } from "./arm/types.js";
import { DEFAULT_AUDIT_SETTINGS } from "./model/auditSettings.js";
import { DEFAULT_EXEMPT_TAG, DEFAULT_GRACE_PERIOD_DAYS } from "./findings/verdicts.js";
import { DEFAULT_MAX_SLOT_WAIT_MS, DEFAULT_RATE_PER_SECOND } from "./limiter/tenantRateLimiter.js";
import { DEFAULT_SMTP_PORT } from "./mail/smtpTransport.js";
import type { MailTransport } from "./mail/transport.js";
import type { StorageSettings } from "./store/storageAccount.js";
import type { AuditMode } from "./model/run.js";

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
  /** Where the app's storage is (AzureWebJobsStorage*): storageAccountFromSettings makes clients of it, and says when it is missing. */
  storage: StorageSettings;
  /** `AZURE_CLIENT_ID`: the user-assigned identity the app runs as (the template sets it), for ACS email; unset: the default credential's choice. */
  managedIdentityClientId?: string;
}

/** What the CLI reads from its environment besides its options' own `.env()` fallbacks: secrets, kept off command lines. */
export interface CliEnvironment {
  /** UAMI_ARM_TOKEN. Never logged. */
  armToken?: string;
  /** UAMI_SMTP_PASSWORD. Never logged. */
  smtpPassword?: string;
}

/** What the report step decides verdicts and links with: the app's settings, or the CLI's options. */
export interface FindingsSettings {
  gracePeriodDays: number;
  exemptTag: string;
  portalBaseUrl?: string;
  /** Public base URL of the app, for the report link in emails. */
  reportBaseUrl?: string;
  /** The report link itself, when it does not live in the app (the CLI). Wins over reportBaseUrl. */
  reportUrl?: string;
}

/** Where the report step sends its alert email; no transport (or no recipient): no email. */
export interface MailSettings {
  transport?: MailTransport;
  from?: string;
  to: string[];
  alwaysSend: boolean;
  retries?: number;
  minDelayMs?: number;
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
  { name: "AzureWebJobsStorage", default: "(required)", description: "Storage for queues, tables and the Functions host: a connection string, or identity-based `AzureWebJobsStorage__accountName` (+ `__credential`, `__clientId`) or service URIs (`__tableServiceUri`, `__queueServiceUri`, `__blobServiceUri`)." },
  { name: "UAMI_AUDIT_TENANT_ID", default: "(required)", description: "Tenant (directory) id to audit." },
  { name: "UAMI_ARM_ENDPOINT", default: DEFAULT_ARM_ENDPOINT, description: "Azure Resource Manager endpoint (sovereign clouds, the simulator)." },
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
  { name: "UAMI_RATE_LIMIT_PER_SECOND", default: String(DEFAULT_RATE_PER_SECOND), description: "listAssociatedResources requests per second for the tenant, across every instance (Azure's limit is 1)." },
  { name: "UAMI_RATE_SAFETY_MS", default: "50 at 1/s; 5% of the interval at faster rates", description: "Extra milliseconds between rate-limit slots, absorbing clock skew and network jitter." },
  { name: "UAMI_MAX_SLOT_WAIT_MS", default: String(DEFAULT_MAX_SLOT_WAIT_MS), description: "A worker that would wait longer for its slot re-enqueues the message with that delay instead." },
  { name: "UAMI_AUDIT_MODE", default: DEFAULT_AUDIT_SETTINGS.mode, description: "`fast`: identities the Resource Graph sweep shows referenced are `in-use` without a throttled request, only the others go through listAssociatedResources; `exhaustive`: every identity goes through listAssociatedResources (the API's view of every identity). A failed sweep falls back to exhaustive." },
  { name: "UAMI_ASSOCIATIONS_TO_STORE", default: String(DEFAULT_AUDIT_SETTINGS.associationsToStore), description: "Associated resources stored per identity (the portal's delete dialog shows 10); `all` pages to the end at the rate limit." },
  { name: "UAMI_GRACE_PERIOD_DAYS", default: String(DEFAULT_GRACE_PERIOD_DAYS), description: "Identities younger than this are `recent`, not `unused`." },
  { name: "UAMI_EXEMPT_TAG", default: DEFAULT_EXEMPT_TAG, description: "Tag name that makes an identity `exempt`." },
  { name: "UAMI_MAX_DEQUEUE_COUNT", default: String(DEFAULT_AUDIT_SETTINGS.maxDequeueCount), description: "Must equal `extensions.queues.maxDequeueCount` in host.json; after this many failures an identity is recorded as `error`." },
  { name: "UAMI_MAIL_TRANSPORT", default: "none", description: "`none`, `smtp` or `acs` (Azure Communication Services Email with the app's managed identity)." },
  { name: "UAMI_MAIL_FROM", default: "(none)", description: "Sender address of alert emails." },
  { name: "UAMI_MAIL_TO", default: "(none)", description: "Comma-separated security team recipients." },
  { name: "UAMI_MAIL_ALWAYS_SEND", default: "false", description: "Send the digest even when no identity is newly unused." },
  { name: "UAMI_SMTP_HOST", default: "(none)", description: "SMTP server (with `UAMI_MAIL_TRANSPORT=smtp`)." },
  { name: "UAMI_SMTP_PORT", default: String(DEFAULT_SMTP_PORT), description: "SMTP port." },
  { name: "UAMI_SMTP_SECURE", default: "false", description: "`true` for implicit TLS (port 465); STARTTLS is used when offered otherwise." },
  { name: "UAMI_SMTP_USER", default: "(none)", description: "SMTP user name." },
  { name: "UAMI_SMTP_PASSWORD", default: "(none)", description: "SMTP password (use a Key Vault reference). Never logged." },
  { name: "UAMI_ACS_ENDPOINT", default: "(none)", description: "`https://<resource>.communication.azure.com` (with `UAMI_MAIL_TRANSPORT=acs`), reached as the identity `AZURE_CLIENT_ID` names (the template sets it)." },
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

/** Splits a comma-separated setting, dropping blanks. */
function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A bad value quoted for an error message, cut short. */
function quoted(value: string, max = 80): string {
  return `"${value.length > max ? `${value.slice(0, max)}…` : value}"`;
}

/*
 * One zod schema per setting. A setting's error says what its value must be ("must be a GUID");
 * settingProblem names the setting and adds the value it got, never a secret's. A list item's error is
 * whole ("\"x\" is not a subscription id (GUID)") and follows the list's name.
 */

/** Tokens, passwords and connection strings: their values never appear in a problem. */
const SECRETS: ReadonlySet<string> = new Set(["UAMI_ARM_TOKEN", "UAMI_LOGS_TOKEN", "UAMI_SMTP_PASSWORD", "AzureWebJobsStorage"]);

const text = z.string();

const guid = (error = "must be a GUID") => text.regex(GUID, { error });

/** An https:// URL, without trailing slashes. */
const httpsUrl = text.transform((url) => url.replace(/\/+$/, "")).pipe(text.regex(/^https:\/\/[^\s/]+/, { error: "must be an https:// URL" }));

function numberSetting(min: number, max: number, { integer = true }: { integer?: boolean } = {}) {
  const error = `must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`;
  const value = integer ? z.int({ error }) : z.number({ error });
  return text.transform(Number).pipe(value.min(min, { error }).max(max, { error }));
}

const booleanSetting = z.stringbool({ truthy: ["true", "1"], falsy: ["false", "0"], case: "insensitive", error: "must be true or false" });

/** One of `values`, in any case. */
function choiceSetting<const T extends readonly [string, ...string[]]>(values: T) {
  const error = `must be ${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
  return text.transform((v) => v.toLowerCase()).pipe(z.enum(values, { error }));
}

/** A comma-separated list of items that each pass `check`; `tooMany` says why a list longer than MAX_SCOPE_ITEMS is refused. */
function listSetting(check: (item: string) => boolean, what: string, tooMany?: (count: number) => string) {
  const items = z.array(text.refine(check, { error: (issue) => `${quoted(String(issue.input))} is not ${what}` }));
  return text
    .transform(list)
    .pipe(tooMany ? items.max(MAX_SCOPE_ITEMS, { error: (issue) => tooMany(Array.isArray(issue.input) ? issue.input.length : 0) }) : items);
}

/** `all` (every association, paged at the rate limit), or a count from 0 to 100,000. */
const associationsSetting = (() => {
  const error = "must be an integer from 0 to 100000, or all";
  return text
    .transform((v) => (v.toLowerCase() === "all" ? Number.MAX_SAFE_INTEGER : Number(v)))
    .pipe(z.int({ error }).refine((n) => n === Number.MAX_SAFE_INTEGER || (n >= 0 && n <= 100_000), { error }));
})();

const isEmailAddress = (value: string) => EMAIL.test(value);
const AUDIT_MODES = ["fast", "exhaustive"] as const satisfies readonly AuditMode[];
const MAIL_TRANSPORTS = ["none", "smtp", "acs"] as const satisfies readonly MailTransportKind[];

/** Every setting the code reads, by name, with its schema and default (the README's table: SETTINGS). */
const settingFields = z.object({
  UAMI_AUDIT_TENANT_ID: text.regex(GUID, { error: "must be a GUID" }).optional(),
  UAMI_ARM_ENDPOINT: httpsUrl.default(DEFAULT_ARM_ENDPOINT),
  UAMI_ARM_TOKEN: text.optional(),
  UAMI_ARM_CA_FILE: text.optional(),
  UAMI_SIGNIN_WORKSPACE_ID: guid("must be the workspace's Workspace ID (a GUID), not its name or resource id").optional(),
  UAMI_SIGNIN_WINDOW_DAYS: numberSetting(1, MAX_SIGNIN_WINDOW_DAYS).default(DEFAULT_SIGNIN_WINDOW_DAYS),
  UAMI_LOGS_ENDPOINT: httpsUrl.default(DEFAULT_LOGS_ENDPOINT),
  UAMI_LOGS_TOKEN: text.optional(),
  UAMI_AUDIT_SUBSCRIPTIONS: listSetting(
    isGuid,
    "a subscription id (GUID)",
    (count) => `lists ${count} subscriptions; at most ${MAX_SCOPE_ITEMS} (as POST /api/audits): use UAMI_AUDIT_MANAGEMENT_GROUPS, or the whole tenant`,
  ).default(() => []),
  UAMI_AUDIT_MANAGEMENT_GROUPS: listSetting(
    isManagementGroupId,
    "a management group id",
    (count) => `lists ${count} management groups; at most ${MAX_SCOPE_ITEMS} (as POST /api/audits): use a parent management group, or the whole tenant`,
  ).default(() => []),
  UAMI_RATE_LIMIT_PER_SECOND: numberSetting(0.01, 1000, { integer: false }).default(DEFAULT_RATE_PER_SECOND),
  UAMI_RATE_SAFETY_MS: numberSetting(0, 10_000).optional(),
  UAMI_MAX_SLOT_WAIT_MS: numberSetting(0, 600_000).default(DEFAULT_MAX_SLOT_WAIT_MS),
  UAMI_AUDIT_MODE: choiceSetting(AUDIT_MODES).default(DEFAULT_AUDIT_SETTINGS.mode),
  UAMI_ASSOCIATIONS_TO_STORE: associationsSetting.default(DEFAULT_AUDIT_SETTINGS.associationsToStore),
  UAMI_GRACE_PERIOD_DAYS: numberSetting(0, 3650).default(DEFAULT_GRACE_PERIOD_DAYS),
  UAMI_EXEMPT_TAG: text.default(DEFAULT_EXEMPT_TAG),
  UAMI_MAX_DEQUEUE_COUNT: numberSetting(1, 100).default(DEFAULT_AUDIT_SETTINGS.maxDequeueCount),
  UAMI_MAIL_TRANSPORT: choiceSetting(MAIL_TRANSPORTS).default("none"),
  UAMI_MAIL_FROM: text.refine(isEmailAddress, { error: "must be an email address" }).optional(),
  UAMI_MAIL_TO: listSetting(isEmailAddress, "an email address").default(() => []),
  UAMI_MAIL_ALWAYS_SEND: booleanSetting.default(false),
  UAMI_SMTP_HOST: text.optional(),
  UAMI_SMTP_PORT: numberSetting(1, 65_535).default(DEFAULT_SMTP_PORT),
  UAMI_SMTP_SECURE: booleanSetting.default(false),
  UAMI_SMTP_USER: text.optional(),
  UAMI_SMTP_PASSWORD: text.optional(),
  UAMI_ACS_ENDPOINT: text.optional(),
  UAMI_REPORT_BASE_URL: text.transform((url) => url.replace(/\/+$/, "")).optional(),
  AZURE_CLIENT_ID: text.optional(),
  AzureWebJobsStorage: text.optional(),
  AzureWebJobsStorage__accountName: text.regex(/^[a-z0-9]{3,24}$/, { error: "must be a storage account name (3 to 24 lower-case letters and digits)" }).optional(),
  AzureWebJobsStorage__tableServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__queueServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__blobServiceUri: httpsUrl.optional(),
  AzureWebJobsStorage__clientId: text.optional(),
});

/** The names the schema reads: every documented setting but the timers' schedules (the Functions host reads those), plus AzureWebJobsStorage's identity-based parts and AZURE_CLIENT_ID. */
export const SETTING_NAMES_READ: readonly string[] = Object.keys(settingFields.shape);

/** The app's settings: every field, and the rules across fields. */
const appSettingsSchema = settingFields.superRefine(
  (s, ctx) => {
    // `when` below runs these rules even after a field failed (every problem is reported at once), so a
    // field here may hold its raw text: each rule reads presence, or a value it compares itself.
    const listed = (value: unknown) => Array.isArray(value) && value.length > 0;
    const problem = (message: string) => ctx.addIssue({ code: "custom", message, path: [] });
    if (s.UAMI_AUDIT_TENANT_ID === undefined) problem("UAMI_AUDIT_TENANT_ID is required (the tenant to audit)");
    if (listed(s.UAMI_AUDIT_SUBSCRIPTIONS) && listed(s.UAMI_AUDIT_MANAGEMENT_GROUPS)) {
      problem("Set UAMI_AUDIT_SUBSCRIPTIONS or UAMI_AUDIT_MANAGEMENT_GROUPS, not both");
    }
    const transport = s.UAMI_MAIL_TRANSPORT;
    if ((transport === "smtp" || transport === "acs") && (s.UAMI_MAIL_FROM === undefined || !listed(s.UAMI_MAIL_TO))) {
      problem(`UAMI_MAIL_TRANSPORT=${transport} needs UAMI_MAIL_FROM and UAMI_MAIL_TO`);
    }
    if (transport === "smtp" && s.UAMI_SMTP_HOST === undefined) problem("UAMI_MAIL_TRANSPORT=smtp needs UAMI_SMTP_HOST");
    if (transport === "acs" && !(typeof s.UAMI_ACS_ENDPOINT === "string" && s.UAMI_ACS_ENDPOINT.startsWith("https://"))) {
      problem("UAMI_MAIL_TRANSPORT=acs needs UAMI_ACS_ENDPOINT (https://<resource>.communication.azure.com)");
    }
  },
  { when: (payload) => typeof payload.value === "object" && payload.value !== null },
);

/** What the CLI reads: its secrets only (everything else is an option with its own `.env()` fallback). */
const cliSettingsSchema = settingFields.pick({ UAMI_ARM_TOKEN: true, UAMI_SMTP_PASSWORD: true });

type SettingValues = Record<string, string>;

/** The settings `schema` reads, trimmed; a blank one counts as unset (an empty app setting is common). */
function settingValues(env: Env, schema: { shape: Record<string, unknown> }): SettingValues {
  const values: SettingValues = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name]?.trim();
    if (value) values[name] = value;
  }
  return values;
}

/** One problem: the setting's name, what it must be, and the value it got (never a secret's, cut short). */
function settingProblem(issue: z.core.$ZodIssue, values: SettingValues): string {
  const [name, index] = issue.path;
  if (typeof name !== "string") return issue.message;
  if (index !== undefined) return `${name}: ${issue.message}`;
  const raw = values[name];
  const listTooLong = issue.code === "too_big" && issue.origin === "array";
  return `${name} ${issue.message}${raw !== undefined && !SECRETS.has(name) && !listTooLong ? `, got ${quoted(raw)}` : ""}`;
}

function parseSettings<S extends z.ZodType & { shape: Record<string, unknown> }>(schema: S, env: Env): z.output<S> {
  const values = settingValues(env, schema);
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => settingProblem(issue, values)));
  return parsed.data;
}

/** Reads settings into a typed config, collecting every problem before failing. */
export function loadConfig(env: Env = process.env): AppConfig {
  const s = parseSettings(appSettingsSchema, env);
  const transport = s.UAMI_MAIL_TRANSPORT;
  return {
    tenantId: s.UAMI_AUDIT_TENANT_ID ?? "",
    armEndpoint: s.UAMI_ARM_ENDPOINT,
    armToken: s.UAMI_ARM_TOKEN,
    armCaFile: s.UAMI_ARM_CA_FILE,
    scope: { subscriptions: s.UAMI_AUDIT_SUBSCRIPTIONS, managementGroups: s.UAMI_AUDIT_MANAGEMENT_GROUPS },
    ratePerSecond: s.UAMI_RATE_LIMIT_PER_SECOND,
    rateSafetyMs: s.UAMI_RATE_SAFETY_MS,
    maxSlotWaitMs: s.UAMI_MAX_SLOT_WAIT_MS,
    associationsToStore: s.UAMI_ASSOCIATIONS_TO_STORE,
    mode: s.UAMI_AUDIT_MODE,
    gracePeriodDays: s.UAMI_GRACE_PERIOD_DAYS,
    exemptTag: s.UAMI_EXEMPT_TAG,
    maxDequeueCount: s.UAMI_MAX_DEQUEUE_COUNT,
    mail: {
      transport,
      from: s.UAMI_MAIL_FROM,
      to: s.UAMI_MAIL_TO,
      alwaysSend: s.UAMI_MAIL_ALWAYS_SEND,
      smtp: s.UAMI_SMTP_HOST
        ? { host: s.UAMI_SMTP_HOST, port: s.UAMI_SMTP_PORT, secure: s.UAMI_SMTP_SECURE, user: s.UAMI_SMTP_USER, password: s.UAMI_SMTP_PASSWORD }
        : undefined,
      acsEndpoint: s.UAMI_ACS_ENDPOINT,
    },
    reportBaseUrl: s.UAMI_REPORT_BASE_URL,
    ...(s.UAMI_SIGNIN_WORKSPACE_ID !== undefined
      ? {
          signIns: {
            workspaceId: s.UAMI_SIGNIN_WORKSPACE_ID,
            windowDays: s.UAMI_SIGNIN_WINDOW_DAYS,
            endpoint: s.UAMI_LOGS_ENDPOINT,
            ...(s.UAMI_LOGS_TOKEN !== undefined ? { token: s.UAMI_LOGS_TOKEN } : {}),
          },
        }
      : {}),
    storage: {
      connectionString: s.AzureWebJobsStorage,
      accountName: s.AzureWebJobsStorage__accountName,
      tableServiceUri: s.AzureWebJobsStorage__tableServiceUri,
      queueServiceUri: s.AzureWebJobsStorage__queueServiceUri,
      blobServiceUri: s.AzureWebJobsStorage__blobServiceUri,
      clientId: s.AzureWebJobsStorage__clientId,
    },
    managedIdentityClientId: s.AZURE_CLIENT_ID,
  };
}

/** Settings of other tools that share the prefix: the test suite's and the benchmarks' own. */
const FOREIGN_UAMI_VARIABLES = /^UAMI_(TEST_|BENCH_|AUDIT_USE_DIST$)/;

/** The share of underscore-separated words two names have in common, to find the nearest documented name. */
function likeness(a: string, b: string): number {
  const words = (name: string) => new Set(name.split("_"));
  const shared = [...words(a)].filter((w) => words(b).has(w)).length;
  return shared / Math.max(words(a).size, words(b).size);
}

/**
 * `UAMI_*` variables that are no setting (a typo such as UAMI_RATE_PER_SECOND would silently leave the default
 * in force): one warning each, naming the nearest documented setting. Warnings only: an unknown name never
 * stops the app.
 */
export function unknownSettings(env: Env = process.env): string[] {
  const known = SETTINGS.map((setting) => setting.name);
  return Object.keys(env)
    .filter((name) => name.startsWith("UAMI_") && !known.includes(name) && !FOREIGN_UAMI_VARIABLES.test(name))
    .sort()
    .map((name) => {
      const nearest = [...known].sort((x, y) => likeness(name, y) - likeness(name, x))[0];
      const hint = nearest !== undefined && likeness(name, nearest) >= 0.5 ? `; did you mean ${nearest}?` : "";
      return `${name} is not a setting of uami-audit and is ignored${hint} (the README's Settings table lists them all)`;
    });
}

/** The CLI's secrets from its environment (UAMI_ARM_TOKEN, UAMI_SMTP_PASSWORD), so they never need a command line. */
export function loadCliEnvironment(env: Env = process.env): CliEnvironment {
  const s = parseSettings(cliSettingsSchema, env);
  return { armToken: s.UAMI_ARM_TOKEN, smtpPassword: s.UAMI_SMTP_PASSWORD };
}
