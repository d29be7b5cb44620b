/**
 * Azure Resource Graph through `@azure/arm-resourcegraph` 5.0.0 (`client.resources(query, options)`,
 * api-version 2024-04-01): paging, scope batching, quota pacing and bounded retries, then the two typed
 * queries the audit needs (the identity inventory and role assignments).
 *
 * Contract (see test/fixtures/README.md for the copies):
 * - resourcegraph.json 2021-03-01: `QueryRequest {subscriptions, managementGroups, query, options}`,
 *   `options {$skipToken, $top (1..1000), $skip, resultFormat}`, `QueryResponse {totalRecords, count,
 *   resultTruncated ("true"/"false"), $skipToken?, data}`, errors `ErrorResponse`.
 * - Examples: objectArray data (ResourcesBasicQuery, 2024-04-01 paging examples: the next page repeats the
 *   query and scopes with `$skipToken`), table data (`{columns, rows}`, ResourcesQueryOptions 2019-04-01).
 * - Throttling guidance (learn.microsoft.com azure/governance/resource-graph/concepts/guidance-for-throttled-requests): every response carries `x-ms-user-quota-remaining` and
 *   `x-ms-user-quota-resets-after` (hh:mm:ss); 429 bodies are `RateLimiting` ErrorResponses.
 *
 * Retries are ours, not the SDK's (its retry policy is switched off with `maxRetries: 0`): the SDK's
 * throttling strategy knows `Retry-After` but not ARG's quota headers, and one place deciding keeps every
 * wait bounded and visible (`onWait`).
 */
import { setTimeout as delay } from "node:timers/promises";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { AuthorizationScopeFilter, QueryRequest } from "@azure/arm-resourcegraph";
import type { HttpHeaders } from "@azure/core-rest-pipeline";
import type { AuditScope, IdentityInventoryItem, RoleAssignment } from "./types.js";
import type { ArmConnection } from "./connection.js";
import { USER_AGENT_PREFIX } from "./armRequest.js";
import {
  ArmError,
  armErrorFromResponse,
  excerpt,
  malformedBody,
  networkError,
  parseRetryAfterMs,
  type ResponseContext,
} from "./errors.js";
import { asObject, optionalString, parseTags, requireString, show, type JsonObject } from "./bodyFields.js";
import { identityInventoryQuery, roleAssignmentsQuery, roleDefinitionsQuery, subscriptionNamesQuery } from "./queries.js";
import { resourceIdKey } from "./resourceId.js";

const OPERATION = "queryResourceGraph";

/** ARG's `$top` maximum (resourcegraph.json: `$top` 1..1000) and our default page size. */
export const MAX_PAGE_SIZE = 1000;
/** Subscriptions (or management groups) per request; ARG bounds the scope of one request. */
export const MAX_SCOPE_BATCH_SIZE = 1000;

/**
 * The audit sets only `onSubscriptionLimitHit` (and `onInvalidRow`); the module itself sets
 * `authorizationScopeFilter`. The bounds stay so tests and benchmarks page, retry and wait at small scale.
 */
export interface ResourceGraphOptions {
  /** Rows per page (`$top`), 1..1000, default 1000. */
  pageSize?: number;
  /** Subscriptions per request, 1..1000, default 1000. Also used for management groups. */
  subscriptionBatchSize?: number;
  /** ARG's `authorizationScopeFilter` for authorizationresources queries (default: ARG's AtScopeAndBelow). */
  authorizationScopeFilter?: AuthorizationScopeFilter;
  /** Retries per request after a 429 or a transient failure (5xx, 408, network), default 5. */
  maxRetries?: number;
  /** First backoff after a transient failure, doubled each time (with jitter), default 1000 ms. */
  retryDelayMs?: number;
  /** Longest single wait accepted (quota reset, Retry-After); beyond it the 429 is thrown. Default 60 s. */
  maxWaitMs?: number;
  /** Told about every wait (bench/resourceGraphPaging.ts prints them; tests check them). */
  onWait?: (event: ResourceGraphWait) => void;
  /** Told about conditions worth logging that do not stop the query (e.g. the 10,000-subscription cap); tests listen. */
  onWarning?: (message: string) => void;
  /**
   * Called for every response carrying `x-ms-tenant-subscription-limit-hit: true`: Resource Graph queried
   * only the first 10,000 subscriptions of the scope (the throttling guidance above), so the rows are incomplete and
   * the caller should mark its run partial. Called in addition to `onWarning`.
   */
  onSubscriptionLimitHit?: () => void;
}

