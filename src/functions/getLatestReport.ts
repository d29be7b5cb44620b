import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getLatestReportRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "../app/runtime.js";

/**
 * `GET /api/reports/latest?format=json|csv|md|html`: the latest completed run's report.
 * The host passes the request and context only; tests pass their own runtime as `getRuntime`.
 */
export async function getLatestReport(request: HttpRequest, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<HttpResponseInit> {
  const ctx = apiContext(await getRuntime(), context);
  return toHttpResponse(await getLatestReportRequest(ctx, request.query.get("format")));
}

app.http("getLatestReport", {
  methods: ["GET"],
  authLevel: "function",
  route: "reports/latest",
  handler: getLatestReport,
});
