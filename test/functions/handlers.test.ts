import { HttpRequest } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { createAuditDeps } from "../../src/audit/createAuditDeps.js";
import { loadConfig } from "../../src/config.js";
import { checkIdentity } from "../../src/functions/checkIdentity.js";
import { enumerateRun } from "../../src/functions/enumerateRun.js";
import { getAudit } from "../../src/functions/getAudit.js";
import { getAuditReport } from "../../src/functions/getAuditReport.js";
import { getIdentityHistory } from "../../src/functions/getIdentityHistory.js";
import { getLatestReport } from "../../src/functions/getLatestReport.js";
import { nightlyReport } from "../../src/functions/nightlyReport.js";
import { reportCompletedRun } from "../../src/functions/reportCompletedRun.js";
import type { AppRuntime } from "../../src/app/runtime.js";
import { startAudit } from "../../src/functions/startAudit.js";
import { startAuditHttp } from "../../src/functions/startAuditHttp.js";
import { defaultSafetyMs } from "../../src/limiter/tenantRateLimiter.js";
import { parseQueueMessage } from "../../src/queues.js";
import { ensureAuditStorage } from "../../src/store/auditStorage.js";
import { getRun, listRuns } from "../../src/store/runs.js";
import { drainUntilFinished } from "../helpers/pipeline.js";
import { capturingContext } from "../helpers/runtime.js";
import { testStorageAccount, uniquePrefix } from "../helpers/storage.js";

const BASE = "http://localhost:7071/api";
/**
 * The limiter's rate, with the simulator allowing twice as much and the safety margin left at its default: the
 * rule of every pipeline test that shares the machine (exact-rate pacing is tested only in the `timing` project,
 * which runs alone). The margin is also how late a woken worker may be before it gives its slot up, and it is
 * 5% of the interval with a 5 ms floor: at 50/s a loaded machine missed 8 slots in a row and the check came
 * back "requeued". At 2/s it is 25 ms, and a whole run's candidates still take a few seconds.
 */
const LIMITER_RATE = 2;
const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

