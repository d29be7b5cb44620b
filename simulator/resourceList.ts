/**
 * ARM's generic resource list, `GET /subscriptions/{s}/resources` (operation `Resources_List`), with
 * `$filter=resourceType eq '…'`, `$expand=createdTime,changedTime,provisioningState` and `$top`.
 *
 * Contract (azure-rest-api-specs resources/…/Microsoft.Resources/stable/2021-04-01/resources.json):
 * - response `ResourceListResult {value: GenericResourceExpanded[], nextLink}`; an item is a GenericResource
 *   (`id, name, type, location, extendedLocation, tags, plan, properties, kind, managedBy, sku, identity`) plus,
 *   "only present if requested via the $expand query parameter", `createdTime`, `changedTime` (read-only
 *   date-times) and `provisioningState`. The list leaves `properties` out, `type` keeps the provider's casing.
 * - nextLink as a real page shows it (keyvault `listVault.json` of the same operation): absolute, every query
 *   parameter again with `$` written `%24`, values .NET-URL-encoded (`+` for spaces, lower-case hex such as
 *   `%2f`), `api-version`, then `&%24skiptoken=` with a base64 token of `{"nextPartitionKey":…,"nextRowKey":…}`.
 * - page sizes are not deterministic in Azure ("It is not enough to create only 40 Key Vaults since paging size
 *   is not deterministic", a public Terraform reproduction of this very listing): the simulator serves 1000
 *   items a page (or `$top`), and every fourth page holds a third of that, possibly none, with a nextLink.
 * - an unsupported `$filter`: 400 `InvalidFilterInQueryString` "Invalid $filter '…' specified in the query
 *   string." (real answers quoted in Azure/azure-sdk-for-net#18748 and Azure/azure-sdk-for-go#2480); only
 *   `resourceType eq '…'` is implemented, any other filter gets that answer.
 * - an api-version Microsoft.Resources does not know: 400 `InvalidApiVersionParameter` with the versions
 *   ARM lists for it (the message of Azure/azure-cli#31331).
 */
import { cloudError, type Reply } from "./cloudError.js";
import { dotNetUrlEncode, pageSizeParam, queryParam } from "./listAssociatedResources.js";
import type { IdentityRecord, SubscriptionRecord, TenantModel } from "./model.js";
import { mix32 } from "./prng.js";
import { resourcesRows } from "./resourceGraphTables.js";
import type { TableRow } from "./resourceGraphRow.js";
import { armTimestamp } from "./tenantGenerator.js";

/** The api-versions ARM accepts for Microsoft.Resources, as its InvalidApiVersionParameter message lists them (Azure/azure-cli#31331). */
export const RESOURCES_API_VERSIONS: readonly string[] = [
  "2024-10-01-preview", "2024-11-01", "2024-08-01", "2024-07-01", "2024-06-01-preview", "2024-03-01", "2023-07-01",
  "2023-07-01-preview", "2023-03-01-preview", "2022-12-01", "2022-11-01-preview", "2022-09-01", "2022-06-01",
  "2022-05-01", "2022-03-01-preview", "2022-01-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-09-01",
  "2020-08-01", "2020-07-01", "2020-06-01", "2020-05-01", "2020-01-01", "2019-11-01", "2019-10-01", "2019-09-01",
  "2019-08-01", "2019-07-01", "2019-06-01", "2019-05-10", "2019-05-01", "2019-03-01", "2018-11-01", "2018-09-01",
  "2018-08-01", "2018-07-01", "2018-06-01", "2018-05-01", "2018-02-01", "2018-01-01", "2017-12-01", "2017-08-01",
  "2017-06-01", "2017-05-10", "2017-05-01", "2017-03-01", "2016-09-01", "2016-07-01", "2016-06-01", "2016-02-01",
  "2015-11-01", "2015-01-01", "2014-04-01-preview", "2014-04-01", "2014-01-01", "2013-03-01", "2014-02-26",
];

export const RESOURCE_LIST_PAGE_SIZE = 1000;
const EXPANDABLE = ["createdTime", "changedTime", "provisioningState"] as const;
type Expandable = (typeof EXPANDABLE)[number];
const IDENTITY_TYPE = "microsoft.managedidentity/userassignedidentities";
const DAY = 86_400_000;

interface ListItem {
  /** GenericResource fields in ARM's order, without the expandable ones. */
  readonly body: Record<string, unknown>;
  readonly createdTime: string;
  readonly changedTime: string;
}

