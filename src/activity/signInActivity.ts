/**
 * What managed identities did recently, from outside Azure's resource index: their successful Entra ID
 * sign-ins, read from a Log Analytics workspace that receives Entra's `ManagedIdentitySignInLogs`
 * diagnostic category (table `AADManagedIdentitySignInLogs`). An identity with no associated resource may
 * still be used by something that exists only while it runs (a deployment script, a container group):
 * its sign-ins show it. One query per audit run returns each identity's latest successful sign-in within
 * the window.
 *
 * The table (https://learn.microsoft.com/azure/azure-monitor/reference/tables/aadmanagedidentitysigninlogs,
 * source: MicrosoftDocs/azure-reference-other, azure-monitor-ref/tables/includes/aadmanagedidentitysigninlogs-include.md):
 * - `ServicePrincipalId` (string): "ID of the service principal who initiated the sign-in", i.e. the
 *   identity's object id, which ARM calls `properties.principalId` (Microsoft's sample query "Most active
 *   managed identities" groups by it);
 * - `AppId` (string): "Unique GUID representing the app ID", the identity's client id;
 * - `ResourceDisplayName` (string): "Name of the resource that the service principal signed into"
 *   (`ResourceIdentity` is that resource's application id);
 * - `ResultType` (string): "0" for a successful sign-in, else Entra's error code (failed sign-ins must not
 *   count as activity);
 * - `TimeGenerated` (datetime): when, UTC. Every id column is a string, not a guid.
 *
 * The Logs query API (MicrosoftDocs/azure-monitor-docs, articles/azure-monitor/logs/api/): `POST
 * {endpoint}/v1/workspaces/{workspaceId}/query` with `{query, timespan}`; the timespan (an ISO 8601
 * duration) is applied to TimeGenerated before the query runs, so the query text itself carries no window
 * and stays one constant, checked by Microsoft's Kusto parser (test/activity). A 200 with an `error`
 * beside the tables is a partial result: refused here, because an incomplete list could make an active
 * identity look unused. The client is `@azure/monitor-query-logs` (`LogsQueryClient.queryWorkspace`);
 * its batch operation is deprecated (support ends March 2028, migrate-batch-and-beta.md) and unneeded.
 */
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { LogsQueryClient, LogsQueryResultStatus, type LogsTable } from "@azure/monitor-query-logs";
import { redactSecrets } from "../arm/errors.js";

export const DEFAULT_LOGS_ENDPOINT = "https://api.loganalytics.io";
export const DEFAULT_SIGNIN_WINDOW_DAYS = 30;
/** The longest a workspace keeps data queryable (interactive retention, up to two years: data-retention-configure.md). */
export const MAX_SIGNIN_WINDOW_DAYS = 730;
/** The table Entra's `ManagedIdentitySignInLogs` diagnostic category fills. */
export const SIGN_IN_TABLE = "AADManagedIdentitySignInLogs";

export interface SignInSettings {
  /** The workspace's "Workspace ID" (a GUID on its Overview page; `customerId` in ARM), not its name or resource id. */
  workspaceId: string;
  /** Sign-ins older than this many days do not count; 1 to 730. */
  windowDays: number;
  /** Logs query endpoint without `/v1`: `https://api.loganalytics.io` (public cloud), a sovereign cloud's, or the simulator's. */
  endpoint: string;
  credential: TokenCredential;
  /** PEM file of an extra CA to trust (the simulator's certificate). */
  caFile?: string;
}

export interface SignInActivity {
  /** The identity's object id (ARM `properties.principalId`), lower-cased. */
  principalId: string;
  /** The identity's client (application) id. */
  clientId: string;
  /** Its latest successful sign-in in the window, ISO 8601 UTC. */
  lastSignInAt: string;
  /** What that sign-in was to (the resource's display name, e.g. "Azure Key Vault"). */
  resource: string;
}

/**
 * A sign-in query that failed, with an actionable message. `code` is ours: `Forbidden`, `WorkspaceNotFound`,
 * `TableNotFound`, `PartialResult`, `AuthenticationFailed`, `BadRequest`, `Throttled`, `ServiceError`,
 * `NetworkError`, `MalformedResponse`; `serviceCode` is Log Analytics' own. Never carries a token.
 */
export class SignInQueryError extends Error {
  override readonly name = "SignInQueryError";
  readonly code: string;
  readonly status?: number;
  readonly serviceCode?: string;
  /** Worth retrying later (throttling, 5xx, network). */
  readonly transient: boolean;

