/**
 * `POST /providers/Microsoft.ResourceGraph/resources` (api-versions 2021-03-01 and 2024-04-01):
 * request validation, scopes, the per-user quota, query execution with the KQL engine, result caching
 * and paging, in both result formats.
 *
 * Contract (azure-rest-api-specs resourcegraph 2021-03-01 swagger and examples, README section 5):
 * - request `{subscriptions, managementGroups, query, options:{$top 1..1000, $skip >= 0, $skipToken,
 *   resultFormat, authorizationScopeFilter}}`; response `{totalRecords, count, resultTruncated:
 *   "true"|"false", facets, $skipToken?, data}`;
 * - default page 1000 rows; `$skipToken` is opaque, stable for the same query and scopes, and carries
 *   page size and offset (`$top` / `$skip` override them when sent with it);
 * - no `$skipToken` and `resultTruncated: "true"` when the query uses `limit`/`take`, or when every
 *   output column is dynamic, and rows were left out;
 * - more than 10,000 subscriptions in scope: the first 10,000 are used and
 *   `x-ms-tenant-subscription-limit-hit: true` is returned;
 * - every answer past authentication carries `x-ms-user-quota-remaining` and
 *   `x-ms-user-quota-resets-after`; past the quota, 429 with the real `RateLimiting` body.
 *
 * Query results are cached per (tenant, query, scopes) so paging a 100k-row result by `$skipToken`
 * runs the query once; any mutation of the tenants invalidates the cache.
 */
import { createHash } from "node:crypto";
import type { TokenOwner } from "./auth.js";
import type { Reply } from "./cloudError.js";
import type { CompiledQuery, KqlResult } from "./kql/index.js";
import type { TenantModel } from "./model.js";
import { formatResetsAfter, retryAfterSeconds, WindowQuota } from "./rateLimit.js";
import { ancestryOf, tablesFor, type RowScope } from "./resourceGraphTables.js";
import type { SimulatedTenants } from "./tenantState.js";

export const RESOURCE_GRAPH_API_VERSIONS: readonly string[] = ["2021-03-01", "2024-04-01"];
export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_TOP = 1000;
export const SUBSCRIPTION_SCOPE_LIMIT = 10_000;

export type CompileQuery = (query: string) => CompiledQuery;
type AuthorizationScopeFilter = "AtScopeAndBelow" | "AtScopeAndAbove" | "AtScopeExact" | "AtScopeAboveAndBelow";
const SCOPE_FILTERS: readonly AuthorizationScopeFilter[] = ["AtScopeAndBelow", "AtScopeAndAbove", "AtScopeExact", "AtScopeAboveAndBelow"];

export interface QueryRequest {
  subscriptions: string[];
  managementGroups: string[];
  query: string;
  top: number | undefined;
  skip: number | undefined;
  skipToken: string | undefined;
  resultFormat: "objectArray" | "table";
  authorizationScopeFilter: AuthorizationScopeFilter;
  facets: { expression?: unknown }[];
}

export interface Diagnostics {
  correlationId: string;
  now: Date;
}

/** ARG's error envelope: a support message with timestamp and correlation id, the specifics in `details`. */
export function argError(status: number, diag: Diagnostics, details: { code: string; message: string }[], code = "BadRequest"): Reply {
  return {
    status,
    body: {
      error: {
        code,
        message: `Please provide below info when asking for support: timestamp = ${diag.now.toISOString()}, correlationId = ${diag.correlationId}.`,
        details,
      },
    },
  };
}

export function invalidQuery(diag: Diagnostics, code: string, message: string): Reply {
  return argError(400, diag, [
    { code: "InvalidQuery", message: "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying." },
    { code, message },
  ]);
}

