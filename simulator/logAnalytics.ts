/**
 * The Azure Monitor Logs query API of one Log Analytics workspace per simulated tenant, on the simulator's
 * own HTTPS endpoint (so a client's logs endpoint is the simulator's endpoint):
 *
 *   POST /v1/workspaces/{workspaceId}/query   {"query", "timespan"?}          request-format.md
 *   GET  /v1/workspaces/{workspaceId}/query?query=...&timespan=...             request-format.md
 *   POST /v1/$batch   {"requests":[{id, headers, body, method, path, workspace}]}  batch-queries.md
 *
 * (docs: MicrosoftDocs/azure-monitor-docs, articles/azure-monitor/logs/api/). Answers
 * `{"tables":[{"name":"PrimaryResult","columns":[{name,type}],"rows":[[...]]}]}` with Kusto's column types
 * and datetimes as ISO text (response-format.md); errors are OneAPI `{"error":{message, code,
 * correlationId, innererror}}` with the codes of errors.md: 401 AuthenticationFailed, 403
 * InvalidAuthenticationToken / InsufficientAccessError, 404 PathNotFoundError (also for a workspace id that
 * does not exist: azure-sdk-for-python#32798), 400 BadArgumentError with SyntaxError or SemanticError
 * ("'where' operator: Failed to resolve table or column expression named '...'", SEM0100) inside.
 * `timespan` (ISO 8601 duration or interval) filters TimeGenerated before the query runs.
 *
 * The simulator has no token audiences: a tenant's ARM token is accepted here too. A token of another
 * tenant gets 403 InsufficientAccessError, as a caller without a role on the workspace does.
 */
import { randomUUID } from "node:crypto";
import { checkBearer } from "./auth.js";
import type { Reply } from "./cloudError.js";
import { KqlError, LOG_ANALYTICS_TABLE_SCHEMAS, parseQuery, type CompiledQuery, type KqlColumn, type KqlRow, type TableCatalog } from "./kql/index.js";
import type { TenantModel } from "./model.js";
import type { SignInLogs } from "./signIns.js";
import type { SimulatedTenants } from "./tenantState.js";

/** Compiles a query against a catalog (the simulator's `compileKql`, or a test's replacement). */
export type CompileLogsQuery = (query: string, catalog: TableCatalog) => CompiledQuery;

export interface LogAnalyticsDeps {
  state: SimulatedTenants;
  signIns: SignInLogs;
  compile: CompileLogsQuery;
}

/** What the handler needs of an HTTP request (a subset of armServer's RequestContext). */
export interface LogsRequest {
  method: string;
  url: URL;
  /** Decoded path segments, the first being "v1". */
  segments: string[];
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  receivedAt: number;
}

/** A failure injected by tests: the next `count` queries answer `status`, or a partial result. */
export interface LogsFault {
  count?: number;
  /** An HTTP status for the query (its LA error body); omit with `partial`. */
  status?: number;
  /** 200 with half the rows and an `error` (code PartialError) beside the tables. */
  partial?: boolean;
}

