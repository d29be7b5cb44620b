/**
 * The HTTPS server playing Azure Resource Manager: routing (case-insensitive, as ARM), authentication,
 * ARM's common headers, the order in which ARM and the resource providers reject a request, fault
 * injection, rate limiting and the request log.
 *
 * Order of checks for an identity operation, front door first:
 *   bearer token (401) -> api-version (400) -> subscription (404 SubscriptionNotFound, 401
 *   InvalidAuthenticationTokenTenant for another tenant's) -> resource group (404 ResourceGroupNotFound) -> [resource provider] forced 429s ->
 *   per-tenant rate limit (listAssociatedResources) -> injected faults -> per-identity failure ->
 *   5,000-subscription limit -> identity exists (404 ResourceNotFound) -> query options (400) -> 200.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { checkBearer, type TokenOwner } from "./auth.js";
import { associationsOf } from "./associatedResources.js";
import {
  wrongIssuer,
  cloudError,
  compactTimestamp,
  errorForStatus,
  identityNotFound,
  invalidApiVersion,
  invalidResourceType,
  invalidToken,
  methodNotAllowed,
  missingApiVersion,
  missingAuthorization,
  noRegisteredProvider,
  pathNotFound,
  resourceGroupNotFound,
  serverError,
  subscriptionNotFound,
  type Reply,
} from "./cloudError.js";
import type { FaultInjector, Operation } from "./faults.js";
import { FIC_API_VERSIONS, federatedCredentialBody, federatedCredentialPage, IDENTITY_API_VERSIONS, identityBody, identityListPage } from "./identityApi.js";
import { isReply, LIST_ASSOCIATED_API_VERSIONS, listPage, parseListQuery, queryParam, withoutPreview } from "./listAssociatedResources.js";
import type { IdentityRecord, SubscriptionRecord, TenantModel } from "./model.js";
import { identityKey } from "./model.js";
import type { ReadsBucket, SlidingWindowLimiter } from "./rateLimit.js";
import { retryAfterSeconds } from "./rateLimit.js";
import type { RequestLog, RequestLogEntry } from "./requestLog.js";
import { RESOURCE_GRAPH_API_VERSIONS, type ResourceGraph } from "./resourceGraph.js";
import { RESOURCES_API_VERSIONS, type ResourceList } from "./resourceList.js";
import type { SimulatedTenants } from "./tenantState.js";

/** The docs: "limited to tenants with fewer than 5,000 subscriptions"; more gets an error. */
export const LIST_ASSOCIATED_SUBSCRIPTION_LIMIT = 5000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface RequestContext {
  method: string;
  url: URL;
  /** Path segments as sent (still percent-encoded). */
  rawSegments: string[];
  /** Decoded path segments. */
  segments: string[];
  headers: IncomingMessage["headers"];
  body: Buffer;
  receivedAt: number;
  requestId: string;
  correlationId: string;
}

export type Outcome = { kind: "reply"; reply: Reply; latencyMs?: number } | { kind: "drop" };

export interface ArmServerDeps {
  state: SimulatedTenants;
  resourceGraph: ResourceGraph;
  faults: FaultInjector;
  listLimiter: SlidingWindowLimiter;
  /** Requests per second per tenant allowed on listAssociatedResources (for the 429 message). */
  listRate: () => number;
  reads: ReadsBucket;
  log: RequestLog;
  endpoint: () => string;
  /** ARM's generic resource list (`GET /subscriptions/{s}/resources`). */
  resourceList: ResourceList;
  /** The identity GET carries `systemData` (off by default: the real recordings have none). */
  systemData: boolean;
  /** "off": listAssociatedResources answers as if its api-versions were retired (any api-version). */
  associatedResourcesApi: () => "on" | "off";
  /** The Log Analytics query API under /v1 (logAnalytics.ts); it authenticates on its own terms. */
  logAnalytics?: (ctx: RequestContext, entry: RequestLogEntry) => Reply;
}

const reply = (r: Reply, latencyMs = 0): Outcome => ({ kind: "reply", reply: r, latencyMs });

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RangeError("body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function eq(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b;
}