/** The real 429 body (Azure/azure-cli-extensions#3325). */
export function rateLimited(diag: Diagnostics): Reply {
  return argError(
    429,
    diag,
    [
      {
        code: "RateLimiting",
        message:
          "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.",
      },
    ],
    "RateLimiting",
  );
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function badRequest(diag: Diagnostics, code: string, message: string): Reply {
  return argError(400, diag, [{ code, message }]);
}

/** Validates the body; an error is a ready 400 reply. */
export function parseQueryRequest(body: unknown, diag: Diagnostics): QueryRequest | Reply {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return badRequest(diag, "InvalidRequestContent", "The request body must be a JSON object.");
  const request = body as Record<string, unknown>;
  const { subscriptions = [], managementGroups = [], query, options = {}, facets = [] } = request;
  if (typeof query !== "string" || !query.trim()) return badRequest(diag, "MissingQuery", "The request must contain a non-empty 'query' string.");
  if (!isStringArray(subscriptions)) return badRequest(diag, "InvalidSubscriptions", "'subscriptions' must be an array of subscription ids.");
  if (!isStringArray(managementGroups)) return badRequest(diag, "InvalidManagementGroups", "'managementGroups' must be an array of management group names.");
  if (!Array.isArray(facets)) return badRequest(diag, "InvalidFacets", "'facets' must be an array.");
  if (typeof options !== "object" || options === null || Array.isArray(options)) return badRequest(diag, "InvalidQueryOptions", "'options' must be an object.");
  const o = options as Record<string, unknown>;
  const top = o.$top;
  if (top !== undefined && (!Number.isInteger(top) || (top as number) < 1 || (top as number) > MAX_TOP)) {
    return badRequest(diag, "InvalidQueryOptions", `'options.$top' must be an integer from 1 to ${MAX_TOP}, got ${JSON.stringify(top)}.`);
  }
  const skip = o.$skip;
  if (skip !== undefined && (!Number.isInteger(skip) || (skip as number) < 0)) {
    return badRequest(diag, "InvalidQueryOptions", `'options.$skip' must be an integer of 0 or more, got ${JSON.stringify(skip)}.`);
  }
  const skipToken = o.$skipToken;
  if (skipToken !== undefined && skipToken !== null && typeof skipToken !== "string") return badRequest(diag, "InvalidQueryOptions", "'options.$skipToken' must be a string.");
  const format = o.resultFormat ?? "objectArray";
  const resultFormat = typeof format === "string" ? (["objectArray", "table"] as const).find((f) => f.toLowerCase() === format.toLowerCase()) : undefined;
  if (!resultFormat) return badRequest(diag, "InvalidQueryOptions", `'options.resultFormat' must be 'table' or 'objectArray', got ${JSON.stringify(format)}.`);
  const filter = o.authorizationScopeFilter ?? "AtScopeAndBelow";
  const authorizationScopeFilter = typeof filter === "string" ? SCOPE_FILTERS.find((f) => f.toLowerCase() === filter.toLowerCase()) : undefined;
  if (!authorizationScopeFilter) {
    return badRequest(diag, "InvalidQueryOptions", `'options.authorizationScopeFilter' must be one of ${SCOPE_FILTERS.join(", ")}, got ${JSON.stringify(filter)}.`);
  }
  return {
    subscriptions,
    managementGroups,
    query,
    top: top as number | undefined,
    skip: skip as number | undefined,
    skipToken: typeof skipToken === "string" && skipToken ? skipToken : undefined,
    resultFormat,
    authorizationScopeFilter,
    facets: facets as { expression?: unknown }[],
  };
}

interface ResolvedScope {
  scope: RowScope;
  /** Canonical description of the scope for cache keys and skip tokens. */
  key: string;
  limitHit: boolean;
}

function scopeFailure(owner: TokenOwner, scope: string, diag: Diagnostics): Reply {
  return argError(
    403,
    diag,
    [
      {
        code: "AuthorizationFailed",
        message: `The client '${owner.objectId}' with object id '${owner.objectId}' does not have authorization to perform action 'Microsoft.ResourceGraph/resources/read' over scope '${scope}' or the scope is invalid.`,
      },
    ],
    "AuthorizationFailed",
  );
}

/**
 * Scopes: listed subscriptions and management groups must belong to the token's tenant (else 403);
 * none listed means the whole tenant (its root group). `authorizationresources` rows are filtered by
 * `authorizationScopeFilter` against the requested scopes (default AtScopeAndBelow, as ARG).
 */
export function resolveScope(tenant: TenantModel, request: QueryRequest, owner: TokenOwner, diag: Diagnostics): ResolvedScope | Reply {
  const queryScopes: string[] = [];
  const inScope = new Set<string>();
  for (const requested of request.subscriptions) {
    const subscription = tenant.subscriptionByKey.get(requested.trim().toLowerCase());
    if (!subscription) return scopeFailure(owner, `/subscriptions/${requested}`, diag);
    queryScopes.push(`sub:${subscription.subscriptionId}`);
    inScope.add(subscription.subscriptionId);
  }
  const groups = [...request.managementGroups];
  if (request.subscriptions.length === 0 && groups.length === 0) groups.push(tenant.tenantId);
  for (const requested of groups) {
    const group = tenant.managementGroups.find((g) => g.name.toLowerCase() === requested.trim().toLowerCase());
    if (!group) return scopeFailure(owner, `/providers/Microsoft.Management/managementGroups/${requested}`, diag);
    const key = `mg:${group.name.toLowerCase()}`;
    queryScopes.push(key);
    for (const subscription of tenant.subscriptions) {
      const chain = ancestryOf(tenant, { scopeKind: "subscription", subscriptionId: subscription.subscriptionId, resourceGroup: "", managementGroup: "" });
      if (chain.includes(key)) inScope.add(subscription.subscriptionId);
    }
  }
  let subscriptions = [...inScope];
  const limitHit = subscriptions.length > SUBSCRIPTION_SCOPE_LIMIT;
  if (limitHit) subscriptions = subscriptions.slice(0, SUBSCRIPTION_SCOPE_LIMIT);
  const subscriptionSet = new Set(subscriptions.map((s) => s.toLowerCase()));

  const tenantWide = request.subscriptions.length === 0 && request.managementGroups.length === 0;
  // A tenant-scope request covers the root scope "/" too (elevated-access assignments live there).
  const requestedSet = new Set(tenantWide ? [...queryScopes, "/"] : queryScopes);
  // The root scope "/" is above every subscription and management group.
  const above = new Set<string>(["/"]);
  for (const q of queryScopes) {
    const [kind, name] = [q.slice(0, q.indexOf(":")), q.slice(q.indexOf(":") + 1)];
    const chain =
      kind === "sub"
        ? ancestryOf(tenant, { scopeKind: "subscription", subscriptionId: name, resourceGroup: "", managementGroup: "" })
        : ancestryOf(tenant, { scopeKind: "managementGroup", subscriptionId: "", resourceGroup: "", managementGroup: name });
    for (const a of chain) above.add(a);
  }
  const filter = request.authorizationScopeFilter;
  const authorizationVisible = (ancestry: readonly string[]) => {
    const own = ancestry[0];
    if (own === undefined) return false;
    const exact = requestedSet.has(own);
    const below = ancestry.some((a) => requestedSet.has(a));
    const isAbove = above.has(own);
    switch (filter) {
      case "AtScopeExact":
        return exact;
      case "AtScopeAndAbove":
        return isAbove;
      case "AtScopeAboveAndBelow":
        return below || isAbove;
      default:
        return below;
    }
  };
  return {
    scope: { subscriptions: subscriptionSet, authorizationVisible, tenantWide },
    key: `${[...requestedSet].sort().join(",")}|${filter}${tenantWide ? "|tenant" : ""}`,
    limitHit,
  };
}

interface CachedResult {
  version: number;
  result: KqlResult;
  usesLimit: boolean;
}

interface PageToken {
  q: string;
  o: number;
  n: number;
}

function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64");
}

