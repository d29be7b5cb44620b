/**
 * Errors from Azure Resource Manager and Resource Graph, normalised to one class that says what failed
 * (operation), on what (resource id), and what Azure answered (status, code, message), and never carries a
 * credential.
 *
 * Error bodies come in two documented shapes, both `{ error: { code, message, ... } }`:
 * - ARM `CloudError {error:{code,message,target,details[]}}`
 *   (reference: msi/.../2022-01-31-preview/ManagedIdentity.json, seeds/003_35fe0356a105438c.txt);
 * - Resource Graph `ErrorResponse {error:{code,message,details[{code,message}]}}`
 *   (reference: resourcegraph/.../2021-03-01/resourcegraph.json). Its real 429 body puts the useful text in
 *   `details[0].message` (Azure/azure-cli-extensions#3325).
 * Anything else (an HTML page from a proxy, a truncated body) is reported as such, truncated.
 */

/** One entry of `error.details` (ARM and ARG both use `{code, message}`). */
export interface ArmErrorDetail {
  code: string;
  message: string;
}

export interface ArmErrorInit {
  /** What we were doing: `listAssociatedResources`, `getIdentity`, `queryResourceGraph`, ... */
  operation: string;
  /** The ARM id the operation was about, when there is one. */
  resourceId?: string;
  /** HTTP status; 0 when no response was received (network error). */
  status: number;
  /** ARM's `error.code`, or a code of ours (`MalformedResponse`, `ECONNRESET`, `Http503`, ...). */
  code: string;
  /** ARM's `error.message`, or our description of what was wrong with the response. */
  armMessage: string;
  target?: string;
  details?: ArmErrorDetail[];
  /** From `Retry-After` (or ARG's quota reset) on 429/503. */
  retryAfterMs?: number;
  /** `x-ms-request-id` / `x-ms-correlation-request-id`, for a support ticket. */
  requestId?: string;
  /** Network-level failures are transient whatever the status says. */
  transient?: boolean;
}

/** Values that must never appear in an error message (static bearer tokens, see connection.ts). */
const secrets = new Set<string>();

/** Shortest value worth redacting: shorter "secrets" would mangle ordinary words in messages. */
const MIN_SECRET_LENGTH = 6;

/**
 * Remembers a secret so that every ArmError message is scrubbed of it. The connection registers its static
 * token here; a server that echoes the Authorization header back in an error body cannot leak it.
 */
export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** Removes registered secrets and anything shaped like a bearer token or JWT from a text. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  return out
    .replace(/\b(Bearer|PoP)\s+[A-Za-z0-9\-._~+/]+=*/gi, "$1 [redacted]")
    .replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, "[redacted-jwt]");
}

/**
 * The permission each per-identity operation needs, named when Azure answers 403, so the message says what
 * to grant. `listAssociatedResources` is a POST authorised as an `/action`: none of Reader, Managed Identity
 * Operator (identity reads and assign actions only) or Managed Identity Contributor
 * grants it (built-in role definitions, learn.microsoft.com "Azure built-in roles for Identity"); Contributor
 * and Owner do, and so does the audit's own read-only role (infra/tenant-access.bicep, docs/deploy.md).
 */
export const PERMISSION_FOR_OPERATION: Readonly<Record<string, string>> = {
  listAssociatedResources:
    "Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action, which Reader, Managed Identity Operator and Managed Identity Contributor do not grant (assign the audit's role from infra/tenant-access.bicep, see docs/deploy.md)",
  getIdentity: "Microsoft.ManagedIdentity/userAssignedIdentities/read",
  listFederatedCredentials: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
};

function describe(init: ArmErrorInit): string {
  const where = init.resourceId ? ` for ${init.resourceId}` : "";
  const status = init.status === 0 ? "network error" : String(init.status);
  const details = (init.details ?? [])
    .filter((d) => d.message && d.message !== init.armMessage)
    .map((d) => `${d.code}: ${d.message}`);
  const detailText = details.length > 0 ? ` [${details.join("; ")}]` : "";
  const permission = init.status === 403 ? PERMISSION_FOR_OPERATION[init.operation] : undefined;
  const needs = permission ? `; the caller needs ${permission}` : "";
  return `${init.operation} failed${where}: ${status} ${init.code}: ${init.armMessage}${detailText}${needs}`;
}

/**
 * A failed call to ARM or Resource Graph. The message reads like
 * `listAssociatedResources failed for /subscriptions/…/userAssignedIdentities/x: 404 ResourceNotFound: …`.
 */