interface QueryInput {
  query: unknown;
  timespan: unknown;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COMPILED_CACHE_LIMIT = 64;

function laError(status: number, code: string, message: string, innererror?: Record<string, unknown>): Reply {
  return { status, body: { error: { message, code, correlationId: randomUUID(), ...(innererror ? { innererror } : {}) } } };
}

const pathNotFound = (): Reply => laError(404, "PathNotFoundError", "The requested path does not exist");
const insufficientAccess = (): Reply =>
  laError(403, "InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation");

function badArgument(innererror: Record<string, unknown>): Reply {
  return laError(400, "BadArgumentError", "The request had some invalid properties", innererror);
}

function validationError(code: string, message: string, target?: string): Reply {
  return badArgument({ code: "QueryValidationError", message: "Failed parsing the query", details: [{ code, message, target: target ?? null }] });
}

function semanticError(code: string, message: string): Reply {
  return badArgument({ code: "SemanticError", message: "A semantic error occurred.", innererror: { code, message } });
}

/** The error body for a given status, used by injected faults. */
function errorForStatus(status: number): Reply {
  switch (status) {
    case 400:
      return badArgument({ code: "QueryValidationError", message: "The query is invalid (injected by the simulator)." });
    case 401:
      return laError(401, "AuthenticationFailed", "Authentication failed (injected by the simulator).");
    case 403:
      return insufficientAccess();
    case 404:
      return pathNotFound();
    case 429:
      return { ...laError(429, "ThrottledError", "Your request was throttled (injected by the simulator). Retry after 1 second."), headers: { "retry-after": "1" } };
    default:
      return laError(status, status >= 500 ? "InternalServerError" : `Error${status}`, `The simulator was told to answer ${status} (injected by the simulator).`);
  }
}

// ---- timespan ----

const DURATION = /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;
const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/** An ISO 8601 duration in milliseconds (years as 365 days, months as 30), or undefined. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === "P" || /T$/i.test(text.trim())) return undefined;
  let ms = 0;
  let any = false;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = match[i + 1];
    if (part === undefined) continue;
    any = true;
    ms += Number(part) * (UNIT_MS[i] as number);
  }
  return any ? ms : undefined;
}

function parseInstant(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * `timespan` as [from, to]: a duration ends now; `start/end`, `start/duration` and `duration/end` as
 * ISO 8601 writes intervals. Undefined timespan: all data. A string it cannot read: an error message.
 */
export function resolveTimespan(timespan: unknown, now: number): { from: number; to: number } | string {
  if (timespan === undefined || timespan === null || timespan === "") return { from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  if (typeof timespan !== "string") return "timespan must be a string: an ISO 8601 duration (PT12H) or interval (start/end)";
  const parts = timespan.split("/");
  if (parts.length === 1) {
    const duration = parseDuration(timespan);
    return duration === undefined ? `'${timespan}' is not an ISO 8601 duration or interval` : { from: now - duration, to: now };
  }
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    const start = parseInstant(a);
    const end = parseInstant(b);
    if (start !== undefined && end !== undefined && start <= end) return { from: start, to: end };
    if (start !== undefined && end === undefined) {
      const duration = parseDuration(b);
      if (duration !== undefined) return { from: start, to: start + duration };
    }
    if (start === undefined && end !== undefined) {
      const duration = parseDuration(a);
      if (duration !== undefined) return { from: end - duration, to: end };
    }
  }
  return `'${timespan}' is not an ISO 8601 duration or interval`;
}

// ---- results ----

const LA_TYPES: Readonly<Record<KqlColumn["type"], string>> = {
  string: "string",
  integer: "long",
  real: "real",
  boolean: "bool",
  datetime: "datetime",
  object: "dynamic",
  array: "dynamic",
  dynamic: "dynamic",
};

/** Kusto's datetime text: seven fractional digits, Z. */
export function kustoDateTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

function cell(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return kustoDateTime(value);
  // Log Analytics sends dynamic values as JSON text (clients parse them).
  if (type === "dynamic") return typeof value === "string" ? value : JSON.stringify(value);
  return value;
}

/** The first operator of a query, as Kusto names it in SEM0100 messages ("'where' operator: ..."). */
function firstOperator(query: string): string | undefined {
  return /\|\s*([a-z][a-z-]*)/i.exec(query)?.[1];
}

export class LogAnalytics {
  private readonly compiled = new Map<string, CompiledQuery>();
  private readonly faults: { status?: number; partial: boolean }[] = [];

  constructor(private readonly deps: LogAnalyticsDeps) {}

  /** The next `count` (default 1) queries, direct or in a batch, answer the fault. */
  injectFault(fault: LogsFault): void {
    const count = fault.count ?? 1;
    if (!Number.isInteger(count) || count < 0) throw new TypeError(`count must be a non-negative integer, got ${String(count)}`);
    const partial = fault.partial === true;
    if (partial === (fault.status !== undefined)) throw new TypeError("give either 'status' or 'partial: true'");
    if (fault.status !== undefined && (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599)) {
      throw new TypeError(`status must be an HTTP error status (400-599), got ${String(fault.status)}`);
    }
    this.faults.length = 0;
    for (let i = 0; i < count; i++) this.faults.push({ ...(fault.status !== undefined ? { status: fault.status } : {}), partial });
  }

