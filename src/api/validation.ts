/**
 * Validation of everything that arrives over HTTP. Nothing from a request reaches an OData filter, a
 * KQL query or a storage key without passing through here.
 */
import { canonicalIdentityId } from "../arm/index.js";
import type { AuditScope } from "../arm/types.js";
import { isGuid, isManagementGroupId, MAX_SCOPE_ITEMS } from "../config.js";
import { isReportFormat, REPORT_FORMATS, type ReportFormat } from "../report/render.js";
import { badRequest, payloadTooLarge, unsupportedMediaType } from "./responses.js";

const RUN_ID = /^\d{14}-[0-9a-f]{8}$/;
/** Azure resource group names: letters (Unicode), digits, `_ - . ( )`, 1-90 chars, not ending with `.`. */
const RESOURCE_GROUP = /^[\p{L}\p{N}_\-.()]{1,90}$/u;
/** User-assigned identity names: 3-128 chars, letters, digits, `-` and `_`, starting with a letter or digit. */
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;
/**
 * The largest request body read. A start request is at most ~470 KB (5,000 management group ids of 90
 * characters); 1 MiB leaves room for whitespace. Anything larger is refused before it is parsed: parsing
 * 10 MB of JSON holds the event loop (every other invocation of the instance) for seconds.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

export function parseRunId(value: string | undefined): string {
  if (!value || !RUN_ID.test(value)) throw badRequest(`"${truncate(value ?? "")}" is not a run id (expected like 20261127020000-1a2b3c4d)`);
  return value;
}

export function parseFormat(value: string | null): ReportFormat {
  const format = (value ?? "json").toLowerCase();
  if (!isReportFormat(format)) throw badRequest(`Unknown report format "${truncate(value ?? "")}"; use one of ${REPORT_FORMATS.join(", ")}`);
  return format;
}

export function parseIdentityPath(params: { subscriptionId?: string; resourceGroup?: string; name?: string }) {
  const { subscriptionId = "", resourceGroup = "", name = "" } = params;
  if (!isGuid(subscriptionId)) throw badRequest(`"${truncate(subscriptionId)}" is not a subscription id (GUID)`);
  if (!RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith(".")) throw badRequest(`"${truncate(resourceGroup)}" is not a valid resource group name`);
  if (!IDENTITY_NAME.test(name)) throw badRequest(`"${truncate(name)}" is not a valid user-assigned identity name`);
  return {
    subscriptionId,
    resourceGroup,
    name,
    id: canonicalIdentityId({ subscriptionId, resourceGroup, name }),
  };
}

/** What a JSON value is, for an error message: never the value itself (it may be nested thousands deep). */
function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function stringList(value: unknown, field: string, check: (s: string) => boolean, what: string): string[] {
  if (!Array.isArray(value)) throw badRequest(`"${field}" must be an array of ${what}s, not ${typeOf(value)}`);
  if (value.length === 0) throw badRequest(`"${field}" is empty; omit it to audit the whole tenant`);
  if (value.length > MAX_SCOPE_ITEMS) throw badRequest(`"${field}" lists ${value.length} items; at most ${MAX_SCOPE_ITEMS}`);
  return value.map((item: unknown, i) => {
    if (typeof item !== "string") throw badRequest(`"${field}[${i}]" is not a ${what}: it is ${typeOf(item)}`);
    if (!check(item)) throw badRequest(`"${field}[${i}]" is not a ${what}: "${truncate(item)}"`);
    return item;
  });
}

/** The parts of an HTTP request a body is read from (the Functions `HttpRequest`, or a fetch `Request`). */
export interface RequestWithBody {
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
}

const isJsonMediaType = (type: string) => type === "application/json" || /^application\/[\w.-]+\+json$/.test(type);

/**
 * The body as text, read only up to MAX_BODY_BYTES (413 beyond, from the declared Content-Length before
 * anything is read, or as soon as the stream passes the cap) and only if it is JSON (415 otherwise). An
 * empty body needs no content type.
 */
export async function readJsonBody(request: RequestWithBody, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const tooLarge = () => payloadTooLarge(`The body must be at most ${maxBytes} bytes`);
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      size += next.value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(next.value);
    }
  }
  if (size === 0) return "";
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!isJsonMediaType(mediaType)) {
    throw unsupportedMediaType(`The body must be JSON sent as "content-type: application/json"${mediaType ? `, not ${truncate(mediaType)}` : " (none was given)"}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks, size));
  } catch {
    throw badRequest("The body is not valid UTF-8");
  }
}

/** Body of `POST /api/audits`: empty, `{}`, `{"subscriptions":[...]}` or `{"managementGroups":[...]}`. */
export function parseStartAuditBody(text: string, defaultScope: AuditScope): AuditScope {
  if (text.trim() === "") return defaultScope;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The body must be a JSON object");
  const fields = Object.keys(body);
  const unknown = fields.filter((f) => f !== "subscriptions" && f !== "managementGroups");
  if (unknown.length > 0) throw badRequest(`Unknown field(s): ${unknown.slice(0, 5).map((f) => `"${truncate(f)}"`).join(", ")}${unknown.length > 5 ? ", …" : ""}; allowed: subscriptions, managementGroups`);
  const b = body as { subscriptions?: unknown; managementGroups?: unknown };
  if (b.subscriptions !== undefined && b.managementGroups !== undefined) throw badRequest("Give subscriptions or managementGroups, not both");
  if (b.subscriptions !== undefined) {
    return { subscriptions: [...new Set(stringList(b.subscriptions, "subscriptions", isGuid, "subscription id (GUID)").map((s) => s.toLowerCase()))], managementGroups: [] };
  }
  if (b.managementGroups !== undefined) {
    return { subscriptions: [], managementGroups: [...new Set(stringList(b.managementGroups, "managementGroups", isManagementGroupId, "management group id"))] };
  }
  return defaultScope;
}

function truncate(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
