import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalIdentityId,
  identityPath,
  InvalidResourceIdError,
  parseIdentityId,
  resourceIdKey,
  sameResourceId,
} from "../../src/arm/resourceId.js";

const ID = "/subscriptions/9e223dbe-3399-4e19-88eb-0975f02ac87f/resourceGroups/identity-of9g5pl0/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityn1iz32";

describe("parseIdentityId", () => {
  it("parses the canonical form", () => {
    expect(parseIdentityId(ID)).toEqual({
      subscriptionId: "9e223dbe-3399-4e19-88eb-0975f02ac87f",
      resourceGroup: "identity-of9g5pl0",
      name: "identityn1iz32",
    });
  });

  it("accepts ARM's other casings and a trailing slash (PowerShell recording: resourcegroups)", () => {
    const lower = ID.replace("resourceGroups", "resourcegroups");
    expect(parseIdentityId(lower)).toEqual(parseIdentityId(ID));
    expect(parseIdentityId(ID.toLowerCase()).name).toBe("identityn1iz32");
    expect(parseIdentityId(`${ID}/`).name).toBe("identityn1iz32");
  });

  it("keeps names as written", () => {
    expect(parseIdentityId(ID.replace("identityn1iz32", "My.Identity(1)")).name).toBe("My.Identity(1)");
  });

  it.each([
    ["", /must start with \//],
    ["subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n", /must start with \//],
    ["/subscriptions/x/resourceGroups/rg", /expected 8 segments, found 4/],
    [`${ID}/federatedIdentityCredentials/f`, /expected 8 segments/],
    [ID.replace("Microsoft.ManagedIdentity", "Microsoft.Compute"), /provider "Microsoft.Compute"/],
    [ID.replace("userAssignedIdentities", "identities"), /type "identities"/],
    [ID.replace("resourceGroups", "groups"), /"groups" where "resourceGroups" belongs/],
    [ID.replace("/identity-of9g5pl0/", "//"), /empty resource group/],
    [ID.replace("identityn1iz32", ".."), /is not a name/],
    [`${ID}?api-version=2023-01-31`, /contains \? or #/],
    [ID.replace("identityn1iz32", "a\nb"), /control character/],
  ])("rejects %j", (id, reason) => {
    expect(() => parseIdentityId(id)).toThrow(InvalidResourceIdError);
    expect(() => parseIdentityId(id)).toThrow(reason);
  });
});

describe("identityPath", () => {
  it("is the canonical path, each segment encoded", () => {
    expect(identityPath(ID.toLowerCase())).toBe(
      "/subscriptions/9e223dbe-3399-4e19-88eb-0975f02ac87f/resourceGroups/identity-of9g5pl0/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityn1iz32",
    );
    expect(identityPath({ subscriptionId: "s", resourceGroup: "rg (1)", name: "ü/x" })).toBe(
      "/subscriptions/s/resourceGroups/rg%20(1)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%C3%BC%2Fx",
    );
  });

  it("round-trips any name: one path segment each, decoded back to the input", () => {
    const isControl = (s: string): boolean => [...s].some((c) => (c.codePointAt(0) ?? 0) < 0x20 || c === "\u007f");
    const segment = fc
      .string({ minLength: 1, maxLength: 30, unit: "grapheme" })
      .filter((s) => s !== "." && s !== ".." && !isControl(s));
    fc.assert(
      fc.property(segment, segment, segment, (subscriptionId, resourceGroup, name) => {
        const path = identityPath({ subscriptionId, resourceGroup, name });
        const parts = path.split("/");
        expect(parts).toHaveLength(9);
        expect(path).not.toMatch(/[?#\s]/);
        expect(decodeURIComponent(parts[2] ?? "")).toBe(subscriptionId);
        expect(decodeURIComponent(parts[4] ?? "")).toBe(resourceGroup);
        expect(decodeURIComponent(parts[8] ?? "")).toBe(name);
        expect(new URL(`https://h${path}`).pathname).toBe(path);
      }),
    );
  });
});

describe("sameResourceId", () => {
  it("compares case-insensitively, ignoring a trailing slash", () => {
    expect(sameResourceId(ID, ID.replace("resourceGroups", "resourcegroups"))).toBe(true);
    expect(sameResourceId(ID, `${ID.toUpperCase()}/`)).toBe(true);
    expect(sameResourceId(ID, ID.replace("identityn1iz32", "identityn1iz33"))).toBe(false);
    expect(resourceIdKey(ID)).toBe(resourceIdKey(ID.toUpperCase()));
  });

  it("agrees with canonicalIdentityId(parseIdentityId(id))", () => {
    const messy = ID.replace("resourceGroups", "RESOURCEGROUPS").replace("Microsoft.ManagedIdentity", "microsoft.managedidentity");
    expect(sameResourceId(canonicalIdentityId(parseIdentityId(messy)), ID)).toBe(true);
    expect(canonicalIdentityId(parseIdentityId(messy))).toBe(ID);
  });
});
