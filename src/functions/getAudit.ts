import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getAuditRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "./runtime.js";

/** `GET /api/audits/{runId}`: status, progress, requests and an ETA from the rate limit. */
export function getAuditHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const ctx = apiContext(await getRuntime(), context);
    return toHttpResponse(await getAuditRequest(ctx, request.params.runId));
  };
}

app.http("getAudit", {
  methods: ["GET"],
  authLevel: "function",
  route: "audits/{runId}",
  handler: getAuditHandler(),
});
