/**
 * `/_simulator/*`: the test controls of `RunningSimulator`, over HTTP for out-of-process callers (the
 * CLI-started simulator used by the demo and benchmarks). No bearer token: these paths exist only on
 * the simulator. Bodies are JSON; answers are JSON.
 *
 *   POST   /_simulator/faults              FaultOptions                         -> { faults }
 *   GET    /_simulator/faults                                                   -> { faults }
 *   POST   /_simulator/throttle            { tenantId, count, retryAfterSeconds? }
 *   POST   /_simulator/fail-identity       { identityId, status }  (status 200 clears)
 *   POST   /_simulator/delete-identity     { identityId }
 *   POST   /_simulator/add-association     { identityId, resource? }            -> AssociatedResource
 *   POST   /_simulator/remove-associations { identityId, count? }
 *   GET    /_simulator/requests[?tenantId=&operation=&since=]                   -> RequestLogEntry[]
 *   DELETE /_simulator/requests                                                 (clears the log)
 *   POST   /_simulator/tokens              { tenantId }                         -> { token }
 *   POST   /_simulator/associated-resources-api { enabled: boolean }           -> { enabled }
 *   GET    /_simulator/associated-resources-api                                -> { enabled }
 *   POST   /_simulator/sign-in             { identityId, at?, resultType?, resource? } -> { at, resultType, resource }
 *   POST   /_simulator/sign-in-logs        { tenantId, present }  (the workspace has the sign-in table or not)
 *   POST   /_simulator/logs-fault          { count?, status? | partial: true }  (the next Log Analytics queries)
 *   GET    /_simulator/info                                                     -> SimulatorInfo
 */
import type { AssociatedResource } from "../src/arm/types.js";
import { cloudError, type Reply } from "./cloudError.js";
import type { FaultOptions } from "./faults.js";
import type { LogsFault } from "./logAnalytics.js";
import type { RequestLogEntry, RequestLogFilter } from "./requestLog.js";
import type { AddSignInOptions, SignInTruth } from "./signIns.js";

export interface SimulatorControl {
  info(): unknown;
  faults(): FaultOptions;
  setFaults(f: FaultOptions): void;
  forceThrottle(tenantId: string, opts: { count: number; retryAfterSeconds?: number }): void;
  failIdentity(identityId: string, status: number): void;
  deleteIdentity(identityId: string): void;
  addAssociation(identityId: string, resource?: Partial<AssociatedResource>): AssociatedResource;
  removeAssociations(identityId: string, count?: number): void;
  requests(filter: RequestLogFilter): RequestLogEntry[];
  clearRequestLog(): void;
  issueToken(tenantId: string): string;
  associatedResourcesApi(): "on" | "off";
  setAssociatedResourcesApi(state: "on" | "off"): void;
  addSignIn(identityId: string, options: AddSignInOptions): SignInTruth;
  setSignInLogs(tenantId: string, present: boolean): void;
  failLogsQueries(fault: LogsFault): void;
}

export interface AdminRequest {
  method: string;
  /** Path segments after `_simulator`. */
  segments: string[];
  query: URLSearchParams;
  body: Buffer;
}

function ok(body: unknown = { ok: true }): Reply {
  return { status: 200, body };
}

function parseJson(body: Buffer): Record<string, unknown> {
  const text = body.toString("utf8").trim();
  if (!text) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function requireString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || !value) throw new TypeError(`'${name}' must be a non-empty string`);
  return value;
}

/** `identityId`, or `id` for callers that name it so. */
function identityIdOf(body: Record<string, unknown>): string {
  return requireString(body, body.identityId === undefined && typeof body.id === "string" ? "id" : "identityId");
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number") throw new TypeError(`'${name}' must be a number`);
  return value;
}

function requireNumber(body: Record<string, unknown>, name: string): number {
  const value = optionalNumber(body, name);
  if (value === undefined) throw new TypeError(`'${name}' is required`);
  return value;
}

const OPERATIONS = new Set(["resourceGraph", "listAssociatedResources", "getIdentity", "listFederatedCredentials", "listResources", "admin", "unknown"]);