  /** Answers a request under /v1; `onTenant` learns the caller's tenant (for the request log). */
  handle(request: LogsRequest, onTenant?: (tenantId: string) => void): Reply {
    const { segments, method } = request;
    const isQuery = segments.length === 4 && segments[1]?.toLowerCase() === "workspaces" && segments[3]?.toLowerCase() === "query";
    const isBatch = segments.length === 2 && segments[1]?.toLowerCase() === "$batch";
    if (!(isQuery && (method === "GET" || method === "POST")) && !(isBatch && method === "POST")) return pathNotFound();

    const header = request.headers.authorization;
    const check = checkBearer(Array.isArray(header) ? header[0] : header, this.deps.state.tokenRegistry);
    if (check.kind === "missing") return laError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
    // errors.md: an invalid token is a 403 here, not ARM's 401.
    if (check.kind === "invalid") return laError(403, "InvalidAuthenticationToken", "The access token is invalid.");
    const tenant = this.deps.state.requireTenant(check.owner.tenantId);
    onTenant?.(tenant.tenantId);

    if (isBatch) return this.batch(tenant, request);
    const workspaceId = segments[2] as string;
    if (method === "GET") {
      const params = request.url.searchParams;
      return this.execute(tenant, workspaceId, { query: params.get("query") ?? undefined, timespan: params.get("timespan") ?? undefined }, request.receivedAt);
    }
    const body = this.jsonBody(request);
    if (body === "empty") return { status: 200 };
    if ("status" in body) return body;
    if (typeof body.value !== "object" || body.value === null || Array.isArray(body.value)) return validationError("InvalidJsonBody", "The body must be a JSON object");
    const input = body.value as Record<string, unknown>;
    // request-format.md: a timespan in both the query string and the body means their intersection.
    return this.execute(tenant, workspaceId, { query: input.query, timespan: input.timespan }, request.receivedAt, request.url.searchParams.get("timespan") ?? undefined);
  }

  /** errors.md: a POST without a JSON body or without `Content-Type: application/json` gets an empty 200. */
  private jsonBody(request: LogsRequest): { value: unknown } | Reply | "empty" {
    const contentType = request.headers["content-type"];
    const type = (Array.isArray(contentType) ? contentType[0] : contentType) ?? "";
    const text = request.body.toString("utf8");
    if (!/^application\/json\b/i.test(type.trim()) || text.trim() === "") return "empty";
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      return validationError("InvalidJsonBody", error instanceof Error ? error.message : String(error));
    }
  }

