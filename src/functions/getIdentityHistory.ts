import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { getIdentityHistoryRequest } from "../api/auditsApi.js";
import { apiContext, appRuntime, toHttpResponse, type AppRuntime } from "./runtime.js";

/** `GET /api/identities/{subscriptionId}/{resourceGroup}/{name}`: one identity across runs. */
export function getIdentityHistoryHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const ctx = apiContext(await getRuntime(), context);
    return toHttpResponse(await getIdentityHistoryRequest(ctx, request.params));
  };
}

app.http("getIdentityHistory", {
  methods: ["GET"],
  authLevel: "function",
  route: "identities/{subscriptionId}/{resourceGroup}/{name}",
  handler: getIdentityHistoryHandler(),
});
