import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { checkIdentity } from "../../src/audit/checkIdentity.js";
import type { AuditDeps } from "../../src/audit/deps.js";
import { startAudit } from "../../src/audit/startAudit.js";
import type { TenantRateLimiter } from "../../src/limiter/tenantRateLimiter.js";
import { parseQueueMessage } from "../../src/queues.js";
import { getIdentityResult, readAssociations } from "../../src/store/identityResults.js";
import { getRun } from "../../src/store/runs.js";
import { depsFor } from "../helpers/pipeline.js";

const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };

/** The same limiter, with `hook` run before its n-th acquire: to inject a fault at an exact page. */
function hookAcquire(limiter: TenantRateLimiter, n: number, hook: () => void): TenantRateLimiter {
  let calls = 0;
  const hooked = Object.create(limiter) as TenantRateLimiter;
  hooked.acquire = (tenantId: string) => {
    if (++calls === n) hook();
    return limiter.acquire(tenantId);
  };
  return hooked;
}

describe("checkIdentity and 429s", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // One tenant per test; the simulator allows more than the limiter sends, so the only 429s are injected.
    sim = await startSimulator({ identities: 12, seed: 7, rate: 50, tenants: 2 });
  });
  afterAll(() => sim?.close());

  async function startedRun(tenantIndex: number, associationsToStore?: number) {
    // Exhaustive: the identities these tests check must reach listAssociatedResources.
    const { deps, tenant } = await depsFor(sim, { rate: 10, tenant: tenantIndex, associationsToStore, mode: "exhaustive" });
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "cli" });
    if (!started.started) throw new Error("run not started");
    // Empty the queue: these tests deliver messages themselves.
    await deps.storage.checkQueue.clearMessages();
    return { deps, tenant, run: started.run };
  }

  it("a 429 on the first page hands the message back after Retry-After, as a new message that has used no dequeue, and holds the tenant back", async () => {
    const { deps, tenant, run } = await startedRun(0);
    const identity = sim.truth.tenants[0]!.identities[0]!;
    sim.forceThrottle(tenant.tenantId, { count: 1, retryAfterSeconds: 3 });
    // The hand-back is invisible for seconds: the test reads what was sent (to Azurite, as ever) instead of waiting.
    const sends = vi.spyOn(deps.storage.checkQueue, "sendMessage");
    const before = Date.now();
    const outcome = await checkIdentity(deps, { kind: "check", runId: run.runId, tenantId: tenant.tenantId, identityId: identity.id }, { dequeueCount: 4 });

    expect(outcome).toMatchObject({ outcome: "requeued", delayMs: 3000 });
    expect((await getIdentityResult(deps.storage, run.runId, identity.id))?.status).toBe("pending");
    expect(await getRun(deps.storage, run.runId)).toMatchObject({ throttled: 1, checked: 0 });
    // Invisible for at least Retry-After: nothing to receive now.
    expect((await deps.storage.checkQueue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems).toEqual([]);
    // Every worker of the tenant waits for Retry-After: the next slot is no sooner.
    const slot = await deps.limiter.reserve(tenant.tenantId);
    expect(slot.granted && slot.slotAt).toBeGreaterThanOrEqual(before + 3000);

    // One new message (sent, so no dequeue used), invisible for Retry-After plus at most a second of jitter.
    expect(sends).toHaveBeenCalledTimes(1);
    const [text, options] = sends.mock.calls[0]!;
    expect(options?.visibilityTimeout).toBeGreaterThanOrEqual(3);
    expect(options?.visibilityTimeout).toBeLessThanOrEqual(4);
    // It carries what this delivery read (the identity GET, its credentials), so the next one does not read them again.
    expect(parseQueueMessage(text)).toEqual({
      kind: "check",
      runId: run.runId,
      tenantId: tenant.tenantId,
      identityId: identity.id,
      throttled: 1,
      read: { at: expect.any(String), details: expect.objectContaining({ id: identity.id, clientId: identity.clientId }), federatedCredentialCount: identity.federatedCredentialCount },
    });
  }, 30_000);

  it("a 429 half-way through the pages waits out Retry-After in place and resumes at the same page", async () => {
    const { deps, tenant, run } = await startedRun(1, Number.MAX_SAFE_INTEGER);
    const biggest = [...sim.truth.tenants[1]!.identities].sort((a, b) => b.associationCount - a.associationCount)[0]!;
    expect(biggest.associationCount).toBeGreaterThan(250);
    // The third page's request gets the 429.
    const hooked: AuditDeps = { ...deps, limiter: hookAcquire(deps.limiter, 3, () => sim.forceThrottle(tenant.tenantId, { count: 1, retryAfterSeconds: 1 })) };
    sim.clearRequestLog();
    const outcome = await checkIdentity(hooked, { kind: "check", runId: run.runId, tenantId: tenant.tenantId, identityId: biggest.id }, { dequeueCount: 1 });

    expect(outcome).toEqual({ outcome: "checked", associationCount: biggest.associationCount });
    const stored = await readAssociations(deps.storage, run.runId, biggest.id);
    expect(stored.map((a) => a.id)).toEqual(sim.truth.associationsOf(biggest.id).map((a) => a.id));
    const requests = sim.requestLog().filter((e) => e.operation === "listAssociatedResources");
    const pages = Math.ceil(biggest.associationCount / 100);
    expect(requests.map((e) => e.status)).toEqual([200, 200, 429, ...Array<number>(pages - 2).fill(200)]);
    // The retry asks for the page that was refused, not the first page again, and not before Retry-After.
    expect(requests[3]!.path).toBe(requests[2]!.path);
    expect(requests.filter((e) => !e.path.includes("skiptoken"))).toHaveLength(1);
    expect(requests[3]!.at - requests[2]!.at).toBeGreaterThanOrEqual(1000);
    // GET + credentials + every page + the refused one (no api-version probe: the default version answered).
    expect(await getRun(deps.storage, run.runId)).toMatchObject({ throttled: 1, checked: 1, requests: 2 + pages + 1, apiRequests: pages + 1 });
    expect(await deps.storage.checkQueue.peekMessages()).toMatchObject({ peekedMessageItems: [] });
  }, 30_000);
});
