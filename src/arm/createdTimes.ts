/**
 * When each user-assigned identity was created, from ARM's generic resource list, one listing per
 * subscription: `GET /subscriptions/{id}/resources?$filter=resourceType eq '…userAssignedIdentities'&
 * $expand=createdTime&api-version=2021-04-01`, paged by `nextLink`.
 *
 * Why not the identity GET: real Azure sends no `systemData` there (neither real recording has it:
 * test/fixtures/azure-powershell/…/Get-AzUserAssignedIdentity.Recording.json and test/fixtures/azure-cli/…/
 * test_identity_management.yaml), so `IdentityDetails.createdAt` is usually absent.
 *
 * Contract (azure-rest-api-specs, resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json,
 * operation `Resources_List`):
 * - query `$filter` (`resourceType eq '…'` is the documented example), `$expand` ("Valid values include
 *   `createdTime`, `changedTime` and `provisioningState`"), `$top`, `api-version`;
 * - response `ResourceListResult {value: GenericResourceExpanded[], nextLink}`; `GenericResourceExpanded.createdTime`
 *   is a read-only `date-time` "only present if requested via the $expand query parameter";
 * - the operation's own example (examples/ListResources.json) has an empty body `{}`: no `value` at all.
 * - A real-shaped page of the same operation (keyvault listVault.json, copied to test/fixtures) carries
 *   `nextLink: https://management.azure.com/subscriptions/…/resources?%24filter=resourceType+eq+%27Microsoft.KeyVault%2fvaults%27&%24top=4&api-version=2015-11-01&%24skiptoken=…`:
 *   an absolute link, `+` for spaces, `%24skiptoken`. Page sizes are not deterministic, so an empty page with a
 *   nextLink is followed like any other.
 * - The spec warns that `$expand` "may also not be compatible when filtering by tag names/values"; we filter
 *   by resource type only. An item without a readable `createdTime` is skipped (`onSkipped`), never an error:
 *   the caller falls back to other sources.
 *
 * Retries: these are ordinary ARM reads (not the 1 request/second action), so 429 and transient failures
 * (5xx, 408, no response) are retried here, bounded (`maxRetries`), honouring `Retry-After`, every wait told to
 * `onWait`; `beforeEachRequest` runs before every HTTP request for the caller's pacing and counting.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { ArmConnection } from "./connection.js";
import { sendArmRequest } from "./armRequest.js";
import { ArmError, malformedBody, type ResponseContext } from "./errors.js";
import { asObject, show } from "./bodyFields.js";
import { nextLinkOnEndpoint } from "./identities.js";
import { parseIdentityId } from "./resourceId.js";

/** The stable Microsoft.Resources API whose `Resources_List` documents `$expand=createdTime`. */
export const RESOURCES_LIST_API_VERSION = "2021-04-01";

/** ARM's resource type of a user-assigned identity, as `$filter=resourceType eq '…'` names it. */
export const USER_ASSIGNED_IDENTITY_RESOURCE_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities";

const OPERATION = "listIdentityCreatedTimes";

export interface IdentityCreatedTime {
  /** The identity's ARM id exactly as Azure sent it (compare with `resourceIdKey`). */
  id: string;
  /** ISO 8601, as Azure sent it (e.g. `2021-03-25T10:11:12.3456789Z`, seven fractional digits included). */
  createdTime: string;
}

export interface CreatedTimesWait {
  reason: "throttled" | "transient";
  waitMs: number;
  /** Attempt number of the request about to be re-sent, from 2. */
  attempt: number;
}

/** The audit uses every default (audit/runEvidence.ts); tests set these to reach the bounds and see the waits quickly. */
export interface ListCreatedTimesOptions {
  /** Retries per page after a 429 or a transient failure (5xx, 408, network), default 5. */
  maxRetries?: number;
  /** Stop with a `TooManyPages` ArmError after this many pages, default 1000. */
  maxPages?: number;
  /** First backoff after a transient failure without Retry-After, doubled each time (with jitter), default 1000 ms. */
  retryDelayMs?: number;
  /** Longest single wait accepted (Retry-After, backoff); a 429 asking for more is thrown. Default 60 s. */
  maxWaitMs?: number;
  /** Told about every wait before a retry, for logs and metrics. */
  onWait?: (event: CreatedTimesWait) => void;
  /** Told about each item left out (no readable `createdTime`, not an identity id, not an object). */
  onSkipped?: (item: unknown, reason: string) => void;
}

