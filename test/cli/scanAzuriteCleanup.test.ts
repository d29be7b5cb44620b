/**
 * `uami-audit scan` without --storage runs its own in-memory Azurite (three processes, ~460 MB). However
 * the scan ends (SIGINT, SIGTERM, or SIGKILL, which it cannot catch), no Azurite process of it is left.
 * Real scan child processes against the simulator, killed mid-run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string;
  commandLine: string;
}

async function processInfo(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const commandLine = (await readFile(`/proc/${pid}/cmdline`, "utf8")).replace(/\0/g, " ");
    return { pid, ppid: Number(ppid), state: state!, commandLine };
  } catch {
    return undefined; // gone
  }
}

async function azuriteChildrenOf(parent: number): Promise<ProcessInfo[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
  const infos = await Promise.all(pids.map(processInfo));
  return infos.filter((p): p is ProcessInfo => p !== undefined && p.ppid === parent && /azurite/.test(p.commandLine));
}

/** Alive: exists and is not a zombie (an exited process its new parent has not reaped yet). */
async function alive(pids: number[]): Promise<number[]> {
  const infos = await Promise.all(pids.map(processInfo));
  return infos.filter((p): p is ProcessInfo => p !== undefined && p.state !== "Z").map((p) => p.pid);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

describe("uami-audit scan stops its embedded Azurite however it ends", () => {
  let sim: RunningSimulator;
  const leftovers: number[] = [];
  beforeAll(async () => {
    // Slow enough (40 identities at 2 requests/s) that the scan is mid-run when it is killed.
    sim = await startSimulator({ identities: 40, seed: 8, rate: 2, tenants: 3 });
  });
  afterAll(async () => {
    // Never leave ~460 MB behind, even when the code under test did.
    for (const pid of await alive(leftovers)) process.kill(pid, "SIGKILL");
    await sim?.close();
  });

  it.each([
    ["SIGINT", 0],
    ["SIGTERM", 1],
    ["SIGKILL", 2],
  ] as const)("killed with %s mid-run: no Azurite process of it is left", async (signal, tenantIndex) => {
    const tenant = sim.tenants[tenantIndex]!;
    const scan = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "scan", "--tenant", tenant.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile, "--rate", "2", "--quiet"],
      { env: { ...process.env, UAMI_ARM_TOKEN: tenant.token }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    scan.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const ended = exited(scan);

    let azurites: ProcessInfo[] = [];
    const deadline = Date.now() + 30_000;
    while (azurites.length < 3 && Date.now() < deadline && scan.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
      azurites = await azuriteChildrenOf(scan.pid!);
    }
    expect(azurites, stderr).toHaveLength(3);
    leftovers.push(...azurites.map((p) => p.pid));
    // Mid-run: checks are being made at 2/s (the simulator has seen some), and the scan is still going.
    while (Date.now() < deadline && sim.requestLog().filter((e) => e.tenantId === tenant.tenantId && e.operation === "listAssociatedResources").length < 2) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(scan.exitCode).toBeNull();

    const rssKb = await Promise.all(azurites.map((p) => readFile(`/proc/${p.pid}/status`, "utf8").then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0), () => 0)));
    const killedAt = Date.now();
    scan.kill(signal);
    await ended;
    const pids = azurites.map((p) => p.pid);
    const until = Date.now() + 5000;
    let left = await alive(pids);
    while (left.length > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      left = await alive(pids);
    }
    console.log(`${signal}: ${left.length} of 3 Azurite processes (${Math.round(rssKb.reduce((a, b) => a + b, 0) / 1024)} MB RSS) left ${Date.now() - killedAt} ms after the kill`);
    expect(left, `Azurite processes left after ${signal}`).toEqual([]);
  }, 60_000);
});
