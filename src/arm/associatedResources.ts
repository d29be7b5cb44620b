/**
 * `POST …/userAssignedIdentities/{name}/listAssociatedResources`: which Azure resources use an identity.
 *
 * Contract (the copies in test/fixtures/, origins in its README):
 * - swagger msi/…/preview/2022-01-31-preview/ManagedIdentity.json, operation
 *   `UserAssignedIdentities_ListAssociatedResources`: query `$filter`, `$orderby`, `$top`, `$skip`,
 *   `$skipToken`, `api-version`; response `{totalCount, value: AzureResource[], nextLink}`.
 * - Azure CLI recording (test_identity_management.yaml): POST, `Content-Length: 0`, api-version
 *   2022-01-31-preview, body `{"totalCount":0,"value":[]}` with no `nextLink` key at all.
 * - PowerShell recording (Get-AzUserAssignedIdentityAssociatedResource.Recording.json): one
 *   `microsoft.web/sites` item, `type` lower-cased, no nextLink.
 * - Examples (2021-09-30-preview, 2022-01-31-preview, 2023-07-31-preview): `totalCount` sometimes the
 *   string "4"; `nextLink` points at the identity (not the action), uses `skiptoken` without `$`, an
 *   api-version without `-preview`, and a double URL-encoded token.
 * - Limits (seeds/000_94790adf3cc96801.txt): 1 request per second per tenant, HTTP 429 beyond.
 *
 * Hence: no SDK (no released @azure/arm-msi has the operation), no hidden retries (armRequest.ts), and the
 * nextLink is mined for its token, never followed.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { AssociatedResource, AssociatedResourcesPage, AssociatedResourcesQuery } from "./types.js";
import type { ArmConnection } from "./connection.js";
import { sendArmRequest } from "./armRequest.js";
import { ArmError, DEFAULT_RETRY_AFTER_MS, malformedBody, type ResponseContext } from "./errors.js";
import { asObject, optionalString, requireObject, requireString, show } from "./bodyFields.js";
import { identityPath, parseIdentityId } from "./resourceId.js";

export const ASSOCIATED_RESOURCES_API_VERSIONS = ["2021-09-30-preview", "2022-01-31-preview", "2023-07-31-preview"] as const;
export type AssociatedResourcesApiVersion = (typeof ASSOCIATED_RESOURCES_API_VERSIONS)[number];

/**
 * The version Azure CLI pins (azure-cli identity `_client_factory.py`: the stable 2023-01-31 has no
 * listAssociatedResources) and the one both real recordings used.
 */
export const DEFAULT_ASSOCIATED_RESOURCES_API_VERSION: AssociatedResourcesApiVersion = "2022-01-31-preview";

const OPERATION = "listAssociatedResources";

export interface AssociatedResourcesOptions {
  /** Default 2022-01-31-preview; the run's probe may move the audit to another preview version. */
  apiVersion?: AssociatedResourcesApiVersion;
}

// ---------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------

function checkQuery(query: AssociatedResourcesQuery): void {
  for (const key of ["filter", "orderby", "skipToken"] as const) {
    const value = query[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TypeError(`listAssociatedResources: query.${key} must be a non-empty string, got ${show(value)}`);
    }
  }
  // `$top` 0 returns only the count (documented in seeds/000), although the swagger says minimum 1; the
  // docs' own sample sends `$skip=0` against a swagger minimum of 1. Both accept 0 here.
  for (const key of ["top", "skip"] as const) {
    const value = query[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new TypeError(`listAssociatedResources: query.${key} must be an integer >= 0, got ${show(value)}`);
    }
  }
}

/**
 * The URL of the action for an identity and a query. Query names as the swagger and docs write them
 * (`$filter`, `$orderby`, `$top`, `$skip`), literal `$` and values percent-encoded with
 * encodeURIComponent (spaces as %20, never `+`, which OData would read literally).
 *
 * The skiptoken is sent as `$skiptoken`: the 2022-01-31-preview swagger names it `$skipToken`, the docs and
 * the stable API `$skiptoken`; ARM query names are case-insensitive.
 */