/** `Microsoft.Web/sites` from `/subscriptions/…/providers/Microsoft.Web/sites/app` (nested types included). */
export function providerTypeOf(id: string): string {
  const segments = id.split("/");
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  if (at < 0) return "";
  const namespace = segments[at + 1] ?? "";
  const types: string[] = [];
  for (let i = at + 2; i < segments.length; i += 2) types.push(segments[i] as string);
  return [namespace, ...types].join("/");
}

function changedAfter(createdMs: number, h: number): string {
  // Provisioning finishes a few minutes after creation (`az resource list` shows changedTime 10 minutes after).
  return armTimestamp(createdMs + (h % 600) * 1000 + (h % 997), mix32(h, 9));
}

function identityItem(identity: IdentityRecord): ListItem {
  const body: Record<string, unknown> = {
    id: identity.id,
    name: identity.name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities",
    location: identity.location,
  };
  if (Object.keys(identity.tags).length > 0) body.tags = { ...identity.tags };
  const h = mix32(identity.index, 0x11e);
  return { body, createdTime: identity.createdAt, changedTime: changedAfter(Date.parse(identity.createdAt), h) };
}

function rowItem(row: TableRow, now: number): ListItem {
  const id = String(row.id);
  const body: Record<string, unknown> = { id, name: row.name, type: providerTypeOf(id) };
  if (row.sku !== null && row.sku !== undefined) body.sku = row.sku;
  if (typeof row.kind === "string" && row.kind) body.kind = row.kind;
  body.location = row.location;
  if (row.identity !== null && row.identity !== undefined) body.identity = row.identity;
  const tags = row.tags;
  if (tags && typeof tags === "object" && Object.keys(tags).length > 0) body.tags = tags;
  let h = 0;
  for (let i = 0; i < id.length; i++) h = mix32(h, id.charCodeAt(i));
  const createdMs = now - ((h % 700) + 1) * DAY - (mix32(h, 3) % DAY);
  return { body, createdTime: armTimestamp(createdMs, mix32(h, 5)), changedTime: changedAfter(createdMs, h) };
}

interface ListToken {
  offset: number;
  pageSize: number;
  page: number;
}

/** A token shaped like ARM's (`{"nextPartitionKey":"1!8!…","nextRowKey":"1!N!…"}`, base64), carrying our offset. */
function encodeToken(subscriptionId: string, token: ListToken): string {
  const key = (text: string) => Buffer.from(text, "utf8").toString("base64").replace(/=/g, "-");
  const partition = key(subscriptionId.slice(0, 5).toUpperCase());
  const row = key(`${token.offset}:${token.pageSize}:${token.page}`);
  return Buffer.from(JSON.stringify({ nextPartitionKey: `1!${partition.length}!${partition}`, nextRowKey: `1!${row.length}!${row}` })).toString("base64");
}

function decodeToken(raw: string): ListToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(raw.replace(/ /g, "+"), "base64").toString("utf8")) as { nextRowKey?: unknown };
    if (typeof parsed.nextRowKey !== "string") return undefined;
    const encoded = parsed.nextRowKey.split("!")[2] ?? "";
    const match = /^(\d+):(\d+):(\d+)$/.exec(Buffer.from(encoded.replace(/-/g, "="), "base64").toString("utf8"));
    if (!match) return undefined;
    const [offset, pageSize, page] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return pageSize >= 1 ? { offset, pageSize, page } : undefined;
  } catch {
    return undefined;
  }
}

interface ListQuery {
  filterType: string | undefined;
  expand: ReadonlySet<Expandable>;
  top: number | undefined;
  token: ListToken | undefined;
  /** The parameters to repeat in the nextLink, as sent. */
  filterText: string | undefined;
  expandText: string | undefined;
  topText: string | undefined;
}

const RESOURCE_TYPE_FILTER = /^\s*resourceType\s+eq\s+'((?:[^']|'')*)'\s*$/i;

