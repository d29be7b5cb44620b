import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getAuditRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "../app/runtime.js";

/**
 * `GET /api/audits/{runId}`: status, progress, requests and an ETA from the rate limit.
 * The host passes the request and context only; tests pass their own runtime as `getRuntime`.
 */
export async function getAudit(request: HttpRequest, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<HttpResponseInit> {
  const ctx = apiContext(await getRuntime(), context);
  return toHttpResponse(await getAuditRequest(ctx, request.params.runId));
}

app.http("getAudit", {
  methods: ["GET"],
  authLevel: "function",
  route: "audits/{runId}",
  handler: getAudit,
});