export function associatedResourcesUrl(
  endpoint: string,
  identityId: string,
  query: AssociatedResourcesQuery = {},
  apiVersion: AssociatedResourcesApiVersion = DEFAULT_ASSOCIATED_RESOURCES_API_VERSION,
): string {
  if (!(ASSOCIATED_RESOURCES_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new TypeError(
      `listAssociatedResources: apiVersion must be one of ${ASSOCIATED_RESOURCES_API_VERSIONS.join(", ")}, got ${show(apiVersion)}`,
    );
  }
  checkQuery(query);
  const enc = encodeURIComponent;
  const params = [`api-version=${enc(apiVersion)}`];
  if (query.filter !== undefined) params.push(`$filter=${enc(query.filter)}`);
  if (query.orderby !== undefined) params.push(`$orderby=${enc(query.orderby)}`);
  if (query.top !== undefined) params.push(`$top=${query.top}`);
  if (query.skip !== undefined) params.push(`$skip=${query.skip}`);
  // The token is the once-decoded value from the nextLink (see skipTokenFromNextLink); encoding it once
  // here reproduces the nextLink's bytes on the wire, so the server reads back the token it issued.
  if (query.skipToken !== undefined) params.push(`$skiptoken=${enc(query.skipToken)}`);
  return `${endpoint}${identityPath(identityId)}/listAssociatedResources?${params.join("&")}`;
}

// ---------------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------------

/**
 * The skiptoken of a nextLink, percent-decoded exactly once, or undefined when the link has none.
 *
 * Why once. Azure's example nextLink carries `skiptoken=…fQ%253d%253d`: the base64 token `…fQ==` was
 * URL-encoded by the service (`%3d`) and then again when the link was built (`%253d`). Whatever the
 * service does with the value, the one thing guaranteed to work is to send the parameter back with the
 * same bytes it put in the link. Decoding once (to `…fQ%3d%3d`, what any URL parser hands the server)
 * and letting associatedResourcesUrl encode once (back to `%253d`) does exactly that. Decoding twice
 * (to `==`) would put `%3D%3D` on the wire, a different token for a server that decodes only once.
 *
 * The parameter is looked up as `skiptoken` (the example), `$skiptoken` (the docs) or `$skipToken`
 * (the swagger), case-insensitively. Decoding is plain percent-decoding: a `+` stays a `+` (form decoding,
 * as URLSearchParams does, would turn a base64 `+` into a space).
 */
export function skipTokenFromNextLink(nextLink: string): string | undefined {
  const queryStart = nextLink.indexOf("?");
  if (queryStart < 0) return undefined;
  const hashStart = nextLink.indexOf("#", queryStart);
  const query = nextLink.slice(queryStart + 1, hashStart < 0 ? undefined : hashStart);
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = safeDecode(rawName).toLowerCase();
    if (name === "skiptoken" || name === "$skiptoken") {
      const value = safeDecode(eq < 0 ? "" : pair.slice(eq + 1));
      return value === "" ? undefined : value;
    }
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray `%` that is not an escape: the text is taken literally, as servers do.
    return text;
  }
}

/** `totalCount` as a number: Azure sends a number, or a numeric string in one example ("4"). */
function parseTotalCount(ctx: ResponseContext, value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^\s*\d{1,15}\s*$/.test(value)) return Number(value.trim());
  throw malformedBody(ctx, `totalCount must be a non-negative integer or a numeric string, got ${show(value)}`);
}

/** The id's segment after `name` (case-insensitive), e.g. the resource group; "" when absent. */
function idSegmentAfter(id: string, name: string): string {
  const parts = id.split("/");
  const at = parts.findIndex((p) => p.toLowerCase() === name);
  return at >= 0 ? (parts[at + 1] ?? "") : "";
}