export class ArmError extends Error {
  override readonly name = "ArmError";
  readonly operation: string;
  readonly resourceId?: string;
  readonly status: number;
  readonly code: string;
  readonly armMessage: string;
  readonly target?: string;
  readonly details: ArmErrorDetail[];
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  readonly transient: boolean;

  constructor(init: ArmErrorInit) {
    const clean: ArmErrorInit = {
      ...init,
      armMessage: redactSecrets(init.armMessage),
      details: (init.details ?? []).map((d) => ({ code: d.code, message: redactSecrets(d.message) })),
    };
    super(redactSecrets(describe(clean)));
    this.operation = init.operation;
    if (init.resourceId !== undefined) this.resourceId = init.resourceId;
    this.status = init.status;
    this.code = init.code;
    this.armMessage = clean.armMessage;
    if (init.target !== undefined) this.target = init.target;
    this.details = clean.details ?? [];
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    this.transient = init.transient ?? isTransientStatus(init.status);
  }
}

export function isArmError(e: unknown): e is ArmError {
  return e instanceof ArmError;
}

/**
 * The HTTP status of an ArmError, or of a core-rest-pipeline RestError (`statusCode`) thrown by another
 * Azure SDK call; undefined for anything else.
 */
function statusOf(e: unknown): number | undefined {
  if (isArmError(e)) return e.status;
  const rec = asRecord(e);
  if (rec?.name === "RestError" && typeof rec.statusCode === "number") return rec.statusCode;
  return undefined;
}

/** HTTP 429: Azure asked us to slow down; `retryAfterMs` says for how long. */
export function isThrottled(e: unknown): boolean {
  return statusOf(e) === 429;
}

/** HTTP 404: the identity (or its resource group or subscription) no longer exists. */
export function isNotFound(e: unknown): boolean {
  return statusOf(e) === 404;
}

function isTransientStatus(status: number): boolean {
  return status === 0 || status === 408 || (status >= 500 && status <= 599);
}

/** Node's and the SDKs' codes for a request that got no response and may well get one next time. */
export const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "REQUEST_SEND_ERROR",
]);

/**
 * Worth retrying later: 5xx, 408, or no response at all (connection reset, timeout, DNS). Not 429, which
 * has its own answer (wait `retryAfterMs`). Also recognises a raw network error (`code: "ECONNRESET"`) or a
 * RestError with such a status, for errors that did not come through this module.
 */
export function isTransient(e: unknown): boolean {
  if (isArmError(e)) return e.transient;
  const status = statusOf(e);
  if (status !== undefined) return isTransientStatus(status);
  const code = errorCodeOf(e);
  return code !== undefined && NETWORK_CODES.has(code);
}

/** Longest excerpt of a non-JSON body quoted in a message. */
const EXCERPT_LENGTH = 200;

