/**
 * sweepIdentityReferences against a local HTTPS server playing Resource Graph (objectArray pages with
 * `$skipToken`, quota headers, `x-ms-tenant-subscription-limit-hit`), one answer per query text.
 */
import { describe, expect, it } from "vitest";
import { canonicalIdentityId, parseIdentityId, resourceIdKey } from "../../src/arm/resourceId.js";
import { identityBagReferencesQuery, policyAssignmentReferencesQuery, propertyReferencesQuery } from "../../src/arm/queries.js";
import {
  POLICY_ASSIGNMENT_SCOPE_FILTER,
  resourceTypeFromId,
  sweepIdentityReferences,
  type IdentityReference,
  type IdentityReferenceSummary,
  type InvalidReferenceRow,
  type ReferenceSweepOptions,
} from "../../src/arm/referenceSweep.js";
import type { AuditScope } from "../../src/arm/types.js";
import { useArmTestServer, type RecordedRequest, type Reply } from "./support/testServer.js";

const TOKEN = "sweep-token-4f8e2d17b3";
const SUB = "cfbbd179-59d2-4052-aa06-9270a38aa9d6";
const SCOPE: AuditScope = { subscriptions: [SUB], managementGroups: [] };

const arm = useArmTestServer(TOKEN);

/** An identity id the way resource authors write it (mixed case) and its normalised key. */
function uami(name: string, rg = "RG-Ids"): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}
const key = (name: string, rg = "RG-Ids"): string => uami(name, rg).toLowerCase();

const WEB = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Web/sites/web1`;
const AKS = `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks1`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/st1`;
const POLICY = "/providers/Microsoft.Management/managementGroups/mg-root/providers/Microsoft.Authorization/policyAssignments/deploy-diag";

interface SentQuery {
  subscriptions?: string[];
  managementGroups?: string[];
  query: string;
  options?: Record<string, unknown>;
}

function sent(req: RecordedRequest): SentQuery {
  return JSON.parse(req.body) as SentQuery;
}

function page(data: unknown[], skipToken?: string, headers: Record<string, string> = {}): Reply {
  return {
    headers: { "x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05", ...headers },
    body: { totalRecords: data.length, count: data.length, resultTruncated: "false", data, ...(skipToken ? { $skipToken: skipToken } : {}) },
  };
}

/** Answers each query text with its own pages: the first request without a token gets pages[0], and so on. */
function serveQueries(pages: Record<string, Reply[]>): void {
  arm.server.setHandler((req) => {
    const body = sent(req);
    const replies = pages[body.query];
    if (!replies) return { status: 400, body: { error: { code: "BadRequest", message: `unexpected query ${body.query}` } } };
    const token = body.options?.$skipToken;
    const index = token === undefined ? 0 : Number(token);
    return replies[index] ?? { status: 500 };
  });
}

async function summaries(options: ReferenceSweepOptions = {}): Promise<IdentityReferenceSummary[][]> {
  const out: IdentityReferenceSummary[][] = [];
  for await (const page of sweepIdentityReferences(arm.conn, SCOPE, options)) out.push(page);
  return out;
}

/** The references of each page, for rows in the per-resource shape (one reference per summary). */
async function sweep(options: ReferenceSweepOptions = {}): Promise<IdentityReference[][]> {
  const pages = await summaries(options);
  for (const summary of pages.flat()) expect(summary.referenceCount).toBe(summary.references.length);
  return pages.map((p) => p.flatMap((summary) => summary.references));
}