/** One `AzureResource`. `id` and `type` are required; the rest default from the id, or to "". */
export function parseAssociatedResource(item: unknown, index: number, ctx: ResponseContext = { operation: OPERATION }): AssociatedResource {
  const where = `value[${index}]`;
  const obj = requireObject(ctx, item, where);
  const id = requireString(ctx, obj, "id", where);
  return {
    id,
    name: optionalString(ctx, obj, "name", where, id.split("/").pop() ?? ""),
    type: requireString(ctx, obj, "type", where),
    resourceGroup: optionalString(ctx, obj, "resourceGroup", where, idSegmentAfter(id, "resourcegroups")),
    subscriptionId: optionalString(ctx, obj, "subscriptionId", where, idSegmentAfter(id, "subscriptions")),
    subscriptionDisplayName: optionalString(ctx, obj, "subscriptionDisplayName", where, ""),
  };
}

/**
 * Parses one page (`AssociatedResourcesListResult`). Tolerates what real responses do: `totalCount` as a
 * numeric string, no `value` (an empty page), `nextLink` absent (both recordings), null or "". Throws a
 * `MalformedResponse` ArmError for anything else, naming the field.
 */
export function parseAssociatedResourcesPage(
  body: unknown,
  ctx: ResponseContext = { operation: OPERATION },
): AssociatedResourcesPage {
  const outer = asObject(body);
  if (!outer) throw malformedBody(ctx, `expected a JSON object {totalCount, value, nextLink}, got ${show(body)}`);
  // Azure's examples put `nextLink` beside `body` in the response record (IdentityListAssociatedResources.json
  // at every preview version); given such a record, read it as the page it was meant to describe.
  const inner = outer.totalCount === undefined ? asObject(outer.body) : undefined;
  const obj = inner ? { ...inner, nextLink: inner.nextLink ?? outer.nextLink } : outer;
  const totalCount = parseTotalCount(ctx, obj.totalCount);
  const rawValue = obj.value;
  if (rawValue !== undefined && rawValue !== null && !Array.isArray(rawValue)) {
    throw malformedBody(ctx, `value must be an array, got ${show(rawValue)}`);
  }
  const value = (rawValue ?? []).map((item, i) => parseAssociatedResource(item, i, ctx));
  const page: AssociatedResourcesPage = { totalCount, value };
  const nextLink = obj.nextLink;
  if (nextLink === undefined || nextLink === null || nextLink === "") return page;
  if (typeof nextLink !== "string") throw malformedBody(ctx, `nextLink must be a string, got ${show(nextLink)}`);
  const token = skipTokenFromNextLink(nextLink);
  if (token === undefined) {
    // A link we cannot continue from: stopping here would silently under-report the identity's usage.
    throw malformedBody(ctx, `nextLink carries no skiptoken to continue from: ${show(nextLink)}`);
  }
  page.nextSkipToken = token;
  return page;
}

// ---------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------

/**
 * One request, one page. Never retries: on 429 it throws an ArmError with `retryAfterMs` from
 * `Retry-After` (seconds or HTTP date; 1000 ms when missing), for the caller's limiter to honour.
 * A continuation is requested by passing the previous page's `nextSkipToken` as `query.skipToken`.
 */
export async function listAssociatedResourcesPage(
  conn: ArmConnection,
  identityId: string,
  query: AssociatedResourcesQuery = {},
  options: AssociatedResourcesOptions = {},
): Promise<AssociatedResourcesPage> {
  const url = associatedResourcesUrl(conn.endpoint, identityId, query, options.apiVersion);
  const response = await sendArmRequest(conn, {
    operation: OPERATION,
    resourceId: identityId,
    method: "POST",
    url,
  });
  return parseAssociatedResourcesPage(response.body, { operation: OPERATION, resourceId: identityId, status: response.status });
}

export interface ListAllAssociatedResourcesOptions extends AssociatedResourcesOptions {
  /**
   * Stop with an error after this many pages (default 1000): a server looping on tokens cannot hang a run.
   * The audit keeps the default; the option stays so a test reaches the guard without 1,000 pages.
   */
  maxPages?: number;
  /**
   * Called when a page's request fails (429, 5xx, no answer, ...) with the error and how many pages were
   * read before it. Resolving true asks for the same page again, after `beforeEachRequest` (so a retry takes
   * a slot of the caller's limiter like any request); false, or no callback, throws the error. The callback
   * may also throw (a caller's own "hand it back" error). Default: no retry, the ARM client's rule.
   */
  retryPage?: (error: unknown, context: { pagesRead: number; attempt: number }) => Promise<boolean>;
}

