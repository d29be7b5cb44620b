/**
 * A scan stopped with Ctrl-C (or killed) is continued, not redone: real `uami-audit scan`, `worker` and
 * `report` processes against the simulator and the test Azurite. Each identity gets exactly one answered
 * listAssociatedResources request across the stopped scan and its continuation (the run's api-version probe,
 * `$top=1`, aside), nothing keeps running after the stop, and every path says which command continues.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { openAuditStorage } from "../../src/store/auditStorage.js";
import { testStorageAccount, uniquePrefix } from "../helpers/storage.js";
import { childrenOf, cleanEnv, isAlive, jsonLines, runCli, startCli, until, type JsonLine } from "./cliProcess.js";

const PROBE = /[?&](?:\$|%24)top=1(?:&|$)/;

describe("scan: Ctrl-C, --resume, worker and report after a stop", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // 24 identities per tenant, checked at 3 requests per second: about 8 s of checks, room to stop half-way.
    sim = await startSimulator({ identities: 24, seed: 4242, rate: 4, tenants: 4 });
  });
  afterAll(() => sim?.close());

  const scanArgs = (tenant: number, prefix: string) => {
    const t = sim.tenants[tenant]!;
    return {
      args: [
        "scan", "--tenant", t.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile,
        "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", prefix, "--rate", "3", "--mode", "exhaustive", "--json",
      ],
      env: cleanEnv({ UAMI_ARM_TOKEN: t.token }),
      tenantId: t.tenantId,
    };
  };

  /** Answered listAssociatedResources checks per identity of the tenant (the probe aside). */
  const checksPerIdentity = (tenantId: string): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const entry of sim.requestLog()) {
      if (entry.tenantId !== tenantId || entry.operation !== "listAssociatedResources" || entry.status !== 200 || PROBE.test(entry.path)) continue;
      const key = entry.identityId!.toLowerCase();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  const checksOf = (tenantId: string) => [...checksPerIdentity(tenantId).values()].reduce((a, b) => a + b, 0);

  /**
   * Every identity of the tenant has exactly one answered check. The one exception the design allows: an attempt
   * that failed after its request (a transient storage error while recording, say) is retried by the queue, as in
   * any run; the processes report such attempts (`failedAttempts`), and only they may explain a second request.
   */
  const expectCheckedOnce = (tenant: number, tenantId: string, failedAttempts: number) => {
    const counts = checksPerIdentity(tenantId);
    expect([...counts.keys()].sort()).toEqual(identitiesOf(tenant));
    const extra = [...counts.entries()].filter(([, n]) => n !== 1);
    const detail = extra.map(([id]) => sim.requestLog().filter((e) => e.identityId?.toLowerCase() === id && e.operation === "listAssociatedResources").map((e) => `${e.at} ${e.status} ${e.path}`));
    const surplus = extra.reduce((sum, [, n]) => sum + n - 1, 0);
    expect(surplus, `identities checked more than once: ${JSON.stringify(extra)} ${JSON.stringify(detail)}; failed attempts: ${failedAttempts}`).toBeLessThanOrEqual(failedAttempts);
  };
  const failedAttemptsOf = (lines: JsonLine[]) => lines.reduce((sum, line) => sum + (typeof line.failedAttempts === "number" ? line.failedAttempts : 0), 0);
  const identitiesOf = (tenant: number) => sim.truth.tenants[tenant]!.identities.map((i) => i.id.toLowerCase()).sort();

  async function stopMidChecks(tenant: number, prefix: string, signal: NodeJS.Signals) {
    const { args, env, tenantId } = scanArgs(tenant, prefix);
    const scan = startCli(args, { env });
    const runLine = JSON.parse(await scan.waitForLine((line) => line.includes('"type":"run"'))) as JsonLine;
    await until(() => checksOf(tenantId) >= 6, 60_000, "6 checks of the first scan");
    const children = await childrenOf(scan.child.pid!);
    scan.child.kill(signal);
    const stopped = await scan.exited;
    return { stopped, runId: String(runLine.runId), children, args, env, tenantId };
  }

  it("Ctrl-C stops cleanly and says how to continue; --resume finishes the run with every identity checked exactly once", async () => {
    const prefix = uniquePrefix();
    const { stopped, runId, children, args, env, tenantId } = await stopMidChecks(0, prefix, "SIGINT");
    expect(stopped.code, stopped.stderr).toBe(130);
    const interrupted = jsonLines(stopped).find((line) => line.type === "interrupted")!;
    expect(interrupted).toMatchObject({ runId, resumable: true, signal: "SIGINT" });
    expect(String(interrupted.resume)).toContain("uami-audit scan --resume");
    expect(String(interrupted.resume)).not.toContain("AccountKey");

    // Nothing keeps running: no child process is left, and no request arrives after the exit.
    for (const child of children) expect(await isAlive(child.pid), child.commandLine).toBe(false);
    const atExit = sim.requestLog().filter((e) => e.tenantId === tenantId).length;
    await new Promise((r) => setTimeout(r, 2000));
    expect(sim.requestLog().filter((e) => e.tenantId === tenantId).length).toBe(atExit);
    const checkedBefore = checksOf(tenantId);
    expect(checkedBefore).toBeGreaterThan(0);
    expect(checkedBefore).toBeLessThan(24);

    const resumed = await runCli([...args, "--resume"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = jsonLines(resumed);
    expect(lines[0]).toMatchObject({ type: "run", runId, resumed: true });
    expect(lines.at(-1)).toMatchObject({ type: "result", runId, status: "complete", resumed: true, expected: 24, accounted: 24, exitCode: 0 });

    expectCheckedOnce(0, tenantId, failedAttemptsOf([...jsonLines(stopped), ...lines]));
  }, 180_000);

  it("--resume sends again the checks whose messages are gone, still once each", async () => {
    const prefix = uniquePrefix();
    const { stopped, args, env, tenantId } = await stopMidChecks(1, prefix, "SIGINT");
    expect(stopped.code, stopped.stderr).toBe(130);
    // The messages of the unchecked identities vanish (expired, or a queue cleared by hand).
    const storage = openAuditStorage(testStorageAccount(), prefix);
    await storage.checkQueue.clearMessages();

    const resumed = await runCli([...args, "--resume"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = jsonLines(resumed);
    expect(lines.find((line) => line.type === "warning")?.message).toMatch(/had no check message left.*sent again/);
    expect(lines.at(-1)).toMatchObject({ type: "result", status: "complete", accounted: 24 });
    expectCheckedOnce(1, tenantId, failedAttemptsOf([...jsonLines(stopped), ...lines]));
  }, 180_000);

  it("after a killed scan: scan names the commands that continue it, a worker finishes it, report builds the missing report", async () => {
    const prefix = uniquePrefix();
    const { stopped, runId, args, env } = await stopMidChecks(2, prefix, "SIGKILL");
    expect(stopped.code).toBeNull();
    expect(stopped.signal).toBe("SIGKILL");

    const refused = await runCli(args, { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`run ${runId}`);
    expect(refused.stderr).toContain("uami-audit scan --resume");
    expect(refused.stderr).toContain(`uami-audit worker --run ${runId}`);
    expect(jsonLines(refused).at(-1)).toMatchObject({ type: "error", exitCode: 1 });

    const where = ["--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", prefix];
    const arm = ["--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile];
    const notYet = await runCli(["report", "--run", runId, ...where, "--format", "json"], { env });
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/is running.*uami-audit scan --resume.*uami-audit worker --run/s);

    // The killed scan's leased messages come back after their lease (30 s): the worker takes them then.
    const worker = await runCli(["worker", "--run", runId, "--tenant", sim.tenants[2]!.tenantId, ...arm, ...where, "--rate", "3", "--workers", "2", "--json"], { env });
    expect(worker.code, worker.stderr).toBe(0);
    expect(jsonLines(worker).at(-1)).toMatchObject({ type: "result", command: "worker", runId, status: "complete", accounted: 24 });

    const report = await runCli(["report", "--run", runId, ...arm, ...where, "--format", "json"], { env });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toMatch(/had no built report: built and stored it/);
    const built = JSON.parse(report.stdout.join("\n")) as { run: { runId: string; countsByVerdict: Record<string, number> } };
    expect(built.run.runId).toBe(runId);

    // Stored now: rendered again without building; --fail-on-findings exits 3 when unused identities are listed.
    const again = await runCli(["report", "--run", runId, ...where, "--format", "csv", "--fail-on-findings"], { env: cleanEnv() });
    expect(again.stderr).not.toMatch(/built and stored/);
    expect(again.code).toBe(built.run.countsByVerdict.unused ? 3 : 0);
  }, 240_000);

  it("stopped during its inventory: Ctrl-C fails the run at once (nothing was checked); killed, scan --resume restarts it", async () => {
    const prefix = uniquePrefix();
    const { args, env, tenantId } = scanArgs(3, prefix);
    let restartedFrom: string | undefined;
    // Resource Graph answers slowly: the scan is in its inventory phase for seconds.
    sim.setFaults({ latencyMs: 4000, operations: ["resourceGraph"] });
    try {
      const first = startCli(args, { env });
      await first.waitForLine((line) => line.includes('"type":"run"'));
      first.child.kill("SIGINT");
      const interrupted = await first.exited;
      expect(interrupted.code).toBe(130);
      expect(jsonLines(interrupted).find((line) => line.type === "interrupted")).toMatchObject({ resumable: false });
      expect(interrupted.stdout.join("\n")).toMatch(/before any identity was checked/);

      // Nothing holds the tenant: the next scan starts; this one is killed in its inventory.
      const second = startCli(args, { env });
      const secondRun = JSON.parse(await second.waitForLine((line) => line.includes('"type":"run"'))) as JsonLine;
      restartedFrom = String(secondRun.runId);
      second.child.kill("SIGKILL");
      await second.exited;

      const refused = await runCli(args, { env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("uami-audit scan --resume");
    } finally {
      sim.setFaults({});
    }
    const resumed = await runCli([...args, "--resume"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = jsonLines(resumed);
    expect(lines[0]).toMatchObject({ type: "run", resumed: false });
    expect(lines[0]!.restartedFrom).toBe(restartedFrom);
    expect(String(lines[0]!.note)).toMatch(/marked failed, starting a new run/);
    expect(lines.at(-1)).toMatchObject({ type: "result", status: "complete", accounted: 24 });
    expectCheckedOnce(3, tenantId, failedAttemptsOf(lines));
  }, 240_000);
});
