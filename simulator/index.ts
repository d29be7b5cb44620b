/**
 * The tenant simulator: an HTTPS server playing Azure Resource Manager (Resource Graph, the
 * user-assigned identity GET, federated credentials and listAssociatedResources) for one or more
 * generated tenants, with the ground truth tests compare against. See README.md in this folder.
 */
import type { AssociatedResource } from "../src/arm/types.js";
import { ArmServer } from "./armServer.js";
import { FaultInjector, normaliseFaults, type FaultOptions } from "./faults.js";
import { createGroundTruth, type GroundTruth } from "./groundTruth.js";
import { LogAnalytics, type LogsFault } from "./logAnalytics.js";
import { keyOfId } from "./model.js";
import { ReadsBucket, SlidingWindowLimiter } from "./rateLimit.js";
import { RequestLog, type RequestLogEntry } from "./requestLog.js";
import { ResourceGraph, type CompileQuery } from "./resourceGraph.js";
import { SignInLogs, type AddSignInOptions, type SignInGroundTruth, type SignInTruth } from "./signIns.js";
import { ResourceList } from "./resourceList.js";
import { DEFAULT_HIDDEN_USAGE_SHARE, DEFAULT_SUBSCRIPTIONS, DEFAULT_UNUSED_SHARE, generateTenant, startOfUtcDay } from "./tenantGenerator.js";
import { SimulatedTenants } from "./tenantState.js";
import { createCertificate } from "./tls.js";

export { OPERATIONS, type FaultOptions, type Operation } from "./faults.js";
export type { RequestLogEntry } from "./requestLog.js";
export type {
  FederatedCredentialTruth,
  GroundTruth,
  HiddenReferenceTruth,
  HiddenUsageKind,
  IdentityTruth,
  ManagementGroupTruth,
  RoleAssignmentTruth,
  RoleDefinitionTruth,
  SubscriptionTruth,
  TenantTruth,
} from "./groundTruth.js";
export { generateTenant, type TenantGenerationOptions } from "./tenantGenerator.js";
export type { AddSignInOptions, SignInGroundTruth, SignInTruth } from "./signIns.js";
export type { LogsFault } from "./logAnalytics.js";
export type { TenantModel } from "./model.js";

export interface SimulatorOptions {
  /** Identities per tenant. */
  identities: number;
  /** Same seed, same tenants (deterministic generation). */
  seed: number | string;
  /** Default 1. */
  tenants?: number;
  /** Default 0 (a free port). */
  port?: number;
  /** listAssociatedResources requests per second per tenant; default 1 (the documented limit). */
  rate?: number;
  /** Share of identities with no use at all (zero associations, no hidden usage); default 0.2. */
  unusedShare?: number;
  /**
   * Share of identities used in ways listAssociatedResources does not list (`IdentityTruth.hiddenUsage`); default
   * 0.05, with at least one of each kind from 20 identities per tenant. 0 turns it off.
   */
  hiddenUsageShare?: number;
  /** The identity GET carries `systemData` (seeds/003's shape). Default false: the real recordings have none. */
  systemData?: boolean;
  /** Default "on". "off": every listAssociatedResources call answers as if its api-versions were retired. */
  associatedResourcesApi?: "on" | "off";
  /** Default 4. Above 5,000, listAssociatedResources answers the documented error. */
  subscriptionsPerTenant?: number;
  /** Resource Graph per-user quota; default 15 queries per 5,000 ms. */
  argQuota?: { limit: number; windowMs: number };
  /** Faults from the start; also settable at run time. */
  faults?: FaultOptions;
  /** Reference time of generation; default the start of the current UTC day (same seed, same day, same tenant). */
  now?: number | Date;
  /** Replaces the KQL engine (for the simulator's own tests). Default: `compileKql` of ./kql. */
  kqlCompiler?: CompileQuery;
  /**
   * Default true: each tenant's Log Analytics workspace holds AADManagedIdentitySignInLogs. False: the
   * workspaces exist without that table (Entra's ManagedIdentitySignInLogs not routed to them).
   */
  signIns?: boolean;
}

export interface SimulatorTenantInfo {
  tenantId: string;
  subscriptions: string[];
  token: string;
  /** The tenant's Log Analytics workspace (served under /v1 of the endpoint); the token works there too. */
  workspaceId: string;
}

export interface SimulatorInfo {
  /** https://127.0.0.1:PORT */
  endpoint: string;
  /** Absolute path of the PEM certificate to trust. */
  caFile: string;
  tenants: SimulatorTenantInfo[];
}

