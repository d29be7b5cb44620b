import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getIdentityHistoryRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "../app/runtime.js";

/**
 * `GET /api/identities/{subscriptionId}/{resourceGroup}/{name}`: one identity across runs.
 * The host passes the request and context only; tests pass their own runtime as `getRuntime`.
 */
export async function getIdentityHistory(request: HttpRequest, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<HttpResponseInit> {
  const ctx = apiContext(await getRuntime(), context);
  return toHttpResponse(await getIdentityHistoryRequest(ctx, request.params));
}

app.http("getIdentityHistory", {
  methods: ["GET"],
  authLevel: "function",
  route: "identities/{subscriptionId}/{resourceGroup}/{name}",
  handler: getIdentityHistory,
});