/** Matches `/subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities` (a list). */
function identityListPath(segments: string[]): { subscriptionId: string; resourceGroup: string | undefined } | undefined {
  const tail = (at: number) => eq(segments[at], "providers") && eq(segments[at + 1], "microsoft.managedidentity") && eq(segments[at + 2], "userassignedidentities");
  if (!eq(segments[0], "subscriptions") || segments[1] === undefined) return undefined;
  if (segments.length === 5 && tail(2)) return { subscriptionId: segments[1], resourceGroup: undefined };
  if (segments.length === 7 && eq(segments[2], "resourcegroups") && tail(4)) return { subscriptionId: segments[1], resourceGroup: segments[3] as string };
  return undefined;
}

/** Matches `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}[/...]`. */
function identityPath(segments: string[]): { subscriptionId: string; resourceGroup: string; name: string; rest: string[] } | undefined {
  if (
    segments.length >= 8 &&
    eq(segments[0], "subscriptions") &&
    eq(segments[2], "resourcegroups") &&
    eq(segments[4], "providers") &&
    eq(segments[5], "microsoft.managedidentity") &&
    eq(segments[6], "userassignedidentities")
  ) {
    return { subscriptionId: segments[1] as string, resourceGroup: segments[3] as string, name: segments[7] as string, rest: segments.slice(8) };
  }
  return undefined;
}

interface Caller {
  owner: TokenOwner;
  tenant: TenantModel;
}

export class ArmServer {
  readonly server: Server;

