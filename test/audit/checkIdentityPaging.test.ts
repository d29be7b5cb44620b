/**
 * checkIdentity's paging and reads, against the simulator through an HTTPS hop (test/helpers/armEdge.ts)
 * that injects what the simulator has no switch for: a server handing back the same skiptoken, a 503 on
 * one identity's page. Storage is the suite's Azurite; the limiter is the real one.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { createArmConnection } from "../../src/arm/connection.js";
import { checkIdentity, TransientCheckError } from "../../src/audit/checkIdentity.js";
import type { AuditDeps } from "../../src/audit/deps.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { parseQueueMessage, type CheckIdentityMessage } from "../../src/queues.js";
import { getIdentityResult, readAssociations } from "../../src/store/identityResults.js";
import { getRun } from "../../src/store/runs.js";
import { isListAssociated, startArmEdge, type ArmEdge } from "../helpers/armEdge.js";
import { depsFor } from "../helpers/pipeline.js";

const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };

describe("checkIdentity: one paging loop, the identity read once, a 5xx retried in the next slot", () => {
  let sim: RunningSimulator;
  let edge: ArmEdge;
  beforeAll(async () => {
    // One tenant per test; the simulator allows more than the limiter sends, so the only 429s are injected.
    sim = await startSimulator({ identities: 12, seed: 7, rate: 50, tenants: 5 });
    edge = await startArmEdge(sim);
  });
  afterAll(async () => {
    await edge?.close();
    await sim?.close();
  });

  /** A started run (exhaustive, its queue emptied: the tests deliver messages themselves) and deps whose ARM calls go through the edge. */
  async function startedRun(tenantIndex: number, associationsToStore?: number) {
    const { deps: direct, tenant } = await depsFor(sim, { rate: 10, tenant: tenantIndex, associationsToStore, mode: "exhaustive" });
    const started = await startAudit(direct, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "cli" });
    if (!started.started) throw new Error("run not started");
    await direct.storage.checkQueue.clearMessages();
    const deps: AuditDeps = { ...direct, arm: createArmConnection({ endpoint: edge.endpoint, token: tenant.token, ca: edge.ca }) };
    const message = (identityId: string): CheckIdentityMessage => ({ kind: "check", runId: started.run.runId, tenantId: tenant.tenantId, identityId });
    return { deps, tenant, run: started.run, message };
  }

  const requestsAbout = (identityId: string) => {
    const id = identityId.toLowerCase();
    return sim.requestLog().filter((e) => e.identityId?.toLowerCase() === id);
  };

  it("a server handing back the same skiptoken: the check stops with PagingLoop and records `error`, no page twice", async () => {
    const { deps, run, message } = await startedRun(0, Number.MAX_SAFE_INTEGER);
    const biggest = [...sim.truth.tenants[0]!.identities].sort((a, b) => b.associationCount - a.associationCount)[0]!;
    expect(biggest.associationCount).toBeGreaterThan(250);
    // Every page after the first names the first page's nextLink again.
    let firstNextLink: string | undefined;
    edge.setIntercept(async (req, forward) => {
      const answer = await forward();
      if (!isListAssociated(req, biggest.id) || answer.status !== 200) return answer;
      const body = JSON.parse(answer.body) as { nextLink?: string };
      if (body.nextLink) {
        firstNextLink ??= body.nextLink;
        body.nextLink = firstNextLink;
      }
      return { ...answer, body: JSON.stringify(body) };
    });
    const before = edge.requests.length;
    try {
      const outcome = await checkIdentity(deps, message(biggest.id), { dequeueCount: 1 });
      expect(outcome).toMatchObject({ outcome: "error", error: expect.stringMatching(/PagingLoop.*same skiptoken/) });
    } finally {
      edge.setIntercept(undefined);
    }
    expect(edge.requests.slice(before).filter((r) => isListAssociated(r, biggest.id))).toHaveLength(2);
    expect((await getIdentityResult(deps.storage, run.runId, biggest.id))?.status).toBe("error");
    expect(await readAssociations(deps.storage, run.runId, biggest.id)).toEqual([]);
  }, 30_000);

  it("a 503 on a page is asked again in the next slot, not sent back to the queue for 10 s", async () => {
    const { deps, run, message } = await startedRun(1);
    const identity = sim.truth.tenants[1]!.identities[0]!;
    let refused = 0;
    edge.setIntercept(async (req, forward) => {
      if (isListAssociated(req, identity.id) && refused++ === 0) {
        return { status: 503, body: { error: { code: "ServiceUnavailable", message: "injected at the edge" } } };
      }
      return forward();
    });
    const before = edge.requests.length;
    try {
      const outcome = await checkIdentity(deps, message(identity.id), { dequeueCount: 1 });
      expect(outcome).toEqual({ outcome: "checked", associationCount: identity.associationCount });
    } finally {
      edge.setIntercept(undefined);
    }
    const pages = edge.requests.slice(before).filter((r) => isListAssociated(r, identity.id));
    expect(pages).toHaveLength(2);
    // The retry took the next slot of the tenant (10/s: 100 ms apart), no more.
    expect(pages[1]!.at - pages[0]!.at).toBeGreaterThanOrEqual(90);
    expect(pages[1]!.at - pages[0]!.at).toBeLessThan(5000);
    expect(await getRun(deps.storage, run.runId)).toMatchObject({ checked: 1, requests: 2 + 2, apiRequests: 2 });
    expect(await deps.storage.checkQueue.peekMessages()).toMatchObject({ peekedMessageItems: [] });
  }, 30_000);

  it("a page that keeps failing is asked 3 times in all, then the queue retries it", async () => {
    const { deps, message } = await startedRun(2);
    const identity = sim.truth.tenants[2]!.identities[0]!;
    edge.setIntercept(async (req, forward) =>
      isListAssociated(req, identity.id) ? { status: 500, body: { error: { code: "InternalServerError", message: "injected at the edge" } } } : forward(),
    );
    const before = edge.requests.length;
    try {
      await expect(checkIdentity(deps, message(identity.id), { dequeueCount: 1 })).rejects.toBeInstanceOf(TransientCheckError);
    } finally {
      edge.setIntercept(undefined);
    }
    expect(edge.requests.slice(before).filter((r) => isListAssociated(r, identity.id))).toHaveLength(3);
  }, 30_000);

  it("no slot soon enough: the message goes back without a listAssociatedResources request, carrying the reads", async () => {
    const { deps, tenant, message } = await startedRun(3);
    const identity = sim.truth.tenants[3]!.identities[0]!;
    // The tenant's schedule is 30 s ahead: further than the 20 s a worker waits for a slot.
    await deps.limiter.penalize(tenant.tenantId, 30_000);
    sim.clearRequestLog();
    const outcome = await checkIdentity(deps, message(identity.id), { dequeueCount: 1 });
    expect(outcome).toMatchObject({ outcome: "requeued", reason: "no rate-limit slot soon enough" });
    // The reads come before the slot (so the limited request leaves on time); the listing never went out.
    expect(requestsAbout(identity.id).filter((e) => e.operation === "listAssociatedResources")).toEqual([]);
  }, 30_000);

  it("a 429 hand-back carries the identity's reads: the next delivery reads neither the identity nor its credentials again", async () => {
    const { deps, tenant, run, message } = await startedRun(4);
    const identity = sim.truth.tenants[4]!.identities.find((i) => i.federatedCredentialCount > 0) ?? sim.truth.tenants[4]!.identities[0]!;
    sim.clearRequestLog();
    sim.forceThrottle(tenant.tenantId, { count: 1, retryAfterSeconds: 1 });
    // The hand-back stays invisible for a second or two: the test delivers what was sent instead of waiting for it.
    const sends = vi.spyOn(deps.storage.checkQueue, "sendMessage");
    const first = await checkIdentity(deps, message(identity.id), { dequeueCount: 1 });
    expect(first).toMatchObject({ outcome: "requeued", delayMs: 1000 });

    expect(sends).toHaveBeenCalledTimes(1);
    const handedBack = parseQueueMessage(sends.mock.calls[0]![0]);
    expect(handedBack).toMatchObject({ throttled: 1, read: { federatedCredentialCount: identity.federatedCredentialCount, details: { clientId: identity.clientId, principalId: identity.principalId } } });
    const second = await checkIdentity(deps, handedBack as CheckIdentityMessage, { dequeueCount: 1 });
    expect(second).toEqual({ outcome: "checked", associationCount: identity.associationCount });

    const seen = requestsAbout(identity.id);
    expect(seen.filter((e) => e.operation === "getIdentity")).toHaveLength(1);
    expect(seen.filter((e) => e.operation === "listFederatedCredentials")).toHaveLength(1);
    expect(seen.filter((e) => e.operation === "listAssociatedResources").map((e) => e.status)).toEqual([429, 200]);
    const row = await getIdentityResult(deps.storage, run.runId, identity.id);
    expect(row).toMatchObject({ status: "checked", clientId: identity.clientId, principalId: identity.principalId, federatedCredentialCount: identity.federatedCredentialCount });
    expect(await getRun(deps.storage, run.runId)).toMatchObject({ checked: 1, throttled: 1, requests: 2 + 2, apiRequests: 2 });
  }, 30_000);
});
