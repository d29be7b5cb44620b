/**
 * sweepIdentityReferences against a local HTTPS server playing Resource Graph (objectArray pages with
 * `$skipToken`, quota headers, `x-ms-tenant-subscription-limit-hit`), one answer per query text.
 */
import { describe, expect, it } from "vitest";
import {
  canonicalIdentityId,
  identityBagReferencesQuery,
  parseIdentityId,
  policyAssignmentReferencesQuery,
  POLICY_ASSIGNMENT_SCOPE_FILTER,
  propertyReferencesQuery,
  resourceIdKey,
  sweepIdentityReferences,
  type AuditScope,
  type IdentityReference,
  type InvalidReferenceRow,
  type ReferenceSweepOptions,
} from "../../src/arm/index.js";
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

async function sweep(options: ReferenceSweepOptions = {}): Promise<IdentityReference[][]> {
  const out: IdentityReference[][] = [];
  for await (const refs of sweepIdentityReferences(arm.conn, SCOPE, options)) out.push(refs);
  return out;
}

describe("sweepIdentityReferences", () => {
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
