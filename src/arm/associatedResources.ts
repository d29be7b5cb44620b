/**
 * `POST …/userAssignedIdentities/{name}/listAssociatedResources`: which Azure resources use an identity.
 *
 * Contract (reference folder, see test/fixtures/README.md):
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
import type { AssociatedResource, AssociatedResourcesPage, AssociatedResourcesQuery } from "./types.js";
import type { ArmConnection } from "./connection.js";
import { sendArmRequest } from "./armRequest.js";
import { ArmError, malformedBody, type ResponseContext } from "./errors.js";
import { asObject, optionalString, requireObject, requireString, show } from "./bodyFields.js";
import { identityPath } from "./resourceId.js";

export const ASSOCIATED_RESOURCES_API_VERSIONS = ["2021-09-30-preview", "2022-01-31-preview", "2023-07-31-preview"] as const;
export type AssociatedResourcesApiVersion = (typeof ASSOCIATED_RESOURCES_API_VERSIONS)[number];

/**
 * The version Azure CLI pins (azure-cli identity `_client_factory.py`: the stable 2023-01-31 has no
 * listAssociatedResources) and the one both real recordings used.
 */
export const DEFAULT_ASSOCIATED_RESOURCES_API_VERSION: AssociatedResourcesApiVersion = "2022-01-31-preview";

const OPERATION = "listAssociatedResources";

export interface AssociatedResourcesOptions {
  /** Default 2022-01-31-preview. */
  apiVersion?: AssociatedResourcesApiVersion;
  abortSignal?: AbortSignal;
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number;
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
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return parseAssociatedResourcesPage(response.body, { operation: OPERATION, resourceId: identityId, status: response.status });
}

export interface ListAllAssociatedResourcesOptions extends AssociatedResourcesOptions {
  /** Stop with an error after this many pages (default 1000): a server looping on tokens cannot hang a run. */
  maxPages?: number;
}

/** Default page bound for listAllAssociatedResources. */
export const DEFAULT_MAX_ASSOCIATED_PAGES = 1000;

/**
 * Pages to the end, calling `beforeEachRequest` (the caller's rate limiter) before every request, and
 * yields each page as it arrives (the first page's `totalCount` is the identity's usage count).
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
  const seenTokens = new Set<string>();
  let current: AssociatedResourcesQuery = query;
  for (let pages = 0; ; ) {
    await beforeEachRequest();
    const page = await listAssociatedResourcesPage(conn, identityId, current, options);
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
