/**
 * `npm run bench [-- --only <name>]`: runs the benchmark modules one after the other, prints each figure
 * as it is measured, then a compact table, and writes the same figures to bench/results/latest.json.
 * Figures only: nothing is asserted, a slow machine gives slow figures. Each module starts and stops
 * what it needs (Azurite, the simulator, child processes).
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { parseArgs } from "node:util";
import { associationPaging } from "./associationPaging.js";
import { enqueue } from "./enqueue.js";
import { fastMode } from "./fastMode.js";
import { FigureRecorder, formatValue, type Measurement, type MeasurementReport } from "./measurement.js";
import { resourceGraphPaging } from "./resourceGraphPaging.js";
import { secondsSince } from "./scopedServices.js";
import { simulatorGeneration } from "./simulatorGeneration.js";
import { startAuditMemory } from "./startAuditMemory.js";
import { workerThroughput } from "./workerThroughput.js";

const MEASUREMENTS: Measurement[] = [simulatorGeneration, resourceGraphPaging, associationPaging, workerThroughput, enqueue, startAuditMemory, fastMode, (await import("./htmlReport.js")).htmlReport];
const RESULTS_DIR = new URL("./results/", import.meta.url);

const print = (line: string) => process.stdout.write(`${line}\n`);

function selectMeasurements(argv: string[]): Measurement[] {
  const { values } = parseArgs({ args: argv, options: { only: { type: "string", multiple: true }, help: { type: "boolean" } } });
  const names = MEASUREMENTS.map((m) => m.name);
  if (values.help) {
    print(`usage: npm run bench [-- --only <name> [--only <name>]]\nnames: ${names.join(", ")}`);
    process.exit(0);
  }
  if (!values.only) return MEASUREMENTS;
  const wanted = values.only.flatMap((v) => v.split(","));
  const unknown = wanted.filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown measurement ${unknown.map((n) => `"${n}"`).join(", ")}; one of: ${names.join(", ")}\n`);
    process.exit(2);
  }
  return MEASUREMENTS.filter((m) => wanted.includes(m.name));
}

function table(reports: MeasurementReport[]): string {
  const rows = reports.flatMap((r) => [
    ...r.figures.map((f) => [r.name, f.case ?? "", f.label, formatValue(f.value), f.unit]),
    ...(r.error ? [[r.name, "", "FAILED", r.error.split("\n")[0] ?? "", ""]] : []),
  ]);
  const header = ["measurement", "case", "figure", "value", "unit"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const selected = selectMeasurements(process.argv.slice(2));
const startedAt = new Date();
const reports: MeasurementReport[] = [];
print(`uami-audit benchmarks on ${os.cpus().length} CPU(s), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);

for (const measurement of selected) {
  print(`== ${measurement.title} (${measurement.name})`);
  const recorder = new FigureRecorder(print);
  const started = performance.now();
  let error: string | undefined;
  try {
    await measurement.run(recorder);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    print(`  !! ${measurement.name} failed: ${error}`);
  }
  const seconds = secondsSince(started);
  print(`  (${seconds.toFixed(1)} s)\n`);
  reports.push({ name: measurement.name, title: measurement.title, seconds, figures: recorder.figures, notes: recorder.notes, ...(error ? { error } : {}) });
}

print("== Summary");
print(table(reports));
const notes = reports.flatMap((r) => r.notes.map((n) => `${r.name}: ${n}`));
if (notes.length > 0) print(`\n${notes.join("\n")}`);

await mkdir(RESULTS_DIR, { recursive: true });
const resultsFile = new URL("latest.json", RESULTS_DIR);
const document = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  totalMemoryBytes: os.totalmem(),
  only: selected.length === MEASUREMENTS.length ? null : selected.map((m) => m.name),
  measurements: reports,
};
await writeFile(resultsFile, `${JSON.stringify(document, null, 2)}\n`);
print(`\nWritten to bench/results/latest.json (${reports.reduce((n, r) => n + r.seconds, 0).toFixed(0)} s in all)`);

// Keep-alive sockets of the SDK clients must not hold the process open once the figures are out.
process.exit(reports.some((r) => r.error) ? 1 : 0);