/** Default bounds (a subscription holds at most some thousands of identities; a page about a thousand items). */
export const DEFAULT_CREATED_TIMES_MAX_PAGES = 1000;
const DEFAULT_MAX_RETRIES = 5;
const MAX_BACKOFF_MS = 30_000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`${OPERATION}: option ${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

/** Percent-encodes a query value the way Azure's own links do: spaces `%20`, quotes `%27`, never `+`. */
function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/'/g, "%27");
}

/**
 * The first page's URL. `$filter` is encoded as Azure clients do (`resourceType%20eq%20%27Microsoft.ManagedIdentity%2FuserAssignedIdentities%27`);
 * the subscription id must be a GUID (TypeError otherwise), so nothing in it can change the path.
 */
export function createdTimesUrl(endpoint: string, subscriptionId: string): string {
  if (typeof subscriptionId !== "string" || !GUID.test(subscriptionId)) {
    throw new TypeError(`${OPERATION}: subscriptionId must be a subscription GUID, got ${show(subscriptionId)}`);
  }
  const filter = `resourceType eq '${USER_ASSIGNED_IDENTITY_RESOURCE_TYPE}'`;
  return (
    `${endpoint}/subscriptions/${subscriptionId}/resources` +
    `?$filter=${encodeQueryValue(filter)}&$expand=createdTime&api-version=${RESOURCES_LIST_API_VERSION}`
  );
}

/** `2021-03-25T10:11:12Z`, with optional fraction (any number of digits) and offset instead of `Z`. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * True for an ISO 8601 date-time that names a real instant. JavaScript's Date.parse is not relied on for the
 * fraction (Azure writes seven digits); the fraction is cut to milliseconds before the calendar check.
 */
export function isIsoDateTime(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const m = ISO_8601.exec(value.trim());
  if (!m) return false;
  const [, y = "", mo = "", d = "", h = "", mi = "", s = "", fraction = "", zone = ""] = m;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, "0") : "";
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${millis}${zone.toUpperCase()}`);
  if (Number.isNaN(ms)) return false;
  // Date.parse rolls 2021-02-30 over to March; the calendar date must survive the round trip (in UTC for Z).
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return check.getUTCFullYear() === Number(y) && check.getUTCMonth() === Number(mo) - 1 && check.getUTCDate() === Number(d) && Number(h) < 24;
}

export interface CreatedTimesPage {
  items: IdentityCreatedTime[];
  /** Absent on the last page. */
  nextLink?: string;
}

/**
 * One `ResourceListResult`. Tolerant of what real bodies do: no `value` (the spec's own example is `{}`),
 * `nextLink` absent, null or "". Items that are not objects, have no identity id, or have no readable
 * `createdTime` are skipped and reported to `onSkipped`. A body that is not an object, a `value` that is not an
 * array or a `nextLink` that is not a string is a `MalformedResponse` ArmError.
 */
export function parseCreatedTimesPage(
  body: unknown,
  ctx: ResponseContext = { operation: OPERATION },
  onSkipped?: (item: unknown, reason: string) => void,
): CreatedTimesPage {
  const obj = asObject(body);
  if (!obj) throw malformedBody(ctx, `expected a JSON object {value, nextLink}, got ${show(body)}`);
  const rawValue = obj.value;
  if (rawValue !== undefined && rawValue !== null && !Array.isArray(rawValue)) {
    throw malformedBody(ctx, `value must be an array, got ${show(rawValue)}`);
  }
  const items: IdentityCreatedTime[] = [];
  (rawValue ?? []).forEach((item: unknown, i: number) => {
    const skip = (reason: string): void => onSkipped?.(item, `value[${i}]: ${reason}`);
    const rec = asObject(item);
    if (!rec) return skip(`not an object: ${show(item)}`);
    const id = rec.id;
    if (typeof id !== "string" || id === "") return skip(`no id: ${show(item)}`);
    try {
      parseIdentityId(id);
    } catch {
      return skip(`not a user-assigned identity id: ${id}`);
    }
    const createdTime = rec.createdTime;
    if (createdTime === undefined || createdTime === null) return skip(`no createdTime for ${id}`);
    if (!isIsoDateTime(createdTime)) return skip(`createdTime of ${id} is not an ISO 8601 date-time: ${show(createdTime)}`);
    items.push({ id, createdTime });
  });
  const page: CreatedTimesPage = { items };
  const nextLink = obj.nextLink;
  if (nextLink !== undefined && nextLink !== null && nextLink !== "") {
    if (typeof nextLink !== "string") throw malformedBody(ctx, `nextLink must be a string, got ${show(nextLink)}`);
    page.nextLink = nextLink;
  }
  return page;
}

