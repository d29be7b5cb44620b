/**
 * The identity itself (GET, for `systemData.createdAt`) and its federated identity credentials, at the
 * stable api-version 2023-01-31 (reference: msi/…/stable/2023-01-31/ManagedIdentity.json and its examples,
 * seeds/003_35fe0356a105438c.txt, the PowerShell recording Get-AzUserAssignedIdentity.Recording.json).
 *
 * Retries: none here, on purpose, like listAssociatedResources (armRequest.ts). The audit's queue already
 * retries transient failures and re-enqueues on 429; an SDK retry underneath would hide requests from the
 * run's request counter and from the caller's read pacing (the audit paces each call, audit/deps.ts).
 */
import type { FederatedIdentityCredential, IdentityDetails } from "./types.js";
import type { ArmConnection } from "./connection.js";
import { sendArmRequest } from "./armRequest.js";
import { ArmError, malformedBody, type ResponseContext } from "./errors.js";
import { asObject, optionalString, parseTags, requireObject, requireString, show } from "./bodyFields.js";
import { identityPath } from "./resourceId.js";

/** The stable Managed Identity API (has GET and FIC list; has no listAssociatedResources). */
export const IDENTITY_API_VERSION = "2023-01-31";

// ---------------------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------------------

/**
 * One `Identity` body. `properties.clientId/principalId/tenantId` are required; `tags` default to {};
 * `systemData` is optional (the examples and recordings have none, the REST reference documents it).
 */
export function parseIdentity(body: unknown, ctx: ResponseContext = { operation: "getIdentity" }, where = "identity"): IdentityDetails {
  const obj = requireObject(ctx, body, where);
  const id = requireString(ctx, obj, "id", where);
  const properties = requireObject(ctx, obj.properties, `${where}.properties`);
  const identity: IdentityDetails = {
    id,
    name: optionalString(ctx, obj, "name", where, id.split("/").pop() ?? ""),
    location: optionalString(ctx, obj, "location", where, ""),
    tags: parseTags(ctx, obj.tags, where),
    clientId: requireString(ctx, properties, "clientId", `${where}.properties`),
    principalId: requireString(ctx, properties, "principalId", `${where}.properties`),
    tenantId: requireString(ctx, properties, "tenantId", `${where}.properties`),
  };
  const systemData = asObject(obj.systemData);
  if (systemData) {
    if (typeof systemData.createdAt === "string" && systemData.createdAt) identity.createdAt = systemData.createdAt;
    if (typeof systemData.createdBy === "string" && systemData.createdBy) identity.createdBy = systemData.createdBy;
  }
  return identity;
}

export interface ListPage<T> {
  value: T[];
  /** Absent on the last page. */
  nextLink?: string;
}

function parseListPage<T>(
  body: unknown,
  ctx: ResponseContext,
  parseItem: (item: unknown, where: string) => T,
): ListPage<T> {
  const obj = asObject(body);
  if (!obj) throw malformedBody(ctx, `expected a JSON object {value, nextLink}, got ${show(body)}`);
  const rawValue = obj.value;
  if (rawValue !== undefined && rawValue !== null && !Array.isArray(rawValue)) {
    throw malformedBody(ctx, `value must be an array, got ${show(rawValue)}`);
  }
  const page: ListPage<T> = { value: (rawValue ?? []).map((item, i) => parseItem(item, `value[${i}]`)) };
  const nextLink = obj.nextLink;
  if (nextLink !== undefined && nextLink !== null && nextLink !== "") {
    if (typeof nextLink !== "string") throw malformedBody(ctx, `nextLink must be a string, got ${show(nextLink)}`);
    page.nextLink = nextLink;
  }
  return page;
}

/** A page of `UserAssignedIdentities_ListBySubscription/ListByResourceGroup` (examples and PS recording). */
export function parseIdentityListPage(body: unknown, ctx: ResponseContext = { operation: "listIdentities" }): ListPage<IdentityDetails> {
  return parseListPage(body, ctx, (item, where) => parseIdentity(item, ctx, where));
}