function dispatch(request: AdminRequest, control: SimulatorControl): Reply {
  const route = `${request.method} ${request.segments.join("/")}`;
  switch (route) {
    case "GET info":
      return ok(control.info());
    case "GET faults":
      return ok({ faults: control.faults() });
    case "POST faults":
      control.setFaults(parseJson(request.body) as FaultOptions);
      return ok({ faults: control.faults() });
    case "POST throttle": {
      const body = parseJson(request.body);
      const retryAfterSeconds = optionalNumber(body, "retryAfterSeconds");
      control.forceThrottle(requireString(body, "tenantId"), { count: requireNumber(body, "count"), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
      return ok();
    }
    case "POST fail-identity": {
      const body = parseJson(request.body);
      control.failIdentity(identityIdOf(body), requireNumber(body, "status"));
      return ok();
    }
    case "POST delete-identity":
      control.deleteIdentity(identityIdOf(parseJson(request.body)));
      return ok();
    case "POST add-association": {
      const body = parseJson(request.body);
      const resource = body.resource;
      if (resource !== undefined && (typeof resource !== "object" || resource === null)) throw new TypeError("'resource' must be an object");
      return ok(control.addAssociation(identityIdOf(body), resource as Partial<AssociatedResource> | undefined));
    }
    case "POST remove-associations": {
      const body = parseJson(request.body);
      control.removeAssociations(identityIdOf(body), optionalNumber(body, "count"));
      return ok();
    }
    case "GET requests": {
      const filter: RequestLogFilter = {};
      const tenantId = request.query.get("tenantId");
      const operation = request.query.get("operation");
      const since = request.query.get("since");
      if (tenantId) filter.tenantId = tenantId;
      if (operation) {
        if (!OPERATIONS.has(operation)) throw new TypeError(`unknown operation '${operation}'`);
        filter.operation = operation as RequestLogFilter["operation"];
      }
      if (since) {
        if (!/^\d+$/.test(since)) throw new TypeError("'since' must be milliseconds since the epoch");
        filter.since = Number(since);
      }
      return ok(control.requests(filter));
    }
    case "DELETE requests":
    case "POST clear-requests":
      control.clearRequestLog();
      return ok();
    case "GET associated-resources-api":
      return ok({ enabled: control.associatedResourcesApi() === "on" });
    case "POST associated-resources-api": {
      const enabled = parseJson(request.body).enabled;
      if (typeof enabled !== "boolean") throw new TypeError("'enabled' must be true or false");
      control.setAssociatedResourcesApi(enabled ? "on" : "off");
      return ok({ enabled });
    }
    case "POST tokens":
      return ok({ token: control.issueToken(requireString(parseJson(request.body), "tenantId")) });
    case "POST sign-in": {
      const body = parseJson(request.body);
      const at = body.at;
      if (at !== undefined && typeof at !== "string" && typeof at !== "number") throw new TypeError("'at' must be an ISO 8601 string or milliseconds");
      const options: AddSignInOptions = {
        ...(at !== undefined ? { at } : {}),
        ...(body.resultType !== undefined ? { resultType: requireString(body, "resultType") } : {}),
        ...(body.resource !== undefined ? { resource: requireString(body, "resource") } : {}),
      };
      return ok(control.addSignIn(identityIdOf(body), options));
    }
    case "POST sign-in-logs": {
      const body = parseJson(request.body);
      if (typeof body.present !== "boolean") throw new TypeError("'present' must be true or false");
      control.setSignInLogs(requireString(body, "tenantId"), body.present);
      return ok();
    }
    case "POST logs-fault": {
      const body = parseJson(request.body);
      const count = optionalNumber(body, "count");
      const status = optionalNumber(body, "status");
      if (body.partial !== undefined && typeof body.partial !== "boolean") throw new TypeError("'partial' must be true or false");
      control.failLogsQueries({ ...(count !== undefined ? { count } : {}), ...(status !== undefined ? { status } : {}), ...(body.partial === true ? { partial: true } : {}) });
      return ok();
    }
    default:
      return cloudError(404, "NotFound", `No simulator control '${request.method} /_simulator/${request.segments.join("/")}'. See simulator/README.md.`);
  }
}

/** Runs one control request; bad input is a 400, an unknown identity or tenant a 404. */
export function handleAdmin(request: AdminRequest, control: SimulatorControl): Reply {
  try {
    return dispatch(request, control);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SyntaxError) return cloudError(400, "InvalidRequestContent", `The body is not valid JSON: ${message}`);
    if (error instanceof TypeError) return cloudError(400, "BadRequest", message);
    if (error instanceof RangeError) return cloudError(404, "NotFound", message);
    throw error;
  }
}