export interface RunningSimulator extends SimulatorInfo {
  /** PEM text of the certificate (its own CA). */
  ca: string;
  truth: GroundTruth & SignInGroundTruth;
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  setFaults(f: FaultOptions): void;
  /** The next `count` listAssociatedResources requests of the tenant get 429 (Retry-After default 1). */
  forceThrottle(tenantId: string, opts: { count: number; retryAfterSeconds?: number }): void;
  /** Every request about the identity answers `status` with a CloudError; 200 clears. */
  failIdentity(identityId: string, status: number): void;
  /** Then GET/FIC/associations give 404 ResourceNotFound and Resource Graph no longer lists it. */
  deleteIdentity(identityId: string): void;
  addAssociation(identityId: string, resource?: Partial<AssociatedResource>): AssociatedResource;
  removeAssociations(identityId: string, count?: number): void;
  /** Another token of the tenant: its own Resource Graph quota, the tenant's shared listAssociatedResources budget. */
  issueToken(tenantId: string): string;
  /** Switches listAssociatedResources on or off at run time (see `associatedResourcesApi`). */
  setAssociatedResourcesApi(state: "on" | "off"): void;
  /** Logs a sign-in of a live identity in its tenant's workspace (default: now, success, Azure Key Vault). */
  addSignIn(identityId: string, options?: AddSignInOptions): SignInTruth;
  /** Adds or removes AADManagedIdentitySignInLogs in the tenant's workspace (queries then get SEM0100). */
  setSignInLogs(tenantId: string, present: boolean): void;
  /** The next `count` (default 1) Log Analytics queries answer `status`, or a partial result. */
  failLogsQueries(fault: LogsFault): void;
  close(): Promise<void>;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new TypeError(`${name} must be an integer of at least ${min}, got ${String(value)}`);
  return value;
}

interface ValidOptions {
  identities: number;
  seed: string;
  tenants: number;
  port: number;
  rate: number;
  unusedShare: number;
  hiddenUsageShare: number;
  systemData: boolean;
  associatedResourcesApi: "on" | "off";
  subscriptionsPerTenant: number;
  argQuota: { limit: number; windowMs: number };
  now: number;
}

/** Validates up front, with a TypeError naming the option (as p-throttle does). */
export function validateOptions(options: SimulatorOptions): ValidOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("startSimulator needs an options object");
  const { seed } = options;
  if ((typeof seed !== "string" && typeof seed !== "number") || (typeof seed === "string" && !seed) || (typeof seed === "number" && !Number.isFinite(seed))) {
    throw new TypeError(`seed must be a non-empty string or a finite number, got ${String(seed)}`);
  }
  if (options.identities === undefined) throw new TypeError("identities is required (identities per tenant)");
  const identities = positiveInteger("identities", options.identities, 0, 0);
  const port = positiveInteger("port", options.port, 0, 0);
  if (port > 65535) throw new TypeError(`port must be at most 65535, got ${port}`);
  const rate = options.rate ?? 1;
  if (typeof rate !== "number" || !(rate > 0) || !Number.isFinite(rate)) throw new TypeError(`rate must be a positive number, got ${String(rate)}`);
  const unusedShare = options.unusedShare ?? DEFAULT_UNUSED_SHARE;
  if (typeof unusedShare !== "number" || !(unusedShare >= 0 && unusedShare <= 1)) throw new TypeError(`unusedShare must be between 0 and 1, got ${String(unusedShare)}`);
  const hiddenUsageShare = options.hiddenUsageShare ?? DEFAULT_HIDDEN_USAGE_SHARE;
  if (typeof hiddenUsageShare !== "number" || !(hiddenUsageShare >= 0 && hiddenUsageShare <= 1)) {
    throw new TypeError(`hiddenUsageShare must be between 0 and 1, got ${String(hiddenUsageShare)}`);
  }
  if (options.systemData !== undefined && typeof options.systemData !== "boolean") throw new TypeError(`systemData must be true or false, got ${String(options.systemData)}`);
  const associatedResourcesApi = options.associatedResourcesApi ?? "on";
  if (associatedResourcesApi !== "on" && associatedResourcesApi !== "off") {
    throw new TypeError(`associatedResourcesApi must be "on" or "off", got ${String(associatedResourcesApi)}`);
  }
  const argQuota = options.argQuota ?? { limit: 15, windowMs: 5000 };
  positiveInteger("argQuota.limit", argQuota.limit, 15);
  positiveInteger("argQuota.windowMs", argQuota.windowMs, 5000);
  if (options.signIns !== undefined && typeof options.signIns !== "boolean") throw new TypeError(`signIns must be true or false, got ${String(options.signIns)}`);
  const now = options.now === undefined ? startOfUtcDay(Date.now()) : typeof options.now === "number" ? options.now : options.now.getTime();
  if (!Number.isFinite(now)) throw new TypeError(`now must be a valid time, got ${String(options.now)}`);
  return {
    identities,
    seed: String(seed),
    tenants: positiveInteger("tenants", options.tenants, 1),
    port,
    rate,
    unusedShare,
    hiddenUsageShare,
    systemData: options.systemData ?? false,
    associatedResourcesApi,
    subscriptionsPerTenant: positiveInteger("subscriptionsPerTenant", options.subscriptionsPerTenant, DEFAULT_SUBSCRIPTIONS),
    argQuota,
    now,
  };
}

