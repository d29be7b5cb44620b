/**
 * `uami-audit worker` reports a run that failed with exit code 1, as the README's exit code table says: a
 * pipeline that drains a run with workers must not read a failed run as a success.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { failRun, startRun } from "../../src/store/runs.js";
import { freshAuditStorage, uniquePrefix } from "../helpers/storage.js";
import { cleanEnv, jsonLines, runCli } from "./cliProcess.js";

describe("worker: exit code", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 3, seed: "worker-exit", rate: 20 });
  });
  afterAll(() => sim?.close());

  it("exits 1 with the run's failure when the run it drains has failed", async () => {
    const tenant = sim.tenants[0]!;
    const prefix = uniquePrefix();
    const storage = await freshAuditStorage(prefix);
    const started = await startRun(storage, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli", now: new Date() });
    if (!started.started) throw new Error("no run started");
    const runId = started.run.runId;
    await failRun(storage, runId, "Enumerating identities failed after 0 identities: simulated");

    const args = ["worker", "--run", runId, "--tenant", tenant.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile, "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", prefix];
    const env = cleanEnv({ UAMI_ARM_TOKEN: tenant.token });
    const json = await runCli([...args, "--json"], { env });
    expect(json.code, json.stderr).toBe(1);
    expect(jsonLines(json).at(-1)).toMatchObject({ type: "result", command: "worker", runId, status: "failed", exitCode: 1 });

    const human = await runCli(args, { env });
    expect(human.code).toBe(1);
    expect(human.stderr).toContain(`run ${runId} failed: Enumerating identities failed after 0 identities: simulated`);
  });
});
