/**
 * `POST .../userAssignedIdentities/{name}/listAssociatedResources`: query options, paging and the
 * response body, as pure functions of the identity's associations.
 *
 * Quirks reproduced on purpose:
 * - no `nextLink` key at all on the last page (azure-cli recording `{"totalCount":0,"value":[]}`, and
 *   the PowerShell recording's one-item page);
 * - when there is a next page, `nextLink` is as odd as Microsoft's example
 *   (msi/.../2022-01-31-preview/examples/IdentityListAssociatedResources.json): it points at the
 *   identity URL (not the action), uses `skiptoken=` without `$`, carries a double URL-encoded
 *   base64 token of Newtonsoft-indented JSON `{"$id":"1","MaxRows":N,"RowsToSkip":M,"KustoClusterUrl":...}`
 *   and an api-version without `-preview`;
 * - `$top=0` returns only `totalCount` (docs; the swagger's `minimum: 1` is wrong), `$skip=0` is
 *   accepted (the docs' sample uses it);
 * - the skiptoken is accepted as `$skiptoken`, `$skipToken` (2022-01-31-preview swagger) or
 *   `skiptoken` (the nextLink), once or twice URL-encoded.
 *
 * Not implemented: `$filter` and `$orderby` (nothing the app, its tests or benchmarks send); a request with
 * either is answered 400 naming the simulator, so a new caller finds out at once rather than getting
 * an unfiltered list.
 */
import type { AssociatedResource } from "../src/arm/types.js";
import { cloudError, type Reply } from "./cloudError.js";

export const LIST_ASSOCIATED_API_VERSIONS: readonly string[] = ["2021-09-30-preview", "2022-01-31-preview", "2023-07-31-preview"];
/** Page size when no `$top` is given, and the most one page holds (README "Choices"). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 100;
export const KUSTO_CLUSTER_URL = "https://armtopology.kusto.windows.net";

export interface SkipToken {
  maxRows: number;
  rowsToSkip: number;
}

export interface ListQuery {
  top: number | undefined;
  skip: number;
  skipToken: SkipToken | undefined;
}

export interface AssociatedResourcesPage {
  totalCount: number;
  value: AssociatedResource[];
  nextLink?: string;
}

/** The token's JSON exactly as .NET's Newtonsoft writes it indented (CRLF, two spaces). */
export function encodeSkipToken(token: SkipToken): string {
  const json =
    `{\r\n  "$id": "1",\r\n  "MaxRows": ${token.maxRows},\r\n  "RowsToSkip": ${token.rowsToSkip},\r\n` +
    `  "KustoClusterUrl": "${KUSTO_CLUSTER_URL}"\r\n}`;
  return Buffer.from(json, "utf8").toString("base64");
}

/** .NET HttpUtility.UrlEncode: lower-case hex, which is why the example shows `%253d` for `=`. */
export function dotNetUrlEncode(text: string): string {
  return Array.from(Buffer.from(text, "utf8"))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.!*()]/.test(ch)) return ch;
      if (ch === " ") return "+";
      return `%${byte.toString(16).padStart(2, "0")}`;
    })
    .join("");
}

/** The token as it appears in the nextLink: base64, URL-encoded twice. */
export function skipTokenForLink(token: SkipToken): string {
  return dotNetUrlEncode(dotNetUrlEncode(encodeSkipToken(token)));
}

/**
 * Reads a skiptoken however the client sent it back: verbatim from the nextLink (still once encoded
 * after the server's own query decoding), fully decoded, or with `+` turned into a space by a form decoder.
 */
export function decodeSkipToken(raw: string): SkipToken | undefined {
  let text = raw.trim();
  for (let i = 0; i < 3 && /%[0-9a-fA-F]{2}/.test(text); i++) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  text = text.replace(/ /g, "+");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, "base64").toString("utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { MaxRows, RowsToSkip } = parsed as { MaxRows?: unknown; RowsToSkip?: unknown };
    if (!Number.isInteger(MaxRows) || !Number.isInteger(RowsToSkip) || (MaxRows as number) < 0 || (RowsToSkip as number) < 0) return undefined;
    return { maxRows: MaxRows as number, rowsToSkip: RowsToSkip as number };
  } catch {
    return undefined;
  }
}

