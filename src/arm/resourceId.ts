/**
 * ARM ids of user-assigned identities: parse, compare, and turn into request paths.
 *
 * Azure is inconsistent about casing: the PowerShell recording (Get-AzUserAssignedIdentity.Recording.json)
 * returns ids with `resourcegroups` while the request URIs say `resourceGroups`, and ARG lower-cases types.
 * ARM treats ids case-insensitively, so we do too.
 */

export interface IdentityRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const PROVIDER = "Microsoft.ManagedIdentity";
const TYPE = "userAssignedIdentities";

/** Thrown for a string that is not the ARM id of a user-assigned identity. */
export class InvalidResourceIdError extends TypeError {
  override readonly name = "InvalidResourceIdError";
  constructor(
    readonly resourceId: string,
    reason: string,
  ) {
    super(
      `Not a user-assigned identity id: "${resourceId}" (${reason}). Expected ` +
        `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/${PROVIDER}/${TYPE}/{name}`,
    );
  }
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function checkSegment(id: string, what: string, value: string): string {
  if (value === "") throw new InvalidResourceIdError(id, `empty ${what}`);
  // "." and ".." are path navigation once in a URL (also as %2e), so they can never name a resource.
  if (value === "." || value === "..") throw new InvalidResourceIdError(id, `${what} "${value}" is not a name`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidResourceIdError(id, `control character in ${what}`);
  return value;
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}`,
 * with any casing of the fixed segments and an optional trailing slash. Names are returned as written.
 */
export function parseIdentityId(id: string): IdentityRef {
  if (typeof id !== "string") throw new InvalidResourceIdError(String(id), "not a string");
  const trimmed = id.trim();
  if (!trimmed.startsWith("/")) throw new InvalidResourceIdError(id, "must start with /");
  if (trimmed.includes("?") || trimmed.includes("#")) throw new InvalidResourceIdError(id, "contains ? or #");
  const parts = trimmed.replace(/\/$/, "").split("/").slice(1);
  if (parts.length !== 8) throw new InvalidResourceIdError(id, `expected 8 segments, found ${parts.length}`);
  const [subs, subscriptionId, rgs, resourceGroup, providers, provider, type, name] = parts as [
    string, string, string, string, string, string, string, string,
  ];
  if (!same(subs, "subscriptions")) throw new InvalidResourceIdError(id, `"${subs}" where "subscriptions" belongs`);
  if (!same(rgs, "resourceGroups")) throw new InvalidResourceIdError(id, `"${rgs}" where "resourceGroups" belongs`);
  if (!same(providers, "providers")) throw new InvalidResourceIdError(id, `"${providers}" where "providers" belongs`);
  if (!same(provider, PROVIDER)) throw new InvalidResourceIdError(id, `provider "${provider}" is not ${PROVIDER}`);
  if (!same(type, TYPE)) throw new InvalidResourceIdError(id, `type "${type}" is not ${TYPE}`);
  return {
    subscriptionId: checkSegment(id, "subscription id", subscriptionId),
    resourceGroup: checkSegment(id, "resource group", resourceGroup),
    name: checkSegment(id, "identity name", name),
  };
}

/** The id in ARM's canonical casing (`resourceGroups`, `Microsoft.ManagedIdentity/userAssignedIdentities`). */
export function canonicalIdentityId(ref: IdentityRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/${PROVIDER}/${TYPE}/${ref.name}`;
}

/**
 * The request path for an identity, each variable segment percent-encoded, so that a resource group such
 * as `rg.(prod)` or a Unicode name survives, and nothing in a name can add a path segment or a query.
 */
export function identityPath(idOrRef: string | IdentityRef): string {
  const ref = typeof idOrRef === "string" ? parseIdentityId(idOrRef) : idOrRef;
  const enc = encodeURIComponent;
  return (
    `/subscriptions/${enc(ref.subscriptionId)}/resourceGroups/${enc(ref.resourceGroup)}` +
    `/providers/${PROVIDER}/${TYPE}/${enc(ref.name)}`
  );
}

/** ARM ids compare case-insensitively (see the PowerShell recording: `resourcegroups` vs `resourceGroups`). */
export function sameResourceId(a: string, b: string): boolean {
  return resourceIdKey(a) === resourceIdKey(b);
}

/** A key for maps and sets of ARM ids: equal keys exactly when `sameResourceId` says so. */
export function resourceIdKey(id: string): string {
  return id.trim().replace(/\/+$/, "").toLowerCase();
}