  constructor(init: { code: string; message: string; status?: number; serviceCode?: string; transient?: boolean; cause?: unknown }) {
    super(redactSecrets(init.message), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    if (init.status !== undefined) this.status = init.status;
    if (init.serviceCode !== undefined) this.serviceCode = init.serviceCode;
    this.transient = init.transient ?? false;
  }
}

/**
 * The KQL sent once per run: successful sign-ins only, one row per identity with its latest sign-in and
 * what that sign-in was to. Grouping by the lower-cased id merges any casing Entra might log.
 */
export function signInActivityQuery(): string {
  return [
    SIGN_IN_TABLE,
    '| where ResultType == "0"',
    "| summarize arg_max(TimeGenerated, AppId, ResourceDisplayName) by principalId = tolower(ServicePrincipalId)",
    "| project principalId, clientId = AppId, lastSignInAt = TimeGenerated, resource = ResourceDisplayName",
  ].join("\n");
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The query reads one table over at most two years; Log Analytics allows up to 10 minutes (Prefer: wait=600). */
const SERVER_TIMEOUT_SECONDS = 600;
/** Bounded retries of the SDK's pipeline (429 after Retry-After, 5xx and network errors with backoff): one query per run. */
const RETRY_OPTIONS = { maxRetries: 2, retryDelayInMs: 2000, maxRetryDelayInMs: 30_000 };

function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`lastSuccessfulSignIns: settings.endpoint must be an https:// URL, got "${endpoint}"`);
  }
  // Bearer tokens only travel over TLS (core-rest-pipeline's bearer policy refuses http).
  if (url.protocol !== "https:" || url.search || url.hash) {
    throw new TypeError(`lastSuccessfulSignIns: settings.endpoint must be an https:// URL without query, got "${endpoint}"`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "").replace(/\/v1$/i, "");
}

/**
 * The token audience for an endpoint. Public cloud tokens are for `https://api.loganalytics.io` whichever of
 * its two hosts is called (access-api.md: api.loganalytics.azure.com replaces api.loganalytics.io, the
 * resource stays); sovereign clouds use their own host (`https://api.loganalytics.azure.cn`, `.us`).
 * @azure/monitor-query-logs 1.0.0 ignores its `audience` option and asks for the public audience unless
 * `credentials.scopes` is set (Azure/azure-sdk-for-js#39506), so the scope is passed that way.
 */
export function logsScope(endpoint: string): string {
  const origin = new URL(endpoint).origin;
  return origin === "https://api.loganalytics.azure.com" ? `${DEFAULT_LOGS_ENDPOINT}/.default` : `${origin}/.default`;
}

function validate(settings: SignInSettings): { endpoint: string } {
  if (typeof settings !== "object" || settings === null) throw new TypeError("lastSuccessfulSignIns needs a settings object");
  if (typeof settings.workspaceId !== "string" || !GUID.test(settings.workspaceId)) {
    throw new TypeError(`lastSuccessfulSignIns: settings.workspaceId must be the workspace's Workspace ID (a GUID), got "${String(settings.workspaceId)}"`);
  }
  const days = settings.windowDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_SIGNIN_WINDOW_DAYS) {
    throw new TypeError(`lastSuccessfulSignIns: settings.windowDays must be an integer from 1 to ${MAX_SIGNIN_WINDOW_DAYS}, got ${String(days)}`);
  }
  if (typeof settings.credential?.getToken !== "function") throw new TypeError("lastSuccessfulSignIns: settings.credential must be a TokenCredential");
  return { endpoint: normaliseEndpoint(settings.endpoint) };
}