function decodePageToken(text: string): PageToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as Partial<PageToken>;
    if (typeof parsed.q === "string" && Number.isInteger(parsed.o) && Number.isInteger(parsed.n) && (parsed.o as number) >= 0 && (parsed.n as number) >= 1) {
      return parsed as PageToken;
    }
  } catch {
    // fall through: an unreadable token is reported as invalid
  }
  return undefined;
}

/** ARG's column types: string, integer, number, boolean, object, datetime. */
export function argColumnType(type: string): string {
  switch (type) {
    case "string":
    case "integer":
    case "boolean":
    case "datetime":
      return type;
    case "long":
    case "int":
      return "integer";
    case "real":
    case "double":
    case "decimal":
    case "number":
      return "number";
    case "bool":
      return "boolean";
    default:
      return "object";
  }
}

function isKqlError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && error.name === "KqlError" && typeof (error as { code?: unknown }).code === "string";
}

export interface ResourceGraphOptions {
  compile: CompileQuery;
  quota: { limit: number; windowMs: number };
  /** Query results kept for paging. Default 16. */
  cacheSize?: number;
}

export class ResourceGraph {
  private readonly quota: WindowQuota;
  private readonly results = new Map<string, CachedResult>();
  private readonly compiled = new Map<string, CompiledQuery>();
  private readonly cacheSize: number;

  constructor(
    private readonly state: SimulatedTenants,
    private readonly options: ResourceGraphOptions,
  ) {
    this.quota = new WindowQuota(options.quota.limit, options.quota.windowMs);
    this.cacheSize = options.cacheSize ?? 16;
  }

