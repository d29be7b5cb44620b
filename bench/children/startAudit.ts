/**
 * Child of bench/startAuditMemory.ts: runs `startAudit` (create the run, enumerate, store the
 * inventory, enqueue) in a process of its own against a simulator and Azurite run elsewhere, samples
 * RSS meanwhile, then prints `{"expected","seconds","baselineHwmBytes","peakHwmBytes","maxSampledRssBytes",
 * "maxHeapUsedBytes","maxHeapAfterMajorGcBytes","majorGcs","samples"}` on one line. The ARM token comes from UAMI_ARM_TOKEN.
 * Usage: node --import tsx bench/children/startAudit.ts --storage <cs> --prefix <p> --tenant <id>
 *          --arm-endpoint <url> --ca-file <pem>
 */
import { parseArgs } from "node:util";
import { createAuditDeps } from "../../src/audit/createAuditDeps.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { ensureAuditStorage } from "../../src/store/auditStorage.js";
import { procStatusBytes, sampleMemory } from "../processMemory.js";
import { DEFAULT_MAX_SLOT_WAIT_MS } from "../../src/limiter/tenantRateLimiter.js";

const { values } = parseArgs({
  options: {
    storage: { type: "string" },
    prefix: { type: "string" },
    tenant: { type: "string" },
    "arm-endpoint": { type: "string" },
    "ca-file": { type: "string" },
  },
});
const required = (name: keyof typeof values): string => {
  const value = values[name];
  if (!value) throw new TypeError(`--${name} is required`);
  return value;
};
const token = process.env.UAMI_ARM_TOKEN;
if (!token) throw new TypeError("UAMI_ARM_TOKEN must hold the simulator tenant's token");

const deps = createAuditDeps({
  arm: { armEndpoint: required("arm-endpoint"), armToken: token, armCaFile: required("ca-file") },
  limiter: { ratePerSecond: 1, rateSafetyMs: 50, maxSlotWaitMs: DEFAULT_MAX_SLOT_WAIT_MS },
  storageAccount: { kind: "connectionString", connectionString: required("storage") },
  storagePrefix: required("prefix"),
});
await ensureAuditStorage(deps.storage);

// Everything loaded and connected: what startAudit adds is measured against this peak.
const baselineHwmBytes = procStatusBytes("VmHWM");
const sampler = sampleMemory(50);
const started = performance.now();
const result = await startAudit(deps, { tenantId: required("tenant"), scope: { subscriptions: [], managementGroups: [] }, trigger: "cli" });
const seconds = (performance.now() - started) / 1000;
const samples = sampler.stop();
const peakHwmBytes = procStatusBytes("VmHWM");
if (!result.started) throw new Error(`a run is already in progress: ${result.activeRunId}`);

process.stdout.write(
  `${JSON.stringify({
    expected: result.run.expected,
    seconds,
    baselineHwmBytes,
    peakHwmBytes,
    maxSampledRssBytes: samples.maxRssBytes,
    maxHeapUsedBytes: samples.maxHeapUsedBytes,
    maxHeapAfterMajorGcBytes: samples.maxHeapAfterMajorGcBytes,
    majorGcs: samples.majorGcs,
    samples: samples.samples,
  })}\n`,
);
// Keep-alive sockets must not hold the process open once the result is out.
process.exit(0);
