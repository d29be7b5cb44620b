/**
 * 1. Simulator generation: how long `generateTenant` takes for 100,000 identities and how much memory
 * the process peaks at (VmHWM), in a child process of its own so nothing else is counted.
 */
import { fileURLToPath } from "node:url";
import { runChildScript } from "./childScript.js";
import { toMiB, type FigureRecorder, type Measurement } from "./measurement.js";

const IDENTITIES = 100_000;
const CHILD = fileURLToPath(new URL("./children/generateTenant.ts", import.meta.url));

interface GenerationResult {
  identities: number;
  seconds: number;
  baselineHwmBytes: number;
  peakHwmBytes: number;
  heapUsedBytes: number;
}

export const simulatorGeneration: Measurement = {
  name: "simulatorGeneration",
  title: `Simulator generation, ${IDENTITIES.toLocaleString("en")} identities`,
  async run(out: FigureRecorder) {
    const result = await runChildScript<GenerationResult>(CHILD, ["--identities", String(IDENTITIES), "--seed", "bench"], { timeoutMs: 120_000 });
    out.figure("identities generated", result.identities, "identities");
    out.figure("generation time", result.seconds, "s");
    out.figure("identities per second", result.identities / result.seconds, "identities/s");
    out.figure("peak RSS of the process (VmHWM)", toMiB(result.peakHwmBytes), "MiB");
    out.figure("peak RSS before generating (Node + tsx + modules)", toMiB(result.baselineHwmBytes), "MiB");
    out.figure("added by generation (peak - baseline)", toMiB(result.peakHwmBytes - result.baselineHwmBytes), "MiB");
    out.figure("heap used with the tenant held", toMiB(result.heapUsedBytes), "MiB");
    out.figure("added memory per identity", (result.peakHwmBytes - result.baselineHwmBytes) / result.identities, "bytes");
  },
};
