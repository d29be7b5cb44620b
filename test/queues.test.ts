import { describe, expect, it } from "vitest";
import { BadMessageError, encodeQueueMessage, parseQueueMessage, queueNames } from "../src/queues.js";

const message = {
  kind: "check" as const,
  runId: "20261127020000-1a2b3c4d",
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  identityId: "/subscriptions/0336439f-0e9d-44ec-975e-62accb9b3901/resourcegroups/rg-é-日本.(x)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1",
};

describe("queue messages", () => {
  it("are base64 text the Functions trigger decodes by default, carrying ids only", () => {
    const text = encodeQueueMessage(message);
    expect(text).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(Buffer.from(text, "base64").toString("utf8"))).toEqual(message);
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
  });

  it("parse what the host hands over (an object) and what a raw queue read gives (base64 or JSON text)", () => {
    expect(parseQueueMessage(message)).toEqual(message);
    expect(parseQueueMessage(encodeQueueMessage(message))).toEqual(message);
    expect(parseQueueMessage(JSON.stringify(message))).toEqual(message);
    expect(parseQueueMessage({ ...message, throttled: 3 })).toEqual({ ...message, throttled: 3 });
  });

  it.each([
    ["not JSON", "%%%"],
    ["no run id", { ...message, runId: undefined }],
    ["a run id with path characters", { ...message, runId: "../x" }],
    ["no identity id", { ...message, identityId: "x" }],
    ["an unknown kind", { ...message, kind: "delete" }],
    ["null", null],
  ])("reject %s with a BadMessageError", (_what, raw) => {
    expect(() => parseQueueMessage(raw)).toThrow(BadMessageError);
  });

  it("names queues with an optional prefix, and refuses prefixes Azure would reject", () => {
    expect(queueNames()).toMatchObject({ check: "uami-audit-check", checkPoison: "uami-audit-check-poison" });
    expect(queueNames("t1").check).toBe("t1-uami-audit-check");
    expect(() => queueNames("Bad_Prefix")).toThrow(/prefix/);
  });
});