function agentFor(caFile: string): Agent {
  let pem: string;
  try {
    pem = readFileSync(caFile, "utf8");
  } catch (e) {
    throw new TypeError(`lastSuccessfulSignIns: cannot read settings.caFile (${caFile}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new TypeError("lastSuccessfulSignIns: settings.caFile must be PEM text (BEGIN CERTIFICATE)");
  // `ca` replaces Node's trust store for this agent: the public roots are added back.
  return new Agent({ ca: [...rootCertificates, pem], keepAlive: true });
}

/**
 * Each identity's latest successful sign-in within the window, one entry per identity (principalId
 * lower-cased). Throws SignInQueryError when the answer is not complete (partial results included).
 */
export async function lastSuccessfulSignIns(settings: SignInSettings, options: { abortSignal?: AbortSignal } = {}): Promise<SignInActivity[]> {
  const { endpoint } = validate(settings);
  const agent = settings.caFile === undefined ? undefined : agentFor(settings.caFile);
  options.abortSignal?.throwIfAborted();
  let last: LastResponse | undefined;
  // queryWorkspace of @azure/monitor-query-logs 1.0.0 forwards only `requestOptions` and its Prefer
  // options: an `abortSignal` or `onResponse` given to it is dropped. A per-call policy (outside the retry
  // policy) carries the signal to every attempt and keeps the final response, whose raw error body says
  // more than the SDK's deserialized one (it drops each detail's innererror) and survives bodies the
  // SDK fails to deserialize (an empty 200, an HTML page from a proxy).
  const observe: PipelinePolicy = {
    name: "uamiSignInQueryObserver",
    async sendRequest(request, next) {
      if (options.abortSignal) request.abortSignal = options.abortSignal;
      const response = await next(request);
      last = { status: response.status, body: parseJson(response.bodyAsText) };
      return response;
    },
  };
  const client = new LogsQueryClient(settings.credential, {
    // The SDK uses `endpoint` verbatim as its base URL: the API version is part of it.
    endpoint: `${endpoint}/v1`,
    credentials: { scopes: [logsScope(endpoint)] },
    retryOptions: RETRY_OPTIONS,
    additionalPolicies: [{ policy: observe, position: "perCall" }],
    ...(agent ? { agent } : {}),
  });
  const where = { workspaceId: settings.workspaceId, endpoint };
  try {
    const result = await client.queryWorkspace(
      settings.workspaceId,
      signInActivityQuery(),
      { duration: `P${settings.windowDays}D` },
      { serverTimeoutInSeconds: SERVER_TIMEOUT_SECONDS },
    );
    if (result.status === LogsQueryResultStatus.PartialFailure) {
      // The raw body keeps the nested details the SDK's deserializer drops (innererror of each detail).
      const error = asRecord(asRecord(last?.body)?.error) ?? result.partialError;
      throw new SignInQueryError({
        code: "PartialResult",
        serviceCode: typeof error.code === "string" ? error.code : "PartialError",
        status: 200,
        transient: true,
        message:
          `Log Analytics answered the sign-in query on workspace ${where.workspaceId} with a partial result ` +
          `(${String(error.code)}: ${describeInner(error)}). An incomplete sign-in list could make an active identity look unused, ` +
          "so sign-in activity is not reported for this run; it is usually transient (the result hit a service limit).",
      });
    }
    return activitiesFrom(result.tables, where.workspaceId);
  } catch (error) {
    if (error instanceof SignInQueryError) throw error;
    if (isAbort(error)) throw error;
    throw classify(error, last, where);
  }
}

interface LastResponse {
  status: number;
  body: unknown;
}

function parseJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The message of the innermost error of a OneAPI error (Log Analytics nests the useful text). */
function describeInner(error: unknown): string {
  const messages: string[] = [];
  let current = asRecord(error);
  for (let depth = 0; current && depth < 6; depth++) {
    if (typeof current.message === "string" && current.message) messages.push(current.message);
    const details = Array.isArray(current.details) ? current.details.map(asRecord).filter((d) => d !== undefined) : [];
    for (const detail of details) {
      const inner = asRecord(detail.innererror);
      const text = typeof inner?.message === "string" ? inner.message : typeof detail.message === "string" ? detail.message : undefined;
      if (text) messages.push(text);
    }
    current = asRecord(current.innererror);
  }
  return messages.length > 0 ? messages[messages.length - 1]! : "no message";
}

/** Every code and message in a OneAPI error, outermost first, for matching. */
function errorTexts(error: unknown): string {
  const parts: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    const rec = asRecord(value);
    if (!rec || depth > 8) return;
    for (const key of ["code", "message"]) if (typeof rec[key] === "string") parts.push(rec[key] as string);
    walk(rec.innererror, depth + 1);
    if (Array.isArray(rec.details)) for (const d of rec.details) walk(d, depth + 1);
  };
  walk(error, 0);
  return parts.join(" | ");
}

function classify(error: unknown, last: LastResponse | undefined, where: { workspaceId: string; endpoint: string }): SignInQueryError {
  const rec = asRecord(error);
  const status = typeof rec?.statusCode === "number" ? rec.statusCode : last?.status;
  // The service's OneAPI error: from the raw body (also when the SDK failed to deserialize it), else the RestError.
  const bodyError = asRecord(asRecord(last?.body)?.error) ?? asRecord(asRecord(rec?.details)?.error);
  const serviceCode = typeof bodyError?.code === "string" ? bodyError.code : typeof rec?.code === "string" ? rec.code : undefined;
  const detail = bodyError ? `${serviceCode ?? "error"}: ${describeInner(bodyError)}` : error instanceof Error ? error.message : String(error);
  const base = { status, serviceCode, cause: error } as const;
  const ws = where.workspaceId;

  if (status === undefined || status === 0) {
    return new SignInQueryError({ ...base, status: undefined, code: "NetworkError", transient: true, message: `Could not reach Log Analytics at ${where.endpoint} for workspace ${ws}: ${detail}` });
  }
  // errors.md: an invalid token or one for another audience is a 403 here (ARM would say 401).
  const badToken = status === 403 && /^(InvalidAuthenticationToken|InvalidAuthenticationTokenAudience|InvalidTokenError)$/.test(serviceCode ?? "");
  if (status === 401 || badToken) {
    return new SignInQueryError({
      ...base,
      code: "AuthenticationFailed",
      message: `Log Analytics rejected the credential for workspace ${ws} (${status} ${detail}): check UAMI_LOGS_TOKEN (a token for the audience https://api.loganalytics.io) or the app's identity.`,
    });
  }
  if (status === 403) {
    return new SignInQueryError({
      ...base,
      code: "Forbidden",
      message:
        `Log Analytics denied access to workspace ${ws} (403 ${detail}). Grant the app's identity the "Log Analytics Reader" role ` +
        "on the workspace (or on its resource group), then allow a few minutes for the assignment to apply; with UAMI_LOGS_TOKEN, use a token of a principal that has it.",
    });
  }
  if (status === 404) {
    return new SignInQueryError({
      ...base,
      code: "WorkspaceNotFound",
      message:
        `Log Analytics workspace ${ws} was not found at ${where.endpoint} (404 ${detail}): UAMI_SIGNIN_WORKSPACE_ID must be the ` +
        "workspace's Workspace ID (the GUID on its Overview page), not its name or resource id, and UAMI_LOGS_ENDPOINT the Logs endpoint of its cloud.",
    });
  }
  const texts = bodyError ? errorTexts(bodyError) : "";
  if (status === 400 && texts.includes(`Failed to resolve table or column expression named '${SIGN_IN_TABLE}'`)) {
    return new SignInQueryError({
      ...base,
      code: "TableNotFound",
      message:
        `Workspace ${ws} has no ${SIGN_IN_TABLE} table: in Microsoft Entra ID (Monitoring & health > Diagnostic settings), route the ` +
        `"ManagedIdentitySignInLogs" category to this workspace; the table appears with the first sign-ins it receives.`,
    });
  }
  if (status === 429) {
    return new SignInQueryError({ ...base, code: "Throttled", transient: true, message: `Log Analytics throttled the sign-in query on workspace ${ws} (429 ${detail}); try again later.` });
  }
  if (status >= 500) {
    return new SignInQueryError({ ...base, code: "ServiceError", transient: true, message: `Log Analytics failed the sign-in query on workspace ${ws} (${status} ${detail}).` });
  }
  if (status >= 200 && status < 300) {
    return new SignInQueryError({ ...base, code: "MalformedResponse", transient: true, message: `Log Analytics answered the sign-in query on workspace ${ws} with ${status} but no result tables: ${detail}` });
  }
  return new SignInQueryError({ ...base, code: "BadRequest", message: `Log Analytics refused the sign-in query on workspace ${ws} (${status} ${detail}).` });
}