export interface ResourceGraphWait {
  reason: "quota" | "throttled" | "transient";
  waitMs: number;
  /** Attempt number of the request about to be (re)sent, from 1. */
  attempt: number;
}

/** Wait after a 429 that says nothing about when to come back: ARG's documented 5-second window. */
export const DEFAULT_THROTTLE_WAIT_MS = 5000;
const MAX_BACKOFF_MS = 30_000;

interface Settings {
  pageSize: number;
  batchSize: number;
  maxRetries: number;
  retryDelayMs: number;
  maxWaitMs: number;
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`queryResourceGraph: option ${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function settingsFrom(options: ResourceGraphOptions): Settings {
  return {
    pageSize: intOption("pageSize", options.pageSize, MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    batchSize: intOption("subscriptionBatchSize", options.subscriptionBatchSize, MAX_SCOPE_BATCH_SIZE, 1, MAX_SCOPE_BATCH_SIZE),
    maxRetries: intOption("maxRetries", options.maxRetries, 5, 0, 100),
    retryDelayMs: intOption("retryDelayMs", options.retryDelayMs, 1000, 0, 600_000),
    maxWaitMs: intOption("maxWaitMs", options.maxWaitMs, 60_000, 0, 3_600_000),
  };
}

// ---------------------------------------------------------------------------------------------------
// Pure parts: scope batches, quota headers, response parsing
// ---------------------------------------------------------------------------------------------------

export interface ScopeBatch {
  subscriptions?: string[];
  managementGroups?: string[];
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function uniqueCaseInsensitive(items: string[]): string[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = item.trim().toLowerCase();
    if (key === "" || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The requests a scope needs: the whole tenant (no scope at all) when both lists are empty; otherwise the
 * subscriptions in batches, then the management groups in batches. Overlapping scopes (a subscription
 * under a listed management group) can return a row twice: the typed queries de-duplicate by id.
 */
export function scopeBatches(scope: AuditScope, batchSize: number = MAX_SCOPE_BATCH_SIZE): ScopeBatch[] {
  const subscriptions = uniqueCaseInsensitive(scope.subscriptions ?? []);
  const managementGroups = uniqueCaseInsensitive(scope.managementGroups ?? []);
  if (subscriptions.length === 0 && managementGroups.length === 0) return [{}];
  return [
    ...chunk(subscriptions, batchSize).map((s) => ({ subscriptions: s })),
    ...chunk(managementGroups, batchSize).map((m) => ({ managementGroups: m })),
  ];
}

/** `x-ms-user-quota-resets-after` (`hh:mm:ss`, also .NET's `d.hh:mm:ss.fff`) in ms; undefined if unreadable. */
export function parseQuotaResetMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^\s*(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?\s*$/.exec(value);
  if (!m) return undefined;
  const [, days, hours, minutes, seconds, fraction] = m;
  const ms =
    (Number(days ?? 0) * 86_400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000 +
    (fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0);
  return ms;
}

export interface QuotaHeaders {
  remaining?: number;
  resetsAfterMs?: number;
}

export function readQuotaHeaders(headers: { get(name: string): string | undefined }): QuotaHeaders {
  const out: QuotaHeaders = {};
  const remaining = headers.get("x-ms-user-quota-remaining");
  if (remaining !== undefined && /^\s*-?\d+\s*$/.test(remaining)) out.remaining = Number(remaining);
  const resets = parseQuotaResetMs(headers.get("x-ms-user-quota-resets-after"));
  if (resets !== undefined) out.resetsAfterMs = resets;
  return out;
}

export interface ResourceGraphPage {
  rows: Record<string, unknown>[];
  /** Absent on the last page. */
  skipToken?: string;
  totalRecords?: number;
  count?: number;
  resultTruncated: boolean;
}

/** Table format (`{columns:[{name,type}], rows:[[…]]}`, ResourcesQueryOptions.json) to objects. */
export function tableToObjects(table: JsonObject, ctx: ResponseContext = { operation: OPERATION }): Record<string, unknown>[] {
  const columns = table.columns;
  const rows = table.rows;
  if (!Array.isArray(columns) || !Array.isArray(rows)) {
    throw malformedBody(ctx, `table data needs columns and rows arrays, got ${show(table)}`);
  }
  const names = columns.map((c, i) => {
    const name = asObject(c)?.name;
    if (typeof name !== "string" || name === "") throw malformedBody(ctx, `data.columns[${i}] has no name: ${show(c)}`);
    return name;
  });
  return rows.map((row, r) => {
    if (!Array.isArray(row) || row.length !== names.length) {
      throw malformedBody(ctx, `data.rows[${r}] must be an array of ${names.length} cells, got ${show(row)}`);
    }
    return Object.fromEntries(names.map((name, i) => [name, row[i]]));
  });
}

function optionalCount(ctx: ResponseContext, obj: JsonObject, field: string): number | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  throw malformedBody(ctx, `${field} must be a number, got ${show(value)}`);
}

/**
 * One `QueryResponse`, as on the wire (`$skipToken`) or as the SDK deserialises it (`skipToken`), with
 * `data` in objectArray or table format. Facets are ignored (the app requests none).
 */
export function parseResourceGraphResponse(body: unknown, ctx: ResponseContext = { operation: OPERATION }): ResourceGraphPage {
  const obj = asObject(body);
  if (!obj) throw malformedBody(ctx, `expected a QueryResponse object, got ${show(body)}`);
  const data = obj.data;
  let rows: Record<string, unknown>[];
  if (Array.isArray(data)) {
    rows = data.map((row, i) => {
      const rec = asObject(row);
      if (!rec) throw malformedBody(ctx, `data[${i}] is not an object: ${show(row)}`);
      return rec;
    });
  } else if (asObject(data)) {
    rows = tableToObjects(data as JsonObject, ctx);
  } else {
    throw malformedBody(ctx, `data must be an array (objectArray) or {columns, rows} (table), got ${show(data)}`);
  }
  const page: ResourceGraphPage = {
    rows,
    resultTruncated: obj.resultTruncated === "true" || obj.resultTruncated === true,
  };
  const token = obj.$skipToken ?? obj.skipToken;
  if (token !== undefined && token !== null && token !== "") {
    if (typeof token !== "string") throw malformedBody(ctx, `$skipToken must be a string, got ${show(token)}`);
    page.skipToken = token;
  }
  const totalRecords = optionalCount(ctx, obj, "totalRecords");
  if (totalRecords !== undefined) page.totalRecords = totalRecords;
  const count = optionalCount(ctx, obj, "count");
  if (count !== undefined) page.count = count;
  return page;
}

// ---------------------------------------------------------------------------------------------------
// Transport: one query request with pacing and bounded retries
// ---------------------------------------------------------------------------------------------------

/** Per-connection quota state: the ARG quota is per user, whatever query is being paged. */
interface QuotaGate {
  notBefore: number;
}
const quotaGates = new WeakMap<ArmConnection, QuotaGate>();

function gateFor(conn: ArmConnection): QuotaGate {
  let gate = quotaGates.get(conn);
  if (!gate) {
    gate = { notBefore: 0 };
    quotaGates.set(conn, gate);
  }
  return gate;
}

/** One client (pipeline, token cache) per connection, as armRequest keeps one pipeline per connection. */
const clients = new WeakMap<ArmConnection, ResourceGraphClient>();

function clientFor(conn: ArmConnection): ResourceGraphClient {
  let client = clients.get(conn);
  if (!client) {
    client = newClient(conn);
    clients.set(conn, client);
  }
  return client;
}

function newClient(conn: ArmConnection): ResourceGraphClient {
  return new ResourceGraphClient(conn.credential, {
    endpoint: conn.endpoint,
    credentials: { scopes: [conn.scope] },
    retryOptions: { maxRetries: 0 },
    userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
    httpClient: conn.httpClient,
    additionalPolicies: conn.policies.map((policy) => ({ policy, position: "perCall" as const })),
  });
}

interface RawResponse {
  status: number;
  headers: HttpHeaders;
  bodyText: string;
}

async function wait(ms: number): Promise<void> {
  if (ms > 0) await delay(ms);
}

function backoffMs(settings: Settings, retry: number): number {
  const base = Math.min(MAX_BACKOFF_MS, settings.retryDelayMs * 2 ** retry);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function tooLongToWait(error: ArmError, waitMs: number, settings: Settings): ArmError {
  return new ArmError({
    operation: error.operation,
    status: error.status,
    code: error.code,
    armMessage: `${error.armMessage} (asked to wait ${waitMs} ms, more than maxWaitMs ${settings.maxWaitMs})`,
    details: error.details,
    retryAfterMs: waitMs,
    ...(error.requestId ? { requestId: error.requestId } : {}),
  });
}

/** One HTTP exchange: the raw response, or the ArmError for a request that got none. */
async function exchange(client: ResourceGraphClient, request: QueryRequest): Promise<{ raw: RawResponse } | { error: ArmError }> {
  let raw: RawResponse | undefined;
  try {
    await client.resources(request, {
      onResponse: (response) => {
        raw = { status: response.status, headers: response.headers, bodyText: response.bodyAsText ?? "" };
      },
    });
  } catch (e) {
    // The SDK throws for any status but 200 and for unparseable JSON; the raw response says more.
    if (!raw) return { error: networkError(OPERATION, undefined, e) };
  }
  if (!raw) return { error: networkError(OPERATION, undefined, new Error("no response received")) };
  return { raw };
}

/** Sends one QueryRequest; returns the parsed page once ARG answered 200, retrying within bounds. */
async function sendQuery(
  conn: ArmConnection,
  client: ResourceGraphClient,
  request: QueryRequest,
  settings: Settings,
  options: ResourceGraphOptions,
): Promise<ResourceGraphPage> {
  const gate = gateFor(conn);
  let waitReason: ResourceGraphWait["reason"] = "quota";
  for (let attempt = 1; ; attempt += 1) {
    const gateWait = gate.notBefore - Date.now();
    if (gateWait > 0) {
      if (gateWait > settings.maxWaitMs) {
        throw new ArmError({ operation: OPERATION, status: 429, code: "QuotaExhausted", retryAfterMs: gateWait,
          armMessage: `Resource Graph quota exhausted for ${gateWait} ms, more than maxWaitMs ${settings.maxWaitMs}` });
      }
      options.onWait?.({ reason: waitReason, waitMs: gateWait, attempt });
      await wait(gateWait);
    }
    waitReason = "quota";

    const outcome = await exchange(client, request);
    let failure: ArmError;
    if ("raw" in outcome) {
      const { raw } = outcome;
      notePacing(gate, raw.headers, options);
      if (raw.status === 200) return pageFrom(raw);
      failure = armErrorFromResponse({
        operation: OPERATION,
        status: raw.status,
        headers: raw.headers,
        bodyText: raw.bodyText,
        defaultRetryAfterMs: readQuotaHeaders(raw.headers).resetsAfterMs ?? DEFAULT_THROTTLE_WAIT_MS,
      });
    } else {
      failure = outcome.error;
    }

    const retry = attempt - 1;
    if (retry >= settings.maxRetries) throw failure;
    if (failure.status === 429) {
      const headers = "raw" in outcome ? outcome.raw.headers : undefined;
      const resetsAfter = headers ? readQuotaHeaders(headers).resetsAfterMs : undefined;
      const retryAfter = headers ? parseRetryAfterMs(headers.get("retry-after")) : undefined;
      // Come back when the quota window resets, whichever header says so; both: the later.
      const waitMs = Math.max(retryAfter ?? 0, resetsAfter ?? 0) || DEFAULT_THROTTLE_WAIT_MS;
      if (waitMs > settings.maxWaitMs) throw tooLongToWait(failure, waitMs, settings);
      // Through the gate (waited at the top of the loop), so every query of this connection waits.
      gate.notBefore = Math.max(gate.notBefore, Date.now() + waitMs);
      waitReason = "throttled";
      continue;
    }
    if (failure.transient) {
      const waitMs = Math.min(settings.maxWaitMs, failure.retryAfterMs ?? backoffMs(settings, retry));
      options.onWait?.({ reason: "transient", waitMs, attempt: attempt + 1 });
      await wait(waitMs);
      continue;
    }
    throw failure;
  }
}

/** Parses a 200 from its raw text (not the SDK's object), so a bad body is quoted in the error. */
function pageFrom(raw: RawResponse): ResourceGraphPage {
  const ctx: ResponseContext = { operation: OPERATION, status: raw.status };
  let body: unknown;
  try {
    body = JSON.parse(raw.bodyText);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw malformedBody(ctx, `response body is not valid JSON: ${reason}; body: ${excerpt(raw.bodyText)}`);
  }
  return parseResourceGraphResponse(body, ctx);
}

/** After every response: if the quota is spent, no request of this connection goes out before it resets. */
function notePacing(gate: QuotaGate, headers: HttpHeaders, options: ResourceGraphOptions): void {
  const quota = readQuotaHeaders(headers);
  if (quota.remaining !== undefined && quota.remaining <= 0) {
    const resetsAfter = quota.resetsAfterMs ?? DEFAULT_THROTTLE_WAIT_MS;
    gate.notBefore = Math.max(gate.notBefore, Date.now() + resetsAfter);
  }
  if (headers.get("x-ms-tenant-subscription-limit-hit")?.toLowerCase() === "true") {
    // Above 10,000 subscriptions only the first 10,000 are queried (learn.microsoft.com azure/governance/resource-graph/concepts/guidance-for-throttled-requests).
    options.onWarning?.("Resource Graph used only the first 10,000 subscriptions (x-ms-tenant-subscription-limit-hit)");
    options.onSubscriptionLimitHit?.();
  }
}

// ---------------------------------------------------------------------------------------------------
// Paging
// ---------------------------------------------------------------------------------------------------

/** More pages than this for one scope batch is a server bug (1000 rows x 10 000 pages = 10 M rows). */
const MAX_PAGES_PER_BATCH = 10_000;

/**
 * Runs a query over a scope and yields its rows page by page (empty pages are skipped). Pages follow
 * `$skipToken`, sent back with the same query and scopes as ARG requires (ResourcesNextPageQuery.json).
 */
export async function* queryResourceGraph(
  conn: ArmConnection,
  query: string,
  scope: AuditScope,
  options: ResourceGraphOptions = {},
): AsyncGenerator<Record<string, unknown>[], void, undefined> {
  if (typeof query !== "string" || query.trim() === "") throw new TypeError("queryResourceGraph: query must be a non-empty string");
  const settings = settingsFrom(options);
  const client = clientFor(conn);
  for (const batch of scopeBatches(scope, settings.batchSize)) {
    let skipToken: string | undefined;
    for (let pages = 1; ; pages += 1) {
      const request: QueryRequest = {
        ...batch,
        query,
        options: {
          top: settings.pageSize,
          resultFormat: "objectArray",
          ...(skipToken !== undefined ? { skipToken } : {}),
          ...(options.authorizationScopeFilter ? { authorizationScopeFilter: options.authorizationScopeFilter } : {}),
        },
      };
      const page = await sendQuery(conn, client, request, settings, options);
      if (page.rows.length > 0) yield page.rows;
      if (page.skipToken === undefined) {
        if (page.resultTruncated) {
          // Truncated without a token: part of the scope was not returned, and an audit must not pretend
          // otherwise (happens with limit/take or all-dynamic columns; none of our queries should).
          throw new ArmError({ operation: OPERATION, status: 200, code: "ResultTruncated",
            armMessage: `Resource Graph truncated the result and gave no $skipToken (query: ${excerpt(query, 80)})` });
        }
        break;
      }
      if (page.skipToken === skipToken || pages >= MAX_PAGES_PER_BATCH) {
        throw new ArmError({ operation: OPERATION, status: 200, code: "PagingLoop",
          armMessage: `paging did not end after ${pages} pages (query: ${excerpt(query, 80)})` });
      }
      skipToken = page.skipToken;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Typed queries
// ---------------------------------------------------------------------------------------------------

export interface InvalidRow {
  query: "identityInventory" | "roleAssignments" | "roleDefinitions" | "subscriptionNames";
  row: Record<string, unknown>;
  reason: string;
}

export interface TypedQueryOptions extends ResourceGraphOptions {
  /**
   * Given: a row that does not fit the expected shape is skipped and reported here.
   * Not given: such a row stops the query with a `MalformedResponse` ArmError naming it.
   */
  onInvalidRow?: (invalid: InvalidRow) => void;
}

function rowError(query: InvalidRow["query"], row: Record<string, unknown>, e: unknown, options: TypedQueryOptions): void {
  if (!(e instanceof ArmError)) throw e;
  if (!options.onInvalidRow) throw e;
  options.onInvalidRow({ query, row, reason: e.armMessage });
}

function rowWhere(row: Record<string, unknown>): string {
  return typeof row.id === "string" ? `row ${row.id}` : `row ${show(row)}`;
}

/** One inventory row (identityInventoryQuery). Required: id, name, subscriptionId, resourceGroup, principalId, clientId. */
export function parseIdentityRow(row: Record<string, unknown>, ctx: ResponseContext = { operation: OPERATION }): IdentityInventoryItem {
  const where = rowWhere(row);
  return {
    id: requireString(ctx, row, "id", where),
    name: requireString(ctx, row, "name", where),
    subscriptionId: requireString(ctx, row, "subscriptionId", where),
    resourceGroup: requireString(ctx, row, "resourceGroup", where),
    location: optionalString(ctx, row, "location", where, ""),
    tenantId: optionalString(ctx, row, "tenantId", where, ""),
    principalId: requireString(ctx, row, "principalId", where),
    clientId: requireString(ctx, row, "clientId", where),
    tags: parseTags(ctx, row.tags, where),
  };
}

export interface ListIdentitiesOptions extends TypedQueryOptions {
  /**
   * Drop ids already yielded (case-insensitively) across pages and scope batches. Default true. Costs about
   * 220 bytes per identity for the whole listing: a caller that de-duplicates on its own (the audit inserts
   * rows that fail on a second insert) passes false so its memory stays flat however large the tenant.
   */
  dedupe?: boolean;
}

/**
 * The identity inventory, page by page, de-duplicated by id (case-insensitively) across scope batches
 * unless `dedupe: false`.
 */
export async function* listIdentities(
  conn: ArmConnection,
  scope: AuditScope,
  options: ListIdentitiesOptions = {},
): AsyncGenerator<IdentityInventoryItem[], void, undefined> {
  const seen = options.dedupe === false ? undefined : new Set<string>();
  const ctx: ResponseContext = { operation: "listIdentities" };
  for await (const rows of queryResourceGraph(conn, identityInventoryQuery(), scope, options)) {
    const items: IdentityInventoryItem[] = [];
    for (const row of rows) {
      try {
        const item = parseIdentityRow(row, ctx);
        if (seen) {
          const key = resourceIdKey(item.id);
          if (seen.has(key)) continue;
          seen.add(key);
        }
        items.push(item);
      } catch (e) {
        rowError("identityInventory", row, e, options);
      }
    }
    if (items.length > 0) yield items;
  }
}

export interface RoleDefinitionInfo {
  roleName: string;
  wildcardActions: boolean;
}

/** `permissions` is a dynamic column: an array of `{actions, notActions, …}`, or its JSON text. */
function hasWildcardAction(permissions: unknown): boolean {
  let value = permissions;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return false;
    }
  }
  if (!Array.isArray(value)) return false;
  return value.some((p) => {
    const actions = asObject(p)?.actions;
    return Array.isArray(actions) && actions.some((a) => a === "*");
  });
}

/** The GUID at the end of a role definition id: the same for its tenant-level and subscription-level forms. */
function lastSegment(id: string): string {
  return id.replace(/\/+$/, "").split("/").pop() ?? id;
}

/** Role definitions by lower-cased id and by GUID (see listRoleAssignments for why both). */
export function roleDefinitionIndex(rows: Record<string, unknown>[], options: TypedQueryOptions = {}): Map<string, RoleDefinitionInfo> {
  const index = new Map<string, RoleDefinitionInfo>();
  const ctx: ResponseContext = { operation: "listRoleDefinitions" };
  for (const row of rows) {
    try {
      const id = requireString(ctx, row, "id", rowWhere(row)).toLowerCase();
      const info = {
        roleName: optionalString(ctx, row, "roleName", rowWhere(row), "") || lastSegment(id),
        wildcardActions: hasWildcardAction(row.permissions),
      };
      index.set(id, info);
      index.set(lastSegment(id), info);
    } catch (e) {
      rowError("roleDefinitions", row, e, options);
    }
  }
  return index;
}

/** One role assignment row joined with the definitions. Unknown definition: roleName = last id segment. */
export function parseRoleAssignmentRow(
  row: Record<string, unknown>,
  definitions: Map<string, RoleDefinitionInfo>,
  ctx: ResponseContext = { operation: "listRoleAssignments" },
): RoleAssignment {
  const where = rowWhere(row);
  const roleDefinitionId = requireString(ctx, row, "roleDefinitionId", where).toLowerCase();
  const definition = definitions.get(roleDefinitionId) ?? definitions.get(lastSegment(roleDefinitionId));
  return {
    id: requireString(ctx, row, "id", where),
    principalId: requireString(ctx, row, "principalId", where),
    roleDefinitionId,
    roleName: definition?.roleName ?? lastSegment(roleDefinitionId),
    scope: requireString(ctx, row, "scope", where),
    wildcardActions: definition?.wildcardActions ?? false,
  };
}

/** A Resource Graph request that names no subscription or management group: the tenant scope. */
const TENANT_SCOPE: AuditScope = { subscriptions: [], managementGroups: [] };

/**
 * Every role assignment in scope, with its role's name and whether it grants `*`.
 *
 * Definitions are always read at tenant scope, whatever the run's scope: built-in definitions live at the
 * tenant (`/providers/Microsoft.Authorization/roleDefinitions/{guid}`) and custom ones at the management group
 * or subscription that defines them, so a query scoped to the run's subscriptions leaves most of them out
 * and their assignments would be named by GUID and lose their `*` flag (a wildcard role ranked as harmless).
 *
 * Assignments are read over the run's scope with `authorizationScopeFilter: AtScopeAboveAndBelow` (an option
 * of the 2024-04-01 API in SDK 5.0.0) unless the caller chooses otherwise: assignments made at a management
 * group above a subscription, or at the root scope "/", grant access inside it as much as those below it.
 *
 * The join key: assignments name their definition as `/subscriptions/{s}/providers/Microsoft.Authorization/
 * roleDefinitions/{guid}` while built-in definitions are listed at `/providers/Microsoft.Authorization/
 * roleDefinitions/{guid}`; role definition GUIDs are unique, so the join falls back to the GUID.
 */
export async function listRoleAssignments(
  conn: ArmConnection,
  scope: AuditScope,
  options: TypedQueryOptions = {},
): Promise<RoleAssignment[]> {
  const queryOptions: TypedQueryOptions = { authorizationScopeFilter: "AtScopeAboveAndBelow", ...options };
  // At tenant scope there is no requested scope for a filter to relate to: ARG's default applies.
  const { authorizationScopeFilter: _relativeToScopes, ...definitionOptions } = options;
  const definitionRows: Record<string, unknown>[] = [];
  for await (const rows of queryResourceGraph(conn, roleDefinitionsQuery(), TENANT_SCOPE, definitionOptions)) definitionRows.push(...rows);
  const definitions = roleDefinitionIndex(definitionRows, options);

  const assignments: RoleAssignment[] = [];
  const seen = new Set<string>();
  const ctx: ResponseContext = { operation: "listRoleAssignments" };
  for await (const rows of queryResourceGraph(conn, roleAssignmentsQuery(), scope, queryOptions)) {
    for (const row of rows) {
      try {
        const assignment = parseRoleAssignmentRow(row, definitions, ctx);
        const key = resourceIdKey(assignment.id);
        if (seen.has(key)) continue;
        seen.add(key);
        assignments.push(assignment);
      } catch (e) {
        rowError("roleAssignments", row, e, options);
      }
    }
  }
  return assignments;
}

/** Display names of the subscriptions in scope, by lower-cased subscription id. */
export async function listSubscriptionNames(conn: ArmConnection, scope: AuditScope, options: TypedQueryOptions = {}): Promise<Map<string, string>> {
  const ctx: ResponseContext = { operation: "listSubscriptionNames" };
  const names = new Map<string, string>();
  for await (const rows of queryResourceGraph(conn, subscriptionNamesQuery(), scope, options)) {
    for (const row of rows) {
      try {
        const where = rowWhere(row);
        names.set(requireString(ctx, row, "subscriptionId", where).toLowerCase(), requireString(ctx, row, "name", where));
      } catch (e) {
        rowError("subscriptionNames", row, e, options);
      }
    }
  }
  return names;
}