/** The first query parameter whose name matches one of `names` case-insensitively. */
export function queryParam(params: URLSearchParams, ...names: string[]): string | undefined {
  const wanted = names.map((n) => n.toLowerCase());
  for (const [key, value] of params) if (wanted.includes(key.toLowerCase())) return value;
  return undefined;
}

function invalidParameter(parameter: string, value: string, expected: string): Reply {
  return cloudError(400, "BadRequest", `The value '${value}' of query parameter '${parameter}' is invalid: expected ${expected}.`, { target: parameter });
}

function nonNegativeInteger(value: string): number | undefined {
  return /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : undefined;
}

/**
 * `$top` where a page holds at least one item (the resource list, federated credentials; not this action,
 * whose `$top=0` asks for the count alone): the number, undefined when absent, or a ready 400 reply.
 */
export function pageSizeParam(params: URLSearchParams): number | undefined | Reply {
  const text = queryParam(params, "$top");
  if (text === undefined) return undefined;
  const top = nonNegativeInteger(text);
  return top === undefined || top < 1 ? invalidParameter("$top", text, "an integer of 1 or more") : top;
}

/** Validates the query options; an error is a ready 400 reply. */
export function parseListQuery(params: URLSearchParams): ListQuery | Reply {
  for (const parameter of ["$filter", "$orderby"]) {
    if ((queryParam(params, parameter) ?? "").trim() !== "") {
      return cloudError(400, "BadRequest", `The simulator does not implement ${parameter} on listAssociatedResources (simulator/README.md).`, { target: parameter });
    }
  }
  const topText = queryParam(params, "$top");
  const top = topText === undefined ? undefined : nonNegativeInteger(topText);
  if (topText !== undefined && top === undefined) return invalidParameter("$top", topText, "an integer of 0 or more (0 returns only totalCount)");
  const skipText = queryParam(params, "$skip");
  const skip = skipText === undefined ? 0 : nonNegativeInteger(skipText);
  if (skip === undefined) return invalidParameter("$skip", skipText ?? "", "an integer of 0 or more");
  const tokenText = queryParam(params, "$skiptoken", "skiptoken");
  const skipToken = tokenText === undefined || tokenText === "" ? undefined : decodeSkipToken(tokenText);
  if (tokenText && !skipToken) {
    return cloudError(400, "BadRequest", "The skiptoken is invalid. Pass back the skiptoken of the previous page's nextLink unchanged.", { target: "$skiptoken" });
  }
  return { top, skip, skipToken };
}

export function isReply(value: ListQuery | Reply): value is Reply {
  return "status" in value;
}

/** `2022-01-31-preview` -> `2022-01-31`, as the example's nextLink has it. */
export function withoutPreview(apiVersion: string): string {
  return apiVersion.replace(/-preview$/i, "");
}

/**
 * One page. `identityUrl` is the identity's URL (endpoint + path as the client wrote it, without
 * `/listAssociatedResources`), which is where Azure's nextLink points.
 */
export function listPage(items: readonly AssociatedResource[], query: ListQuery, identityUrl: string, apiVersion: string): AssociatedResourcesPage {
  const totalCount = items.length;
  if (query.top === 0) return { totalCount, value: [] };
  // The token carries the offset of the next page; `$top` overrides its page size when both are sent.
  const offset = query.skipToken ? query.skipToken.rowsToSkip : query.skip;
  const requested = query.top ?? (query.skipToken && query.skipToken.maxRows > 0 ? query.skipToken.maxRows : DEFAULT_PAGE_SIZE);
  const pageSize = Math.min(requested, MAX_PAGE_SIZE);
  const value = items.slice(offset, offset + pageSize).map((item) => ({
    id: item.id,
    name: item.name,
    type: item.type,
    resourceGroup: item.resourceGroup,
    subscriptionId: item.subscriptionId,
    subscriptionDisplayName: item.subscriptionDisplayName,
  }));
  const next = offset + value.length;
  if (value.length === 0 || next >= totalCount) return { totalCount, value };
  const token = skipTokenForLink({ maxRows: pageSize, rowsToSkip: next });
  return { totalCount, value, nextLink: `${identityUrl}?skiptoken=${token}&api-version=${withoutPreview(apiVersion)}` };
}