describe("function handlers in @azure/functions test mode, against Azurite and the simulator", () => {
  let sim: RunningSimulator;
  let config: AppRuntime["config"];
  let runtime: AppRuntime;
  const getRuntime = () => Promise.resolve(runtime);

  beforeAll(async () => {
    sim = await startSimulator({ identities: 30, seed: 5, rate: 2 * LIMITER_RATE });
    const tenant = sim.tenants[0]!;
    config = loadConfig({
      UAMI_AUDIT_TENANT_ID: tenant.tenantId,
      UAMI_ARM_ENDPOINT: sim.endpoint,
      UAMI_ARM_TOKEN: tenant.token,
      UAMI_ARM_CA_FILE: sim.caFile,
      UAMI_RATE_LIMIT_PER_SECOND: String(LIMITER_RATE),
    });
  });
  afterAll(() => sim?.close());

  // Every test gets storage of its own (a fresh prefix): none sees the runs, queues or reports of another,
  // so each passes alone (`-t`) and in any order.
  beforeEach(async () => {
    const deps = createAuditDeps({ arm: config, limiter: config, storageAccount: testStorageAccount(), storagePrefix: uniquePrefix() });
    await ensureAuditStorage(deps.storage);
    runtime = { config, deps };
  });

  /** A whole-tenant run started by the timer, checked to the end and its report built by the queue function. */
  async function auditWithBuiltReport(): Promise<string> {
    await startAudit(timer, capturingContext("startAudit").context, getRuntime);
    const runs = [];
    for await (const run of listRuns(runtime.deps.storage, config.tenantId)) runs.push(run);
    expect(runs).toHaveLength(1);
    const runId = runs[0]!.runId;
    expect((await drainUntilFinished(runtime.deps, runId)).status).toBe("complete");
    const completed = await runtime.deps.storage.completedQueue.receiveMessages({ numberOfMessages: 1 });
    await reportCompletedRun(parseQueueMessage(completed.receivedMessageItems[0]!.messageText), capturingContext("reportCompletedRun").context, getRuntime);
    expect((await getRun(runtime.deps.storage, runId))?.reportStatus).toBe("built");
    return runId;
  }

  it("the startAudit timer starts one run, enumerates it, and a second tick while it runs starts nothing", async () => {
    const first = capturingContext("startAudit");
    await startAudit(timer, first.context, getRuntime);
    expect(first.logs.map((l) => l.text).join("\n")).toMatch(/Run \S+ started with 30 identities/);
    const second = capturingContext("startAudit");
    await startAudit(timer, second.context, getRuntime);
    expect(second.logs.map((l) => l.text).join("\n")).toMatch(/still in progress; no new run started/);

    const peek = await runtime.deps.storage.checkQueue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 1 });
    const message = parseQueueMessage(peek.receivedMessageItems[0]!.messageText);
    expect(message.kind).toBe("check");

    // The queue trigger hands the handler what the host decoded: here the parsed JSON object.
    const check = capturingContext("checkIdentity", { dequeueCount: 1 });
    await checkIdentity(message, check.context, getRuntime);
    expect(check.logs.map((l) => l.text).join("\n")).toMatch(/: checked$/m);

    const runId = message.runId;
    const run = await drainUntilFinished(runtime.deps, runId);
    expect(run.status).toBe("complete");

    const completed = await runtime.deps.storage.completedQueue.receiveMessages({ numberOfMessages: 5 });
    expect(completed.receivedMessageItems).toHaveLength(1);
    const report = capturingContext("reportCompletedRun");
    await reportCompletedRun(parseQueueMessage(completed.receivedMessageItems[0]!.messageText), report.context, getRuntime);
    expect(report.logs.map((l) => l.text).join("\n")).toMatch(/Report of run .*: \d+ unused/);
    expect((await getRun(runtime.deps.storage, runId))?.reportStatus).toBe("built");

    const nightly = capturingContext("nightlyReport");
    await nightlyReport(timer, nightly.context, getRuntime);
    expect(nightly.logs.map((l) => l.text).join("\n")).toMatch(/Every completed run has its report/);
  }, 90_000);

  it("a malformed queue message is logged and dropped, not retried forever", async () => {
    const ctx = capturingContext("checkIdentity", { dequeueCount: 1 });
    await checkIdentity("not base64 json {", ctx.context, getRuntime);
    expect(ctx.logs.find((l) => l.level === "error")?.text).toMatch(/Dropping malformed check message/);
  });

  it("serves the report in every format, the latest report, the run status and an identity's history", async () => {
    const runId = await auditWithBuiltReport();
    const contentTypes = { json: /application\/json/, csv: /text\/csv/, md: /text\/markdown/, html: /text\/html/ };
    for (const [format, type] of Object.entries(contentTypes)) {
      const response = await getAuditReport(
        new HttpRequest({ method: "GET", url: `${BASE}/audits/${runId}/report?format=${format}`, params: { runId }, query: { format } }),
        capturingContext("getAuditReport").context,
        getRuntime,
      );
      expect(response.status).toBe(200);
      expect((response.headers as Record<string, string>)["content-type"]).toMatch(type);
      expect(String(response.body).length).toBeGreaterThan(100);
    }
    const latest = await getLatestReport(new HttpRequest({ method: "GET", url: `${BASE}/reports/latest` }), capturingContext("getLatestReport").context, getRuntime);
    expect(latest.status).toBe(200);
    expect(JSON.parse(String(latest.body))).toMatchObject({ schemaVersion: 2, run: { runId } });

    const status = await getAudit(new HttpRequest({ method: "GET", url: `${BASE}/audits/${runId}`, params: { runId } }), capturingContext("getAudit").context, getRuntime);
    expect(status.status).toBe(200);
    expect(status.jsonBody).toMatchObject({ runId, status: "complete", progress: { total: 30, checked: 30, pending: 0 }, etaSeconds: 0, reportStatus: "built" });

    const identity = sim.truth.tenants[0]!.identities[3]!;
    const history = await getIdentityHistory(
      new HttpRequest({ method: "GET", url: `${BASE}/identities/x`, params: { subscriptionId: identity.subscriptionId.toUpperCase(), resourceGroup: identity.resourceGroupName, name: identity.name } }),
      capturingContext("getIdentityHistory").context,
      getRuntime,
    );
    expect(history.status).toBe(200);
    // Fast mode (the default): a referenced identity is in use by Resource Graph's references, without an API count.
    const entry = (history.jsonBody as { history: { runId: string; status: string; verdict: string; associationCount: number | null; evidence: { referenceCount: number | null } }[] }).history[0]!;
    expect(entry).toMatchObject({ runId, status: "checked" });
    expect(entry.associationCount === identity.associationCount || (entry.associationCount === null && (entry.evidence.referenceCount ?? 0) > 0)).toBe(true);
    expect(entry.verdict).toEqual(expect.any(String));
    if (sim.truth.isUsed(identity.id)) expect(entry.verdict).not.toBe("unused");
  }, 60_000);

  it("an on-demand audit over HTTP is enumerated by the enumerate queue function, and its progress has an ETA", async () => {
    const tenant = sim.tenants[0]!;
    const post = await startAuditHttp(
      new HttpRequest({ method: "POST", url: `${BASE}/audits`, body: { string: JSON.stringify({ subscriptions: [tenant.subscriptions[0]] }) }, headers: { "content-type": "application/json" } }),
      capturingContext("startAuditHttp").context,
      getRuntime,
    );
    expect(post.status).toBe(202);
    const runId = (post.jsonBody as { runId: string }).runId;
    const received = await runtime.deps.storage.enumerateQueue.receiveMessages({ numberOfMessages: 1 });
    await enumerateRun(parseQueueMessage(received.receivedMessageItems[0]!.messageText), capturingContext("enumerateRun").context, getRuntime);
    const run = await getRun(runtime.deps.storage, runId);
    const inScope = sim.truth.tenants[0]!.identities.filter((i) => i.subscriptionId === tenant.subscriptions[0]).length;
    expect(run).toMatchObject({ status: inScope === 0 ? "complete" : "running", expected: inScope, mode: "fast" });
    // Fast mode: the identities the sweep decided are counted already; only the candidates are pending.
    const candidates = inScope - run!.checked;
    expect(candidates).toBeGreaterThan(0);
    const status = await getAudit(new HttpRequest({ method: "GET", url: `${BASE}/audits/${runId}`, params: { runId } }), capturingContext("getAudit").context, getRuntime);
    // One slot per pending candidate, a slot being the configured rate's interval plus its safety margin.
    const slotMs = 1000 / config.ratePerSecond + (config.rateSafetyMs ?? defaultSafetyMs(config.ratePerSecond));
    expect(status.jsonBody).toMatchObject({ status: "running", mode: "fast", phase: "checks", progress: { total: inScope, pending: candidates }, etaSeconds: Math.ceil((candidates * slotMs) / 1000) });
    const report = await getAuditReport(new HttpRequest({ method: "GET", url: `${BASE}/audits/${runId}/report`, params: { runId } }), capturingContext("getAuditReport").context, getRuntime);
    expect(report.status).toBe(409);
    await drainUntilFinished(runtime.deps, runId);
  }, 60_000);
});