describe("sweepIdentityReferences: summary rows (one per identity and kind)", () => {
  it("reads each query's summary rows as counts and sampled references, the kind from the query and isKubelet", async () => {
    const apps = Array.from({ length: 3 }, (_, n) => `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Web/sites/web${n}/slots/staging`);
    serveQueries({
      [identityBagReferencesQuery()]: [page([{ id: uami("id-web").toLowerCase(), referenceCount: 40, resourceIds: apps }])],
      [propertyReferencesQuery()]: [
        page([
          { id: uami("aks1-agentpool", "MC_rg").toLowerCase(), isKubelet: true, referenceCount: 1, resourceIds: [AKS] },
          { id: uami("id-cmk").toLowerCase(), isKubelet: false, referenceCount: 1, resourceIds: [STORAGE] },
        ]),
      ],
      [policyAssignmentReferencesQuery()]: [page([{ id: uami("id-policy").toLowerCase(), referenceCount: 1, resourceIds: [POLICY] }])],
    });
    expect(await summaries()).toEqual([
      [{ identityId: key("id-web"), kind: "identity", referenceCount: 40, references: apps.map((resourceId) => ({ identityId: key("id-web"), resourceId, resourceType: "microsoft.web/sites/slots", kind: "identity" })) }],
      [
        { identityId: key("aks1-agentpool", "MC_rg"), kind: "kubelet", referenceCount: 1, references: [{ identityId: key("aks1-agentpool", "MC_rg"), resourceId: AKS, resourceType: "microsoft.containerservice/managedclusters", kind: "kubelet" }] },
        { identityId: key("id-cmk"), kind: "properties", referenceCount: 1, references: [{ identityId: key("id-cmk"), resourceId: STORAGE, resourceType: "microsoft.storage/storageaccounts", kind: "properties" }] },
      ],
      [{ identityId: key("id-policy"), kind: "policyAssignment", referenceCount: 1, references: [{ identityId: key("id-policy"), resourceId: POLICY, resourceType: "microsoft.authorization/policyassignments", kind: "policyAssignment" }] }],
    ]);
  });

  it("reads resourceIds given as JSON text, and never counts fewer references than it was shown", async () => {
    serveQueries({
      [identityBagReferencesQuery()]: [page([{ id: uami("id-web"), referenceCount: "0", resourceIds: JSON.stringify([WEB]) }])],
      [propertyReferencesQuery()]: [page([])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    const [[summary]] = (await summaries()) as [[IdentityReferenceSummary]];
    expect(summary.referenceCount).toBe(1);
    expect(summary.references.map((r) => r.resourceId)).toEqual([WEB]);
  });

  it("skips and reports summary rows that are not an identity, a count or a list of ids", async () => {
    const invalid: InvalidReferenceRow[] = [];
    serveQueries({
      [identityBagReferencesQuery()]: [
        page([
          { id: WEB, referenceCount: 1, resourceIds: [WEB] },
          { id: uami("id-a"), referenceCount: -1, resourceIds: [] },
          { id: uami("id-b"), referenceCount: 1, resourceIds: "not json" },
          { id: uami("id-c"), referenceCount: 2, resourceIds: [WEB, STORAGE] },
        ]),
      ],
      [propertyReferencesQuery()]: [page([])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    const pages = await summaries({ onInvalidRow: (row) => invalid.push(row) });
    expect(pages.flat().map((s) => [s.identityId, s.referenceCount])).toEqual([[key("id-c"), 2]]);
    expect(invalid.map((i) => i.reason)).toEqual([
      expect.stringContaining("Not a user-assigned identity id"),
      `row ${uami("id-a")}: field "referenceCount" must be a whole number, got -1`,
      `row ${uami("id-b")}: field "resourceIds" must be an array of resource ids, got "not json"`,
    ]);
  });

  it("reads a resource's type from its id as ARM builds it", () => {
    expect(resourceTypeFromId(WEB)).toBe("microsoft.web/sites");
    expect(resourceTypeFromId(`${WEB}/slots/staging`)).toBe("microsoft.web/sites/slots");
    expect(resourceTypeFromId(POLICY)).toBe("microsoft.authorization/policyassignments");
    expect(resourceTypeFromId(`${WEB}/providers/Microsoft.Insights/diagnosticSettings/d1`)).toBe("microsoft.insights/diagnosticsettings");
    expect(resourceTypeFromId(`/subscriptions/${SUB}/resourceGroups/rg`)).toBe("");
    expect(resourceTypeFromId(`/subscriptions/${SUB}/providers/Microsoft.Web`)).toBe("");
  });
});

describe("sweepIdentityReferences: rows in the per-resource shape (tolerated)", () => {
  it("names each reference by where it was found: identity bag, kubelet, other properties, policy assignment", async () => {
    serveQueries({
      [identityBagReferencesQuery()]: [
        page([
          { id: AKS, type: "microsoft.containerservice/managedclusters", identityId: uami("id-aks").toLowerCase() },
          { id: WEB, type: "Microsoft.Web/sites", identityId: uami("id-web").toLowerCase() },
        ]),
      ],
      [propertyReferencesQuery()]: [
        page([
          { id: AKS, type: "microsoft.containerservice/managedclusters", identityId: uami("aks1-agentpool", "MC_rg").toLowerCase(), kubeletIdentityId: uami("aks1-agentpool", "MC_rg").toLowerCase() },
          { id: AKS, type: "microsoft.containerservice/managedclusters", identityId: uami("id-aks").toLowerCase(), kubeletIdentityId: uami("aks1-agentpool", "MC_rg").toLowerCase() },
          { id: STORAGE, type: "microsoft.storage/storageaccounts", identityId: uami("id-cmk").toLowerCase(), kubeletIdentityId: "" },
        ]),
      ],
      [policyAssignmentReferencesQuery()]: [page([{ id: POLICY, type: "microsoft.authorization/policyassignments", identityId: uami("id-policy").toLowerCase() }])],
    });
    const pages = await sweep();
    expect(pages).toEqual([
      [
        { identityId: key("id-aks"), resourceId: AKS, resourceType: "microsoft.containerservice/managedclusters", kind: "identity" },
        { identityId: key("id-web"), resourceId: WEB, resourceType: "microsoft.web/sites", kind: "identity" },
      ],
      [
        { identityId: key("aks1-agentpool", "MC_rg"), resourceId: AKS, resourceType: "microsoft.containerservice/managedclusters", kind: "kubelet" },
        { identityId: key("id-aks"), resourceId: AKS, resourceType: "microsoft.containerservice/managedclusters", kind: "properties" },
        { identityId: key("id-cmk"), resourceId: STORAGE, resourceType: "microsoft.storage/storageaccounts", kind: "properties" },
      ],
      [{ identityId: key("id-policy"), resourceId: POLICY, resourceType: "microsoft.authorization/policyassignments", kind: "policyAssignment" }],
    ]);
    expect(arm.server.requests.map((r) => sent(r).query)).toEqual([identityBagReferencesQuery(), propertyReferencesQuery(), policyAssignmentReferencesQuery()]);
  });

  it("normalises identity ids so they compare with resourceIdKey", async () => {
    const written = `/SUBSCRIPTIONS/${SUB}/resourcegroups/RG-Ids/providers/microsoft.managedidentity/USERASSIGNEDIDENTITIES/Id-Web/`;
    serveQueries({
      [identityBagReferencesQuery()]: [page([{ id: WEB, type: "microsoft.web/sites", identityId: written }])],
      [propertyReferencesQuery()]: [page([])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    const [[reference]] = (await sweep()) as [[IdentityReference]];
    expect(reference.identityId).toBe(`/subscriptions/${SUB}/resourcegroups/rg-ids/providers/microsoft.managedidentity/userassignedidentities/id-web`);
    expect(reference.identityId).toBe(resourceIdKey(uami("Id-Web")));
    expect(reference.identityId).toBe(resourceIdKey(canonicalIdentityId(parseIdentityId(written))));
  });

  it("sends the policy query with POLICY_ASSIGNMENT_SCOPE_FILTER, whatever the caller asked, and the others as asked", async () => {
    expect(POLICY_ASSIGNMENT_SCOPE_FILTER).toBe("AtScopeAboveAndBelow");
    serveQueries({
      [identityBagReferencesQuery()]: [page([])],
      [propertyReferencesQuery()]: [page([])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    await sweep({ pageSize: 500 });
    const [bag, props, policy] = arm.server.requests.map(sent);
    expect(bag).toEqual({ subscriptions: [SUB], query: identityBagReferencesQuery(), options: { $top: 500, resultFormat: "objectArray" } });
    expect(props?.options).toEqual({ $top: 500, resultFormat: "objectArray" });
    expect(policy).toEqual({
      subscriptions: [SUB],
      query: policyAssignmentReferencesQuery(),
      options: { $top: 500, resultFormat: "objectArray", authorizationScopeFilter: "AtScopeAboveAndBelow" },
    });

    arm.server.requests.length = 0;
    await sweep({ authorizationScopeFilter: "AtScopeExact" });
    expect(arm.server.requests.map((r) => sent(r).options?.authorizationScopeFilter)).toEqual(["AtScopeExact", "AtScopeExact", "AtScopeAboveAndBelow"]);
  });

  it("skips rows that name no user-assigned identity, and reports them", async () => {
    const invalid: InvalidReferenceRow[] = [];
    const vm = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1`;
    serveQueries({
      [identityBagReferencesQuery()]: [
        page([
          { id: WEB, type: "microsoft.web/sites", identityId: vm.toLowerCase() },
          { type: "microsoft.web/sites", identityId: uami("id-web").toLowerCase() },
          { id: WEB, type: "microsoft.web/sites", identityId: uami("id-web").toLowerCase() },
        ]),
      ],
      [propertyReferencesQuery()]: [page([{ id: STORAGE, type: "microsoft.storage/storageaccounts", identityId: "", kubeletIdentityId: "" }])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    const pages = await sweep({ onInvalidRow: (row) => invalid.push(row) });
    expect(pages).toEqual([[{ identityId: key("id-web"), resourceId: WEB, resourceType: "microsoft.web/sites", kind: "identity" }]]);
    expect(invalid.map((i) => [i.query, i.reason])).toEqual([
      [
        "identityBagReferences",
        `Not a user-assigned identity id: "${vm.toLowerCase()}" (provider "microsoft.compute" is not Microsoft.ManagedIdentity). Expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`,
      ],
      // show() quotes at most 80 characters of a row.
      ["identityBagReferences", `row ${JSON.stringify({ type: "microsoft.web/sites", identityId: uami("id-web").toLowerCase() }).slice(0, 80)}…: field "id" must be a non-empty string, got undefined`],
      ["propertyReferences", `row ${STORAGE}: field "identityId" must be a non-empty string, got ""`],
    ]);
    expect(invalid[0]?.row).toEqual({ id: WEB, type: "microsoft.web/sites", identityId: vm.toLowerCase() });
  });

  it("yields a (resource, kind, identity) once, across pages, but once per kind", async () => {
    const kubelet = uami("aks1-agentpool", "MC_rg").toLowerCase();
    const row = (identityId: string): Record<string, unknown> => ({ id: AKS, type: "microsoft.containerservice/managedclusters", identityId, kubeletIdentityId: kubelet });
    serveQueries({
      [identityBagReferencesQuery()]: [page([{ id: AKS, type: "microsoft.containerservice/managedclusters", identityId: kubelet }])],
      // extract_all yields a row per match: the kubelet id appears three times, split over two pages.
      [propertyReferencesQuery()]: [page([row(kubelet), row(kubelet)], "1"), page([row(kubelet), row(uami("id-aks").toLowerCase()), { ...row(kubelet), id: WEB, type: "microsoft.web/sites", kubeletIdentityId: "" }])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    const all = (await sweep()).flat();
    expect(all.map((r) => [r.resourceId, r.kind, r.identityId])).toEqual([
      [AKS, "identity", key("aks1-agentpool", "MC_rg")],
      [AKS, "kubelet", key("aks1-agentpool", "MC_rg")],
      [AKS, "properties", key("id-aks")],
      // Another resource naming the same identity (the AKS cluster's kubelet id) is its own reference.
      [WEB, "properties", key("aks1-agentpool", "MC_rg")],
    ]);
    expect(arm.server.requests).toHaveLength(4);
  });

  it("calls onSubscriptionLimitHit when Resource Graph says it used only the first 10,000 subscriptions", async () => {
    const limit = { "x-ms-tenant-subscription-limit-hit": "true" };
    serveQueries({
      [identityBagReferencesQuery()]: [page([{ id: WEB, type: "microsoft.web/sites", identityId: uami("id-web") }], undefined, limit)],
      [propertyReferencesQuery()]: [page([])],
      [policyAssignmentReferencesQuery()]: [page([], undefined, limit)],
    });
    let hits = 0;
    const warnings: string[] = [];
    const pages = await sweep({ onSubscriptionLimitHit: () => void (hits += 1), onWarning: (w) => warnings.push(w) });
    expect(pages.flat()).toHaveLength(1);
    expect(hits).toBe(2);
    expect(warnings).toEqual([
      "Resource Graph used only the first 10,000 subscriptions (x-ms-tenant-subscription-limit-hit)",
      "Resource Graph used only the first 10,000 subscriptions (x-ms-tenant-subscription-limit-hit)",
    ]);
  });

  it("does not call onSubscriptionLimitHit without the header (or with it false)", async () => {
    serveQueries({
      [identityBagReferencesQuery()]: [page([], undefined, { "x-ms-tenant-subscription-limit-hit": "false" })],
      [propertyReferencesQuery()]: [page([])],
      [policyAssignmentReferencesQuery()]: [page([])],
    });
    let hits = 0;
    await sweep({ onSubscriptionLimitHit: () => void (hits += 1) });
    expect(hits).toBe(0);
  });
});