async function wait(ms: number): Promise<void> {
  if (ms > 0) await delay(ms);
}

interface Settings {
  maxRetries: number;
  maxPages: number;
  retryDelayMs: number;
  maxWaitMs: number;
}

/** One page, retried within bounds on 429 (after Retry-After) and on transient failures (backoff). */
async function fetchPage(conn: ArmConnection, url: string, resourceId: string, settings: Settings, options: ListCreatedTimesOptions): Promise<CreatedTimesPage> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await sendArmRequest(conn, { operation: OPERATION, resourceId, method: "GET", url });
      return parseCreatedTimesPage(response.body, { operation: OPERATION, resourceId, status: response.status }, options.onSkipped);
    } catch (e) {
      if (!(e instanceof ArmError)) throw e;
      const retry = attempt - 1;
      if (retry >= settings.maxRetries) throw e;
      let event: CreatedTimesWait;
      if (e.status === 429) {
        // armErrorFromResponse fills retryAfterMs for every 429 (Retry-After, else 1000 ms).
        const waitMs = e.retryAfterMs ?? 1000;
        if (waitMs > settings.maxWaitMs) throw e;
        event = { reason: "throttled", waitMs, attempt: attempt + 1 };
      } else if (e.transient) {
        const backoff = Math.round(Math.min(MAX_BACKOFF_MS, settings.retryDelayMs * 2 ** retry) * (0.8 + Math.random() * 0.4));
        event = { reason: "transient", waitMs: Math.min(settings.maxWaitMs, e.retryAfterMs ?? backoff), attempt: attempt + 1 };
      } else {
        throw e;
      }
      options.onWait?.(event);
      await wait(event.waitMs);
    }
  }
}

/**
 * Every user-assigned identity of one subscription with its creation time, page by page (empty pages are
 * not yielded). One listing per subscription, never one call per identity.
 *
 * Paging follows `nextLink` on the connection's own endpoint only (`nextLinkOnEndpoint`: the link's path and
 * query, byte for byte, on our origin, so the bearer token never goes to another host); a link seen twice is a
 * `PagingLoop` ArmError, more than `maxPages` pages a `TooManyPages` ArmError. Errors that outlast the retries
 * (404 `SubscriptionNotFound`, 403 `AuthorizationFailed`, …) are thrown as ArmErrors naming the operation and
 * the subscription.
 */
export async function* listIdentityCreatedTimes(
  conn: ArmConnection,
  subscriptionId: string,
  options: ListCreatedTimesOptions = {},
): AsyncGenerator<IdentityCreatedTime[], void, undefined> {
  let url = createdTimesUrl(conn.endpoint, subscriptionId);
  const settings: Settings = {
    maxRetries: intOption("maxRetries", options.maxRetries, DEFAULT_MAX_RETRIES, 0, 100),
    maxPages: intOption("maxPages", options.maxPages, DEFAULT_CREATED_TIMES_MAX_PAGES, 1, 1_000_000),
    retryDelayMs: intOption("retryDelayMs", options.retryDelayMs, 1000, 0, 600_000),
    maxWaitMs: intOption("maxWaitMs", options.maxWaitMs, 60_000, 0, 3_600_000),
  };
  const resourceId = `/subscriptions/${subscriptionId}`;
  const seen = new Set<string>([url]);
  for (let pages = 1; ; pages += 1) {
    const page = await fetchPage(conn, url, resourceId, settings, options);
    if (page.items.length > 0) yield page.items;
    if (page.nextLink === undefined) return;
    const next = nextLinkOnEndpoint(conn.endpoint, page.nextLink, RESOURCES_LIST_API_VERSION);
    if (seen.has(next)) {
      throw new ArmError({ operation: OPERATION, resourceId, status: 200, code: "PagingLoop",
        armMessage: `the service returned the same nextLink twice after ${pages} pages` });
    }
    if (pages >= settings.maxPages) {
      throw new ArmError({ operation: OPERATION, resourceId, status: 200, code: "TooManyPages",
        armMessage: `still more pages after ${pages} (maxPages); giving up rather than looping` });
    }
    seen.add(next);
    url = next;
  }
}
