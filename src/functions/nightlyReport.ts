import { app, type InvocationContext, type Timer } from "@azure/functions";
import { appRuntime, findingsSettings, mailSettings, withInvocationLog, type AppRuntime } from "../app/runtime.js";
import { reportRun, runsAwaitingReport } from "../audit/runReport.js";

/**
 * On its schedule: builds the report of every completed run whose report is missing (the completion
 * message is the usual path; this is the backstop that makes a lost message harmless).
 * The host passes the timer and context only; tests pass their own runtime as `getRuntime`.
 */
export async function nightlyReport(_timer: Timer, context: InvocationContext, getRuntime: () => Promise<AppRuntime> = appRuntime): Promise<void> {
  const runtime = await getRuntime();
  const deps = withInvocationLog(runtime.deps, context);
  const runs = await runsAwaitingReport(deps.storage, runtime.config.tenantId);
  if (runs.length === 0) context.log("Every completed run has its report");
  for (const run of runs) {
    const report = await reportRun(deps, run.runId, findingsSettings(runtime.config), mailSettings(runtime.config));
    context.log(`Report of run ${run.runId}: ${report.unused.length} unused (${report.run.newUnusedCount} new)`);
  }
}

app.timer("nightlyReport", {
  schedule: "%UAMI_REPORT_SCHEDULE%",
  handler: nightlyReport,
});
