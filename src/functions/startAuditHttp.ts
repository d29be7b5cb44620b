import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { startAuditRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "./runtime.js";

/** `POST /api/audits`: start an on-demand audit, optionally scoped; 202 + Location, or 409. */
export function startAuditHttpHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const ctx = apiContext(await getRuntime(), context);
    return toHttpResponse(await startAuditRequest(ctx, request));
  };
}

app.http("startAuditHttp", {
  methods: ["POST"],
  authLevel: "function",
  route: "audits",
  handler: startAuditHttpHandler(),
});
