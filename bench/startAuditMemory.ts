/**
 * 6. Peak memory of `startAudit` for 10,000 vs 100,000 identities. startAudit runs in a child process
 * of its own (the simulator, which holds the whole tenant, stays in this process and Azurite in its own),
 * so the child's VmHWM is startAudit's alone. The claim under test: it streams pages, so its memory
 * does not grow with the tenant.
 */
import { fileURLToPath } from "node:url";
import { runChildScript } from "./childScript.js";
import { toMiB, type FigureRecorder, type Measurement } from "./measurement.js";
import { benchPrefix, withAzurite, withSimulator } from "./scopedServices.js";

const SIZES = [10_000, 100_000];
const CHILD = fileURLToPath(new URL("./children/startAudit.ts", import.meta.url));

interface StartAuditMemory {
  expected: number;
  seconds: number;
  baselineHwmBytes: number;
  peakHwmBytes: number;
  maxSampledRssBytes: number;
  maxHeapUsedBytes: number;
  maxHeapAfterMajorGcBytes: number;
  majorGcs: number;
  samples: number;
}

async function measure(identities: number): Promise<StartAuditMemory> {
  return withAzurite((azurite) =>
    // Resource Graph's quota is lifted: it only slows the run down, it does not change what is held in memory.
    withSimulator({ identities, seed: "bench", argQuota: { limit: 10_000, windowMs: 5_000 } }, async (sim) => {
      const tenant = sim.tenants[0];
      if (!tenant) throw new Error("the simulator has no tenant");
      const args = ["--storage", azurite.connectionString, "--prefix", benchPrefix("mem"), "--tenant", tenant.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile];
      return runChildScript<StartAuditMemory>(CHILD, args, { env: { UAMI_ARM_TOKEN: tenant.token }, timeoutMs: 300_000 });
    }),
  );
}

export const startAuditMemory: Measurement = {
  name: "startAuditMemory",
  title: `Peak memory of startAudit, ${SIZES.map((n) => n.toLocaleString("en")).join(" vs ")} identities`,
  async run(out: FigureRecorder) {
    const results: StartAuditMemory[] = [];
    for (const identities of SIZES) {
      const caseOut = out.forCase(`${identities.toLocaleString("en")} identities`);
      const r = await measure(identities);
      results.push(r);
      caseOut.figure("enumerated", r.expected, "identities");
      caseOut.figure("startAudit time", r.seconds, "s");
      caseOut.figure("peak RSS of the child (VmHWM)", toMiB(r.peakHwmBytes), "MiB");
      caseOut.figure("peak RSS before startAudit", toMiB(r.baselineHwmBytes), "MiB");
      caseOut.figure("added by startAudit (peak - baseline)", toMiB(r.peakHwmBytes - r.baselineHwmBytes), "MiB");
      caseOut.figure("max sampled RSS (every 50 ms)", toMiB(r.maxSampledRssBytes), "MiB");
      caseOut.figure("max sampled heap used", toMiB(r.maxHeapUsedBytes), "MiB");
      caseOut.figure("max live heap (just after a major GC)", toMiB(r.maxHeapAfterMajorGcBytes), "MiB");
      caseOut.figure("major GCs", r.majorGcs, "GCs");
    }
    const [small, large] = results;
    if (!small || !large) return;
    const sizeRatio = large.expected / small.expected;
    const peakRatio = large.peakHwmBytes / small.peakHwmBytes;
    const liveRatio = large.maxHeapAfterMajorGcBytes / small.maxHeapAfterMajorGcBytes;
    const livePerIdentity = (large.maxHeapAfterMajorGcBytes - small.maxHeapAfterMajorGcBytes) / (large.expected - small.expected);
    out.figure("tenant size ratio", sizeRatio, "x");
    out.figure("peak RSS ratio (VmHWM, large / small)", peakRatio, "x");
    out.figure("added-RSS ratio (peak - baseline, large / small)", (large.peakHwmBytes - large.baselineHwmBytes) / (small.peakHwmBytes - small.baselineHwmBytes), "x");
    out.figure("live-heap ratio (after major GC, large / small)", liveRatio, "x");
    out.figure("live heap per extra identity", livePerIdentity, "bytes");
    out.note(
      `for a ${sizeRatio.toFixed(0)}x larger tenant, peak RSS grew ${peakRatio.toFixed(2)}x and the live heap ${liveRatio.toFixed(2)}x ` +
        `(${livePerIdentity.toFixed(0)} bytes per extra identity, ~${toMiB(livePerIdentity * 1_000_000).toFixed(0)} MiB more at 1,000,000 identities)`,
    );
  },
};
