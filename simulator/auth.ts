/**
 * Bearer tokens of the simulated tenants. A token maps to exactly one tenant and one "user" (the ARG
 * quota is per user, the listAssociatedResources limit per tenant). Tokens are JWT-shaped so code that
 * peeks at the `tid` claim works, but the simulator only trusts tokens it issued.
 */
import { Prng } from "./prng.js";

export interface TokenOwner {
  tenantId: string;
  /** Object id of the caller, used in AuthorizationFailed messages. */
  objectId: string;
  token: string;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** A deterministic JWT-shaped token for (seed, tenant, user number). */
export function makeToken(seed: string, tenantId: string, user: number, issuedAt: number): TokenOwner {
  const prng = new Prng(`${seed}/token/${tenantId}/${user}`);
  const objectId = prng.uuid();
  const iat = Math.floor(issuedAt / 1000);
  const header = { typ: "JWT", alg: "RS256", kid: "simulator" };
  const payload = {
    aud: "https://management.azure.com/",
    iss: `https://sts.windows.net/${tenantId}/`,
    iat,
    nbf: iat,
    exp: iat + 10 * 365 * 24 * 3600,
    appid: prng.uuid(),
    idtyp: "app",
    oid: objectId,
    sub: objectId,
    tid: tenantId,
    ver: "1.0",
  };
  const signature = Buffer.from(Array.from({ length: 32 }, () => prng.int(0, 255))).toString("base64url");
  return { tenantId, objectId, token: `${base64url(header)}.${base64url(payload)}.${signature}` };
}

export type BearerCheck = { kind: "missing" } | { kind: "invalid" } | { kind: "ok"; owner: TokenOwner };

/** Reads `Authorization: Bearer <token>` (scheme case-insensitive, as ARM accepts). */
export function checkBearer(header: string | undefined, registry: ReadonlyMap<string, TokenOwner>): BearerCheck {
  if (!header || !header.trim()) return { kind: "missing" };
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { kind: "invalid" };
  const owner = registry.get(match[1] as string);
  return owner ? { kind: "ok", owner } : { kind: "invalid" };
}
