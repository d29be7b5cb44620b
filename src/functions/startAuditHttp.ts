import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { startAuditRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "../app/runtime.js";

/**
 * `POST /api/audits`: start an on-demand audit, optionally scoped; 202 + Location, or 409.
 * The host passes the request and context only; tests pass their own runtime as `getRuntime`.
 */
export async function startAuditHttp(request: HttpRequest, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<HttpResponseInit> {
  const ctx = apiContext(await getRuntime(), context);
  return toHttpResponse(await startAuditRequest(ctx, request));
}

app.http("startAuditHttp", {
  methods: ["POST"],
  authLevel: "function",
  route: "audits",
  handler: startAuditHttp,
});