  private batch(tenant: TenantModel, request: LogsRequest): Reply {
    const body = this.jsonBody(request);
    if (body === "empty") return validationError("InvalidJsonBody", "Unexpected end of JSON input");
    if ("status" in body) return body;
    const requests = (body.value as { requests?: unknown } | null)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) return validationError("InvalidBatchRequest", "'requests' must be a non-empty array", "requests");
    const ids = new Set<string>();
    for (const item of requests as unknown[]) {
      const r = item as Record<string, unknown> | null;
      if (typeof r !== "object" || r === null || typeof r.id !== "string" || !r.id || typeof r.workspace !== "string" || typeof r.path !== "string") {
        return validationError("InvalidBatchRequest", "Each request needs 'id', 'path' and 'workspace'", "requests");
      }
      if (ids.has(r.id)) return validationError("InvalidBatchRequest", `Duplicate request id '${r.id}'`, "requests");
      ids.add(r.id);
    }
    const responses = (requests as Record<string, unknown>[]).map((r) => {
      const method = typeof r.method === "string" ? r.method.toUpperCase() : "GET";
      const [path, search = ""] = (r.path as string).split("?", 2) as [string, string?];
      let answer: Reply;
      if (path.replace(/\/+$/, "").toLowerCase() !== "/query" || (method !== "GET" && method !== "POST")) {
        answer = pathNotFound();
      } else if (!GUID.test(r.workspace as string) || !this.deps.signIns.tenantOfWorkspace(r.workspace as string)) {
        // batch-queries.md: a workspace GUID that resolves to nothing.
        answer = laError(400, "FailedToResolveResource", "Resource identity could not be resolved");
      } else if (method === "GET") {
        // "On GET requests, the API ignores the body parameter of the request object."
        const params = new URLSearchParams(search);
        answer = this.execute(tenant, r.workspace as string, { query: params.get("query") ?? undefined, timespan: params.get("timespan") ?? undefined }, request.receivedAt);
      } else {
        const input = (typeof r.body === "object" && r.body !== null ? r.body : {}) as Record<string, unknown>;
        answer = this.execute(tenant, r.workspace as string, { query: input.query, timespan: input.timespan }, request.receivedAt);
      }
      return { id: r.id, status: answer.status, ...(answer.headers ? { headers: answer.headers } : {}), body: answer.body ?? null };
    });
    return { status: 200, body: { responses } };
  }

  private execute(tenant: TenantModel, workspaceId: string, input: QueryInput, now: number, extraTimespan?: string): Reply {
    const owner = GUID.test(workspaceId) ? this.deps.signIns.tenantOfWorkspace(workspaceId) : undefined;
    if (!owner) return pathNotFound();
    if (owner !== tenant) return insufficientAccess();
    const fault = this.faults.shift();
    if (fault?.status !== undefined) return errorForStatus(fault.status);

    if (typeof input.query !== "string" || input.query.trim() === "") return validationError("InvalidQuery", "The query is required", "query");
    const window = resolveTimespan(input.timespan, now);
    if (typeof window === "string") return validationError("InvalidTimespan", window, "timespan");
    const extra = resolveTimespan(extraTimespan, now);
    if (typeof extra === "string") return validationError("InvalidTimespan", extra, "timespan");
    const from = Math.max(window.from, extra.from);
    const to = Math.min(window.to, extra.to);

    const query = input.query;
    let table: string;
    try {
      table = parseQuery(query).table;
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      return badArgument({ code: "SyntaxError", message: "A recognition error occurred in the query.", innererror: { code: "SYN0002", message: error.message } });
    }
    const signIns = this.deps.signIns;
    const present = signIns.tablePresent(tenant);
    if (!present || !Object.hasOwn(LOG_ANALYTICS_TABLE_SCHEMAS, table)) {
      const operator = firstOperator(query);
      return semanticError("SEM0100", `${operator ? `'${operator}' operator: ` : ""}Failed to resolve table or column expression named '${table}'`);
    }
    let compiled: CompiledQuery;
    try {
      compiled = this.compile(query);
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      const column = /^Unknown column '([^']+)'/.exec(error.message)?.[1];
      if (column !== undefined) {
        const operator = firstOperator(query);
        return semanticError("SEM0100", `${operator ? `'${operator}' operator: ` : ""}Failed to resolve scalar expression named '${column}'`);
      }
      // Valid Kusto outside the simulator's subset, or a type error: say so rather than answer wrongly.
      return semanticError(error.code === "InvalidQuery" ? "SEM0001" : "SIM0001", error.message);
    }

    const rows = signIns.rows(tenant).filter((row) => {
      const at = row.TimeGenerated.getTime();
      return at >= from && at <= to;
    });
    const result = compiled.run({ [compiled.table]: rows as Iterable<KqlRow> });
    const columns = result.columns.map((c) => ({ name: c.name, type: LA_TYPES[c.type] }));
    let outRows = result.rows.map((row) => columns.map((c) => cell(row[c.name], c.type)));
    if (fault?.partial) {
      outRows = outRows.slice(0, Math.ceil(outRows.length / 2));
      // response-format.md: a non-fatal error is a 200 with the tables and an `error` of code PartialError
      // (details shaped as in azure-sdk-for-python#25137).
      return {
        status: 200,
        body: {
          tables: [{ name: "PrimaryResult", columns, rows: outRows }],
          error: {
            code: "PartialError",
            message: "There were some errors when processing your query.",
            details: [
              {
                code: "EngineError",
                message: "Something went wrong processing your query on the server.",
                innererror: {
                  code: "-2133196790",
                  message: "Query result set has exceeded the internal record count limit (injected by the simulator).",
                  severity: 2,
                  severityName: "Error",
                },
              },
            ],
          },
        },
      };
    }
    return { status: 200, body: { tables: [{ name: "PrimaryResult", columns, rows: outRows }] } };
  }

  private compile(query: string): CompiledQuery {
    let compiled = this.compiled.get(query);
    if (!compiled) {
      compiled = this.deps.compile(query, { schemas: LOG_ANALYTICS_TABLE_SCHEMAS, caseSensitive: true });
      if (this.compiled.size >= COMPILED_CACHE_LIMIT) this.compiled.delete(this.compiled.keys().next().value as string);
      this.compiled.set(query, compiled);
    }
    return compiled;
  }
}
