/**
 * Memory figures of the current process: the kernel's RSS high-water mark (`VmHWM` in
 * /proc/self/status, which catches peaks between samples), RSS and heap sampled on a timer, and the
 * heap still in use right after each major garbage collection (what the process really holds, as
 * opposed to garbage V8 has not collected yet, which dominates RSS peaks).
 */
import { readFileSync } from "node:fs";
import { constants, PerformanceObserver, type NodeGCPerformanceDetail } from "node:perf_hooks";

/** A `Vm*` field of /proc/self/status in bytes (Linux only; the file reports kB). */
export function procStatusBytes(field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  if (!match?.[1]) throw new Error(`/proc/self/status has no ${field} line: benchmarks of memory need Linux`);
  return Number(match[1]) * 1024;
}

/** CPU seconds (user + system) another process has used so far, from /proc/<pid>/stat (Linux only). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux Node supports
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export interface MemorySamples {
  maxRssBytes: number;
  maxHeapUsedBytes: number;
  samples: number;
  /** Largest heap in use just after a major (mark-compact) GC; 0 when none happened. */
  maxHeapAfterMajorGcBytes: number;
  majorGcs: number;
}

/** Samples RSS and heap every `intervalMs` until stopped; the timer does not keep the process alive. */
export function sampleMemory(intervalMs = 50): { stop(): MemorySamples } {
  const result: MemorySamples = { maxRssBytes: 0, maxHeapUsedBytes: 0, samples: 0, maxHeapAfterMajorGcBytes: 0, majorGcs: 0 };
  const take = () => {
    const usage = process.memoryUsage();
    result.maxRssBytes = Math.max(result.maxRssBytes, usage.rss);
    result.maxHeapUsedBytes = Math.max(result.maxHeapUsedBytes, usage.heapUsed);
    result.samples += 1;
  };
  // GC entries arrive shortly after the collection: heapUsed then is (close to) the live heap.
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node types `detail` only on marks and measures; a gc entry carries NodeGCPerformanceDetail.
      const detail = (entry as { detail?: NodeGCPerformanceDetail }).detail;
      if (detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      result.majorGcs += 1;
      result.maxHeapAfterMajorGcBytes = Math.max(result.maxHeapAfterMajorGcBytes, process.memoryUsage().heapUsed);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  take();
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      observer.disconnect();
      take();
      return result;
    },
  };
}