/** One `FederatedIdentityCredential`: issuer, subject and audiences are required (2023-01-31 swagger). */
export function parseFederatedCredential(
  item: unknown,
  ctx: ResponseContext = { operation: "listFederatedCredentials" },
  where = "federatedIdentityCredential",
): FederatedIdentityCredential {
  const obj = requireObject(ctx, item, where);
  const id = requireString(ctx, obj, "id", where);
  const properties = requireObject(ctx, obj.properties, `${where}.properties`);
  const audiences = properties.audiences;
  if (!Array.isArray(audiences) || !audiences.every((a): a is string => typeof a === "string")) {
    throw malformedBody(ctx, `${where}.properties: audiences must be an array of strings, got ${show(audiences)}`);
  }
  return {
    id,
    name: optionalString(ctx, obj, "name", where, id.split("/").pop() ?? ""),
    issuer: requireString(ctx, properties, "issuer", `${where}.properties`),
    subject: requireString(ctx, properties, "subject", `${where}.properties`),
    audiences: [...audiences],
  };
}

/** A page of `FederatedIdentityCredentials_List`. */
export function parseFederatedCredentialsPage(
  body: unknown,
  ctx: ResponseContext = { operation: "listFederatedCredentials" },
): ListPage<FederatedIdentityCredential> {
  return parseListPage(body, ctx, (item, where) => parseFederatedCredential(item, ctx, where));
}

// ---------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------

/** `GET …/userAssignedIdentities/{name}?api-version=2023-01-31`. A deleted identity gives a 404 ArmError. */
export async function getIdentity(conn: ArmConnection, identityId: string): Promise<IdentityDetails> {
  const url = `${conn.endpoint}${identityPath(identityId)}?api-version=${IDENTITY_API_VERSION}`;
  const response = await sendArmRequest(conn, { operation: "getIdentity", resourceId: identityId, method: "GET", url });
  return parseIdentity(response.body, { operation: "getIdentity", resourceId: identityId, status: response.status });
}

/**
 * Where to fetch a nextLink from: the link's path and query on *our* endpoint. The FIC example's link
 * points at the placeholder host `https://serviceRoot` (FederatedIdentityCredentialList.json); and the
 * bearer token must never go to a host other than the connection's endpoint. The query is kept byte for
 * byte, so `$skipToken=` (the example) and `$skiptoken=` (the stable swagger) both round-trip; an
 * api-version is added when the link has none.
 */
export function nextLinkOnEndpoint(endpoint: string, nextLink: string, apiVersion: string): string {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(nextLink);
  // An absolute link's path is complete: put it on our origin. A relative one continues our endpoint.
  const url = absolute
    ? `${new URL(endpoint).origin}${absolute[1] || "/"}`
    : `${endpoint}${nextLink.startsWith("/") ? "" : "/"}${nextLink}`;
  if (/[?&]api-version=/i.test(url)) return url;
  return `${url}${url.includes("?") ? "&" : "?"}api-version=${apiVersion}`;
}

export interface ListFederatedCredentialsOptions {
  /**
   * Stop with an error after this many pages (default 50; an identity holds at most 20 FICs). The audit
   * keeps the default; the option stays so a test reaches the guard in a few pages.
   */
  maxPages?: number;
}

/** `GET …/federatedIdentityCredentials?api-version=2023-01-31`, following nextLinks (bounded). */
export async function listFederatedCredentials(
  conn: ArmConnection,
  identityId: string,
  options: ListFederatedCredentialsOptions = {},
): Promise<FederatedIdentityCredential[]> {
  const operation = "listFederatedCredentials";
  const maxPages = options.maxPages ?? 50;
  if (!(Number.isSafeInteger(maxPages) && maxPages >= 1)) {
    throw new TypeError(`listFederatedCredentials: option maxPages must be an integer >= 1, got ${show(maxPages)}`);
  }
  let url = `${conn.endpoint}${identityPath(identityId)}/federatedIdentityCredentials?api-version=${IDENTITY_API_VERSION}`;
  const credentials: FederatedIdentityCredential[] = [];
  const seen = new Set<string>();
  for (let pages = 1; ; pages += 1) {
    seen.add(url);
    const response = await sendArmRequest(conn, { operation, resourceId: identityId, method: "GET", url });
    const page = parseFederatedCredentialsPage(response.body, { operation, resourceId: identityId, status: response.status });
    credentials.push(...page.value);
    if (page.nextLink === undefined) return credentials;
    const next = nextLinkOnEndpoint(conn.endpoint, page.nextLink, IDENTITY_API_VERSION);
    if (seen.has(next)) {
      throw new ArmError({ operation, resourceId: identityId, status: response.status, code: "PagingLoop",
        armMessage: `the service returned the same nextLink twice after ${pages} pages` });
    }
    if (pages >= maxPages) {
      throw new ArmError({ operation, resourceId: identityId, status: response.status, code: "TooManyPages",
        armMessage: `still more pages after ${pages} (maxPages)` });
    }
    url = next;
  }
}
