/** getIdentity and listFederatedCredentials against a local HTTPS server. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ArmError,
  createArmConnection,
  getIdentity,
  isNotFound,
  listFederatedCredentials,
  parseIdentity,
  type ArmConnection,
} from "../../src/arm/index.js";
import { example, paths } from "./support/fixtures.js";
import { queryOf, startTestServer, type Reply, type TestServer } from "./support/testServer.js";

const TOKEN = "identities-token-8c4f2a71";
const ID = "/subscriptions/subid/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName";
const PATH = "/subscriptions/subid/resourceGroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName";

let server: TestServer;
let conn: ArmConnection;

beforeAll(async () => {
  server = await startTestServer();
  conn = createArmConnection({ endpoint: server.endpoint, token: TOKEN, ca: server.ca });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

function serve(...replies: Reply[]): void {
  server.setHandler((_req, i) => replies[Math.min(i, replies.length - 1)] ?? { status: 500 });
}

const getBody = example(paths.identityGet).responses["200"]?.body as Record<string, unknown>;
const ficBody = example(paths.ficList).responses["200"]?.body as { value: unknown[]; nextLink: string };

describe("getIdentity", () => {
  it("GETs the identity at api-version 2023-01-31 and reads systemData.createdAt", async () => {
    serve({ body: { ...getBody, systemData: { createdAt: "2024-05-01T08:00:00Z", createdBy: "bob@contoso.com", createdByType: "User" } } });
    let hookCalls = 0;
    const identity = await getIdentity(conn, ID, { beforeEachRequest: async () => void (hookCalls += 1) });
    expect(identity).toEqual({ ...parseIdentity(getBody), createdAt: "2024-05-01T08:00:00Z", createdBy: "bob@contoso.com" });
    expect(hookCalls).toBe(1);
    const [req] = server.requests;
    expect(req?.method).toBe("GET");
    expect(req?.path).toBe(PATH);
    expect(queryOf(req!).get("api-version")).toBe("2023-01-31");
  });

  it("a deleted identity is a 404 ArmError, not retried", async () => {
    serve({ status: 404, body: { error: { code: "ResourceNotFound", message: "The Resource ... was not found." } } });
    const error = await getIdentity(conn, ID).catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect((error as ArmError).operation).toBe("getIdentity");
    expect(server.requests).toHaveLength(1);
  });

  it("a body without properties.principalId is a MalformedResponse", async () => {
    serve({ body: { ...getBody, properties: { clientId: "c", tenantId: "t" } } });
    await expect(getIdentity(conn, ID)).rejects.toMatchObject({ code: "MalformedResponse", message: expect.stringMatching(/principalId/) });
  });
});

describe("listFederatedCredentials", () => {
  it.each(["$skipToken", "$skiptoken"])("follows a nextLink using %s on our endpoint, never its host", async (param) => {
    // The example's link points at the placeholder host https://serviceRoot.
    const nextLink = ficBody.nextLink.replace("$skipToken", param);
    serve({ body: { ...ficBody, nextLink } }, { body: { value: [{ ...(ficBody.value[0] as object), name: "second" }] } });
    let hookCalls = 0;
    const credentials = await listFederatedCredentials(conn, ID, { beforeEachRequest: async () => void (hookCalls += 1) });
    expect(credentials.map((c) => c.name)).toEqual(["ficResourceName", "second"]);
    expect(hookCalls).toBe(2);
    const [first, second] = server.requests;
    expect(first?.path).toBe(`${PATH}/federatedIdentityCredentials`);
    expect(queryOf(first!).get("api-version")).toBe("2023-01-31");
    expect(second?.path).toBe("/subscriptions/subId/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/resourceName/federatedIdentityCredentials");
    expect(queryOf(second!).get(param)).toBe("X'12345'");
    expect(queryOf(second!).get("api-version")).toBe("2023-01-31");
  });

  it("stops on a repeated nextLink and after maxPages", async () => {
    const nextLink = `${server.endpoint}${PATH}/federatedIdentityCredentials?api-version=2023-01-31&$skiptoken=same`;
    serve({ body: { value: [], nextLink } });
    await expect(listFederatedCredentials(conn, ID)).rejects.toMatchObject({ code: "PagingLoop" });
    let n = 0;
    server.setHandler(() => ({ body: { value: [], nextLink: `${nextLink}${(n += 1)}` } }));
    await expect(listFederatedCredentials(conn, ID, { maxPages: 3 })).rejects.toMatchObject({ code: "TooManyPages" });
  });

  it("an identity without credentials gives []", async () => {
    serve({ body: { value: [] } });
    await expect(listFederatedCredentials(conn, ID)).resolves.toEqual([]);
  });
});