/** Default page bound for listAllAssociatedResources. */
export const DEFAULT_MAX_ASSOCIATED_PAGES = 1000;

/**
 * Pages to the end, calling `beforeEachRequest` (the caller's rate limiter) before every request, and
 * yields each page as it arrives (the first page's `totalCount` is the identity's usage count). This is
 * the one paging loop: the audit's check (audit/checkIdentity.ts) pages through it, with its retries in
 * `retryPage`, so the skiptoken and page guards below hold for every caller.
 *
 * Continuations re-POST to the action, never to the nextLink (which points at the identity and names a
 * non-preview api-version), with the same filter, orderby and top plus the skiptoken. `$skip` is not
 * repeated: the token already holds the offset (it decodes to `{"RowsToSkip":2,…}` and the API is backed
 * by Resource Graph, whose `$skip` "overrides the next page offset when $skipToken is present",
 * resourcegraph.json), so repeating it would fetch the same page forever.
 */
export async function* listAllAssociatedResources(
  conn: ArmConnection,
  identityId: string,
  query: AssociatedResourcesQuery = {},
  beforeEachRequest: () => Promise<void> = async () => {},
  options: ListAllAssociatedResourcesOptions = {},
): AsyncGenerator<AssociatedResourcesPage, void, undefined> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_ASSOCIATED_PAGES;
  if (!(Number.isSafeInteger(maxPages) && maxPages >= 1)) {
    throw new TypeError(`listAllAssociatedResources: option maxPages must be an integer >= 1, got ${show(maxPages)}`);
  }
  const { skip: _skip, skipToken: _token, ...continuation } = query;
  const { maxPages: _max, retryPage, ...pageOptions } = options;
  const seenTokens = new Set<string>();
  let current: AssociatedResourcesQuery = query;
  for (let pages = 0; ; ) {
    let page: AssociatedResourcesPage;
    for (let attempt = 1; ; attempt++) {
      await beforeEachRequest();
      try {
        page = await listAssociatedResourcesPage(conn, identityId, current, pageOptions);
        break;
      } catch (error) {
        if (!retryPage || !(await retryPage(error, { pagesRead: pages, attempt }))) throw error;
      }
    }
    pages += 1;
    yield page;
    const token = page.nextSkipToken;
    if (token === undefined) return;
    if (seenTokens.has(token) || token === current.skipToken) {
      throw new ArmError({ operation: OPERATION, resourceId: identityId, status: 200, code: "PagingLoop",
        armMessage: `the service returned the same skiptoken twice after ${pages} pages` });
    }
    if (pages >= maxPages) {
      throw new ArmError({ operation: OPERATION, resourceId: identityId, status: 200, code: "TooManyPages",
        armMessage: `still more pages after ${pages} (maxPages); giving up rather than looping` });
    }
    seenTokens.add(token);
    current = { ...continuation, skipToken: token };
  }
}

// ---------------------------------------------------------------------------------------------------
// Is the API still there? (it exists only in preview api-versions)
// ---------------------------------------------------------------------------------------------------

/**
 * The order the probe tries: the default (what Azure CLI pins and both real recordings used), then the
 * newest preview that still has the operation, then the oldest.
 */
export const ASSOCIATED_RESOURCES_PROBE_ORDER: readonly AssociatedResourcesApiVersion[] = [
  DEFAULT_ASSOCIATED_RESOURCES_API_VERSION,
  "2023-07-31-preview",
  "2021-09-30-preview",
];

export type AssociatedResourcesApiProbe =
  | {
      available: true;
      apiVersion: AssociatedResourcesApiVersion;
      tried: string[];
      /** Set when the answer is an assumption, not a confirmation (transient failures, throttling): why. */
      unconfirmed?: string;
    }
  | { available: false; code: string; reason: string; tried: string[] };

