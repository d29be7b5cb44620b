/**
 * Memory figures of the current process: the kernel's RSS high-water mark (`VmHWM` in
 * /proc/self/status, which catches peaks between samples) and RSS/heap sampled on a timer.
 */
import { readFileSync } from "node:fs";

/** A `Vm*` field of /proc/self/status in bytes (Linux only; the file reports kB). */
export function procStatusBytes(field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  if (!match?.[1]) throw new Error(`/proc/self/status has no ${field} line: benchmarks of memory need Linux`);
  return Number(match[1]) * 1024;
}

export interface MemorySamples {
  maxRssBytes: number;
  maxHeapUsedBytes: number;
  samples: number;
}

/** Samples RSS and heap every `intervalMs` until stopped; the timer does not keep the process alive. */
export function sampleMemory(intervalMs = 50): { stop(): MemorySamples } {
  const result: MemorySamples = { maxRssBytes: 0, maxHeapUsedBytes: 0, samples: 0 };
  const take = () => {
    const usage = process.memoryUsage();
    result.maxRssBytes = Math.max(result.maxRssBytes, usage.rss);
    result.maxHeapUsedBytes = Math.max(result.maxHeapUsedBytes, usage.heapUsed);
    result.samples += 1;
  };
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return result;
    },
  };
}