export function excerpt(text: string, max = EXCERPT_LENGTH): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}… (${oneLine.length} chars)` : oneLine;
}

/** What an error body said, when it followed either documented shape. */
export interface ParsedErrorBody {
  code: string;
  message: string;
  target?: string;
  details: ArmErrorDetail[];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseDetails(value: unknown): ArmErrorDetail[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((d) => {
    const rec = asRecord(d);
    if (!rec) return [];
    const code = typeof rec.code === "string" ? rec.code : "";
    const message = typeof rec.message === "string" ? rec.message : "";
    return code || message ? [{ code, message }] : [];
  });
}

/**
 * Reads ARM's CloudError or ARG's ErrorResponse from a parsed body. Also accepts the OData shape without
 * the `error` wrapper (`{code, message}`), which some ARM front doors return. Undefined when neither fits.
 */
export function parseErrorBody(body: unknown): ParsedErrorBody | undefined {
  const root = asRecord(body);
  if (!root) return undefined;
  const err = asRecord(root.error) ?? (typeof root.code === "string" ? root : undefined);
  if (!err) return undefined;
  const code = typeof err.code === "string" && err.code ? err.code : undefined;
  const message = typeof err.message === "string" ? err.message : undefined;
  if (code === undefined && message === undefined) return undefined;
  const parsed: ParsedErrorBody = { code: code ?? "", message: message ?? "", details: parseDetails(err.details) };
  if (typeof err.target === "string") parsed.target = err.target;
  return parsed;
}

/**
 * `Retry-After` as milliseconds: delta-seconds (`3`, also `2.5`) or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfterMs(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Header access common to core-rest-pipeline's HttpHeaders and plain records. */
export interface HeaderReader {
  get(name: string): string | undefined;
}

export interface ErrorResponseInit {
  operation: string;
  resourceId?: string;
  status: number;
  headers?: HeaderReader;
  bodyText?: string;
  /** Used when the response said nothing about how long to wait (429 only). */
  defaultRetryAfterMs?: number;
}

/** Default wait after a 429 that carried no `Retry-After`. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

function statusCode(status: number): string {
  if (status === 429) return "TooManyRequests";
  return `Http${status}`;
}

/** Builds the ArmError for a non-success HTTP response, whatever its body looks like. */
export function armErrorFromResponse(init: ErrorResponseInit): ArmError {
  const text = init.bodyText ?? "";
  let parsed: ParsedErrorBody | undefined;
  let armMessage: string;
  if (text.trim() === "") {
    armMessage = "empty response body";
  } else {
    try {
      parsed = parseErrorBody(JSON.parse(text));
      armMessage = parsed ? parsed.message || "(no message)" : `unexpected error body: ${excerpt(text)}`;
    } catch {
      const contentType = init.headers?.get("content-type");
      armMessage = `non-JSON response body${contentType ? ` (${contentType})` : ""}: ${excerpt(text)}`;
    }
  }
  const retryAfterHeader = parseRetryAfterMs(init.headers?.get("retry-after"));
  const retryAfterMs =
    retryAfterHeader ?? (init.status === 429 ? (init.defaultRetryAfterMs ?? DEFAULT_RETRY_AFTER_MS) : undefined);
  const requestId = init.headers?.get("x-ms-request-id") ?? init.headers?.get("x-ms-correlation-request-id");
  const errorInit: ArmErrorInit = {
    operation: init.operation,
    status: init.status,
    code: parsed?.code || statusCode(init.status),
    armMessage,
    details: parsed?.details ?? [],
  };
  if (init.resourceId !== undefined) errorInit.resourceId = init.resourceId;
  if (parsed?.target !== undefined) errorInit.target = parsed.target;
  if (retryAfterMs !== undefined) errorInit.retryAfterMs = retryAfterMs;
  if (requestId) errorInit.requestId = requestId;
  return new ArmError(errorInit);
}

/** Where a response came from, for the errors the pure parsers throw. */
export interface ResponseContext {
  operation: string;
  resourceId?: string;
  status?: number;
}

/** A 2xx response whose body is not what the contract promises (HTML, truncated JSON, wrong types). */
export function malformedResponseError(
  operation: string,
  resourceId: string | undefined,
  status: number,
  problem: string,
): ArmError {
  const init: ArmErrorInit = { operation, status, code: "MalformedResponse", armMessage: problem, transient: false };
  if (resourceId !== undefined) init.resourceId = resourceId;
  return new ArmError(init);
}

/** Certificate and TLS failures: retrying will not make an untrusted certificate trusted. */
const TLS_TRUST_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL|ERR_OSSL/i;

function errorCodeOf(cause: unknown): string | undefined {
  const rec = asRecord(cause);
  const code = rec?.code;
  return typeof code === "string" && code ? code : undefined;
}

/**
 * Wraps a failure that produced no HTTP response (ECONNRESET, a TLS failure, DNS) as a transient ArmError
 * with status 0. The cause's message is kept (redacted) but the cause object is not attached, because
 * core-rest-pipeline's RestError carries the request and so its Authorization header.
 */
export function networkError(operation: string, resourceId: string | undefined, cause: unknown): ArmError {
  const code = errorCodeOf(cause) ?? "NetworkError";
  const message = cause instanceof Error ? cause.message : String(cause);
  const init: ArmErrorInit = {
    operation,
    status: 0,
    code,
    armMessage: message || "request failed without a response",
    // ECONNRESET, ETIMEDOUT, ENOTFOUND, REQUEST_SEND_ERROR...: transient. TLS trust failures: not.
    transient: !TLS_TRUST_CODE.test(code),
  };
  if (resourceId !== undefined) init.resourceId = resourceId;
  return new ArmError(init);
}

/** The error a pure parser throws: an ArmError `MalformedResponse` (status 200 unless the context says). */
export function malformedBody(context: ResponseContext, problem: string): ArmError {
  return malformedResponseError(context.operation, context.resourceId, context.status ?? 200, problem);
}
