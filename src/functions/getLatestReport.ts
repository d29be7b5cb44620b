import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getLatestReportRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "./runtime.js";

/** `GET /api/reports/latest?format=json|csv|md|html`: the latest completed run's report. */
export function getLatestReportHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const ctx = apiContext(await getRuntime(), context);
    return toHttpResponse(await getLatestReportRequest(ctx, request.query.get("format")));
  };
}

app.http("getLatestReport", {
  methods: ["GET"],
  authLevel: "function",
  route: "reports/latest",
  handler: getLatestReportHandler(),
});
