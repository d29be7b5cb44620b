/**
 * Scopes as large as the API accepts (5,000 subscriptions or management groups, far more than the
 * 64 KiB one table property holds), end to end through the real handlers against Azurite: POST, then
 * GET shows the scope; the nightly timer with the same scope from its setting; and the setting's cap.
 */
import { randomUUID } from "node:crypto";
import { HttpRequest } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { createAuditDeps } from "../../src/audit/createAuditDeps.js";
import { ConfigError, loadConfig, MAX_SCOPE_ITEMS } from "../../src/config.js";
import { getAudit } from "../../src/functions/getAudit.js";
import type { AppRuntime } from "../../src/app/runtime.js";
import { startAudit } from "../../src/functions/startAudit.js";
import { startAuditHttp } from "../../src/functions/startAuditHttp.js";
import { ensureAuditStorage } from "../../src/store/auditStorage.js";
import { finishEnumeration, getRun, latestCompletedRun, updateRun } from "../../src/store/runs.js";
import { capturingContext, TEST_TENANT, testRuntime } from "../helpers/runtime.js";
import { testStorageAccount, uniquePrefix } from "../helpers/storage.js";

const BASE = "http://localhost:7071/api";
const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

const subscriptions = (n: number) => Array.from({ length: n }, () => randomUUID());
/** The longest management group ids Azure allows (90 characters), all distinct. */
const managementGroups = (n: number) => Array.from({ length: n }, (_, i) => `mg-${String(i).padStart(5, "0")}-${"x".repeat(81)}`);

async function postThenGet(runtime: AppRuntime, body: unknown) {
  const getRuntime = () => Promise.resolve(runtime);
  const text = JSON.stringify(body);
  const posted = await startAuditHttp(
    new HttpRequest({ method: "POST", url: `${BASE}/audits`, body: { string: text }, headers: { "content-type": "application/json" } }),
    capturingContext("startAuditHttp").context,
    getRuntime,
  );
  expect(posted.status, JSON.stringify(posted.jsonBody).slice(0, 300)).toBe(202);
  const runId = (posted.jsonBody as { runId: string }).runId;
  const got = await getAudit(new HttpRequest({ method: "GET", url: `${BASE}/audits/${runId}`, params: { runId } }), capturingContext("getAudit").context, getRuntime);
  expect(got.status).toBe(200);
  return { runId, bodyLength: text.length, status: got.jsonBody as { scope: { subscriptions: string[]; managementGroups: string[] } } };
}

describe("scopes of any size the API accepts", () => {
  it(`POST /api/audits with ${MAX_SCOPE_ITEMS} subscriptions: 202, and GET /api/audits/{id} shows all of them`, async () => {
    const runtime = await testRuntime();
    const scope = subscriptions(MAX_SCOPE_ITEMS);
    const { runId, bodyLength, status } = await postThenGet(runtime, { subscriptions: scope.map((s) => s.toUpperCase()) });
    expect(bodyLength).toBeGreaterThan(64 * 1024);
    expect(status.scope).toEqual({ subscriptions: scope, managementGroups: [] });

    // The run row is rewritten on every recorded identity: the scope survives the rewrites.
    await updateRun(runtime.deps.storage, runId, (run) => ({ requests: run.requests + 1 }));
    await finishEnumeration(runtime.deps.storage, runId, 0, new Date());
    const completed = await latestCompletedRun(runtime.deps.storage, TEST_TENANT);
    expect(completed).toMatchObject({ runId, status: "complete", requests: 1 });
    expect(completed?.scope.subscriptions).toEqual(scope);
  });

  it(`POST /api/audits with ${MAX_SCOPE_ITEMS} management groups of 90 characters: 202, and GET shows all of them`, async () => {
    const runtime = await testRuntime();
    const scope = managementGroups(MAX_SCOPE_ITEMS);
    const { runId, bodyLength, status } = await postThenGet(runtime, { managementGroups: scope });
    expect(bodyLength).toBeGreaterThan(400_000);
    expect(status.scope).toEqual({ subscriptions: [], managementGroups: scope });
    expect((await getRun(runtime.deps.storage, runId))?.scope.managementGroups).toEqual(scope);
  });

  it(`UAMI_AUDIT_SUBSCRIPTIONS and UAMI_AUDIT_MANAGEMENT_GROUPS take up to ${MAX_SCOPE_ITEMS} ids, and say so beyond`, () => {
    const base = { UAMI_AUDIT_TENANT_ID: TEST_TENANT };
    expect(loadConfig({ ...base, UAMI_AUDIT_SUBSCRIPTIONS: subscriptions(MAX_SCOPE_ITEMS).join(",") }).scope.subscriptions).toHaveLength(MAX_SCOPE_ITEMS);
    expect(loadConfig({ ...base, UAMI_AUDIT_MANAGEMENT_GROUPS: managementGroups(MAX_SCOPE_ITEMS).join(",") }).scope.managementGroups).toHaveLength(MAX_SCOPE_ITEMS);
    const tooMany = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(tooMany({ UAMI_AUDIT_SUBSCRIPTIONS: subscriptions(MAX_SCOPE_ITEMS + 1).join(",") })).toEqual([
      `UAMI_AUDIT_SUBSCRIPTIONS lists ${MAX_SCOPE_ITEMS + 1} subscriptions; at most ${MAX_SCOPE_ITEMS} (as POST /api/audits): use UAMI_AUDIT_MANAGEMENT_GROUPS, or the whole tenant`,
    ]);
    expect(tooMany({ UAMI_AUDIT_MANAGEMENT_GROUPS: managementGroups(MAX_SCOPE_ITEMS + 1).join(",") })).toEqual([
      `UAMI_AUDIT_MANAGEMENT_GROUPS lists ${MAX_SCOPE_ITEMS + 1} management groups; at most ${MAX_SCOPE_ITEMS} (as POST /api/audits): use a parent management group, or the whole tenant`,
    ]);
  });
});

describe("the nightly timer with a 5,000-subscription scope (simulator)", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // Every subscription of the scope exists (Resource Graph answers 403 for one the caller cannot see).
    sim = await startSimulator({ identities: 12, seed: 31, rate: 100, subscriptionsPerTenant: MAX_SCOPE_ITEMS });
  });
  afterAll(() => sim?.close());

  it("starts the run, stores its scope and enumerates the identities of all 5,000 subscriptions", async () => {
    const tenant = sim.tenants[0]!;
    const scope = tenant.subscriptions.map((s) => s.toLowerCase());
    expect(scope).toHaveLength(MAX_SCOPE_ITEMS);
    const config = loadConfig({
      UAMI_AUDIT_TENANT_ID: tenant.tenantId,
      UAMI_ARM_ENDPOINT: sim.endpoint,
      UAMI_ARM_TOKEN: tenant.token,
      UAMI_ARM_CA_FILE: sim.caFile,
      UAMI_AUDIT_SUBSCRIPTIONS: scope.join(","),
    });
    const deps = createAuditDeps({ arm: config, limiter: config, storageAccount: testStorageAccount(), storagePrefix: uniquePrefix() });
    await ensureAuditStorage(deps.storage);
    const run = capturingContext("startAudit");
    await startAudit(timer, run.context, () => Promise.resolve({ config, deps }));
    const logs = run.logs.map((l) => l.text).join("\n");
    expect(logs).toMatch(/Run \S+ started with 12 identities/);
    const runId = /Run (\S+) started/.exec(logs)![1]!;
    const stored = await getRun(deps.storage, runId);
    expect(stored).toMatchObject({ status: "running", expected: 12 });
    expect(stored?.scope.subscriptions).toEqual(scope);
  }, 60_000);
});
