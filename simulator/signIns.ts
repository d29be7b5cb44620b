/**
 * Entra ID managed-identity sign-in logs of the simulated tenants: the rows a Log Analytics workspace
 * receiving the Entra diagnostic category `ManagedIdentitySignInLogs` holds in its table
 * `AADManagedIdentitySignInLogs` (columns: kql/schema.ts, from Azure Monitor's table reference).
 *
 * History covers the 90 days before the tenant's reference time (`now`), never before an identity was
 * created, and is drawn from (seed, tenant, identity index) the first time a tenant's logs are read, from
 * the tenant as it is then:
 * - identities in use (associated resources, federated credentials or another hidden usage) sign in now
 *   and then (80 %): about half last did within the
 *   past 27 days, the others 32 to 90 days ago, so a 30-day window sees only some of them;
 * - identities whose `hiddenUsage` includes "signInOnly" (used outside Azure's resource index: a
 *   deployment script, a short-lived container group) last signed in successfully within the past 3 days;
 * - unused identities mostly have no row at all; 12 % have only FAILED sign-ins (ResultType not "0"),
 *   which must not count as activity; 5 % last signed in successfully 32 to 90 days ago.
 * Tests add rows at run time with `addSignIn`.
 */
import type { IdentityRecord, TenantModel } from "./model.js";
import { Prng } from "./prng.js";
import type { SimulatedTenants } from "./tenantState.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far back generated sign-ins go (the default interactive retention of Entra tables in Sentinel workspaces). */
export const SIGN_IN_HISTORY_DAYS = 90;
/** ResultType of a successful sign-in: Entra's error code, "0" when there is none. */
export const SUCCESS_RESULT_TYPE = "0";
/** The table's name, as Log Analytics resolves it (case-sensitively). */
export const SIGN_IN_TABLE = "AADManagedIdentitySignInLogs";

