/** The HTTP API's input schemas (src/api/validation.ts), without a host: each bad input is a 400 naming what is wrong. */
import { describe, expect, it } from "vitest";
import { ApiProblem } from "../../src/api/responses.js";
import { parseFormat, parseIdentityPath, parseRunId, parseStartAuditBody } from "../../src/api/validation.js";

const SUB = "0336439f-0e9d-44ec-975e-62accb9b3901";
const DEFAULT_SCOPE = { subscriptions: [], managementGroups: ["root-mg"] };

/** The 400's detail for what `parse` throws. */
function detailOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiProblem);
    const { response } = error as ApiProblem;
    expect(response.status).toBe(400);
    return (response.json as { detail: string }).detail;
  }
  throw new Error("parsed");
}

describe("POST /api/audits body", () => {
  it("empty or {} keeps the app's scope; a list is deduplicated (subscriptions in lower case)", () => {
    expect(parseStartAuditBody("  ", DEFAULT_SCOPE)).toBe(DEFAULT_SCOPE);
    expect(parseStartAuditBody("{}", DEFAULT_SCOPE)).toBe(DEFAULT_SCOPE);
    expect(parseStartAuditBody(JSON.stringify({ subscriptions: [SUB.toUpperCase(), SUB] }), DEFAULT_SCOPE)).toEqual({ subscriptions: [SUB], managementGroups: [] });
    expect(parseStartAuditBody(JSON.stringify({ managementGroups: ["mg-1", "mg-1", "MG-2"] }), DEFAULT_SCOPE)).toEqual({ subscriptions: [], managementGroups: ["mg-1", "MG-2"] });
  });

  it.each([
    ["a string", `"subscriptions"`, "The body must be a JSON object"],
    ["null", "null", "The body must be a JSON object"],
    ["an array", "[]", "The body must be a JSON object"],
    ["unknown fields, the first five named", JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, subscriptions: [SUB] }), `Unknown field(s): "a", "b", "c", "d", "e", …; allowed: subscriptions, managementGroups`],
    ["both scopes, even with a bad item", JSON.stringify({ subscriptions: ["x"], managementGroups: ["mg"] }), "Give subscriptions or managementGroups, not both"],
    ["a scope that is text", JSON.stringify({ managementGroups: "mg-1" }), `"managementGroups" must be an array of management group ids, not a string`],
    ["an empty scope", JSON.stringify({ subscriptions: [] }), `"subscriptions" is empty; omit it to audit the whole tenant`],
    ["the second item bad", JSON.stringify({ subscriptions: [SUB, "not-a-guid"] }), `"subscriptions[1]" is not a subscription id (GUID): "not-a-guid"`],
    ["an item of the wrong type", JSON.stringify({ subscriptions: [false] }), `"subscriptions[0]" is not a subscription id (GUID): it is a boolean`],
    ["an overlong item, cut short", JSON.stringify({ managementGroups: ["m".repeat(500)] }), `"managementGroups[0]" is not a management group id: "${"m".repeat(80)}…"`],
  ])("refuses %s", (_what, body, detail) => {
    expect(detailOf(() => parseStartAuditBody(body, DEFAULT_SCOPE))).toBe(detail);
  });

  it("refuses more than 5,000 items by count, before looking at any of them", () => {
    const body = JSON.stringify({ subscriptions: Array.from({ length: 5001 }, () => "not-a-guid") });
    expect(detailOf(() => parseStartAuditBody(body, DEFAULT_SCOPE))).toBe(`"subscriptions" lists 5001 items; at most 5000`);
    const atTheLimit = JSON.stringify({ subscriptions: Array.from({ length: 5000 }, () => SUB) });
    expect(parseStartAuditBody(atTheLimit, DEFAULT_SCOPE).subscriptions).toEqual([SUB]);
  });

  it("says where malformed JSON breaks", () => {
    expect(detailOf(() => parseStartAuditBody(`{"subscriptions": [`, DEFAULT_SCOPE))).toMatch(/^The body is not valid JSON: /);
  });
});

describe("path and query parameters", () => {
  it("run ids: the app's form only, the bad one quoted and cut short", () => {
    expect(parseRunId("20261127020000-1a2b3c4d")).toBe("20261127020000-1a2b3c4d");
    expect(detailOf(() => parseRunId(undefined))).toBe(`"" is not a run id (expected like 20261127020000-1a2b3c4d)`);
    expect(detailOf(() => parseRunId("20261127020000-1A2B3C4D"))).toMatch(/is not a run id/);
    expect(detailOf(() => parseRunId("9".repeat(200)))).toBe(`"${"9".repeat(80)}…" is not a run id (expected like 20261127020000-1a2b3c4d)`);
  });

  it("report formats: any case, json by default; an unknown one names the formats", () => {
    expect(parseFormat(null)).toBe("json");
    expect(parseFormat("HTML")).toBe("html");
    expect(detailOf(() => parseFormat("PDF"))).toBe(`Unknown report format "PDF"; use one of json, csv, md, html, sarif, text`);
  });

  it("identity paths: each part named with its bad value", () => {
    expect(parseIdentityPath({ subscriptionId: SUB, resourceGroup: "rg-é-日本.(x)", name: "id-1" })).toMatchObject({ subscriptionId: SUB, name: "id-1", id: expect.stringContaining("/userAssignedIdentities/id-1") });
    expect(detailOf(() => parseIdentityPath({ subscriptionId: "nope", resourceGroup: "rg", name: "id-1" }))).toBe(`"subscriptionId" is not a subscription id (GUID): "nope"`);
    expect(detailOf(() => parseIdentityPath({ subscriptionId: SUB, resourceGroup: "rg.", name: "id-1" }))).toBe(`"resourceGroup" is not a valid resource group name: "rg."`);
    expect(detailOf(() => parseIdentityPath({ subscriptionId: SUB, resourceGroup: "rg", name: "x" }))).toBe(`"name" is not a valid user-assigned identity name: "x"`);
    expect(detailOf(() => parseIdentityPath({ subscriptionId: SUB, resourceGroup: "rg" }))).toBe(`"name" is not a valid user-assigned identity name: ""`);
  });
});
