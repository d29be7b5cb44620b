import { app, type InvocationContext, type Timer } from "@azure/functions";
import { startAudit } from "../audit/startAudit.js";
import { appRuntime, withInvocationLog, type AppRuntime } from "./runtime.js";

/** Nightly: start a whole-tenant (or configured-scope) audit unless one is in progress. */
export function startAuditTimerHandler(getRuntime: () => Promise<AppRuntime> = appRuntime) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const { config, deps } = await getRuntime();
    const result = await startAudit(withInvocationLog(deps, context), { tenantId: config.tenantId, scope: config.scope, trigger: "timer" });
    if (result.started) context.log(`Run ${result.run.runId} started with ${result.run.expected} identities`);
    else context.log(`Run ${result.activeRunId} is still in progress; no new run started`);
  };
}

app.timer("startAudit", {
  schedule: "%UAMI_AUDIT_SCHEDULE%",
  runOnStartup: false,
  handler: startAuditTimerHandler(),
});
