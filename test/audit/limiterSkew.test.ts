/**
 * Real `uami-audit worker` processes that disagree: one whose clock is an hour fast (its Date is shifted
 * at start-up, as a badly synchronised host would have it), and workers started with different rates.
 * The simulator enforces the tenant's rate; every request beyond it is a 429 in its log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import type { AuditDeps } from "../../src/audit/deps.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { getRun } from "../../src/store/runs.js";
import { depsFor, exited, rateStats } from "../helpers/pipeline.js";

const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };
const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const HOUR = 3600_000;

/** Loaded before anything else in a worker: its clock (Date, Date.now) runs `offsetMs` ahead. */
const shiftedClock = (offsetMs: number) =>
  `data:text/javascript,${encodeURIComponent(
    `const R = Date, o = ${offsetMs}; class D extends R { constructor(...a) { a.length ? super(...a) : super(R.now() + o); } static now() { return R.now() + o; } } globalThis.Date = D;`,
  )}`;

function worker(sim: RunningSimulator, args: { prefix: string; runId: string; tenant: number; rate: number; clockOffsetMs?: number }): ChildProcess & { stderrText: () => string } {
  const clock = args.clockOffsetMs ? ["--import", shiftedClock(args.clockOffsetMs)] : [];
  const child = spawn(
    process.execPath,
    [
      ...clock, "--import", "tsx", CLI, "worker",
      "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", args.prefix, "--run", args.runId,
      "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile, "--rate", String(args.rate), "--workers", "2",
    ],
    { env: { ...process.env, UAMI_ARM_TOKEN: sim.tenants[args.tenant]!.token }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return Object.assign(child, { stderrText: () => stderr });
}

/** Every identity goes through listAssociatedResources, so every check takes slots from the schedule under test. */
const exhaustive = (deps: AuditDeps): AuditDeps => ({ ...deps, settings: { ...deps.settings, mode: "exhaustive" } });

/** Waits for the workers, killing them if the run does not finish in time (a stalled schedule). */
async function finish(workers: ChildProcess[], timeoutMs: number): Promise<boolean> {
  const timer = setTimeout(() => workers.forEach((w) => w.kill("SIGKILL")), timeoutMs);
  const codes = await Promise.all(workers.map(exited));
  clearTimeout(timer);
  return codes.every((c) => c === 0);
}

describe("the global rate limit across workers that disagree (worker processes, simulator)", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 16, seed: 13, rate: 1, tenants: 2 });
  });
  afterAll(() => sim?.close());

  it("a worker whose clock is 1 h fast and one with the right time finish the run together, with no 429", async () => {
    const { deps, prefix, tenant } = await depsFor(sim, { rate: 1, tenant: 0 });
    const started = await startAudit(exhaustive(deps), { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("run not started");
    sim.clearRequestLog();
    const runId = started.run.runId;
    const workers = [worker(sim, { prefix, runId, tenant: 0, rate: 1, clockOffsetMs: HOUR }), worker(sim, { prefix, runId, tenant: 0, rate: 1 })];
    const ok = await finish(workers, 60_000);
    const run = await getRun(deps.storage, runId);
    expect(run?.status, workers.map((w) => w.stderrText()).join("\n")).toBe("complete");
    expect(ok).toBe(true);
    const entries = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.tenantId === tenant.tenantId);
    expect(entries.filter((e) => e.status === 429)).toEqual([]);
    expect(rateStats(entries.map((e) => e.at)).maxInWindow).toBeLessThanOrEqual(1);
  }, 90_000);

  it("workers started with rates 1/s and 2/s against a 1/s tenant: the slower rate wins", async () => {
    const { deps, prefix, tenant } = await depsFor(sim, { rate: 1, tenant: 1 });
    const started = await startAudit(exhaustive(deps), { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("run not started");
    sim.clearRequestLog();
    const runId = started.run.runId;
    const workers = [worker(sim, { prefix, runId, tenant: 1, rate: 1 }), worker(sim, { prefix, runId, tenant: 1, rate: 2 })];
    expect(await finish(workers, 75_000)).toBe(true);
    expect(await getRun(deps.storage, runId)).toMatchObject({ status: "complete", checked: 16 });
    const entries = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.tenantId === tenant.tenantId);
    const throttled = entries.filter((e) => e.status === 429).length;
    console.log(`mixed rates 1/s and 2/s on a 1/s tenant: ${throttled} 429s in ${entries.length} listAssociatedResources requests`);
    // Only the 2/s worker's requests before the 1/s worker's first reservation can be too close.
    expect(throttled).toBeLessThanOrEqual(1);
  }, 90_000);
});
