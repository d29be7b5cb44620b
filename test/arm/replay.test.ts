/**
 * Replays the real recorded sessions (Azure CLI 2.45.0, Az.ManagedServiceIdentity 0.3.0) through the client:
 * a local HTTPS server answers with the recorded response when, and only when, the client sends the recorded
 * request; the client must return what those tools printed.
 */
import { describe, expect, it } from "vitest";
import { getIdentity, listFederatedCredentials } from "../../src/arm/identities.js";
import { listAllAssociatedResources, listAssociatedResourcesPage } from "../../src/arm/associatedResources.js";
import type { AssociatedResource } from "../../src/arm/types.js";
import { cliInteractions, paths, psEntries, type CliInteraction, type PsEntry } from "./support/fixtures.js";
import { queryOf, useArmTestServer, type RecordedRequest, type Reply } from "./support/testServer.js";

const TOKEN = "replay-token-7d1f3c9e0a";

const arm = useArmTestServer(TOKEN);

/** Path and query of a recorded absolute URI (the recordings talk to https://management.azure.com). */
function target(uri: string): { path: string; query: Map<string, string> } {
  const url = new URL(uri);
  const query = new Map<string, string>();
  url.searchParams.forEach((v, k) => query.set(k, v));
  return { path: url.pathname, query };
}

/** Serves `reply` for a request with the recorded method, path and query; anything else is a 404. */
function replay(recorded: { method: string; uri: string }, reply: Reply): void {
  const expected = target(recorded.uri);
  arm.server.requests.length = 0;
  arm.server.setHandler((req: RecordedRequest) => {
    const sameQuery =
      queryOf(req).size === expected.query.size &&
      [...expected.query].every(([k, v]) => queryOf(req).get(k) === v);
    if (req.method === recorded.method && decodeURIComponent(req.path) === expected.path && sameQuery) return reply;
    return { status: 404, body: { error: { code: "NoRecording", message: `unrecorded request ${req.method} ${req.url}` } } };
  });
}

function headerValue(headers: Record<string, string[]>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? headers[key]?.[0] : undefined;
}

function cliReply(interaction: CliInteraction): Reply {
  return {
    status: interaction.response.status.code,
    headers: { "content-type": headerValue(interaction.response.headers, "content-type") ?? "application/json" },
    body: interaction.response.body.string,
  };
}

function psReply(entry: PsEntry): Reply {
  return {
    status: entry.Response.StatusCode,
    headers: { "content-type": entry.Response.ContentHeaders["Content-Type"]?.[0] ?? "application/json" },
    body: entry.Response.Content,
  };
}

/** The identity id of a recorded URI: its path up to the identity name. */
function identityIdOf(uri: string): string {
  const path = new URL(uri).pathname;
  const m = /^(.*\/userAssignedIdentities\/[^/]+)/i.exec(path);
  if (!m?.[1]) throw new Error(`no identity in ${uri}`);
  return m[1];
}

async function collect(identityId: string): Promise<AssociatedResource[]> {
  const items: AssociatedResource[] = [];
  for await (const page of listAllAssociatedResources(arm.conn, identityId, {}, async () => {})) items.push(...page.value);
  return items;
}

function expectSameRequestAsRecorded(req: RecordedRequest, recordedUri: string, method: string): void {
  const expected = target(recordedUri);
  expect(req.method).toBe(method);
  expect(decodeURIComponent(req.path)).toBe(expected.path);
  expect(queryOf(req).get("api-version")).toBe(expected.query.get("api-version"));
  expect([...queryOf(req).keys()]).toEqual([...expected.query.keys()]);
  expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
}