  /** Handles one query of an authenticated caller; `body` is the parsed JSON (or a parse error reply). */
  handle(tenant: TenantModel, owner: TokenOwner, body: unknown, diag: Diagnostics): Reply {
    const quota = this.quota.tryConsume(owner.token, diag.now.getTime());
    const quotaHeaders = {
      "x-ms-user-quota-remaining": String(quota.remaining),
      "x-ms-user-quota-resets-after": formatResetsAfter(quota.resetsAfterMs),
    };
    const withQuota = (reply: Reply): Reply => ({ ...reply, headers: { ...reply.headers, ...quotaHeaders } });
    if (!quota.allowed) {
      return withQuota({ ...rateLimited(diag), headers: { "retry-after": String(retryAfterSeconds(quota.resetsAfterMs)) } });
    }
    const reply = this.run(tenant, owner, body, diag);
    return withQuota({ ...reply, headers: { "x-ms-ratelimit-remaining-tenant-resource-requests": String(quota.remaining), ...reply.headers } });
  }

  private compile(query: string): CompiledQuery {
    let compiled = this.compiled.get(query);
    if (!compiled) {
      compiled = this.options.compile(query);
      if (this.compiled.size >= 256) this.compiled.clear();
      this.compiled.set(query, compiled);
    }
    return compiled;
  }

  private run(tenant: TenantModel, owner: TokenOwner, body: unknown, diag: Diagnostics): Reply {
    const request = parseQueryRequest(body, diag);
    if ("status" in request) return request;
    const resolved = resolveScope(tenant, request, owner, diag);
    if ("status" in resolved) return resolved;

    let compiled: CompiledQuery;
    try {
      compiled = this.compile(request.query);
    } catch (error) {
      if (isKqlError(error)) return invalidQuery(diag, error.code, error.message);
      throw error;
    }
    const cacheKey = `${tenant.tenantId}\n${resolved.key}\n${request.query}`;
    const queryHash = createHash("sha256").update(cacheKey).digest("hex").slice(0, 16);

    let cached = this.results.get(cacheKey);
    if (!cached || cached.version !== this.state.version) {
      let result: KqlResult;
      try {
        result = compiled.run(tablesFor(tenant, resolved.scope));
      } catch (error) {
        if (isKqlError(error)) return invalidQuery(diag, error.code, error.message);
        throw error;
      }
      cached = { version: this.state.version, result, usesLimit: compiled.usesLimit };
      this.results.delete(cacheKey);
      if (this.results.size >= this.cacheSize) {
        const oldest = this.results.keys().next();
        if (!oldest.done) this.results.delete(oldest.value);
      }
    } else {
      this.results.delete(cacheKey);
    }
    this.results.set(cacheKey, cached);

    let token: PageToken | undefined;
    if (request.skipToken !== undefined) {
      token = decodePageToken(request.skipToken);
      if (!token || token.q !== queryHash) {
        return badRequest(diag, "InvalidSkipToken", "The $skipToken is invalid or was issued for another query or other scopes; send the same query and scopes with it.");
      }
    }
    const { columns, rows } = cached.result;
    const offset = request.skip ?? token?.o ?? 0;
    const pageSize = request.top ?? token?.n ?? DEFAULT_PAGE_SIZE;
    const page = rows.slice(offset, offset + pageSize);
    const more = offset + page.length < rows.length;
    const allDynamic = columns.length > 0 && columns.every((c) => argColumnType(c.type) === "object");
    const pageable = !cached.usesLimit && !allDynamic;
    const skipToken = pageable && more ? encodePageToken({ q: queryHash, o: offset + page.length, n: pageSize }) : undefined;

    const data =
      request.resultFormat === "table"
        ? {
            columns: columns.map((c) => ({ name: c.name, type: argColumnType(c.type) })),
            rows: page.map((row) => columns.map((c) => row[c.name] ?? null)),
          }
        : page.map((row) => Object.fromEntries(columns.map((c) => [c.name, row[c.name] ?? null])));
    const facets = request.facets.map((facet) => ({
      expression: typeof facet.expression === "string" ? facet.expression : "",
      resultType: "FacetError",
      errors: [{ code: "NotSupported", message: "The simulator does not compute facets." }],
    }));
    return {
      status: 200,
      headers: resolved.limitHit ? { "x-ms-tenant-subscription-limit-hit": "true" } : {},
      body: {
        totalRecords: rows.length,
        count: page.length,
        resultTruncated: !pageable && more ? "true" : "false",
        facets,
        ...(skipToken ? { $skipToken: skipToken } : {}),
        data,
      },
    };
  }
}