export interface ProbeOptions {
  /** Versions to try, in order; default ASSOCIATED_RESOURCES_PROBE_ORDER. */
  versions?: readonly AssociatedResourcesApiVersion[];
  /** Called before every HTTP request (the caller takes a slot of the tenant's 1 request/second limit here). */
  beforeRequest?: () => Promise<void>;
  /** Called after a 429 with its wait (Retry-After, 1000 ms when absent), before the same version is tried again. Default: sleep that long. */
  onThrottled?: (retryAfterMs: number) => Promise<void>;
  /** Attempts per version after 429s and transient failures (5xx, 408, no response), default 3 (tests lower it). */
  maxAttempts?: number;
  /** First backoff after a transient failure, doubled each time, default 1000 ms (tests set 0 to run fast). */
  retryDelayMs?: number;
}

/** The codes ARM answers when a resource type, action or api-version is not (or no longer) served. */
const VERSION_GONE_CODES = new Set(["invalidapiversionparameter", "noregisteredproviderfound", "invalidresourcetype"]);
/** 404 codes about the target (identity, group, subscription): the request reached the provider, the version works. */
const TARGET_NOT_FOUND_CODES = new Set(["resourcenotfound", "resourcegroupnotfound", "subscriptionnotfound"]);

/**
 * Azure's documented limit ("Tenants with more than 5,000 subscriptions get an error", seeds/000): any 400
 * whose code, message or details say so. The simulator answers `TenantSubscriptionLimitExceeded`; Azure's own
 * code is not documented, so the text is matched as well.
 */
export function isSubscriptionLimitError(error: unknown): boolean {
  if (!(error instanceof ArmError)) return false;
  if (error.status !== 400) return false;
  const text = [error.code, error.armMessage, ...error.details.flatMap((d) => [d.code, d.message])].join(" ");
  return /subscriptionlimit|subscription[ -]?limit|5,?000 subscriptions/i.test(text);
}

/**
 * A 404 about the identity, its resource group or its subscription: gone, but the api-version answered. A
 * `ResourceNotFound` counts as about the identity (ARM: "The Resource 'Microsoft.ManagedIdentity/
 * userAssignedIdentities/{name}' under resource group '{rg}' was not found") unless its message names the
 * action instead: then it is the action that is missing.
 */
function isTargetNotFound(error: ArmError): boolean {
  if (error.status !== 404) return false;
  const code = error.code.toLowerCase();
  if (!TARGET_NOT_FOUND_CODES.has(code)) return false;
  return !(code === "resourcenotfound" && /listassociatedresources/i.test(error.armMessage));
}

/**
 * True when a `listAssociatedResources` error means the operation is not served at that api-version:
 * `InvalidApiVersionParameter`, `NoRegisteredProviderFound`, `InvalidResourceType` (any status), or a 404 that
 * is not about the identity, its resource group or its subscription (e.g. a 404 for the action itself, or a
 * `ResourceNotFound` that does not name the identity). The worker uses it to notice the API vanishing mid-run.
 */
export function isApiGone(error: unknown): boolean {
  if (!(error instanceof ArmError)) return false;
  if (VERSION_GONE_CODES.has(error.code.toLowerCase())) return true;
  return error.status === 404 && !isTargetNotFound(error);
}

function probeOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`probeAssociatedResourcesApi: option ${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

async function sleep(ms: number): Promise<void> {
  if (ms > 0) await delay(ms);
}

type VersionOutcome =
  | { kind: "available" }
  | { kind: "gone"; error: ArmError }
  | { kind: "limit"; error: ArmError }
  | { kind: "unconfirmed"; error: ArmError };

/**
 * Which api-version of `listAssociatedResources` still answers, asked with one identity (`$top=1`, one
 * request per attempt, each after `beforeRequest`).
 *
 * Per version, in order (default first, then 2023-07-31-preview, then 2021-09-30-preview):
 * - 200 (any totalCount), or a 404 about the identity, its resource group or its subscription (deleted
 *   meanwhile: the version answered) → `available` with that version;
 * - `InvalidApiVersionParameter`, `NoRegisteredProviderFound`, `InvalidResourceType`, or another 404
 *   (`isApiGone`) → the next version; when none is left, `available: false` with the last code;
 * - a 400 about the 5,000-subscription tenant limit → `available: false` with a reason naming the limit, no
 *   other version tried (the limit is the tenant's, not the version's);
 * - 429 → `onThrottled(retryAfterMs)`, then the same version again; 5xx, 408 or no response → backoff, then
 *   the same version again; both within `maxAttempts` per version.
 *
 * After `maxAttempts` of 429s or transient failures the probe answers `available: true` with the version it
 * could not confirm (the default, unless earlier ones were gone) and `unconfirmed` saying why: a passing
 * outage must not switch the audit to its degraded mode, and the per-identity checks that follow retry and
 * report the real problem themselves (and `isApiGone` recognises the API vanishing then). Any other error (401,
 * 403, another 400) is thrown as the ArmError: it is no answer to "which version", and retrying would not
 * change it.
 */
export async function probeAssociatedResourcesApi(
  conn: ArmConnection,
  identityId: string,
  options: ProbeOptions = {},
): Promise<AssociatedResourcesApiProbe> {
  parseIdentityId(identityId); // a TypeError (InvalidResourceIdError) before any request
  const versions = options.versions ?? ASSOCIATED_RESOURCES_PROBE_ORDER;
  if (!Array.isArray(versions) || versions.length === 0) {
    throw new TypeError("probeAssociatedResourcesApi: option versions must be a non-empty array");
  }
  for (const v of versions) {
    if (!(ASSOCIATED_RESOURCES_API_VERSIONS as readonly string[]).includes(v)) {
      throw new TypeError(`probeAssociatedResourcesApi: unknown api-version ${show(v)}; known: ${ASSOCIATED_RESOURCES_API_VERSIONS.join(", ")}`);
    }
  }
  const maxAttempts = probeOption("maxAttempts", options.maxAttempts, 3, 1, 100);
  const retryDelayMs = probeOption("retryDelayMs", options.retryDelayMs, 1000, 0, 600_000);
  const tried: string[] = [];
  let lastGone: ArmError | undefined;
  for (const apiVersion of versions) {
    tried.push(apiVersion);
    const outcome = await probeVersion(conn, identityId, apiVersion, maxAttempts, retryDelayMs, options);
    if (outcome.kind === "available") return { available: true, apiVersion, tried };
    if (outcome.kind === "limit") {
      return {
        available: false,
        code: outcome.error.code,
        reason:
          "listAssociatedResources refuses tenants with more than 5,000 subscriptions (Azure's documented limit): " +
          `${outcome.error.status} ${outcome.error.code}: ${outcome.error.armMessage}`,
        tried,
      };
    }
    if (outcome.kind === "unconfirmed") {
      // No answer about this version: assume it works rather than spend more of the tenant's 1/s budget.
      return {
        available: true,
        apiVersion,
        tried,
        unconfirmed: `no answer after ${maxAttempts} attempt(s) at ${apiVersion}: ${outcome.error.message}`,
      };
    }
    lastGone = outcome.error;
  }
  const last = lastGone as ArmError;
  return {
    available: false,
    code: last.code,
    reason: `listAssociatedResources is not served at any api-version tried (${tried.join(", ")}); the last answer was ${last.status} ${last.code}: ${last.armMessage}`,
    tried,
  };
}

async function probeVersion(
  conn: ArmConnection,
  identityId: string,
  apiVersion: AssociatedResourcesApiVersion,
  maxAttempts: number,
  retryDelayMs: number,
  options: ProbeOptions,
): Promise<VersionOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    await options.beforeRequest?.();
    try {
      await listAssociatedResourcesPage(conn, identityId, { top: 1 }, { apiVersion });
      return { kind: "available" };
    } catch (e) {
      if (!(e instanceof ArmError)) throw e;
      if (isTargetNotFound(e)) return { kind: "available" };
      if (isSubscriptionLimitError(e)) return { kind: "limit", error: e };
      if (isApiGone(e)) return { kind: "gone", error: e };
      if (e.status !== 429 && !e.transient) throw e;
      if (attempt >= maxAttempts) return { kind: "unconfirmed", error: e };
      if (e.status === 429) {
        const retryAfterMs = e.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
        if (options.onThrottled) await options.onThrottled(retryAfterMs);
        else await sleep(retryAfterMs);
      } else {
        await sleep(Math.min(30_000, e.retryAfterMs ?? retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}
