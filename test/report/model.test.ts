import { describe, expect, it } from "vitest";
import { VERDICTS } from "../../src/findings/verdicts.js";
import { deleteCommandFor, normalizePortalBaseUrl, portalUrlFor, shellQuote } from "../../src/report/links.js";
import { allFindings, buildReport, REPORT_SCHEMA_VERSION } from "../../src/report/model.js";
import { renderJson } from "../../src/report/json.js";
import { TREND_LENGTH, mergeTrend, trendPointOf, type TrendPoint } from "../../src/report/trend.js";
import { RISK_LEVELS } from "../../src/findings/risk.js";
import { NOW, RUN_ID, SUBSCRIPTION_ID, TENANT_ID, identityResult, verdictOptions } from "../findings/builders.js";
import { HOSTILE_NAME, OTHER_SUBSCRIPTION_ID, UNICODE_RG, reportInput } from "./fixtures.js";

describe("buildReport", () => {
  const report = buildReport(reportInput());

  it("has the documented top-level shape", () => {
    expect(Object.keys(report)).toEqual([
      "schemaVersion",
      "generatedAt",
      "settings",
      "run",
      "trend",
      "unused",
      "active",
      "federated",
      "recent",
      "exempt",
      "error",
      "deleted",
      "inUseCount",
      "inUse",
    ]);
    expect(report.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(report.schemaVersion).toBe(2);
    expect(report.generatedAt).toBe(NOW.toISOString());
    expect(report.settings).toEqual({ gracePeriodDays: 7, exemptTag: "uami-audit-exempt", portalBaseUrl: "https://portal.azure.com" });
  });

  it("summarises the run", () => {
    expect(report.run).toMatchObject({
      runId: RUN_ID,
      tenantId: TENANT_ID,
      scope: { subscriptions: [], managementGroups: [] },
      status: "complete",
      startedAt: "2026-12-01T06:00:00.000Z",
      finishedAt: "2026-12-01T06:12:34.000Z",
      durationSeconds: 754,
      requests: 40,
      throttled: 3,
      error: null,
      identityCount: 12,
      newUnusedCount: 2,
    });
    expect(report.run.countsByVerdict).toEqual({
      unused: 4,
      active: 0,
      federated: 1,
      recent: 1,
      exempt: 1,
      error: 2,
      deleted: 1,
      "in-use": 2,
    });
    expect(Object.keys(report.run.countsByVerdict)).toEqual([...VERDICTS]);
  });

  it("counts by subscription and verdict, with names Azure gave next to associated resources", () => {
    expect(report.run.subscriptions).toEqual([
      {
        subscriptionId: SUBSCRIPTION_ID,
        subscriptionName: "Contoso <Prod> & Co",
        identityCount: 11,
        countsByVerdict: { unused: 3, active: 0, federated: 1, recent: 1, exempt: 1, error: 2, deleted: 1, "in-use": 2 },
      },
      {
        subscriptionId: OTHER_SUBSCRIPTION_ID,
        subscriptionName: null,
        identityCount: 1,
        countsByVerdict: { unused: 1, active: 0, federated: 0, recent: 0, exempt: 0, error: 0, deleted: 0, "in-use": 0 },
      },
    ]);
  });

  it("prefers Resource Graph's subscription names, and keeps the associations' where it gave none", () => {
    const named = buildReport({ ...reportInput(), subscriptionNames: new Map([[OTHER_SUBSCRIPTION_ID.toLowerCase(), "Fabrikam Dev"]]) });
    expect(named.run.subscriptions.map((s) => [s.subscriptionId, s.subscriptionName])).toEqual([
      [SUBSCRIPTION_ID, "Contoso <Prod> & Co"],
      [OTHER_SUBSCRIPTION_ID, "Fabrikam Dev"],
    ]);
    expect(allFindings(named).find((f) => f.subscriptionId === OTHER_SUBSCRIPTION_ID)?.subscriptionName).toBe("Fabrikam Dev");
    const renamed = buildReport({ ...reportInput(), subscriptionNames: new Map([[SUBSCRIPTION_ID.toLowerCase(), "Contoso Production"]]) });
    expect(renamed.run.subscriptions[0]!.subscriptionName).toBe("Contoso Production");
  });

  it("ranks unused identities by risk, then name", () => {
    expect(report.unused.map((finding) => [finding.name, finding.risk.level])).toEqual([
      ["id-owner-sub", "critical"],
      ["id-rg-contributor", "high"],
      ["id-other-sub", "medium"],
      [HOSTILE_NAME, "none"],
    ]);
  });

  it("gives each unused identity everything needed to act on it", () => {
    const owner = report.unused[0]!;
    expect(owner).toMatchObject({
      key: owner.id.toLowerCase(),
      name: "id-owner-sub",
      subscriptionId: SUBSCRIPTION_ID,
      resourceGroup: "rg-identities",
      location: "westeurope",
      createdAt: "2026-10-02T09:30:00.000Z",
      tags: { env: "prod" },
      associationCount: 0,
      federatedCredentialCount: 0,
      verdict: "unused",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "created 2026-10-02, 59 days ago"],
      risk: { level: "critical", reasons: [`Owner at subscription /subscriptions/${SUBSCRIPTION_ID}`, "1 other role assignment"] },
      roleAssignments: [
        { roleName: "Owner", scope: `/subscriptions/${SUBSCRIPTION_ID}`, scopeLevel: "subscription", privileged: true },
        { roleName: "Reader", scope: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-app`, scopeLevel: "resource-group", privileged: false },
      ],
      unusedSince: "2026-11-17T06:00:00.000Z",
      isNew: false,
      error: null,
      portalUrl: `https://portal.azure.com/#@${TENANT_ID}/resource${owner.id}/overview`,
      deleteCommand: `az identity delete --ids '${owner.id}'`,
    });
    expect(owner.principalId).toMatch(/^11111111-/);
    expect(owner.clientId).toMatch(/^22222222-/);
  });

  it("marks new unused identities and starts their unused series at this run", () => {
    const contributor = report.unused.find((finding) => finding.name === "id-rg-contributor")!;
    expect(contributor.isNew).toBe(true);
    expect(contributor.unusedSince).toBe("2026-12-01T06:00:00.000Z");
    const hostile = report.unused.find((finding) => finding.name === HOSTILE_NAME)!;
    expect(hostile.isNew).toBe(true);
    expect(report.unused.find((finding) => finding.name === "id-other-sub")!.isNew).toBe(false);
  });

  it("treats every unused identity as new when there was no previous run", () => {
    const first = buildReport(reportInput({ previousRunVerdicts: undefined, history: new Map() }));
    expect(first.unused.every((finding) => finding.isNew)).toBe(true);
    expect(first.unused.every((finding) => finding.unusedSince === "2026-12-01T06:00:00.000Z")).toBe(true);
    expect(first.run.newUnusedCount).toBe(4);
  });

  it("fills the review lists, with the error message for errors", () => {
    expect(report.federated.map((finding) => finding.name)).toEqual(["id-github"]);
    expect(report.federated[0]!.risk.level).toBe("critical");
    expect(report.recent.map((finding) => finding.name)).toEqual(["id-new"]);
    expect(report.exempt.map((finding) => [finding.name, finding.reasons])).toEqual([
      ["id-kept", ["tag UAMI-AUDIT-EXEMPT=ticket-123", "without the exemption: unused"]],
    ]);
    expect(report.error.map((finding) => [finding.name, finding.error])).toEqual([
      ["id-failed", `<b>boom</b> & "quoted"`],
      ["id-pending", "not checked"],
    ]);
    expect(report.deleted.map((finding) => finding.name)).toEqual(["id-gone"]);
    expect(report.inUseCount).toBe(2);
    expect(report.inUse.map((finding) => finding.name)).toEqual(["id-in-use-1", "id-in-use-2"]);
    expect(report.inUse[0]!.associations).toEqual([
      { id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-app/providers/Microsoft.Web/sites/app-1`, name: "app-1", type: "microsoft.web/sites" },
    ]);
  });

  it("offers a delete command for unused identities only", () => {
    for (const finding of allFindings(report)) {
      expect(finding.deleteCommand === null).toBe(finding.verdict !== "unused");
    }
    expect(allFindings(report)).toHaveLength(12);
  });

  it("ignores history from before the identity was created (a deleted namesake)", () => {
    const identity = identityResult({ name: "id-recreated", createdAt: "2026-11-20T00:00:00Z" });
    const report = buildReport({
      ...reportInput(),
      identities: [identity],
      history: new Map([
        [identity.id.toLowerCase(), [{ runId: "run-old", startedAt: "2026-11-01T06:00:00.000Z", verdict: "unused" as const }]],
      ]),
    });
    expect(report.unused[0]!.unusedSince).toBe("2026-12-01T06:00:00.000Z");
  });

  it("uses an old first sighting to age an identity Azure gave no creation date", () => {
    const identity = identityResult({ name: "id-no-systemdata", createdAt: undefined });
    const input = { ...reportInput(), identities: [identity], history: new Map() };
    expect(buildReport(input).recent).toHaveLength(1);
    input.history.set(identity.id.toLowerCase(), [{ runId: "run-a", startedAt: "2026-11-01T06:00:00.000Z", verdict: "recent" }]);
    const report = buildReport(input);
    expect(report.unused).toHaveLength(1);
    expect(report.unused[0]!.unusedSince).toBe("2026-12-01T06:00:00.000Z");
  });

  it("replaces a stale entry for the current run in history by this run's verdict", () => {
    const identity = identityResult({ name: "id-x" });
    const report = buildReport({
      ...reportInput(),
      identities: [identity],
      history: new Map([
        [
          identity.id.toLowerCase(),
          [
            { runId: "run-a", startedAt: "2026-11-20T06:00:00.000Z", verdict: "unused" as const },
            { runId: RUN_ID, startedAt: "2026-12-01T06:00:00.000Z", verdict: "error" as const },
          ],
        ],
      ]),
    });
    expect(report.unused[0]!.unusedSince).toBe("2026-11-20T06:00:00.000Z");
  });

  it("renders identically whatever the order of identities and tags", () => {
    const input = reportInput();
    const shuffled = {
      ...input,
      identities: [...input.identities].reverse().map((identity) => ({
        ...identity,
        tags: Object.fromEntries(Object.entries(identity.tags).reverse()),
      })),
      roleAssignments: [...input.roleAssignments].reverse(),
    };
    expect(renderJson(buildReport(shuffled))).toBe(renderJson(buildReport(input)));
  });

  it("keeps null (not missing) for absent values so every key is always present", () => {
    const pending = report.error.find((finding) => finding.name === "id-pending")!;
    expect(pending.associationCount).toBeNull();
    expect(pending.federatedCredentialCount).toBeNull();
    expect(pending.unusedSince).toBeNull();
    const running = buildReport(reportInput({ run: { ...reportInput().run, status: "running", finishedAt: undefined } }));
    expect(running.run.finishedAt).toBeNull();
    expect(running.run.durationSeconds).toBeNull();
  });

  it("validates its options", () => {
    expect(() => buildReport(reportInput({ options: verdictOptions({ gracePeriodDays: -2 }) }))).toThrow(/gracePeriodDays/);
    expect(() => buildReport(reportInput({ portalBaseUrl: "javascript:alert(1)" }))).toThrow(/portalBaseUrl/);
  });

  it("builds portal links from another portal base URL", () => {
    const sovereign = buildReport(reportInput({ portalBaseUrl: "https://portal.azure.us/" }));
    expect(sovereign.unused[0]!.portalUrl.startsWith(`https://portal.azure.us/#@${TENANT_ID}/resource/subscriptions/`)).toBe(true);
  });
});

describe("links", () => {
  it("percent-encodes every part of the portal link, keeping the id's slashes", () => {
    const id = `/subscriptions/s/resourceGroups/${UNICODE_RG} (old)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a"b<c>#?'`;
    expect(portalUrlFor("t&t", id)).toBe(
      "https://portal.azure.com/#@t%26t/resource/subscriptions/s/resourceGroups/rg-%C3%A9-%E6%97%A5%E6%9C%AC%20%28old%29/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a%22b%3Cc%3E%23%3F%27/overview",
    );
  });

  it("quotes the delete command for POSIX shells", () => {
    expect(shellQuote("plain")).toBe("'plain'");
    expect(shellQuote("it's $(rm -rf /) `x` \"y\"")).toBe(`'it'\\''s $(rm -rf /) \`x\` "y"'`);
    expect(deleteCommandFor("/subscriptions/s/resourceGroups/o'brien/x")).toBe(
      `az identity delete --ids '/subscriptions/s/resourceGroups/o'\\''brien/x'`,
    );
  });

  it("accepts only https portal base URLs", () => {
    expect(normalizePortalBaseUrl("https://portal.azure.com/")).toBe("https://portal.azure.com");
    for (const bad of ["http://portal.azure.com", "https://user:pw@portal.azure.com", "https://portal.azure.com/?x=1", "portal.azure.com", "javascript:alert(1)"]) {
      expect(() => normalizePortalBaseUrl(bad)).toThrow(TypeError);
    }
  });
});

describe("buildReport: sources of evidence", () => {
  const at = "2026-12-01T06:01:00.000Z";
  const sources = {
    associationsApi: { status: "failed" as const, reason: "listAssociatedResources is unavailable (NoRegisteredProviderFound)", at },
    resourceGraph: { status: "ok" as const, at, referencedIdentities: 1, partial: true, reason: "only the first 10,000 subscriptions" },
    createdTime: { status: "ok" as const, at },
    signIns: { status: "not-configured" as const, at },
  };
  const base = reportInput();
  const referenced = identityResult({ name: "id-kubelet", associationCount: undefined, referenceCount: 1, references: [{ resourceId: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks", resourceType: "microsoft.containerservice/managedclusters", kind: "kubelet" }] });
  const silent = identityResult({ name: "id-silent", associationCount: undefined, createdAt: undefined, createdTime: "2026-09-01T00:00:00Z" });
  const report = buildReport({ ...base, run: { ...base.run, sources }, identities: [referenced, silent] });

  it("says which sources were missing, marks the run partial, and the unused verdict unconfirmed", () => {
    expect(report.run.sources).toEqual(sources);
    expect(report.run.partial).toBe(true);
    expect(report.run.banners.map((b) => [b.level, b.source])).toEqual([
      ["warning", "associationsApi"],
      ["warning", "run"],
      ["info", "signIns"],
    ]);
    expect(report.unused.map((f) => f.name)).toEqual(["id-silent"]);
    expect(report.unused[0]!.confirmed).toBe(false);
    expect(report.run.unconfirmedUnusedCount).toBe(1);
  });

  it("gives each identity its evidence, source by source", () => {
    const kubelet = report.inUse[0]!;
    expect(kubelet.evidence.associationsApi).toEqual({ status: "unavailable", count: null, apiVersion: null, at: kubelet.checkedAt });
    expect(kubelet.evidence.resourceGraph.referenceCount).toBe(1);
    expect(kubelet.evidence.resourceGraph.references[0]!.kind).toBe("kubelet");
    expect(kubelet.disagreement).toBe(false);
    const silentFinding = report.unused[0]!;
    expect(silentFinding.evidence.creation).toEqual({ createdAt: "2026-09-01T00:00:00.000Z", source: "createdTime", systemDataCreatedAt: null, createdTime: "2026-09-01T00:00:00Z", firstSeenAt: null });
    expect(silentFinding.evidence.signIns.status).toBe("not-configured");
  });
});

describe("the trend", () => {
  const point = (runId: string, startedAt: string, critical: number): TrendPoint => ({
    runId,
    startedAt,
    unusedByRisk: { critical, high: 0, medium: 0, low: 0, none: 0 },
  });

  it("is this run's unused identities by risk alone when no earlier run is known", () => {
    const report = buildReport(reportInput());
    expect(report.trend).toEqual([
      { runId: RUN_ID, startedAt: report.run.startedAt, unusedByRisk: { critical: 1, high: 1, medium: 1, low: 0, none: 1 } },
    ]);
    expect(Object.keys(report.trend[0]!.unusedByRisk)).toEqual([...RISK_LEVELS]);
  });

  it("adds this run after the earlier ones, oldest first, without later runs, duplicates or this run again", () => {
    const report = buildReport({
      ...reportInput(),
      trend: [
        point("run-b", "2026-11-24T06:00:00.000Z", 5),
        point("run-a", "2026-11-17T06:00:00.000Z", 3),
        point("run-b", "2026-11-24T06:00:00.000Z", 99),
        point(RUN_ID, "2026-12-01T06:00:00.000Z", 99),
        point("run-later", "2026-12-08T06:00:00.000Z", 99),
      ],
    });
    expect(report.trend.map((p) => [p.runId, p.unusedByRisk.critical])).toEqual([
      ["run-a", 3],
      ["run-b", 5],
      [RUN_ID, 1],
    ]);
  });

  it(`keeps the last ${TREND_LENGTH} runs, and repairs counts read back from storage`, () => {
    const earlier = Array.from({ length: 40 }, (_, index) => point(`run-${index}`, new Date(Date.UTC(2026, 9, index + 1)).toISOString(), index));
    const trend = mergeTrend(earlier, point("now", "2026-12-31T00:00:00.000Z", 1));
    expect(trend).toHaveLength(TREND_LENGTH);
    expect(trend[0]!.runId).toBe("run-11");
    expect(trend.at(-1)!.runId).toBe("now");
    const damaged = { runId: "old", startedAt: "2026-01-01T00:00:00.000Z", unusedByRisk: { critical: -1, high: 2.5, medium: "3" } } as unknown as TrendPoint;
    expect(mergeTrend([damaged], point("now", "2026-12-31T00:00:00.000Z", 1))[0]!.unusedByRisk).toEqual({ critical: 0, high: 0, medium: 0, low: 0, none: 0 });
  });

  it("gives a stored report from before trends its own point", () => {
    const report = buildReport(reportInput());
    expect(trendPointOf(report)).toEqual(report.trend.at(-1));
  });
});
