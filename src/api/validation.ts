/**
 * Validation of everything that arrives over HTTP. Nothing from a request reaches an OData filter, a
 * KQL query or a storage key without passing through here.
 */
import { z } from "zod";
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

/**
 * The value `schema` makes of `value`, or a 400 naming its first problem: the field (`"subscriptions[3]"`),
 * what it must be, and the bad value cut short (or its type, for a value that is not text).
 */
function parseOrBadRequest<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { issues } = parsed.error;
  // A body's own problems (unknown fields, both scopes) come first: they say what the body is for.
  const issue = issues.find((i) => i.path.length === 0) ?? issues[0]!;
  if (issue.path.length === 0) throw badRequest(issue.message);
  const field = issue.path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
  throw badRequest(`"${field}" ${issue.message}`);
}

/** Text that passes `check`; the error quotes it, cut short, or names its type when it is not text. */
function checkedText(check: (value: string) => boolean, what: string) {
  return z.string({ error: (issue) => `is not ${what}: it is ${typeOf(issue.input)}` }).refine(check, { error: (issue) => `is not ${what}: "${truncate(String(issue.input))}"` });
}

const runIdSchema = z.string().regex(RUN_ID, { error: (issue) => `"${truncate(String(issue.input))}" is not a run id (expected like 20261127020000-1a2b3c4d)` });

export function parseRunId(value: string | undefined): string {
  return parseOrBadRequest(runIdSchema, value ?? "");
}

const formatSchema = z
  .string()
  .refine((value) => isReportFormat(value.toLowerCase()), {
    error: (issue) => `Unknown report format "${truncate(String(issue.input))}"; use one of ${REPORT_FORMATS.join(", ")}`,
  })
  .transform((value) => value.toLowerCase() as ReportFormat);

export function parseFormat(value: string | null): ReportFormat {
  return parseOrBadRequest(formatSchema, value ?? "json");
}

const identityPathSchema = z
  .object({
    subscriptionId: checkedText(isGuid, "a subscription id (GUID)"),
    resourceGroup: checkedText((rg) => RESOURCE_GROUP.test(rg) && !rg.endsWith("."), "a valid resource group name"),
    name: checkedText((name) => IDENTITY_NAME.test(name), "a valid user-assigned identity name"),
  })
  .transform((path) => ({ ...path, id: canonicalIdentityId(path) }));

export function parseIdentityPath(params: { subscriptionId?: string; resourceGroup?: string; name?: string }) {
  const { subscriptionId = "", resourceGroup = "", name = "" } = params;
  return parseOrBadRequest(identityPathSchema, { subscriptionId, resourceGroup, name });
}

/** What a JSON value is, for an error message: never the value itself (it may be nested thousands deep). */
function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A scope list: 1 to MAX_SCOPE_ITEMS items, each text that passes `check`. */
function scopeList(check: (s: string) => boolean, what: string) {
  return z
    .array(checkedText(check, `a ${what}`), { error: (issue) => `must be an array of ${what}s, not ${typeOf(issue.input)}` })
    .min(1, { error: "is empty; omit it to audit the whole tenant" })
    .max(MAX_SCOPE_ITEMS, { error: (issue) => `lists ${Array.isArray(issue.input) ? issue.input.length : "too many"} items; at most ${MAX_SCOPE_ITEMS}` });
}

const START_FIELDS = ["subscriptions", "managementGroups"] as const;

/** Body of `POST /api/audits`, parsed from JSON. */
const startAuditBodySchema = z
  .strictObject(
    {
      subscriptions: scopeList(isGuid, "subscription id (GUID)").optional(),
      managementGroups: scopeList(isManagementGroupId, "management group id").optional(),
    },
    {
      error: (issue) => {
        if (issue.code !== "unrecognized_keys") return "The body must be a JSON object";
        const names = issue.keys.slice(0, 5).map((f) => `"${truncate(f)}"`).join(", ");
        return `Unknown field(s): ${names}${issue.keys.length > 5 ? ", …" : ""}; allowed: ${START_FIELDS.join(", ")}`;
      },
    },
  )
  .superRefine(
    (body, ctx) => {
      if (body.subscriptions !== undefined && body.managementGroups !== undefined) {
        ctx.addIssue({ code: "custom", message: "Give subscriptions or managementGroups, not both", path: [] });
      }
    },
    // Also when a list is bad: "not both" says more than the first bad item of one of them.
    { when: (payload) => typeof payload.value === "object" && payload.value !== null && !Array.isArray(payload.value) },
  );

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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
  const body = parseOrBadRequest(startAuditBodySchema, json);
  if (body.subscriptions !== undefined) return { subscriptions: [...new Set(body.subscriptions.map((s) => s.toLowerCase()))], managementGroups: [] };
  if (body.managementGroups !== undefined) return { subscriptions: [], managementGroups: [...new Set(body.managementGroups)] };
  return defaultScope;
}

function truncate(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
