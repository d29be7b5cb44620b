/**
 * Missing or wrong Azure credentials, said in one sentence with the fix, within seconds.
 *
 * Without a static token the CLI uses DefaultAzureCredential, which tries environment variables, workload
 * identity, managed identity, then the Azure CLI and others, one after the other. On a machine where the
 * managed-identity endpoint does not answer, that chain can wait minutes before it gives up, and the scan
 * would only fail then, deep inside enumeration. So each command asks the credential for one token first,
 * with a short timeout (`--credential-timeout`, default 10 s), before it starts anything.
 */
import type { TokenCredential } from "@azure/core-auth";

export const DEFAULT_CREDENTIAL_TIMEOUT_SECONDS = 10;

const GET_TOKEN = "`az account get-access-token --query accessToken -o tsv`";

/** A credential problem, its message one sentence a person can act on. */
export class CredentialProblem extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CredentialProblem";
  }
}

export function noCredentialSentence(timedOutAfterSeconds?: number): string {
  const what =
    timedOutAfterSeconds === undefined
      ? "No Azure credential is available (DefaultAzureCredential found no environment variables, managed identity or Azure CLI sign-in)"
      : `No Azure credential answered within ${timedOutAfterSeconds} s (DefaultAzureCredential tries environment variables, managed identity, then the Azure CLI)`;
  const slow = timedOutAfterSeconds === undefined ? "" : "; a slow `az` may need a longer --credential-timeout";
  return `${what}: run \`az login\`, or set UAMI_ARM_TOKEN to a token from ${GET_TOKEN} (or pipe it to \`--token -\`)${slow}.`;
}

/**
 * Asks `credential` for a token for `scope` once; resolves when it gets one, throws a CredentialProblem when
 * the credential fails or does not answer within `timeoutSeconds`. The pending request is left behind on a
 * timeout: the command ends right after.
 */
export async function checkCredential(credential: TokenCredential, scope: string, timeoutSeconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const abort = new AbortController();
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve("timeout");
    }, timeoutSeconds * 1000);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([credential.getToken(scope, { abortSignal: abort.signal }), timeout]);
    if (outcome === "timeout") throw new CredentialProblem(noCredentialSentence(timeoutSeconds));
    if (!outcome?.token) throw new CredentialProblem(noCredentialSentence());
  } catch (error) {
    if (error instanceof CredentialProblem) throw error;
    throw new CredentialProblem(noCredentialSentence(), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** The `exp` claim of a JWT access token, as a date; undefined when the token is no JWT or has none. */
export function tokenExpiry(token: string): Date | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a static token cannot work, before any request is sent: today, that it has expired. */
export function staticTokenProblem(token: string, now = new Date()): string | undefined {
  const expiry = tokenExpiry(token);
  if (!expiry || expiry.getTime() > now.getTime()) return undefined;
  return `The ARM token (UAMI_ARM_TOKEN or --token) expired at ${expiry.toISOString()}: get a fresh one with ${GET_TOKEN}, or unset UAMI_ARM_TOKEN and sign in with \`az login\`.`;
}

function* causes(error: unknown): Generator<Record<string, unknown>> {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === "object" && current !== null; depth++) {
    const record = current as Record<string, unknown>;
    yield record;
    current = record.cause;
  }
}

const IDENTITY_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError", "AuthenticationRequiredError"]);

/**
 * The one sentence for a failure caused by credentials, or undefined when the failure is something else:
 * Azure Resource Manager answering 401 somewhere in the cause chain (an expired, revoked or wrong-audience
 * token), or @azure/identity failing to get a token at all.
 */
export function credentialProblem(error: unknown, usingStaticToken: boolean): string | undefined {
  for (const e of causes(error)) {
    if (e instanceof CredentialProblem) return e.message;
    const status = typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : undefined;
    if (status === 401) {
      const code = typeof e.code === "string" && e.code ? ` ${e.code}` : "";
      return usingStaticToken
        ? `Azure Resource Manager refused the ARM token (401${code}): get a fresh one with ${GET_TOKEN}, or unset UAMI_ARM_TOKEN and sign in with \`az login\`.`
        : `Azure Resource Manager refused the signed-in credential (401${code}): run \`az login\` again, or set UAMI_ARM_TOKEN (or pipe a token to \`--token -\`).`;
    }
    if (typeof e.name === "string" && IDENTITY_ERRORS.has(e.name)) return noCredentialSentence();
  }
  return undefined;
}
