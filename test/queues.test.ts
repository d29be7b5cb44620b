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

describe("queue message schema", () => {
  const read = {
    at: "2026-11-27T02:00:00.000Z",
    details: {
      id: message.identityId.toUpperCase(),
      name: "id-1",
      location: "westeurope",
      tags: { team: "core" },
      clientId: "c",
      principalId: "p",
      tenantId: message.tenantId,
      createdAt: "2026-01-01T00:00:00Z",
    },
    federatedCredentialCount: 0,
  };
  const problemOf = (raw: unknown) => {
    try {
      parseQueueMessage(raw);
    } catch (error) {
      expect(error).toBeInstanceOf(BadMessageError);
      return (error as Error).message;
    }
    throw new Error("parsed");
  };

  it.each([
    ["an array", [message], "Queue message is not an object"],
    ["a number", 42, "Queue message is not an object"],
    ["an unknown kind", { ...message, kind: "delete" }, `Queue message has unknown kind "delete"; expected check, completed, enumerate`],
    ["no kind", { runId: message.runId, tenantId: message.tenantId }, `Queue message has unknown kind "undefined"; expected check, completed, enumerate`],
    ["a run id that is a number", { ...message, runId: 20261127 }, "Queue message has no valid runId (1 to 64 letters, digits or -)"],
    ["an oversize run id", { ...message, runId: "a".repeat(65) }, "Queue message has no valid runId (1 to 64 letters, digits or -)"],
    ["an empty tenant", { kind: "completed", runId: message.runId, tenantId: "" }, `Queue message for run ${message.runId} has no tenantId (or one longer than 128 characters)`],
    ["an oversize tenant", { kind: "enumerate", runId: message.runId, tenantId: "t".repeat(129) }, `Queue message for run ${message.runId} has no tenantId (or one longer than 128 characters)`],
    ["an identity id that is not an ARM id", { ...message, identityId: "id-1" }, `Check message for run ${message.runId} has no valid identityId (an ARM id starting with /subscriptions/, at most 1024 characters)`],
    ["an oversize identity id", { ...message, identityId: `/subscriptions/${"x".repeat(1024)}` }, `Check message for run ${message.runId} has no valid identityId (an ARM id starting with /subscriptions/, at most 1024 characters)`],
  ])("reject %s with a message that says what is wrong", (_what, raw, problem) => {
    expect(problemOf(raw)).toBe(problem);
  });

  it("cut an unknown kind short in the message", () => {
    expect(problemOf({ ...message, kind: "k".repeat(500) })).toMatch(/^Queue message has unknown kind "k{100}…"/);
  });

  it("keep only the fields of the kind, and a carried read that is whole and about this identity", () => {
    expect(parseQueueMessage({ ...message, extra: "dropped", read })).toEqual({ ...message, read });
    expect(parseQueueMessage({ kind: "completed", runId: message.runId, tenantId: message.tenantId, identityId: message.identityId })).toEqual({
      kind: "completed",
      runId: message.runId,
      tenantId: message.tenantId,
    });
  });

  it.each([
    ["a read of another identity", { ...read, details: { ...read.details, id: "/subscriptions/x/other" } }],
    ["a negative credential count", { ...read, federatedCredentialCount: -1 }],
    ["a fractional credential count", { ...read, federatedCredentialCount: 1.5 }],
    ["a time that is no time", { ...read, at: "yesterday-ish" }],
    ["tags that are not text", { ...read, details: { ...read.details, tags: { n: 1 } } }],
    ["tags in an array", { ...read, details: { ...read.details, tags: ["a"] } }],
    ["details missing a field", { ...read, details: { ...read.details, principalId: undefined } }],
  ])("drop %s, keeping the message (the check reads the identity again)", (_what, damaged) => {
    expect(parseQueueMessage({ ...message, read: damaged })).toEqual(message);
  });

  it.each([0, -2, 1.5, "3", null])("drop a throttled count of %j, keeping the message", (throttled) => {
    expect(parseQueueMessage({ ...message, throttled })).toEqual(message);
    expect(parseQueueMessage({ ...message, throttled })).not.toHaveProperty("throttled");
  });
});
