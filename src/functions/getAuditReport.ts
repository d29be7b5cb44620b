import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getReportRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "./runtime.js";

/** `GET /api/audits/{runId}/report?format=json|csv|md|html`. */
export function getAuditReportHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const ctx = apiContext(await getRuntime(), context);
    return toHttpResponse(await getReportRequest(ctx, request.params.runId, request.query.get("format")));
  };
}

app.http("getAuditReport", {
  methods: ["GET"],
  authLevel: "function",
  route: "audits/{runId}/report",
  handler: getAuditReportHandler(),
});
