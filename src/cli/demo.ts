/**
 * `uami-audit demo` (and `npm run demo`): the whole audit on one machine with nothing to configure. Starts the
 * tenant simulator (a generated tenant, loaded lazily: it is not shipped) and an in-memory Azurite, runs a scan
 * against them, and writes the report in every format, plus the scan's results, to a folder.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { DEFAULT_EXEMPT_TAG, DEFAULT_GRACE_PERIOD_DAYS } from "../findings/verdicts.js";
import { REPORT_FORMATS, renderReport } from "../report/render.js";
import type { AuditReport } from "../report/model.js";
import type { CliOutput } from "./output.js";
import { runCountersLine } from "./output.js";
import { runScan } from "./scan.js";
import { scanOutput } from "./scanOutput.js";
import { loadSimulator } from "./simulatorModule.js";

export interface DemoOptions {
  identities: number;
  /** listAssociatedResources requests per second the simulated tenant allows, and the scan uses. */
  rate: number;
  seed: string;
  outDir: string;
  output: CliOutput;
  /** Where the narrative goes (standard output); nothing in `--json` mode. */
  print?: (line: string) => void;
}

export interface DemoResult {
  report: AuditReport;
  files: string[];
  exitCode: number;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { output } = options;
  const print = (line: string) => {
    if (!output.json) (options.print ?? ((text: string) => process.stdout.write(`${text}\n`)))(line);
  };
  const { startSimulator } = await loadSimulator();
  const sim = await startSimulator({ identities: options.identities, seed: options.seed, rate: options.rate });
  try {
    const tenant = sim.tenants[0]!;
    print(`Simulated tenant ${tenant.tenantId}: ${options.identities} identities in ${tenant.subscriptions.length} subscriptions, served at ${sim.endpoint}`);
    print(`Auditing at ${options.rate} listAssociatedResources requests per second (Azure's real limit is 1/s)...`);
    const started = Date.now();
    const result = await runScan({
      tenantId: tenant.tenantId,
      scope: { subscriptions: [], managementGroups: [] },
      armEndpoint: sim.endpoint,
      token: tenant.token,
      caFile: sim.caFile,
      ratePerSecond: options.rate,
      // The 50 ms default margin is sized for Azure's 1/s; at the demo's 25/s it would cap the pace at 11/s.
      rateSafetyMs: 10,
      workers: 12,
      onRun: ({ run }) => output.line({ type: "run", ...runCountersLine(run), resumed: false, restartedFrom: null, storage: "in-memory" }),
      onProgress: (run) => output.progress(run),
    });
    output.stop();
    try {
      const { run, report } = result;
      if (!report) throw new Error(`Run ${run.runId} ended ${run.status}: ${run.error ?? "no report"}`);
      await mkdir(options.outDir, { recursive: true });
      const files: string[] = [];
      for (const format of REPORT_FORMATS) {
        const rendered = renderReport(report, format);
        const file = join(options.outDir, `report.${rendered.fileExtension}`);
        await writeFile(file, rendered.body);
        files.push(file);
      }
      const results = await scanOutput(result.deps, run, { report, options: { now: new Date(), gracePeriodDays: DEFAULT_GRACE_PERIOD_DAYS, exemptTag: DEFAULT_EXEMPT_TAG } });
      const resultsFile = join(options.outDir, "results.json");
      await writeFile(resultsFile, JSON.stringify(results, null, 2) + "\n");
      files.push(resultsFile);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      print(`\nRun ${run.runId} ${run.status} in ${seconds} s: ${run.requests} ARM requests, ${run.throttled} throttled.`);
      print(`Verdicts: ${Object.entries(report.run.countsByVerdict).map(([verdict, n]) => `${n} ${verdict}`).join(", ")}`);
      print(`Top unused identities by risk:`);
      for (const finding of report.unused.slice(0, 5)) {
        const roles = finding.roleAssignments.filter((r) => r.privileged).map((r) => `${r.roleName} @ ${r.scope}`).join("; ") || "no privileged roles";
        print(`  [${finding.risk.level}] ${finding.name} (${finding.resourceGroup}): ${roles}`);
      }
      const html = files.find((file) => file.endsWith(".html"));
      const others = files.filter((file) => file !== html && file !== resultsFile).map((file) => basename(file));
      print(`\nReport: ${html ?? files[0]} (also ${others.join(", ")}); results: ${resultsFile}`);
      output.line({
        type: "result",
        command: "demo",
        ...runCountersLine(run),
        countsByVerdict: report.run.countsByVerdict,
        unused: report.run.countsByVerdict.unused ?? 0,
        newUnused: report.run.newUnusedCount,
        emailStatus: run.emailStatus ?? null,
        files,
        exitCode: 0,
      });
      return { report, files, exitCode: 0 };
    } finally {
      await result.close();
    }
  } finally {
    await sim.close();
  }
}
