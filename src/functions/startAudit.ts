import { app, type InvocationContext, type Timer } from "@azure/functions";
import { appRuntime, withInvocationLog, type AppRuntime } from "../app/runtime.js";
import * as audit from "../audit/startAudit.js";

/**
 * Nightly: start a whole-tenant (or configured-scope) audit unless one is in progress.
 * The host passes the timer and context only; tests pass their own runtime as `getRuntime`.
 */
export async function startAudit(_timer: Timer, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<void> {
  const { config, deps } = await getRuntime();
  const result = await audit.startAudit(withInvocationLog(deps, context), { tenantId: config.tenantId, scope: config.scope, trigger: "timer" });
  if (result.started) context.log(`Run ${result.run.runId} started with ${result.run.expected} identities`);
  else context.log(`Run ${result.activeRunId} is still in progress; no new run started`);
}

app.timer("startAudit", {
  schedule: "%UAMI_AUDIT_SCHEDULE%",
  runOnStartup: false,
  handler: startAudit,
});
