/** getIdentity and listFederatedCredentials against a local HTTPS server. */
import { describe, expect, it } from "vitest";
import { ArmError, isNotFound } from "../../src/arm/errors.js";
import { getIdentity, listFederatedCredentials, parseIdentity } from "../../src/arm/identities.js";
import { example, paths } from "./support/fixtures.js";
import { queryOf, useArmTestServer } from "./support/testServer.js";

const TOKEN = "identities-token-8c4f2a71";
const ID = "/subscriptions/subid/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName";
const PATH = "/subscriptions/subid/resourceGroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName";

const arm = useArmTestServer(TOKEN);

const getBody = example(paths.identityGet).responses["200"]?.body as Record<string, unknown>;
const ficBody = example(paths.ficList).responses["200"]?.body as { value: unknown[]; nextLink: string };

describe("getIdentity", () => {
  it("GETs the identity at api-version 2023-01-31 and reads systemData.createdAt", async () => {
    arm.serve({ body: { ...getBody, systemData: { createdAt: "2024-05-01T08:00:00Z", createdBy: "bob@contoso.com", createdByType: "User" } } });
    const identity = await getIdentity(arm.conn, ID);
    expect(identity).toEqual({ ...parseIdentity(getBody), createdAt: "2024-05-01T08:00:00Z", createdBy: "bob@contoso.com" });
    expect(arm.server.requests).toHaveLength(1);
    const [req] = arm.server.requests;
    expect(req?.method).toBe("GET");
    expect(req?.path).toBe(PATH);
    expect(queryOf(req!).get("api-version")).toBe("2023-01-31");
  });

  it("a deleted identity is a 404 ArmError, not retried", async () => {
    arm.serve({ status: 404, body: { error: { code: "ResourceNotFound", message: "The Resource ... was not found." } } });
    const error = await getIdentity(arm.conn, ID).catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect((error as ArmError).operation).toBe("getIdentity");
    expect(arm.server.requests).toHaveLength(1);
  });

  it("a body without properties.principalId is a MalformedResponse", async () => {
    arm.serve({ body: { ...getBody, properties: { clientId: "c", tenantId: "t" } } });
    await expect(getIdentity(arm.conn, ID)).rejects.toMatchObject({ code: "MalformedResponse", message: expect.stringMatching(/principalId/) });
  });
});

describe("listFederatedCredentials", () => {
  it.each(["$skipToken", "$skiptoken"])("follows a nextLink using %s on our endpoint, never its host", async (param) => {
    // The example's link points at the placeholder host https://serviceRoot.
    const nextLink = ficBody.nextLink.replace("$skipToken", param);
    arm.serve({ body: { ...ficBody, nextLink } }, { body: { value: [{ ...(ficBody.value[0] as object), name: "second" }] } });
    const credentials = await listFederatedCredentials(arm.conn, ID);
    expect(credentials.map((c) => c.name)).toEqual(["ficResourceName", "second"]);
    expect(arm.server.requests).toHaveLength(2);
    const [first, second] = arm.server.requests;
    expect(first?.path).toBe(`${PATH}/federatedIdentityCredentials`);
    expect(queryOf(first!).get("api-version")).toBe("2023-01-31");
    expect(second?.path).toBe("/subscriptions/subId/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/resourceName/federatedIdentityCredentials");
    expect(queryOf(second!).get(param)).toBe("X'12345'");
    expect(queryOf(second!).get("api-version")).toBe("2023-01-31");
  });

  it("stops on a repeated nextLink and after maxPages", async () => {
    const nextLink = `${arm.server.endpoint}${PATH}/federatedIdentityCredentials?api-version=2023-01-31&$skiptoken=same`;
    arm.serve({ body: { value: [], nextLink } });
    await expect(listFederatedCredentials(arm.conn, ID)).rejects.toMatchObject({ code: "PagingLoop" });
    let n = 0;
    arm.server.setHandler(() => ({ body: { value: [], nextLink: `${nextLink}${(n += 1)}` } }));
    await expect(listFederatedCredentials(arm.conn, ID, { maxPages: 3 })).rejects.toMatchObject({ code: "TooManyPages" });
  });

  it("an identity without credentials gives []", async () => {
    arm.serve({ body: { value: [] } });
    await expect(listFederatedCredentials(arm.conn, ID)).resolves.toEqual([]);
  });
});
