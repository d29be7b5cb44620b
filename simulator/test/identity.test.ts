/**
 * The identity GET, federated credentials, authentication and ARM's answers to unknown paths.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IdentityTruth } from "../groundTruth.js";
import type { RunningSimulator } from "../index.js";
import { clientFor, GET_API, pathOf, startFast } from "./fixture.js";
import { SimClient } from "./httpsClient.js";

let sim: RunningSimulator;
let client: SimClient;
let identities: readonly IdentityTruth[];

beforeAll(async () => {
  sim = await startFast({ identities: 40, seed: "identity-conformance", tenants: 2 });
  client = clientFor(sim);
  identities = sim.truth.tenants[0]!.identities;
});

afterAll(async () => {
  client.close();
  await sim.close();
});

describe("GET userAssignedIdentities/{name}", () => {
  it("returns the Identity body with the recording's key order and, as both real recordings, no systemData", async () => {
    const identity = identities.find((i) => Object.keys(i.tags).length > 0)!;
    const response = await client.get(`${pathOf(identity)}?api-version=${GET_API}`);
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(["location", "tags", "id", "name", "type", "properties"]);
    expect(response.body).toEqual({
      location: identity.location,
      tags: identity.tags,
      id: identity.id,
      name: identity.name,
      type: "Microsoft.ManagedIdentity/userAssignedIdentities",
      properties: { tenantId: identity.tenantId, principalId: identity.principalId, clientId: identity.clientId },
    });
    expect(Object.keys(response.body.properties)).toEqual(["tenantId", "principalId", "clientId"]);
    expect(response.headers["x-ms-ratelimit-remaining-subscription-reads"]).toMatch(/^\d+$/);
    for (const apiVersion of ["2022-01-31-preview", "2023-07-31-preview", "2024-11-30"]) {
      expect((await client.get(`${pathOf(identity)}?api-version=${apiVersion}`)).body.systemData).toBeUndefined();
    }
  });

  it("adds the REST reference's systemData (seeds/003) when started with systemData: true", async () => {
    const withSystemData = await startFast({ identities: 12, seed: "identity-conformance", systemData: true });
    const otherClient = clientFor(withSystemData);
    try {
      const identity = withSystemData.truth.tenants[0]!.identities[3]!;
      const response = await otherClient.get(`${pathOf(identity)}?api-version=${GET_API}`);
      expect(Object.keys(response.body)).toEqual(["location", "tags", "id", "name", "type", "properties", "systemData"]);
      expect(response.body.systemData).toEqual({
        createdBy: identity.createdBy,
        createdByType: identity.createdByType,
        createdAt: identity.createdAt,
        lastModifiedBy: identity.createdBy,
        lastModifiedByType: identity.createdByType,
        lastModifiedAt: identity.createdAt,
      });
      expect(response.body.systemData.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
      const old = await otherClient.get(`${pathOf(identity)}?api-version=2018-11-30`);
      expect(old.body.systemData).toBeUndefined();
      const list = await otherClient.get(`/subscriptions/${identity.subscriptionId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=${GET_API}`);
      expect(Object.keys(list.body.value[0])).toEqual(["location", "tags", "id", "name", "type", "properties", "systemData"]);
    } finally {
      otherClient.close();
      await withSystemData.close();
    }
  });

  it("accepts the stable and preview api-versions of the type", async () => {
    for (const apiVersion of ["2022-01-31-preview", "2023-07-31-preview", "2024-11-30", "2023-01-31"]) {
      const response = await client.get(`${pathOf(identities[1]!)}?api-version=${apiVersion}`);
      expect(response.status).toBe(200);
    }
    const old = await client.get(`${pathOf(identities[1]!)}?api-version=2018-11-30`);
    expect(old.body.systemData).toBeUndefined();
    const unknown = await client.get(`${pathOf(identities[1]!)}?api-version=2020-01-01`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("NoRegisteredProviderFound");
  });

  it("matches the path case-insensitively and the group in any casing", async () => {
    const identity = identities[8]!;
    const path = `/SUBSCRIPTIONS/${identity.subscriptionId.toUpperCase()}/resourcegroups/${encodeURIComponent(identity.resourceGroupName.toUpperCase())}/PROVIDERS/microsoft.managedidentity/USERASSIGNEDIDENTITIES/${encodeURIComponent(identity.name.toUpperCase())}`;
    const response = await client.get(`${path}?api-version=${GET_API}`);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(identity.id);
  });

  it("serves every hostile name", async () => {
    for (const name of ["0_-", "UAMI-Prod_01", `x${"-_".repeat(63)}9`, "9to5--__worker", "a1b"]) {
      const identity = identities.find((i) => i.name === name)!;
      const response = await client.get(`${pathOf(identity)}?api-version=${GET_API}`);
      expect(response.status).toBe(200);
      expect(response.body.name).toBe(name);
    }
  });

  it("answers 404 ResourceNotFound, then ResourceGroupNotFound for a missing group", async () => {
    const identity = identities[3]!;
    const missing = await client.get(`/subscriptions/${identity.subscriptionId}/resourceGroups/${encodeURIComponent(identity.resourceGroupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost?api-version=${GET_API}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: "ResourceNotFound",
      message: `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/ghost' under resource group '${identity.resourceGroupName}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
    const noGroup = await client.get(`/subscriptions/${identity.subscriptionId}/resourceGroups/rg-ghost/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost?api-version=${GET_API}`);
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.error).toEqual({ code: "ResourceGroupNotFound", message: "Resource group 'rg-ghost' could not be found." });
  });
});

describe("listing identities through ARM", () => {
  it("lists by subscription and by resource group, paging with $skiptoken nextLinks", async () => {
    const subscriptionId = sim.truth.tenants[0]!.subscriptions[0]!.subscriptionId;
    const expected = identities.filter((i) => i.subscriptionId === subscriptionId).map((i) => i.id);
    const response = await client.get(`/subscriptions/${subscriptionId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=${GET_API}`);
    expect(response.status).toBe(200);
    expect(response.body.value.map((i: { id: string }) => i.id)).toEqual(expected);
    expect("nextLink" in response.body).toBe(false);

    const sample = identities.find((i) => i.subscriptionId === subscriptionId)!;
    const group = await client.get(`/subscriptions/${subscriptionId}/resourceGroups/${encodeURIComponent(sample.resourceGroupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=${GET_API}`);
    expect(group.body.value.map((i: { id: string }) => i.id)).toEqual(identities.filter((i) => i.subscriptionId === subscriptionId && i.resourceGroup === sample.resourceGroup).map((i) => i.id));
    expect(Object.keys(group.body.value[0])).toEqual(["location", "tags", "id", "name", "type", "properties"]);
  });

  it("pages a large subscription", async () => {
    const big = await startFast({ identities: 250, seed: "arm-list", subscriptionsPerTenant: 1 });
    const bigClient = clientFor(big);
    try {
      const ids: string[] = [];
      let next: string | undefined = `/subscriptions/${big.tenants[0]!.subscriptions[0]}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=${GET_API}`;
      while (next) {
        const page = await bigClient.get(next);
        expect(page.status).toBe(200);
        ids.push(...page.body.value.map((i: { id: string }) => i.id));
        next = page.body.nextLink as string | undefined;
        if (next) expect(next).toMatch(/\?api-version=2023-01-31&\$skiptoken=[A-Za-z0-9_-]+$/);
      }
      expect(ids).toEqual(big.truth.tenants[0]!.identities.map((i) => i.id));
    } finally {
      bigClient.close();
      await big.close();
    }
  });
});

describe("authentication and tenant isolation", () => {
  it("answers 401 AuthenticationFailed with WWW-Authenticate when the header is missing", async () => {
    const response = await client.get(`${pathOf(identities[0]!)}?api-version=${GET_API}`, { token: null });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." } });
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer authorization_uri="https:\/\/login\.windows\.net\/", error="invalid_token"/);
  });

  it("answers 401 InvalidAuthenticationToken to an unknown token, on every operation", async () => {
    for (const [method, path] of [
      ["GET", `${pathOf(identities[0]!)}?api-version=${GET_API}`],
      ["POST", `${pathOf(identities[0]!)}/listAssociatedResources?api-version=2022-01-31-preview`],
      ["POST", "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"],
      ["GET", "/no/such/path"],
    ] as const) {
      const response = await client.send(method, path, { token: "not-a-simulator-token" });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("InvalidAuthenticationToken");
      expect(response.headers["www-authenticate"]).toBeDefined();
    }
  });

  it("answers 401 InvalidAuthenticationTokenTenant (the wrong issuer) when a token reaches another tenant's subscription", async () => {
    const foreign = sim.truth.tenants[1]!.identities[0]!;
    const [mine, theirs] = [sim.tenants[0]!.tenantId, sim.tenants[1]!.tenantId];
    const response = await client.get(`${pathOf(foreign)}?api-version=${GET_API}`);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("InvalidAuthenticationTokenTenant");
    expect(response.body.error.message).toContain(`The access token is from the wrong issuer 'https://sts.windows.net/${mine}/'. It must match the tenant 'https://sts.windows.net/${theirs}/'`);
    expect(response.headers["www-authenticate"]).toContain(`authorization_uri="https://login.windows.net/${theirs}"`);
    const list = await client.post(`${pathOf(foreign)}/listAssociatedResources?api-version=2022-01-31-preview`);
    expect(list.status).toBe(401);
    const own = await clientFor(sim, 1).get(`${pathOf(foreign)}?api-version=${GET_API}`);
    expect(own.status).toBe(200);
  });
});

describe("federated identity credentials", () => {
  const ficPath = (identity: IdentityTruth, query = "") => `${pathOf(identity)}/federatedIdentityCredentials?api-version=${GET_API}${query}`;

  it("pages credentials with $skipToken nextLinks shaped like the example, none on the last page", async () => {
    const identity = identities.find((i) => i.federatedCredentialCount >= 3)!;
    const expected = sim.truth.federatedCredentialsOf(identity.id);
    expect(expected).toHaveLength(identity.federatedCredentialCount);
    const names: string[] = [];
    let response = await client.get(ficPath(identity));
    for (;;) {
      expect(response.status).toBe(200);
      for (const item of response.body.value) {
        expect(Object.keys(item)).toEqual(["id", "name", "type", "properties"]);
        expect(item.type).toBe("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials");
        expect(Object.keys(item.properties)).toEqual(["issuer", "subject", "audiences"]);
        expect(item.properties.audiences).toEqual(["api://AzureADTokenExchange"]);
        names.push(item.name);
      }
      if (!("nextLink" in response.body)) break;
      expect(response.body.nextLink).toMatch(/\/federatedIdentityCredentials\?api-version=2023-01-31&\$skipToken=[A-Za-z0-9_-]+$/);
      response = await client.get(response.body.nextLink);
    }
    expect(names).toEqual(expected.map((c) => c.name));
  });

  it("honours $top and accepts $skiptoken spelled either way", async () => {
    const identity = identities.find((i) => i.federatedCredentialCount >= 3)!;
    const first = await client.get(ficPath(identity, "&$top=1"));
    expect(first.body.value).toHaveLength(1);
    const token = new URL(first.body.nextLink as string).searchParams.get("$skipToken")!;
    const lower = await client.get(ficPath(identity, `&$skiptoken=${encodeURIComponent(token)}`));
    expect(lower.body.value[0].name).toBe(sim.truth.federatedCredentialsOf(identity.id)[1]!.name);
  });

  it("returns {\"value\":[]} for an identity without credentials", async () => {
    const identity = identities.find((i) => i.federatedCredentialCount === 0)!;
    const response = await client.get(ficPath(identity));
    expect(response.text).toBe('{"value":[]}');
  });

  it("gets one credential by name", async () => {
    const identity = identities.find((i) => i.federatedCredentialCount >= 1)!;
    const fic = sim.truth.federatedCredentialsOf(identity.id)[0]!;
    const response = await client.get(`${pathOf(identity)}/federatedIdentityCredentials/${fic.name}?api-version=${GET_API}`);
    expect(response.status).toBe(200);
    expect(response.body.properties.subject).toBe(fic.subject);
  });

  it("rejects api-versions without credentials", async () => {
    const response = await client.get(`${pathOf(identities[0]!)}/federatedIdentityCredentials?api-version=2018-11-30`);
    expect(response.status).toBe(400);
  });
});

describe("unknown paths and methods", () => {
  it("answers 404 InvalidResourceType for an unknown type and NotFound for other paths", async () => {
    const identity = identities[0]!;
    const type = await client.get(`/subscriptions/${identity.subscriptionId}/resourceGroups/x/providers/Microsoft.Compute/virtualMachines/vm?api-version=2024-03-01`);
    expect(type.status).toBe(404);
    expect(type.body.error.code).toBe("InvalidResourceType");
    const other = await client.get("/nothing/here?api-version=2020-01-01");
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("NotFound");
  });

  it("answers 405 to writes on identities", async () => {
    const response = await client.send("DELETE", `${pathOf(identities[0]!)}?api-version=${GET_API}`);
    expect(response.status).toBe(405);
  });

  it("answers 400 to a path that is not valid percent-encoding", async () => {
    const response = await client.get(`/subscriptions/%E0%A4%A/resourceGroups/x?api-version=${GET_API}`);
    expect(response.status).toBe(400);
  });
});

describe("TLS", () => {
  it("serves a certificate for 127.0.0.1 that the CA file makes trusted, and is refused without it", async () => {
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(sim.caFile, "utf8")).toBe(sim.ca);
    expect(sim.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusting = new SimClient(sim.endpoint, "", sim.tenants[0]!.token);
    await expect(untrusting.get(`${pathOf(identities[0]!)}?api-version=${GET_API}`)).rejects.toThrow(/self.signed|certificate/i);
    untrusting.close();
  });
});
