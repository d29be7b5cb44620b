import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { DefaultAzureCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArmConnection } from "../../src/arm/connection.js";
import { getIdentity } from "../../src/arm/identities.js";
import { startTestServer, type TestServer } from "./support/testServer.js";

const TOKEN = "connection-token-5e7a1d93";
const ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x";
const identityBody = { id: ID, name: "x", location: "westus", tags: {}, properties: { tenantId: "t", principalId: "p", clientId: "c" } };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(() => ({ body: identityBody }));
});
afterAll(() => server.close());

describe("createArmConnection", () => {
  it("defaults to the public cloud and DefaultAzureCredential", () => {
    const conn = createArmConnection();
    expect(conn.endpoint).toBe("https://management.azure.com");
    expect(conn.scope).toBe("https://management.azure.com/.default");
    expect(conn.credential).toBeInstanceOf(DefaultAzureCredential);
    expect(conn.agent).toBeUndefined();
    expect(conn.policies).toEqual([]);
  });

  it("derives the scope from a sovereign endpoint and drops trailing slashes", () => {
    const conn = createArmConnection({ endpoint: "https://management.usgovcloudapi.net/", token: TOKEN });
    expect(conn.endpoint).toBe("https://management.usgovcloudapi.net");
    expect(conn.scope).toBe("https://management.usgovcloudapi.net/.default");
  });

  it("serves a static token from a credential that does not show it", async () => {
    const conn = createArmConnection({ token: TOKEN });
    const token = await conn.credential.getToken(conn.scope);
    expect(token?.token).toBe(TOKEN);
    expect(token?.expiresOnTimestamp).toBeGreaterThan(Date.now());
    expect(inspect(conn, { depth: 10 })).not.toContain(TOKEN);
    expect(JSON.stringify(conn)).not.toContain(TOKEN);
  });

  it.each([
    [{ endpoint: "http://management.azure.com" }, /endpoint/],
    [{ endpoint: "not a url" }, /endpoint/],
    [{ endpoint: "https://x?y=1" }, /query/],
    [{ token: "" }, /token/],
    [{ ca: "not pem" }, /PEM/],
    [{ caFile: "/nonexistent/ca.pem" }, /caFile/],
  ])("rejects %o with a TypeError naming the option", (options, message) => {
    expect(() => createArmConnection(options)).toThrow(TypeError);
    expect(() => createArmConnection(options)).toThrow(message);
  });

  it("trusts an extra CA given as text or as a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "arm-ca-"));
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, server.ca);
    for (const options of [{ ca: server.ca }, { caFile }]) {
      const conn = createArmConnection({ endpoint: server.endpoint, token: TOKEN, ...options });
      expect(conn.agent).toBeDefined();
      expect(conn.policies).toHaveLength(1);
      await expect(getIdentity(conn, ID)).resolves.toMatchObject({ name: "x" });
    }
    const last = server.requests.at(-1);
    expect(last?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(last?.headers["user-agent"]).toMatch(/^uami-audit /);
  });
});