describe("Azure CLI recording: az identity list-resources (test_identity_management.yaml)", () => {
  const interaction = cliInteractions(paths.cliIdentity).find((i) => i.request.uri.includes("/listAssociatedResources"));

  it("has the recorded call", () => {
    expect(interaction?.request.method).toBe("POST");
    expect(headerValue(interaction?.request.headers ?? {}, "Content-Length")).toBe("0");
    expect(interaction?.request.body).toBeNull();
  });

  it("returns what the CLI printed (an empty list) from the same request", async () => {
    if (!interaction) throw new Error("recording missing");
    replay(interaction.request, cliReply(interaction));
    const items = await collect(identityIdOf(interaction.request.uri));
    expect(items).toEqual([]);
    expect(arm.server.requests).toHaveLength(1);
    const [req] = arm.server.requests;
    if (!req) throw new Error("no request");
    expectSameRequestAsRecorded(req, interaction.request.uri, "POST");
    expect(req.body).toBe("");
    expect(req.headers["content-length"]).toBe("0");
    expect(req.headers["transfer-encoding"]).toBeUndefined();
  });

  it("keeps the recorded totalCount (0) on the page", async () => {
    if (!interaction) throw new Error("recording missing");
    replay(interaction.request, cliReply(interaction));
    const page = await listAssociatedResourcesPage(arm.conn, identityIdOf(interaction.request.uri));
    expect(page).toEqual({ totalCount: 0, value: [] });
  });
});

describe("PowerShell recording: Get-AzUserAssignedIdentityAssociatedResource", () => {
  const [entry] = psEntries(paths.psAssociated);

  it("returns the one microsoft.web/sites resource PowerShell printed, from the same request", async () => {
    if (!entry) throw new Error("recording missing");
    replay({ method: entry.Request.Method, uri: entry.Request.RequestUri }, psReply(entry));
    const items = await collect(identityIdOf(entry.Request.RequestUri));
    const printed = (JSON.parse(entry.Response.Content) as { value: AssociatedResource[] }).value;
    expect(items).toEqual(printed);
    expect(items).toHaveLength(1);
    expect(items[0]?.type).toBe("microsoft.web/sites");
    expect(arm.server.requests).toHaveLength(1);
    const [req] = arm.server.requests;
    if (!req) throw new Error("no request");
    expectSameRequestAsRecorded(req, entry.Request.RequestUri, "POST");
    expect(req.body).toBe("");
  });
});

describe("PowerShell recording: Get-AzUserAssignedIdentity (GET at 2023-01-31)", () => {
  const entry = psEntries(paths.psIdentity).find((e) => e.Request.RequestUri.includes("/userAssignedIdentities/identityn1iz32?"));

  it("GETs the recorded URI and returns the recorded identity", async () => {
    if (!entry) throw new Error("recording missing");
    replay({ method: "GET", uri: entry.Request.RequestUri }, psReply(entry));
    const identity = await getIdentity(arm.conn, identityIdOf(entry.Request.RequestUri));
    const body = JSON.parse(entry.Response.Content) as { id: string; properties: Record<string, string> };
    expect(identity).toEqual({
      id: body.id,
      name: "identityn1iz32",
      location: "centralus",
      tags: {},
      clientId: body.properties.clientId,
      principalId: body.properties.principalId,
      tenantId: body.properties.tenantId,
    });
    expect(arm.server.requests).toHaveLength(1);
    const [req] = arm.server.requests;
    if (!req) throw new Error("no request");
    expectSameRequestAsRecorded(req, entry.Request.RequestUri, "GET");
  });
});

describe("Azure CLI recording: federated identity credential list (test_federated_identity_credential.yaml)", () => {
  const lists = cliInteractions(paths.cliFic).filter(
    (i) => i.request.method === "GET" && /\/federatedIdentityCredentials\?/.test(i.request.uri),
  );

  it("lists the two credentials of the first recorded list response", async () => {
    const first = lists[0];
    if (!first) throw new Error("recording missing");
    // The CLI recorded api-version 2022-01-31-preview; this client uses the stable 2023-01-31 (same body).
    replay({ method: "GET", uri: first.request.uri.replace("2022-01-31-preview", "2023-01-31") }, cliReply(first));
    const credentials = await listFederatedCredentials(arm.conn, identityIdOf(first.request.uri));
    expect(credentials.map((c) => c.name)).toEqual(["fic1", "fic2"]);
    expect(credentials[0]?.audiences.length).toBeGreaterThan(0);
    expect(arm.server.requests).toHaveLength(1);
  });
});
