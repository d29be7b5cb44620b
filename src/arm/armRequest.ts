/**
 * One ARM request, exactly once: the HTTP layer under the Managed Identity calls that have no SDK method
 * (`listAssociatedResources` is in no released `@azure/arm-msi`: 2.1.0 targets 2023-01-31 and 2.2.0 2024-11-30,
 * neither of which has it; Azure/azure-sdk-for-js `sdk/msi/arm-msi`).
 *
 * The pipeline is core-rest-pipeline's default one minus its retry policy and its redirect policy, plus the
 * bearer-token policy: every attempt the app makes is one HTTP request that went through the caller's rate
 * limiter (the 1 request/second/tenant limit of listAssociatedResources, seeds/000_94790adf3cc96801.txt),
 * and 429/5xx surface as an ArmError for the caller's queue to retry.
 *
 * The one exception is built into bearerTokenAuthenticationPolicy: a 401 carrying a Continuous Access
 * Evaluation claims challenge is answered with a fresh token and re-sent once. That only happens after a
 * token revocation, and is the documented way to recover from it.
 */
import {
  bearerTokenAuthenticationPolicy,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  redirectPolicyName,
  type Pipeline,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { ArmConnection } from "./connection.js";
import { armErrorFromResponse, excerpt, malformedResponseError, networkError } from "./errors.js";

/** Sent in User-Agent so that ARM logs and throttling reports name this app. */
export const USER_AGENT_PREFIX = "uami-audit";

const pipelines = new WeakMap<ArmConnection, Pipeline>();

/** The connection's no-retry pipeline, built once per connection. */
export function noRetryPipeline(conn: ArmConnection): Pipeline {
  const cached = pipelines.get(conn);
  if (cached) return cached;
  const pipeline = createPipelineFromOptions({ userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX } });
  pipeline.removePolicy({ phase: "Retry" });
  pipeline.removePolicy({ name: redirectPolicyName });
  for (const policy of conn.policies) pipeline.addPolicy(policy);
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: conn.credential, scopes: conn.scope }));
  pipelines.set(conn, pipeline);
  return pipeline;
}

export interface ArmRequest {
  /** Named in errors: `listAssociatedResources`, `getIdentity`, ... */
  operation: string;
  /** The identity the request is about, named in errors. */
  resourceId?: string;
  method: "GET" | "POST";
  /** Absolute URL on the connection's endpoint. */
  url: string;
}

export interface ArmJsonResponse {
  status: number;
  headers: PipelineResponse["headers"];
  body: unknown;
}

/** Per-request timeout: ARM answers in seconds; a stuck socket should not hold a queue message. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Sends one request and returns the parsed JSON body of a 2xx response. Throws ArmError for an error
 * status (body parsed as CloudError when it is one), for a network failure (status 0, transient), and for a
 * 2xx body that is not JSON.
 */
export async function sendArmRequest(conn: ArmConnection, req: ArmRequest): Promise<ArmJsonResponse> {
  const request = createPipelineRequest({
    url: req.url,
    method: req.method,
    headers: createHttpHeaders({
      accept: "application/json",
      // Azure CLI sends the action with an empty body and Content-Length: 0
      // (reference: azure-cli .../recordings/test_identity_management.yaml, `identity list-resources`).
      ...(req.method === "POST" ? { "content-length": "0" } : {}),
    }),
    timeout: REQUEST_TIMEOUT_MS,
  });
  let response: PipelineResponse;
  try {
    response = await noRetryPipeline(conn).sendRequest(conn.httpClient, request);
  } catch (e) {
    throw networkError(req.operation, req.resourceId, e);
  }
  const text = response.bodyAsText ?? "";
  if (response.status < 200 || response.status > 299) {
    throw armErrorFromResponse({
      operation: req.operation,
      status: response.status,
      headers: response.headers,
      bodyText: text,
      ...(req.resourceId !== undefined ? { resourceId: req.resourceId } : {}),
    });
  }
  return { status: response.status, headers: response.headers, body: parseJsonBody(req, response.status, text, response) };
}

function parseJsonBody(req: ArmRequest, status: number, text: string, response: PipelineResponse): unknown {
  if (text.trim() === "") throw malformedResponseError(req.operation, req.resourceId, status, "empty response body");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const contentType = response.headers.get("content-type");
    const reason = e instanceof Error ? e.message : String(e);
    throw malformedResponseError(
      req.operation,
      req.resourceId,
      status,
      `response body is not valid JSON${contentType ? ` (${contentType})` : ""}: ${reason}; body: ${excerpt(text)}`,
    );
  }
}
