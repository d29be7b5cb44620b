/**
 * How this app reaches Azure Resource Manager: which endpoint (public cloud, a sovereign cloud, the
 * simulator), which credential, and which extra CA to trust. Every ARM and Resource Graph call takes one.
 */
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { agentPolicy, createDefaultHttpClient, type HttpClient, type PipelinePolicy } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential } from "@azure/identity";
import { registerSecret } from "./errors.js";

export const DEFAULT_ARM_ENDPOINT = "https://management.azure.com";

export interface ArmConnectionOptions {
  /** ARM endpoint; default https://management.azure.com. A sovereign cloud or the simulator otherwise. */
  endpoint?: string;
  /** Static bearer token (`az account get-access-token`, the simulator). Never logged. */
  token?: string;
  /** PEM file of an extra CA to trust (the simulator's self-signed certificate). */
  caFile?: string;
  /** PEM text of an extra CA to trust (tests and benchmarks hold the simulator's certificate in memory). */
  ca?: string;
}

export interface ArmConnection {
  /** Endpoint without a trailing slash, e.g. `https://management.azure.com`. */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** `${endpoint}/.default`: the token audience follows the endpoint, so sovereign clouds work. */
  readonly scope: string;
  /** Set when an extra CA is trusted: an agent whose CA list is Node's roots plus that CA. */
  readonly agent?: Agent;
  /** Policies every pipeline of this connection adds (today: the agent policy when a CA is trusted). */
  readonly policies: readonly PipelinePolicy[];
  /** One HTTP client shared by this connection's pipelines (keeps connections alive across calls). */
  readonly httpClient: HttpClient;
}

/** Static token lifetime we claim; the pipeline re-asks the credential when it nears, and gets the same token. */
const STATIC_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

/**
 * A TokenCredential that always returns the same token. The token lives only in this closure: it is not a
 * property, so `util.inspect`, `JSON.stringify` and error messages cannot show it.
 */
export function staticTokenCredential(token: string): TokenCredential {
  if (typeof token !== "string" || token.trim() === "") {
    throw new TypeError("createArmConnection: option `token` must be a non-empty string");
  }
  registerSecret(token);
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp: Date.now() + STATIC_TOKEN_LIFETIME_MS, tokenType: "Bearer" };
    },
  };
}

function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`createArmConnection: option \`endpoint\` must be an https:// URL, got "${endpoint}"`);
  }
  // Bearer tokens are only ever sent over TLS (core-rest-pipeline refuses otherwise).
  if (url.protocol !== "https:") {
    throw new TypeError(`createArmConnection: option \`endpoint\` must be an https:// URL, got "${endpoint}"`);
  }
  if (url.search || url.hash) {
    throw new TypeError(`createArmConnection: option \`endpoint\` must not carry a query or fragment`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

function readCa(options: ArmConnectionOptions): string[] {
  const cas: string[] = [];
  if (options.caFile !== undefined) {
    try {
      cas.push(readFileSync(options.caFile, "utf8"));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new TypeError(`createArmConnection: cannot read option \`caFile\` (${options.caFile}): ${reason}`, {
        cause: e,
      });
    }
  }
  if (options.ca !== undefined) cas.push(options.ca);
  for (const pem of cas) {
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new TypeError("createArmConnection: the extra CA (`ca`/`caFile`) must be PEM text (BEGIN CERTIFICATE)");
    }
  }
  return cas;
}

/**
 * Builds the connection. Without `token`, uses `DefaultAzureCredential` (managed identity in Azure,
 * `az login` locally). With `ca`/`caFile`, trusts that CA in addition to Node's built-in roots.
 */
export function createArmConnection(options: ArmConnectionOptions = {}): ArmConnection {
  const endpoint = normaliseEndpoint(options.endpoint ?? DEFAULT_ARM_ENDPOINT);
  const credential = options.token !== undefined ? staticTokenCredential(options.token) : new DefaultAzureCredential();
  const cas = readCa(options);
  // `ca` replaces Node's default trust store for this agent, so the public roots are added back:
  // a connection trusting the simulator can still reach a real endpoint.
  const agent = cas.length > 0 ? new Agent({ ca: [...rootCertificates, ...cas], keepAlive: true }) : undefined;
  const connection: ArmConnection = {
    endpoint,
    credential,
    scope: `${endpoint}/.default`,
    policies: agent ? [agentPolicy(agent)] : [],
    httpClient: createDefaultHttpClient(),
    ...(agent ? { agent } : {}),
  };
  return Object.freeze(connection);
}