/**
 * The per-tenant limiter for a rate in requests per second: `rate` requests per 1 s window when
 * rate >= 1 (fractions rounded down), one request per 1/rate s below 1.
 */
export function limiterForRate(rate: number): SlidingWindowLimiter {
  return rate >= 1 ? new SlidingWindowLimiter(Math.floor(rate), 1000) : new SlidingWindowLimiter(1, Math.ceil(1000 / rate));
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const valid = validateOptions(options);
  const faults = new FaultInjector(valid.seed, normaliseFaults(options.faults));
  const kql = await import("./kql/index.js");
  const compile: CompileQuery = options.kqlCompiler ?? kql.compileKql;

  const models = Array.from({ length: valid.tenants }, (_, tenantIndex) =>
    generateTenant({
      seed: valid.seed,
      tenantIndex,
      identities: valid.identities,
      unusedShare: valid.unusedShare,
      hiddenUsageShare: valid.hiddenUsageShare,
      subscriptions: valid.subscriptionsPerTenant,
      now: valid.now,
    }),
  );
  const state = new SimulatedTenants(models, valid.seed);
  const signIns = new SignInLogs(state, valid.seed, options.signIns ?? true);
  const logAnalytics = new LogAnalytics({ state, signIns, compile: kql.compileKql });
  const truth = Object.assign(createGroundTruth(state), {
    lastSuccessfulSignIn: (id: string) => signIns.lastSuccessfulSignIn(id),
    signInsOf: (id: string) => signIns.signInsOf(id),
  });
  const log = new RequestLog();
  let associatedResourcesApi = valid.associatedResourcesApi;
  const certificate = await createCertificate();
  let endpoint = "";

  const tenantsInfo = (): SimulatorTenantInfo[] =>
    models.map((m) => ({ tenantId: m.tenantId, subscriptions: m.subscriptions.map((s) => s.subscriptionId), token: m.token, workspaceId: signIns.workspaceId(m) }));


  const server = new ArmServer(
    {
      state,
      resourceGraph: new ResourceGraph(state, { compile, quota: valid.argQuota }),
      faults,
      listLimiter: limiterForRate(valid.rate),
      listRate: () => valid.rate,
      reads: new ReadsBucket(),
      log,
      endpoint: () => endpoint,
      resourceList: new ResourceList(() => state.version),
      systemData: valid.systemData,
      associatedResourcesApi: () => associatedResourcesApi,
      logAnalytics: (ctx, entry) =>
        logAnalytics.handle(ctx, (tenantId) => {
          entry.tenantId = tenantId;
        }),
    },
    certificate,
  );
  let port: number;
  try {
    port = await server.listen(valid.port);
  } catch (error) {
    await certificate.dispose();
    throw error;
  }
  endpoint = `https://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    endpoint,
    caFile: certificate.caFile,
    ca: certificate.cert,
    tenants: tenantsInfo(),
    truth,
    requestLog: () => log.list(),
    clearRequestLog: () => log.clear(),
    setFaults: (f) => faults.set(f),
    forceThrottle: (tenantId, opts) => faults.forceThrottle(state.requireTenant(tenantId).tenantId, opts.count, opts.retryAfterSeconds ?? 1),
    failIdentity: (identityId, status) => {
      const key = keyOfId(identityId);
      if (!key) throw new TypeError(`'${identityId}' is not the id of a user-assigned identity`);
      faults.failIdentity(key, status);
    },
    deleteIdentity: (identityId) => state.deleteIdentity(identityId),
    addAssociation: (identityId, resource) => state.addAssociation(identityId, resource),
    removeAssociations: (identityId, count) => state.removeAssociations(identityId, count),
    issueToken: (tenantId) => state.issueToken(tenantId),
    setAssociatedResourcesApi: (api) => {
      if (api !== "on" && api !== "off") throw new TypeError(`associatedResourcesApi must be "on" or "off", got ${String(api)}`);
      associatedResourcesApi = api;
    },
    addSignIn: (identityId, opts = {}) => signIns.addSignIn(identityId, opts),
    setSignInLogs: (tenantId, present) => signIns.setTablePresent(tenantId, present),
    failLogsQueries: (fault) => logAnalytics.injectFault(fault),
    close: () => {
      closed ??= server.close().then(() => certificate.dispose());
      return closed;
    },
  };
}
