import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getReportRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "../app/runtime.js";

/**
 * `GET /api/audits/{runId}/report?format=json|csv|md|html`.
 * The host passes the request and context only; tests pass their own runtime as `getRuntime`.
 */
export async function getAuditReport(request: HttpRequest, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<HttpResponseInit> {
  const ctx = apiContext(await getRuntime(), context);
  return toHttpResponse(await getReportRequest(ctx, request.params.runId, request.query.get("format")));
}

app.http("getAuditReport", {
  methods: ["GET"],
  authLevel: "function",
  route: "audits/{runId}/report",
  handler: getAuditReport,
});