function parseQuery(params: URLSearchParams): ListQuery | Reply {
  const filterText = queryParam(params, "$filter");
  let filterType: string | undefined;
  if (filterText !== undefined && filterText.trim() !== "") {
    const match = RESOURCE_TYPE_FILTER.exec(filterText);
    if (!match) return cloudError(400, "InvalidFilterInQueryString", `Invalid $filter '${filterText}' specified in the query string.`);
    filterType = (match[1] as string).replace(/''/g, "'").toLowerCase();
  }
  const expandText = queryParam(params, "$expand");
  const expand = new Set<Expandable>();
  for (const part of (expandText ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
    const known = EXPANDABLE.find((e) => e.toLowerCase() === part.toLowerCase());
    if (!known) {
      return cloudError(400, "BadRequest", `The value '${part}' of query parameter '$expand' is invalid: valid values are ${EXPANDABLE.join(", ")}.`, { target: "$expand" });
    }
    expand.add(known);
  }
  const topText = queryParam(params, "$top");
  const top = pageSizeParam(params);
  if (typeof top === "object") return top;
  const tokenText = queryParam(params, "$skiptoken");
  const token = tokenText ? decodeToken(tokenText) : undefined;
  if (tokenText && !token) return cloudError(400, "BadRequest", "The $skiptoken is invalid. Pass back the one of the previous page's nextLink.", { target: "$skiptoken" });
  return { filterType, expand, top, token, filterText, expandText, topText };
}

/** The listing of one subscription, cached by (tenant, subscription, filter, state version). */
export class ResourceList {
  private readonly cache = new Map<string, { version: number; items: ListItem[] }>();

  constructor(private readonly version: () => number) {}

  private items(tenant: TenantModel, subscription: SubscriptionRecord, filterType: string | undefined): ListItem[] {
    const key = `${tenant.tenantId}|${subscription.subscriptionId}|${filterType ?? "*"}`;
    const cached = this.cache.get(key);
    if (cached && cached.version === this.version()) return cached.items;
    let items: ListItem[];
    if (filterType === IDENTITY_TYPE) {
      // The common case, straight from the identities (deleted ones are gone, as in ARM).
      items = tenant.identities.filter((i) => i.subscription === subscription).map(identityItem);
    } else {
      const identityById = new Map(tenant.identities.filter((i) => i.subscription === subscription).map((i) => [i.id, i]));
      const scope = { subscriptions: new Set([subscription.subscriptionId.toLowerCase()]), authorizationVisible: () => false };
      items = [];
      for (const row of resourcesRows(tenant, scope)) {
        if (filterType !== undefined && String(row.type).toLowerCase() !== filterType) continue;
        const identity = row.type === IDENTITY_TYPE ? identityById.get(String(row.id)) : undefined;
        items.push(identity ? identityItem(identity) : rowItem(row, tenant.now));
      }
    }
    if (this.cache.size >= 8) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { version: this.version(), items });
    return items;
  }

  /** One page; `listUrl` is endpoint + the path as the client wrote it. */
  page(tenant: TenantModel, subscription: SubscriptionRecord, params: URLSearchParams, apiVersion: string, listUrl: string): Reply {
    const query = parseQuery(params);
    if ("status" in query) return query;
    const all = this.items(tenant, subscription, query.filterType);
    const pageSize = Math.min(query.token?.pageSize ?? query.top ?? RESOURCE_LIST_PAGE_SIZE, RESOURCE_LIST_PAGE_SIZE);
    const offset = query.token?.offset ?? 0;
    const page = query.token?.page ?? 0;
    // Every fourth page is short (a third of the page size, none when that rounds to 0): ARM's pages are uneven.
    const size = page % 4 === 3 ? Math.floor(pageSize / 3) : pageSize;
    const value = all.slice(offset, offset + size).map((item) => {
      const body: Record<string, unknown> = { ...item.body };
      if (query.expand.has("createdTime")) body.createdTime = item.createdTime;
      if (query.expand.has("changedTime")) body.changedTime = item.changedTime;
      if (query.expand.has("provisioningState")) body.provisioningState = "Succeeded";
      return body;
    });
    const next = offset + value.length;
    if (next >= all.length) return { status: 200, body: { value } };
    const link = [
      ...(query.filterText !== undefined ? [`%24filter=${dotNetUrlEncode(query.filterText)}`] : []),
      ...(query.expandText !== undefined ? [`%24expand=${dotNetUrlEncode(query.expandText)}`] : []),
      ...(query.topText !== undefined ? [`%24top=${dotNetUrlEncode(query.topText)}`] : []),
      `api-version=${dotNetUrlEncode(apiVersion)}`,
      `%24skiptoken=${dotNetUrlEncode(encodeToken(subscription.subscriptionId, { offset: next, pageSize, page: page + 1 }))}`,
    ].join("&");
    return { status: 200, body: { value, nextLink: `${listUrl}?${link}` } };
  }
}