function malformed(workspaceId: string, problem: string): SignInQueryError {
  return new SignInQueryError({ code: "MalformedResponse", status: 200, message: `Log Analytics' answer to the sign-in query on workspace ${workspaceId} is malformed: ${problem}` });
}

function activitiesFrom(tables: LogsTable[], workspaceId: string): SignInActivity[] {
  const table = tables.find((t) => t.name === "PrimaryResult") ?? tables[0];
  if (!table) throw malformed(workspaceId, "no result table");
  const index = (name: string): number => {
    const at = table.columnDescriptors.findIndex((c) => c.name === name);
    if (at < 0) throw malformed(workspaceId, `no column '${name}' (columns: ${table.columnDescriptors.map((c) => c.name).join(", ")})`);
    return at;
  };
  const [principal, client, time, resource] = [index("principalId"), index("clientId"), index("lastSignInAt"), index("resource")];
  const latest = new Map<string, SignInActivity>();
  for (const row of table.rows) {
    const principalId = typeof row[principal] === "string" ? (row[principal] as string).trim().toLowerCase() : "";
    if (!principalId) continue; // a sign-in without an identity id cannot vouch for any identity
    const when = row[time];
    const at = when instanceof Date ? when : typeof when === "string" ? new Date(when) : undefined;
    if (!at || Number.isNaN(at.getTime())) throw malformed(workspaceId, `lastSignInAt of ${principalId} is not a time`);
    const activity: SignInActivity = {
      principalId,
      clientId: typeof row[client] === "string" ? (row[client] as string).toLowerCase() : "",
      lastSignInAt: at.toISOString(),
      resource: typeof row[resource] === "string" ? (row[resource] as string) : "",
    };
    const seen = latest.get(principalId);
    if (!seen || seen.lastSignInAt < activity.lastSignInAt) latest.set(principalId, activity);
  }
  return [...latest.values()];
}
