/**
 * Bodies of the identity GET and of the federated identity credential list.
 *
 * - GET (seeds/003_35fe0356a105438c.txt, api-version 2023-01-31): keys ordered location, tags, id,
 *   name, type, properties{tenantId, principalId, clientId} as in the PowerShell recording
 *   (Get-AzUserAssignedIdentity.Recording.json). No `systemData` by default: neither real recorded GET has
 *   it (that recording at 2023-01-31, the azure-cli recordings at 2022-01-31-preview). With the simulator's
 *   `systemData` option the body ends with the `systemData` the REST reference documents (seeds/003;
 *   createdAt, createdBy...), still never for 2015-08-31-preview and 2018-11-30.
 * - FIC list: items as the CLI recording (id, name, type, properties{issuer, subject, audiences}),
 *   no `nextLink` key on the last page (recording), and when there is a next page a nextLink shaped
 *   like FederatedIdentityCredentialList.json: `.../federatedIdentityCredentials?api-version=...&$skipToken=...`.
 *   Default page size 2 (README "Choices"), so identities with several credentials page.
 */
import { cloudError, type Reply } from "./cloudError.js";
import { federatedCredentialsOf } from "./federatedCredentials.js";
import { pageSizeParam, queryParam } from "./listAssociatedResources.js";
import type { IdentityRecord, TenantModel } from "./model.js";

export const IDENTITY_API_VERSIONS: readonly string[] = [
  "2015-08-31-preview",
  "2018-11-30",
  "2021-09-30-preview",
  "2022-01-31-preview",
  "2023-01-31",
  "2023-07-31-preview",
  "2024-11-30",
  "2025-01-31-preview",
];
export const FIC_API_VERSIONS: readonly string[] = ["2022-01-31-preview", "2023-01-31", "2023-07-31-preview", "2024-11-30", "2025-01-31-preview"];
const WITHOUT_SYSTEM_DATA = new Set(["2015-08-31-preview", "2018-11-30"]);

export const DEFAULT_FIC_PAGE_SIZE = 2;
export const MAX_FIC_PAGE_SIZE = 100;

/** `systemData`: whether the body carries the reference's `systemData` block (off by default, as the recordings). */
export function identityBody(tenant: TenantModel, identity: IdentityRecord, apiVersion: string, systemData = false): Record<string, unknown> {
  const body: Record<string, unknown> = {
    location: identity.location,
    tags: { ...identity.tags },
    id: identity.id,
    name: identity.name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities",
    properties: { tenantId: tenant.tenantId, principalId: identity.principalId, clientId: identity.clientId },
  };
  if (systemData && !WITHOUT_SYSTEM_DATA.has(apiVersion)) {
    body.systemData = {
      createdBy: identity.createdBy,
      createdByType: identity.createdByType,
      createdAt: identity.createdAt,
      lastModifiedBy: identity.createdBy,
      lastModifiedByType: identity.createdByType,
      lastModifiedAt: identity.createdAt,
    };
  }
  return body;
}

interface FicToken {
  o: number;
  n: number;
}

function decodeFicToken(raw: string): FicToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Partial<FicToken>;
    if (Number.isInteger(parsed.o) && Number.isInteger(parsed.n) && (parsed.o as number) >= 0 && (parsed.n as number) >= 1) return parsed as FicToken;
  } catch {
    // reported below
  }
  return undefined;
}

/** One page of federated credentials; `identityUrl` is endpoint + the identity's path. */
export function federatedCredentialPage(
  tenant: TenantModel,
  identity: IdentityRecord,
  params: URLSearchParams,
  apiVersion: string,
  identityUrl: string,
): Reply {
  const top = pageSizeParam(params);
  if (typeof top === "object") return top;
  const tokenText = queryParam(params, "$skiptoken", "skiptoken");
  const token = tokenText ? decodeFicToken(tokenText) : undefined;
  if (tokenText && !token) return cloudError(400, "BadRequest", "The $skipToken is invalid. Pass back the one of the previous page's nextLink.", { target: "$skipToken" });

  const all = federatedCredentialsOf(tenant, identity);
  const offset = token?.o ?? 0;
  const pageSize = Math.min(top ?? token?.n ?? DEFAULT_FIC_PAGE_SIZE, MAX_FIC_PAGE_SIZE);
  const value = all.slice(offset, offset + pageSize).map((fic) => ({
    id: fic.id,
    name: fic.name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    properties: { issuer: fic.issuer, subject: fic.subject, audiences: [...fic.audiences] },
  }));
  const next = offset + value.length;
  if (value.length === 0 || next >= all.length) return { status: 200, body: { value } };
  const nextToken = Buffer.from(JSON.stringify({ o: next, n: pageSize })).toString("base64url");
  return {
    status: 200,
    body: { value, nextLink: `${identityUrl}/federatedIdentityCredentials?api-version=${apiVersion}&$skipToken=${nextToken}` },
  };
}

/** One credential by name (case-insensitive), or undefined. */
export function federatedCredentialBody(tenant: TenantModel, identity: IdentityRecord, name: string): Record<string, unknown> | undefined {
  const fic = federatedCredentialsOf(tenant, identity).find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!fic) return undefined;
  return {
    id: fic.id,
    name: fic.name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    properties: { issuer: fic.issuer, subject: fic.subject, audiences: [...fic.audiences] },
  };
}

/** Identities per page when listing by subscription or resource group (the recording shows 19 in one page). */
export const IDENTITY_LIST_PAGE_SIZE = 100;

/**
 * `GET .../providers/Microsoft.ManagedIdentity/userAssignedIdentities` by subscription or resource group:
 * `{value, nextLink?}` with nextLinks shaped like IdentityListBySubscription.json (`&$skiptoken=...`).
 */
export function identityListPage(
  tenant: TenantModel,
  identities: readonly IdentityRecord[],
  params: URLSearchParams,
  apiVersion: string,
  listUrl: string,
  systemData = false,
): Reply {
  const tokenText = queryParam(params, "$skiptoken", "skiptoken");
  const token = tokenText ? decodeFicToken(tokenText) : undefined;
  if (tokenText && !token) return cloudError(400, "BadRequest", "The $skiptoken is invalid. Pass back the one of the previous page's nextLink.", { target: "$skiptoken" });
  const offset = token?.o ?? 0;
  const value = identities.slice(offset, offset + IDENTITY_LIST_PAGE_SIZE).map((identity) => identityBody(tenant, identity, apiVersion, systemData));
  const next = offset + value.length;
  if (value.length === 0 || next >= identities.length) return { status: 200, body: { value } };
  const nextToken = Buffer.from(JSON.stringify({ o: next, n: IDENTITY_LIST_PAGE_SIZE })).toString("base64url");
  return { status: 200, body: { value, nextLink: `${listUrl}?api-version=${apiVersion}&$skiptoken=${nextToken}` } };
}