  constructor(
    private readonly deps: ArmServerDeps,
    tls: { key: string; cert: string },
  ) {
    this.server = createServer({ key: tls.key, cert: tls.cert, keepAlive: true }, (req, res) => {
      void this.onRequest(req, res);
    });
    // Keep-alive sockets must not hold `close()` hostage for long.
    this.server.keepAliveTimeout = 5000;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const method = (req.method ?? "GET").toUpperCase();
    const entry: RequestLogEntry = { at: receivedAt, operation: "unknown", method, path: req.url ?? "/", status: 0 };
    const requestId = randomUUID();
    const clientCorrelation = req.headers["x-ms-correlation-request-id"];
    const correlationId = typeof clientCorrelation === "string" && clientCorrelation ? clientCorrelation : requestId;
    let outcome: Outcome;
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      const rawSegments = url.pathname.split("/").filter((s) => s !== "");
      let segments: string[];
      try {
        segments = rawSegments.map((s) => decodeURIComponent(s));
      } catch {
        outcome = reply(cloudError(400, "InvalidRequestUri", `The request URI '${req.url ?? ""}' is not valid: bad percent-encoding.`));
        return this.finish(res, entry, outcome, requestId, correlationId);
      }
      const ctx: RequestContext = { method, url, rawSegments, segments, headers: req.headers, body, receivedAt, requestId, correlationId };
      outcome = await this.route(ctx, entry);
    } catch (error) {
      if (error instanceof RangeError && error.message === "body too large") {
        outcome = reply(cloudError(413, "RequestEntityTooLarge", `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
      } else {
        process.stderr.write(`simulator: internal error on ${method} ${req.url ?? ""}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        outcome = reply(cloudError(500, "InternalServerError", `The simulator failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    await this.finish(res, entry, outcome, requestId, correlationId);
  }

  private async finish(res: ServerResponse, entry: RequestLogEntry, outcome: Outcome, requestId: string, correlationId: string): Promise<void> {
    if (outcome.kind === "drop") {
      entry.status = 0;
      this.deps.log.push(entry);
      res.socket?.destroy();
      return;
    }
    if (outcome.latencyMs) await new Promise((resolve) => setTimeout(resolve, outcome.latencyMs));
    const { status, headers = {}, body } = outcome.reply;
    const payload = body === undefined ? "" : JSON.stringify(body);
    const now = new Date();
    res.statusCode = status;
    res.setHeader("cache-control", "no-cache");
    res.setHeader("pragma", "no-cache");
    res.setHeader("expires", "-1");
    res.setHeader("strict-transport-security", "max-age=31536000; includeSubDomains");
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("x-ms-request-id", requestId);
    res.setHeader("x-ms-correlation-request-id", correlationId);
    res.setHeader("x-ms-routing-request-id", `SIMULATOR:${compactTimestamp(now)}:${requestId}`);
    if (payload) res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", Buffer.byteLength(payload));
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    entry.status = status;
    this.deps.log.push(entry);
    res.end(payload);
  }

  private authenticate(ctx: RequestContext): Caller | Reply {
    const header = ctx.headers.authorization;
    const check = checkBearer(Array.isArray(header) ? header[0] : header, this.deps.state.tokenRegistry);
    if (check.kind === "missing") return missingAuthorization();
    if (check.kind === "invalid") return invalidToken();
    return { owner: check.owner, tenant: this.deps.state.requireTenant(check.owner.tenantId) };
  }

  private async route(ctx: RequestContext, entry: RequestLogEntry): Promise<Outcome> {
    const { segments, method } = ctx;
    if (eq(segments[0], "v1") && this.deps.logAnalytics) return reply(this.deps.logAnalytics(ctx, entry));
    const identity = identityPath(segments);
    const isGraph = segments.length === 3 && eq(segments[0], "providers") && eq(segments[1], "microsoft.resourcegraph") && eq(segments[2], "resources");
    const isResourceList = segments.length === 3 && eq(segments[0], "subscriptions") && eq(segments[2], "resources");
    let operation: Operation | undefined;
    if (isGraph) operation = "resourceGraph";
    else if (isResourceList) operation = "listResources";
    else if (identity && identity.rest.length === 0) operation = method === "POST" ? "listAssociatedResources" : method === "GET" ? "getIdentity" : undefined;
    else if (identity && identity.rest.length === 1 && eq(identity.rest[0], "listassociatedresources")) operation = "listAssociatedResources";
    else if (identity && identity.rest.length <= 2 && eq(identity.rest[0], "federatedidentitycredentials")) operation = "listFederatedCredentials";
    if (operation) entry.operation = operation;
    if (identity) {
      entry.identityId = `/subscriptions/${identity.subscriptionId}/resourceGroups/${identity.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${identity.name}`;
    }

    const caller = this.authenticate(ctx);
    if ("status" in caller) return reply(caller);
    entry.tenantId = caller.tenant.tenantId;

    if (isGraph) return this.resourceGraph(ctx, caller);
    if (isResourceList) return this.listResources(ctx, caller, segments[1] as string);
    if (identity && operation) return this.identityOperation(ctx, caller, entry, operation, identity);
    if (identity && identity.rest.length === 0) return reply(methodNotAllowed(method));
    const list = identityListPath(segments);
    if (list) return reply(this.identityList(ctx, caller, list));
    return reply(this.unknownPath(ctx));
  }

  private unknownPath(ctx: RequestContext): Reply {
    const { segments } = ctx;
    const apiVersion = ctx.url.searchParams.get("api-version") ?? "";
    const providers = segments.findIndex((s) => s.toLowerCase() === "providers");
    if (providers >= 0 && segments[providers + 1] !== undefined && segments[providers + 2] !== undefined) {
      return invalidResourceType(segments.slice(providers + 2).join("/"), segments[providers + 1] as string, apiVersion);
    }
    return pathNotFound(`https://management.azure.com${ctx.url.pathname}${ctx.url.search}`);
  }

  private resourceGraph(ctx: RequestContext, caller: Caller): Outcome {
    if (ctx.method !== "POST") return reply(methodNotAllowed(ctx.method));
    const apiVersion = ctx.url.searchParams.get("api-version");
    if (!apiVersion) return reply(missingApiVersion());
    if (!RESOURCE_GRAPH_API_VERSIONS.includes(apiVersion)) return reply(invalidApiVersion(apiVersion, RESOURCE_GRAPH_API_VERSIONS));
    const fault = this.fault("resourceGraph", ctx);
    if (fault) return fault;
    let body: unknown;
    const text = ctx.body.toString("utf8");
    try {
      body = JSON.parse(text);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return reply(cloudError(400, "InvalidRequestContent", `The request content was invalid and could not be deserialized: '${detail}'.`), this.deps.faults.latencyFor("resourceGraph"));
    }
    const diag = { correlationId: ctx.correlationId, now: new Date(ctx.receivedAt) };
    return reply(this.deps.resourceGraph.handle(caller.tenant, caller.owner, body, diag), this.deps.faults.latencyFor("resourceGraph"));
  }

  /** Injected drop or 500/503 for the operation, if the dice say so. */
  private fault(operation: Operation, ctx: RequestContext): Outcome | undefined {
    const decision = this.deps.faults.decide(operation);
    if (decision.action === "drop") return { kind: "drop" };
    if (decision.action === "error") return reply(serverError(decision.status, ctx.correlationId, new Date(ctx.receivedAt)), this.deps.faults.latencyFor(operation));
    return undefined;
  }

  private supportedVersions(operation: Operation, rest: string[]): readonly string[] {
    if (operation === "listAssociatedResources") return LIST_ASSOCIATED_API_VERSIONS;
    if (operation === "listFederatedCredentials") return FIC_API_VERSIONS;
    return rest.length === 0 ? IDENTITY_API_VERSIONS : [];
  }

  private checkApiVersion(ctx: RequestContext, operation: Operation, rest: string[], continuation: boolean, location: string): Reply | string {
    const apiVersion = ctx.url.searchParams.get("api-version");
    if (!apiVersion) return missingApiVersion();
    if (operation === "listAssociatedResources" && this.deps.associatedResourcesApi() === "off") return this.retiredAction(apiVersion, continuation, location);
    const supported = this.supportedVersions(operation, rest);
    if (supported.includes(apiVersion)) return apiVersion;
    // Azure's nextLink drops "-preview" (2021-09-30): accept that form when following a nextLink.
    if (continuation && supported.some((v) => withoutPreview(v) === apiVersion)) return apiVersion;
    if (IDENTITY_API_VERSIONS.includes(apiVersion)) {
      const type = operation === "listAssociatedResources" ? "userAssignedIdentities/listAssociatedResources" : "userAssignedIdentities/federatedIdentityCredentials";
      return cloudError(
        400,
        "InvalidResourceType",
        `The resource type '${type}' could not be found in the namespace 'Microsoft.ManagedIdentity' for api version '${apiVersion}'. The supported api-versions are '${supported.join(", ")}'.`,
      );
    }
    const type = operation === "listAssociatedResources" ? "userAssignedIdentities/listAssociatedResources" : operation === "listFederatedCredentials" ? "userAssignedIdentities/federatedIdentityCredentials" : "userAssignedIdentities";
    return noRegisteredProvider(apiVersion, type, supported, location);
  }

  /**
   * listAssociatedResources switched off: what ARM answers once the api-versions that carry the action are
   * retired. The three preview versions (and the nextLink's `-preview`-less form) are no longer registered for
   * the type: 400 NoRegisteredProviderFound listing the versions left (message format of real answers,
   * Azure/azure-cli#28843 and #28496); the versions the type keeps never had the action: 400 InvalidResourceType,
   * as with the API on, without a list of supported versions.
   */
  private retiredAction(apiVersion: string, continuation: boolean, location: string): Reply {
    const retired = LIST_ASSOCIATED_API_VERSIONS.some((v) => v === apiVersion || (continuation && withoutPreview(v) === apiVersion));
    const remaining = IDENTITY_API_VERSIONS.filter((v) => !LIST_ASSOCIATED_API_VERSIONS.includes(v));
    if (!retired && IDENTITY_API_VERSIONS.includes(apiVersion)) {
      return cloudError(
        400,
        "InvalidResourceType",
        `The resource type 'userAssignedIdentities/listAssociatedResources' could not be found in the namespace 'Microsoft.ManagedIdentity' for api version '${apiVersion}'.`,
      );
    }
    return noRegisteredProvider(apiVersion, "userAssignedIdentities", remaining, location);
  }

  private identityOperation(
    ctx: RequestContext,
    caller: Caller,
    entry: RequestLogEntry,
    operation: Operation,
    path: { subscriptionId: string; resourceGroup: string; name: string; rest: string[] },
  ): Outcome {
    const { method } = ctx;
    const continuation = operation === "listAssociatedResources" && path.rest.length === 0;
    if (operation === "listAssociatedResources" && method !== "POST") return reply(methodNotAllowed(method));
    if ((operation === "getIdentity" || operation === "listFederatedCredentials") && method !== "GET") return reply(methodNotAllowed(method));
    if (continuation && queryParam(ctx.url.searchParams, "$skiptoken", "skiptoken") === undefined) return reply(methodNotAllowed(method));

    const owner = this.deps.state.subscription(path.subscriptionId);
    const location = owner?.subscription.locations[0] ?? "global";
    const apiVersion = this.checkApiVersion(ctx, operation, path.rest, continuation, location);
    if (typeof apiVersion !== "string") return reply(apiVersion);
    if (!owner) return reply(subscriptionNotFound(path.subscriptionId));
    const subscription: SubscriptionRecord = owner.subscription;
    if (owner.tenant !== caller.tenant) return reply(wrongIssuer(caller.tenant.tenantId, owner.tenant.tenantId));
    const tenant = caller.tenant;
    const headers = { "x-ms-ratelimit-remaining-subscription-reads": String(this.deps.reads.take(subscription.subscriptionId, ctx.receivedAt)) };
    const withHeaders = (r: Reply): Reply => ({ ...r, headers: { ...headers, ...r.headers } });
    if (!subscription.resourceGroupByKey.has(path.resourceGroup.toLowerCase())) return reply(withHeaders(resourceGroupNotFound(path.resourceGroup)));

    const key = identityKey(path.subscriptionId, path.resourceGroup, path.name);
    const identity: IdentityRecord | undefined = tenant.identityByKey.get(key);
    if (identity) entry.identityId = identity.id;
    const latency = this.deps.faults.latencyFor(operation);

    if (operation === "listAssociatedResources") {
      const forced = this.deps.faults.takeForcedThrottle(tenant.tenantId);
      if (forced !== undefined) return reply(withHeaders(this.throttled(forced)), latency);
      const admission = this.deps.listLimiter.tryAcquire(tenant.tenantId, ctx.receivedAt);
      if (!admission.admitted) return reply(withHeaders(this.throttled(retryAfterSeconds(admission.retryAfterMs))), latency);
    }
    const fault = this.fault(operation, ctx);
    if (fault) return fault.kind === "reply" ? { ...fault, reply: withHeaders(fault.reply) } : fault;
    const failure = this.deps.faults.identityFailure(key);
    if (failure !== undefined) return reply(withHeaders(errorForStatus(failure, ctx.correlationId, new Date(ctx.receivedAt))), latency);

    if (operation === "listAssociatedResources" && tenant.subscriptions.length > LIST_ASSOCIATED_SUBSCRIPTION_LIMIT) {
      return reply(
        withHeaders(
          cloudError(
            400,
            "TenantSubscriptionLimitExceeded",
            `Listing associated resources is limited to tenants with fewer than 5,000 subscriptions; tenant '${tenant.tenantId}' has ${tenant.subscriptions.length} subscriptions.`,
          ),
        ),
        latency,
      );
    }
    if (!identity || identity.deleted) return reply(withHeaders(identityNotFound(path.name, path.resourceGroup)), latency);

    // Where Azure's nextLinks point: the identity's URL as the client wrote it.
    const identityUrl = `${this.deps.endpoint()}/${ctx.rawSegments.slice(0, 8).join("/")}`;
    if (operation === "getIdentity") return reply(withHeaders({ status: 200, body: identityBody(tenant, identity, apiVersion, this.deps.systemData) }), latency);
    if (operation === "listFederatedCredentials") {
      const ficName = path.rest[1];
      if (ficName === undefined) return reply(withHeaders(federatedCredentialPage(tenant, identity, ctx.url.searchParams, apiVersion, identityUrl)), latency);
      const body = federatedCredentialBody(tenant, identity, ficName);
      if (!body) {
        return reply(
          withHeaders(cloudError(404, "ResourceNotFound", `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${path.name}/federatedIdentityCredentials/${ficName}' under resource group '${path.resourceGroup}' was not found.`)),
          latency,
        );
      }
      return reply(withHeaders({ status: 200, body }), latency);
    }
    const query = parseListQuery(ctx.url.searchParams);
    if (isReply(query)) return reply(withHeaders(query), latency);
    const page = listPage(associationsOf(tenant, identity), query, identityUrl, apiVersion);
    return reply(withHeaders({ status: 200, body: page }), latency);
  }

  /** Listing identities through ARM (logged as "unknown": the audit takes its inventory from Resource Graph). */
  private identityList(ctx: RequestContext, caller: Caller, path: { subscriptionId: string; resourceGroup: string | undefined }): Reply {
    if (ctx.method !== "GET") return methodNotAllowed(ctx.method);
    const apiVersion = ctx.url.searchParams.get("api-version");
    if (!apiVersion) return missingApiVersion();
    const owner = this.deps.state.subscription(path.subscriptionId);
    if (!IDENTITY_API_VERSIONS.includes(apiVersion)) return noRegisteredProvider(apiVersion, "userAssignedIdentities", IDENTITY_API_VERSIONS, owner?.subscription.locations[0]);
    if (!owner) return subscriptionNotFound(path.subscriptionId);
    if (owner.tenant !== caller.tenant) return wrongIssuer(caller.tenant.tenantId, owner.tenant.tenantId);
    const headers = { "x-ms-ratelimit-remaining-subscription-reads": String(this.deps.reads.take(owner.subscription.subscriptionId, ctx.receivedAt)) };
    const group = path.resourceGroup?.toLowerCase();
    if (group !== undefined && !owner.subscription.resourceGroupByKey.has(group)) return { ...resourceGroupNotFound(path.resourceGroup ?? ""), headers };
    const identities = caller.tenant.identities.filter((i) => i.subscription === owner.subscription && (group === undefined || i.resourceGroup === group));
    const page = identityListPage(caller.tenant, identities, ctx.url.searchParams, apiVersion, `${this.deps.endpoint()}/${ctx.rawSegments.join("/")}`, this.deps.systemData);
    return { ...page, headers: { ...headers, ...page.headers } };
  }

  /**
   * `GET /subscriptions/{s}/resources` (resourceList.ts). Order: api-version (400 InvalidApiVersionParameter,
   * Microsoft.Resources' own check) -> subscription (404 / 401) -> injected faults -> query options (400) -> 200.
   */
  private listResources(ctx: RequestContext, caller: Caller, subscriptionId: string): Outcome {
    if (ctx.method !== "GET") return reply(methodNotAllowed(ctx.method));
    const apiVersion = ctx.url.searchParams.get("api-version");
    if (!apiVersion) return reply(missingApiVersion());
    if (!RESOURCES_API_VERSIONS.includes(apiVersion)) return reply(invalidApiVersion(apiVersion, RESOURCES_API_VERSIONS));
    const owner = this.deps.state.subscription(subscriptionId);
    if (!owner) return reply(subscriptionNotFound(subscriptionId));
    if (owner.tenant !== caller.tenant) return reply(wrongIssuer(caller.tenant.tenantId, owner.tenant.tenantId));
    const headers = { "x-ms-ratelimit-remaining-subscription-reads": String(this.deps.reads.take(owner.subscription.subscriptionId, ctx.receivedAt)) };
    const fault = this.fault("listResources", ctx);
    if (fault) return fault.kind === "reply" ? { ...fault, reply: { ...fault.reply, headers: { ...headers, ...fault.reply.headers } } } : fault;
    const page = this.deps.resourceList.page(caller.tenant, owner.subscription, ctx.url.searchParams, apiVersion, `${this.deps.endpoint()}/${ctx.rawSegments.join("/")}`);
    return reply({ ...page, headers: { ...headers, ...page.headers } }, this.deps.faults.latencyFor("listResources"));
  }

  private throttled(seconds: number): Reply {
    const rate = this.deps.listRate();
    return {
      ...cloudError(
        429,
        "TooManyRequests",
        `The request was throttled: listAssociatedResources is limited to ${rate} request${rate === 1 ? "" : "s"} per second per tenant. Retry after ${seconds} second${seconds === 1 ? "" : "s"}.`,
      ),
      headers: { "retry-after": String(seconds) },
    };
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        const address = this.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