/** Resources managed identities sign in to: display name and the first-party application id Entra logs. */
const RESOURCES: readonly (readonly [string, string])[] = [
  ["Azure Key Vault", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"],
  ["Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013"],
  ["Azure Storage", "e406a681-f3d4-42a8-90b6-c2b029497af1"],
  ["Microsoft Graph", "00000003-0000-0000-c000-000000000000"],
  ["Azure SQL Database", "022907d3-0f1b-48f7-badc-1ba6abab6d66"],
];

/** Entra error codes a failed managed-identity sign-in carries in ResultType, with ResultDescription. */
const FAILURES: readonly (readonly [string, string])[] = [
  ["500011", "The resource principal named was not found in the tenant."],
  ["7000112", "Application is disabled."],
  ["50013", "Assertion failed signature validation."],
];

/** Columns every row has with the same value: kept once on a shared prototype (100,000 identities give ~200,000 rows). */
const CONSTANT_COLUMNS: Readonly<Record<string, unknown>> = Object.freeze({
  Category: "ManagedIdentitySignInLogs",
  OperationName: "Sign-in activity",
  OperationVersion: "1.0",
  Level: "4",
  SourceSystem: "Azure AD",
  Type: SIGN_IN_TABLE,
  DurationMs: 0,
  _IsBillable: "True",
  _BilledSize: 2048,
});

/** One row of the table, as the KQL engine reads it (TimeGenerated a Date; missing string columns read as ""). */
export type SignInRow = Record<string, unknown> & {
  readonly TimeGenerated: Date;
  readonly ServicePrincipalId: string;
  readonly AppId: string;
  readonly ResultType: string;
  readonly ResourceDisplayName: string;
};

/** The ground truth of the sign-in logs (part of `RunningSimulator.truth`); ids are identity ARM ids, any casing. */
export interface SignInGroundTruth {
  /** The identity's latest successful sign-in (ResultType "0"), any age; undefined if none. */
  lastSuccessfulSignIn(identityId: string): SignInTruth | undefined;
  /** Every sign-in of the identity, failures included, oldest first. */
  signInsOf(identityId: string): SignInTruth[];
}

/** What the truth API reports about one sign-in. */
export interface SignInTruth {
  /** ISO 8601 (UTC, milliseconds). */
  readonly at: string;
  readonly resultType: string;
  /** What it signed in to (ResourceDisplayName). */
  readonly resource: string;
}

export interface AddSignInOptions {
  /** When (ISO text or milliseconds since the epoch); default: now. */
  at?: string | number;
  /** Entra's ResultType; default "0" (success). */
  resultType?: string;
  /** ResourceDisplayName; default "Azure Key Vault". */
  resource?: string;
}

/** `hiddenUsage` of an identity (a field of the identity record that may not exist yet): read defensively. */
function hiddenUsageOf(identity: IdentityRecord): readonly string[] {
  const value = (identity as { hiddenUsage?: unknown }).hiddenUsage;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A time drawn uniformly in [from, to). */
function between(prng: Prng, from: number, to: number): number {
  return Math.floor(from + prng.next() * Math.max(0, to - from));
}

interface TenantLogs {
  readonly workspaceId: string;
  /** False when the Entra diagnostic setting does not route ManagedIdentitySignInLogs here: no table. */
  tablePresent: boolean;
  rows?: SignInRow[];
  /** principalId (lower-case) -> that identity's rows. */
  byPrincipal?: Map<string, SignInRow[]>;
}

export class SignInLogs {
  private readonly logs = new Map<TenantModel, TenantLogs>();
  private readonly tenantByWorkspace = new Map<string, TenantModel>();
  private added = 0;

  constructor(
    private readonly state: SimulatedTenants,
    private readonly seed: string,
    tablePresent = true,
  ) {
    for (const tenant of state.tenants) {
      const workspaceId = new Prng(`${seed}/workspace/${tenant.tenantId}`).uuid();
      this.logs.set(tenant, { workspaceId, tablePresent });
      this.tenantByWorkspace.set(workspaceId, tenant);
    }
  }

  private logsOf(tenant: TenantModel): TenantLogs {
    const logs = this.logs.get(tenant);
    if (!logs) throw new Error(`No sign-in logs for tenant ${tenant.tenantId}`);
    return logs;
  }

  /** The Log Analytics workspace id (a GUID, the portal's "Workspace ID") of the tenant's workspace. */
  workspaceId(tenant: TenantModel): string {
    return this.logsOf(tenant).workspaceId;
  }

  /** The tenant owning a workspace id (any case), if any. */
  tenantOfWorkspace(workspaceId: string): TenantModel | undefined {
    return this.tenantByWorkspace.get(workspaceId.toLowerCase());
  }

  tablePresent(tenant: TenantModel): boolean {
    return this.logsOf(tenant).tablePresent;
  }

  /** Adds or removes the table (the diagnostic setting routing ManagedIdentitySignInLogs to the workspace). */
  setTablePresent(tenantId: string, present: boolean): void {
    this.logsOf(this.state.requireTenant(tenantId)).tablePresent = present;
  }

  /** Every row of the tenant's table, generated the first time (rows are never modified afterwards). */
  rows(tenant: TenantModel): readonly SignInRow[] {
    return this.materialise(tenant).rows;
  }

  /** Adds a sign-in of a live identity; returns what was logged. */
  addSignIn(identityId: string, options: AddSignInOptions = {}): SignInTruth {
    const { tenant, identity } = this.state.requireLiveIdentity(identityId);
    const at = options.at === undefined ? Date.now() : typeof options.at === "number" ? options.at : Date.parse(options.at);
    if (!Number.isFinite(at)) throw new TypeError(`'at' must be an ISO 8601 time or milliseconds, got ${JSON.stringify(options.at)}`);
    const resultType = options.resultType ?? SUCCESS_RESULT_TYPE;
    if (typeof resultType !== "string" || !/^\d+$/.test(resultType)) throw new TypeError(`'resultType' must be a string of digits such as "0", got ${JSON.stringify(resultType)}`);
    const resource = options.resource ?? (RESOURCES[0] as readonly [string, string])[0];
    if (typeof resource !== "string" || !resource) throw new TypeError("'resource' must be a non-empty string");
    const logs = this.materialise(tenant);
    const prng = new Prng(`${this.seed}/signin-added/${++this.added}`);
    const row = this.row(tenant, logs.workspaceId, identity, prng, at, resultType, resource);
    logs.rows.push(row);
    this.rowsOfPrincipal(logs, identity.principalId).push(row);
    return truthOf(row);
  }

  /** Every sign-in of an identity (deleted ones included: their logs stay), oldest first. */
  signInsOf(identityId: string): SignInTruth[] {
    const found = this.state.findIdentity(identityId);
    if (!found) return [];
    const logs = this.materialise(found.tenant);
    return (logs.byPrincipal.get(found.identity.principalId.toLowerCase()) ?? [])
      .map(truthOf)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  /** The identity's latest successful sign-in (ResultType "0") in the logs, any age; undefined if none. */
  lastSuccessfulSignIn(identityId: string): SignInTruth | undefined {
    const successes = this.signInsOf(identityId).filter((s) => s.resultType === SUCCESS_RESULT_TYPE);
    return successes[successes.length - 1];
  }

  private rowsOfPrincipal(logs: Required<TenantLogs>, principalId: string): SignInRow[] {
    const key = principalId.toLowerCase();
    let list = logs.byPrincipal.get(key);
    if (!list) {
      list = [];
      logs.byPrincipal.set(key, list);
    }
    return list;
  }

  private materialise(tenant: TenantModel): Required<TenantLogs> {
    const logs = this.logsOf(tenant);
    if (!logs.rows || !logs.byPrincipal) {
      logs.rows = [];
      logs.byPrincipal = new Map();
      const full = logs as Required<TenantLogs>;
      for (const identity of tenant.allIdentities) {
        for (const row of this.generate(tenant, logs.workspaceId, identity)) {
          full.rows.push(row);
          this.rowsOfPrincipal(full, identity.principalId).push(row);
        }
      }
      // The table is stored in time order, as ingestion appends it.
      full.rows.sort((a, b) => a.TimeGenerated.getTime() - b.TimeGenerated.getTime());
    }
    return logs as Required<TenantLogs>;
  }

  private generate(tenant: TenantModel, workspaceId: string, identity: IdentityRecord): SignInRow[] {
    const prng = new Prng(`${this.seed}/signins/${tenant.tenantId}/${identity.index}`);
    const now = tenant.now;
    const created = Date.parse(identity.createdAt);
    const start = Math.max(now - SIGN_IN_HISTORY_DAYS * DAY_MS, Number.isFinite(created) ? created : 0);
    if (start >= now) return [];
    const rows: SignInRow[] = [];
    const success = (at: number) => rows.push(this.row(tenant, workspaceId, identity, prng, at, SUCCESS_RESULT_TYPE, pickResource(prng)));
    const failure = (at: number) => {
      const [code] = FAILURES[prng.int(0, FAILURES.length - 1)] as readonly [string, string];
      rows.push(this.row(tenant, workspaceId, identity, prng, at, code, pickResource(prng)));
    };
    // Margins around day 30 keep "recent" and "old" apart whatever the hour the window is measured from.
    const recentFrom = Math.max(start, now - 27 * DAY_MS);
    const oldTo = now - 32 * DAY_MS;
    const older = (latest: number, count: number) => {
      for (let i = 0; i < count; i++) success(between(prng, start, latest));
    };

    if (hiddenUsageOf(identity).includes("signInOnly")) {
      const latest = between(prng, Math.max(start, now - 3 * DAY_MS), now);
      success(latest);
      older(latest, prng.int(0, 2));
    } else if (identity.associationCount > 0 || identity.federatedCredentialCount > 0 || hiddenUsageOf(identity).length > 0) {
      if (prng.chance(0.8)) {
        const recent = prng.chance(0.5) || start >= oldTo;
        const latest = recent ? between(prng, recentFrom, now) : between(prng, start, oldTo);
        success(latest);
        older(latest, prng.int(0, 3));
        if (prng.chance(0.15)) failure(between(prng, start, now));
      }
    } else {
      const u = prng.next();
      if (u < 0.12) {
        const count = prng.int(1, 3);
        for (let i = 0; i < count; i++) failure(between(prng, start, now));
      } else if (u < 0.17 && start < oldTo) {
        success(between(prng, start, oldTo));
      }
    }
    return rows;
  }

  private row(tenant: TenantModel, workspaceId: string, identity: IdentityRecord, prng: Prng, at: number, resultType: string, resource: string): SignInRow {
    const resourceAppId = RESOURCES.find(([name]) => name === resource)?.[1] ?? new Prng(`${tenant.tenantId}/resource-app/${resource}`).uuid();
    const failure = FAILURES.find(([code]) => code === resultType);
    const row: Record<string, unknown> = Object.create(CONSTANT_COLUMNS) as Record<string, unknown>;
    row.TimeGenerated = new Date(at);
    row.Id = prng.uuid();
    row.CorrelationId = prng.uuid();
    row.TenantId = workspaceId;
    row.ServicePrincipalId = identity.principalId;
    row.AppId = identity.clientId;
    row.ServicePrincipalName = identity.name;
    row.Identity = identity.name;
    row.ResourceDisplayName = resource;
    row.ResourceIdentity = resourceAppId;
    row.ResourceServicePrincipalId = new Prng(`${tenant.tenantId}/resource-sp/${resourceAppId}`).uuid();
    row.ResultType = resultType;
    row.ResultDescription = resultType === SUCCESS_RESULT_TYPE ? "" : (failure?.[1] ?? "Sign-in failed.");
    return row as SignInRow;
  }
}

function pickResource(prng: Prng): string {
  return (RESOURCES[prng.int(0, RESOURCES.length - 1)] as readonly [string, string])[0];
}

function truthOf(row: SignInRow): SignInTruth {
  return { at: row.TimeGenerated.toISOString(), resultType: row.ResultType, resource: row.ResourceDisplayName };
}
