/**
 * `npm run demo`: the whole audit on one machine, with nothing to configure. Starts the tenant simulator
 * (a generated 300-identity tenant) and an in-memory Azurite, runs `uami-audit scan` against them, and
 * writes the report to demo-output/.
 */
import "../src/cli/quietFunctionsTestMode.js";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { startSimulator } from "../simulator/index.js";
import { runScan } from "../src/cli/scan.js";
import { scanOutput } from "../src/cli/scanOutput.js";
import { renderReport } from "../src/report/render.js";

const IDENTITIES = Number(process.env.DEMO_IDENTITIES ?? 300);
// Azure allows 1 request per second per tenant; the demo's simulated tenant allows 25 so it takes seconds, not minutes.
const RATE = Number(process.env.DEMO_RATE ?? 25);
const OUT = "demo-output";

const sim = await startSimulator({ identities: IDENTITIES, seed: "demo", rate: RATE });
const tenant = sim.tenants[0]!;
console.log(`Simulated tenant ${tenant.tenantId}: ${IDENTITIES} identities in ${tenant.subscriptions.length} subscriptions, served at ${sim.endpoint}`);
console.log(`Auditing at ${RATE} listAssociatedResources requests per second (Azure's real limit is 1/s)...`);
const bar = new cliProgress.SingleBar({ format: "  checked {value}/{total} identities | {status}", stream: process.stdout, hideCursor: true }, cliProgress.Presets.shades_classic);
bar.start(IDENTITIES, 0, { status: "enumerating" });
const started = Date.now();
const result = await runScan({
  tenantId: tenant.tenantId,
  scope: { subscriptions: [], managementGroups: [] },
  armEndpoint: sim.endpoint,
  token: tenant.token,
  caFile: sim.caFile,
  ratePerSecond: RATE,
  // The 50 ms default margin is sized for Azure's 1/s; at the demo's 25/s it would cap the pace at 11/s.
  rateSafetyMs: 10,
  workers: 12,
  onProgress: (run) => {
    bar.setTotal(run.expected || IDENTITIES);
    bar.update(run.checked + run.deleted + run.failed, { status: run.status });
  },
});
bar.stop();
try {
  const { run, report } = result;
  if (!report) throw new Error(`Run ${run.runId} ended ${run.status}: ${run.error ?? "no report"}`);
  await mkdir(OUT, { recursive: true });
  for (const format of ["html", "json", "csv", "md"] as const) {
    const rendered = renderReport(report, format);
    await writeFile(join(OUT, `report.${rendered.fileExtension}`), rendered.body);
  }
  const output = await scanOutput(result.deps, run, { report, options: { now: new Date(), gracePeriodDays: 7, exemptTag: "uami-audit-exempt" } });
  await writeFile(join(OUT, "results.json"), JSON.stringify(output, null, 2) + "\n");
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\nRun ${run.runId} ${run.status} in ${seconds} s: ${run.requests} ARM requests, ${run.throttled} throttled.`);
  console.log(`Verdicts: ${Object.entries(report.run.countsByVerdict).map(([verdict, n]) => `${n} ${verdict}`).join(", ")}`);
  console.log(`Top unused identities by risk:`);
  for (const finding of report.unused.slice(0, 5)) {
    const roles = finding.roleAssignments.filter((r) => r.privileged).map((r) => `${r.roleName} @ ${r.scope}`).join("; ") || "no privileged roles";
    console.log(`  [${finding.risk.level}] ${finding.name} (${finding.resourceGroup}): ${roles}`);
  }
  console.log(`\nReport: ${join(OUT, "report.html")} (also .json, .csv, .md); results: ${join(OUT, "results.json")}`);
} finally {
  await result.close();
  await sim.close();
}
