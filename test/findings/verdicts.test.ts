import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CheckStatus, IdentityResult } from "../../src/model/identityResult.js";
import {
  DEFAULT_EXEMPT_TAG,
  DEFAULT_GRACE_PERIOD_DAYS,
  createVerdictOptions,
  findExemptionTag,
  verdictFor,
  type Verdict,
} from "../../src/findings/verdicts.js";
import { NOW, identityResult, verdictOptions } from "./builders.js";

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

describe("verdictFor: one rule at a time", () => {
  const cases: Array<{ name: string; identity: Partial<IdentityResult>; verdict: Verdict; reasons: string[] }> = [
    {
      name: "unused: no associations, no federated credentials, older than the grace period",
      identity: { createdAt: "2026-10-02T09:30:00Z" },
      verdict: "unused",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "created 2026-10-02, 59 days ago"],
    },
    {
      name: "in-use: one association",
      identity: { associationCount: 1 },
      verdict: "in-use",
      reasons: ["1 associated resource (listAssociatedResources)"],
    },
    {
      name: "in-use: many associations, whatever the federated credentials",
      identity: { associationCount: 12, federatedCredentialCount: 3 },
      verdict: "in-use",
      reasons: ["12 associated resources (listAssociatedResources)"],
    },
    {
      name: "in-use even when the federated credential count is unknown (associations prove use)",
      identity: { associationCount: 2, federatedCredentialCount: undefined },
      verdict: "in-use",
      reasons: ["2 associated resources (listAssociatedResources)"],
    },
    {
      name: "federated: no associations but federated credentials",
      identity: { federatedCredentialCount: 2 },
      verdict: "federated",
      reasons: ["0 associated resources (listAssociatedResources)", "2 federated identity credentials"],
    },
    {
      name: "federated: a single credential, and young (federated beats recent)",
      identity: { federatedCredentialCount: 1, createdAt: daysAgo(1) },
      verdict: "federated",
      reasons: ["0 associated resources (listAssociatedResources)", "1 federated identity credential"],
    },
    {
      name: "error: federated credential count unknown is never unused",
      identity: { federatedCredentialCount: undefined },
      verdict: "error",
      reasons: ["0 associated resources (listAssociatedResources)", "federated credentials unknown"],
    },
    {
      name: "error: checked without an association count",
      identity: { associationCount: undefined },
      verdict: "error",
      reasons: ["associated resource count unknown"],
    },
    {
      name: "recent: within the grace period",
      identity: { createdAt: "2026-11-25T10:00:00Z" },
      verdict: "recent",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "created 2026-11-25, within the 7-day grace period"],
    },
    {
      name: "recent: creation date unknown",
      identity: { createdAt: undefined },
      verdict: "recent",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "creation date unknown; treated as within the 7-day grace period"],
    },
    {
      name: "recent: unparseable creation date counts as unknown",
      identity: { createdAt: "yesterday-ish" },
      verdict: "recent",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "creation date unknown; treated as within the 7-day grace period"],
    },
    {
      name: "recent: creation date in the future (clock skew)",
      identity: { createdAt: daysAgo(-1) },
      verdict: "recent",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "created 2026-12-02, within the 7-day grace period"],
    },
    {
      name: "unused: exactly at the grace period boundary",
      identity: { createdAt: daysAgo(7) },
      verdict: "unused",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "created 2026-11-24, 7 days ago"],
    },
    {
      name: "recent: one millisecond short of the boundary",
      identity: { createdAt: new Date(NOW.getTime() - 7 * DAY + 1).toISOString() },
      verdict: "recent",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "created 2026-11-24, within the 7-day grace period"],
    },
    {
      name: "deleted: carried from the run",
      identity: { status: "deleted", associationCount: undefined },
      verdict: "deleted",
      reasons: ["deleted while the run was checking it"],
    },
    {
      name: "error: carried from the run, with its message",
      identity: { status: "error", error: "AuthorizationFailed: no read permission" },
      verdict: "error",
      reasons: ["check failed: AuthorizationFailed: no read permission"],
    },
    {
      name: "error: carried from the run even when the counts say unused",
      identity: { status: "error", error: undefined, associationCount: 0, federatedCredentialCount: 0 },
      verdict: "error",
      reasons: ["check failed: no error recorded"],
    },
    {
      name: "error: a pending identity was never checked",
      identity: { status: "pending", associationCount: undefined, federatedCredentialCount: undefined },
      verdict: "error",
      reasons: ["not checked"],
    },
    {
      name: "error: a pending identity is not in use even with a stale count",
      identity: { status: "pending", associationCount: 5 },
      verdict: "error",
      reasons: ["not checked"],
    },
  ];

  it.each(cases)("$name", ({ identity, verdict, reasons }) => {
    const result = verdictFor(identityResult(identity), verdictOptions());
    expect({ verdict: result.verdict, reasons: result.reasons }).toEqual({ verdict, reasons });
  });
});

describe("verdictFor: exemption", () => {
  it("matches the tag name case-insensitively, with any value, and names the tag as Azure has it", () => {
    const result = verdictFor(identityResult({ tags: { "UAMI-Audit-Exempt": "ticket-123" } }), verdictOptions());
    expect({ verdict: result.verdict, reasons: result.reasons }).toEqual({ verdict: "exempt", reasons: ["tag UAMI-Audit-Exempt=ticket-123", "without the exemption: unused"] });
    expect(result.confirmed).toBe(false);
  });

  it("accepts an empty value", () => {
    expect(verdictFor(identityResult({ tags: { "uami-audit-exempt": "" } }), verdictOptions()).verdict).toBe("exempt");
  });

  it("does not match a tag whose value (not name) is the exemption tag", () => {
    expect(verdictFor(identityResult({ tags: { note: "uami-audit-exempt" } }), verdictOptions()).verdict).toBe("unused");
  });

  it("uses the configured tag name", () => {
    const options = verdictOptions({ exemptTag: "keep" });
    expect(verdictFor(identityResult({ tags: { KEEP: "yes" } }), options).verdict).toBe("exempt");
    expect(verdictFor(identityResult({ tags: { "uami-audit-exempt": "x" } }), options).verdict).toBe("unused");
  });

  const beaten: Array<{ name: string; identity: Partial<IdentityResult>; otherwise: Verdict }> = [
    { name: "in-use", identity: { associationCount: 3 }, otherwise: "in-use" },
    { name: "federated", identity: { federatedCredentialCount: 1 }, otherwise: "federated" },
    { name: "recent", identity: { createdAt: daysAgo(1) }, otherwise: "recent" },
    { name: "deleted", identity: { status: "deleted" }, otherwise: "deleted" },
    { name: "error", identity: { status: "error", error: "boom" }, otherwise: "error" },
    { name: "pending", identity: { status: "pending" }, otherwise: "error" },
    { name: "unknown federated credentials", identity: { federatedCredentialCount: undefined }, otherwise: "error" },
  ];
  it.each(beaten)("beats $name and records what it would otherwise be", ({ identity, otherwise }) => {
    const result = verdictFor(identityResult({ ...identity, tags: { "uami-audit-exempt": "ticket-9" } }), verdictOptions());
    expect(result.verdict).toBe("exempt");
    expect(result.reasons).toEqual(["tag uami-audit-exempt=ticket-9", `without the exemption: ${otherwise}`]);
  });

  it("findExemptionTag tolerates missing tags", () => {
    expect(findExemptionTag(undefined, "x")).toBeUndefined();
    expect(findExemptionTag({ a: "1", X: "2" }, "x")).toEqual({ name: "X", value: "2" });
  });
});

describe("verdictFor: grace period and first sighting", () => {
  it("a longer grace period keeps an older identity recent", () => {
    const result = verdictFor(identityResult({ createdAt: daysAgo(20) }), verdictOptions({ gracePeriodDays: 30 }));
    expect(result.verdict).toBe("recent");
    expect(result.reasons.at(-1)).toBe("created 2026-11-11, within the 30-day grace period");
  });

  it("a zero grace period makes even a brand-new identity unused", () => {
    expect(verdictFor(identityResult({ createdAt: NOW.toISOString() }), verdictOptions({ gracePeriodDays: 0 })).verdict).toBe("unused");
  });

  it("without a creation date, an audit sighting older than the grace period proves the age", () => {
    const result = verdictFor(identityResult({ createdAt: undefined }), verdictOptions(), { firstSeenAt: daysAgo(30) });
    expect(result.createdAtSource).toBe("firstSeen");
    expect({ verdict: result.verdict, reasons: result.reasons }).toEqual({
      verdict: "unused",
      reasons: ["0 associated resources (listAssociatedResources)", "0 federated identity credentials", "first seen by an audit 2026-11-01, 30 days ago"],
    });
  });

  it("a recent first sighting proves nothing: still unknown age", () => {
    const result = verdictFor(identityResult({ createdAt: undefined }), verdictOptions(), { firstSeenAt: daysAgo(2) });
    expect(result.verdict).toBe("recent");
    expect(result.reasons.at(-1)).toBe("creation date unknown; treated as within the 7-day grace period");
  });

  it("the creation date wins over the first sighting", () => {
    const result = verdictFor(identityResult({ createdAt: daysAgo(3) }), verdictOptions(), { firstSeenAt: daysAgo(30) });
    expect(result.verdict).toBe("recent");
  });
});

describe("verdict options", () => {
  it("createVerdictOptions fills the documented defaults", () => {
    const options = createVerdictOptions({ now: NOW });
    expect(options).toEqual({ now: NOW, gracePeriodDays: DEFAULT_GRACE_PERIOD_DAYS, exemptTag: DEFAULT_EXEMPT_TAG });
    expect(DEFAULT_GRACE_PERIOD_DAYS).toBe(7);
    expect(DEFAULT_EXEMPT_TAG).toBe("uami-audit-exempt");
  });

  it.each([
    [{ gracePeriodDays: -1 }, /gracePeriodDays/],
    [{ gracePeriodDays: Number.NaN }, /gracePeriodDays/],
    [{ exemptTag: " " }, /exemptTag/],
    [{ now: new Date("nope") }, /now/],
  ])("rejects %o naming the option", (overrides, message) => {
    expect(() => createVerdictOptions({ now: NOW, ...overrides })).toThrow(TypeError);
    expect(() => verdictFor(identityResult(), verdictOptions(overrides))).toThrow(message);
  });
});

describe("verdictFor: properties", () => {
  const statusArb = fc.constantFrom<CheckStatus>("pending", "checked", "deleted", "error");
  const maybeCount = fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined });
  const createdAtArb = fc.option(
    fc.integer({ min: -5 * DAY, max: 400 * DAY }).map((ageMs) => new Date(NOW.getTime() - ageMs).toISOString()),
    { nil: undefined },
  );
  const exemptTagArb = fc.constantFrom("uami-audit-exempt", "keep-me", "DoNotDelete");
  const randomCase = (name: string) =>
    fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((upper) =>
      [...name].map((character, index) => (upper[index] ? character.toUpperCase() : character.toLowerCase())).join(""),
    );
  const otherTags = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => key !== "__proto__"), fc.string({ maxLength: 20 }), {
    maxKeys: 4,
  });
  const identityArb = fc.record({
    status: statusArb,
    associationCount: maybeCount,
    federatedCredentialCount: maybeCount,
    createdAt: createdAtArb,
    tags: otherTags,
    error: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
  });
  const optionsArb = fc.record({ gracePeriodDays: fc.integer({ min: 0, max: 90 }), exemptTag: exemptTagArb });
  const evidenceArb = fc.option(
    fc.integer({ min: 0, max: 400 * DAY }).map((ageMs) => ({ firstSeenAt: new Date(NOW.getTime() - ageMs).toISOString() })),
    { nil: undefined },
  );
  const isExemptTag = (tags: Record<string, string>, exemptTag: string) =>
    Object.keys(tags).some((key) => key.toLowerCase() === exemptTag.toLowerCase());

  it("exempt always wins", () => {
    fc.assert(
      fc.property(
        identityArb,
        optionsArb.chain((options) => randomCase(options.exemptTag).map((tagName) => ({ options, tagName }))),
        fc.string({ maxLength: 20 }),
        evidenceArb,
        (fields, { options, tagName }, value, evidence) => {
          const identity = identityResult({ ...fields, tags: { ...fields.tags, [tagName]: value } });
          expect(verdictFor(identity, verdictOptions(options), evidence).verdict).toBe("exempt");
        },
      ),
    );
  });

  it("error and pending identities are never unused or in-use", () => {
    fc.assert(
      fc.property(identityArb, optionsArb, evidenceArb, fc.constantFrom<CheckStatus>("error", "pending"), (fields, options, evidence, status) => {
        const { verdict } = verdictFor(identityResult({ ...fields, status }), verdictOptions(options), evidence);
        expect(["error", "exempt"]).toContain(verdict);
      }),
    );
  });

  it("an identity with federated credentials and no association is never unused", () => {
    fc.assert(
      fc.property(identityArb, optionsArb, evidenceArb, fc.integer({ min: 1, max: 20 }), (fields, options, evidence, fic) => {
        const identity = identityResult({ ...fields, associationCount: 0, federatedCredentialCount: fic });
        expect(verdictFor(identity, verdictOptions(options), evidence).verdict).not.toBe("unused");
      }),
    );
  });

  it("unused implies checked, zero associations, zero federated credentials, not exempt, at least the grace period old", () => {
    // identityArb alone almost never yields an unused identity: half the cases are drawn near one, so
    // the implication is exercised, and the count below proves it was.
    const likelyUnusedArb = identityArb.map((fields) => ({ ...fields, status: "checked" as const, associationCount: 0, federatedCredentialCount: 0 }));
    let unusedSeen = 0;
    fc.assert(
      fc.property(fc.oneof(identityArb, likelyUnusedArb), optionsArb, evidenceArb, (fields, options, evidence) => {
        const identity = identityResult(fields);
        const { verdict } = verdictFor(identity, verdictOptions(options), evidence);
        if (verdict !== "unused") return;
        unusedSeen++;
        expect(identity.status).toBe("checked");
        expect(identity.associationCount).toBe(0);
        expect(identity.federatedCredentialCount).toBe(0);
        expect(isExemptTag(identity.tags, options.exemptTag)).toBe(false);
        const provenSince = identity.createdAt ?? evidence?.firstSeenAt;
        expect(provenSince).toBeDefined();
        expect(NOW.getTime() - Date.parse(provenSince ?? "")).toBeGreaterThanOrEqual(options.gracePeriodDays * DAY);
      }),
    );
    expect(unusedSeen).toBeGreaterThan(0);
  });

  it("every identity gets exactly one known verdict and at least one reason", () => {
    fc.assert(
      fc.property(identityArb, optionsArb, evidenceArb, (fields, options, evidence) => {
        const { verdict, reasons } = verdictFor(identityResult(fields), verdictOptions(options), evidence);
        expect(["unused", "in-use", "federated", "recent", "exempt", "deleted", "error"]).toContain(verdict);
        expect(reasons.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe("verdictFor: evidence from every source", () => {
  const ALL = { associationsApi: true, resourceGraph: true, signInWindowDays: 30 } as const;
  const reference = { resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1", resourceType: "microsoft.containerservice/managedclusters", kind: "kubelet" as const };

  it("a Resource Graph reference the API did not list is in-use, flagged as a disagreement", () => {
    const result = verdictFor(identityResult({ referenceCount: 1, references: [reference] }), verdictOptions(), { sources: ALL });
    expect(result.verdict).toBe("in-use");
    expect(result.disagreement).toBe(true);
    expect(result.reasons).toEqual(["1 Resource Graph reference (kubelet)", "listAssociatedResources said 0: the sources disagree"]);
  });

  it("both sources agreeing on use is no disagreement", () => {
    const result = verdictFor(identityResult({ associationCount: 2, referenceCount: 2 }), verdictOptions(), { sources: ALL });
    expect(result.verdict).toBe("in-use");
    expect(result.disagreement).toBe(false);
  });

  it("unused when every source is silent: confirmed by the API, creation time from ARM's resource list", () => {
    const result = verdictFor(identityResult({ createdAt: undefined, createdTime: daysAgo(40) }), verdictOptions(), { sources: ALL });
    expect(result.verdict).toBe("unused");
    expect(result.confirmed).toBe(true);
    expect(result.createdAtSource).toBe("createdTime");
    expect(result.createdAt).toBe(daysAgo(40));
    expect(result.reasons).toContain("no successful sign-in in 30 days");
  });

  it("systemData wins over createdTime when Azure sent both", () => {
    const result = verdictFor(identityResult({ createdAt: daysAgo(3), createdTime: daysAgo(40) }), verdictOptions(), { sources: ALL });
    expect(result.verdict).toBe("recent");
    expect(result.createdAtSource).toBe("systemData");
  });

  it("a successful sign-in within the window is active, never unused", () => {
    const result = verdictFor(identityResult({ lastSignInAt: daysAgo(2), signInResource: "Azure Key Vault" }), verdictOptions(), { sources: ALL });
    expect(result.verdict).toBe("active");
    expect(result.reasons.at(-1)).toBe("signed in on 2026-11-29 (to Azure Key Vault)");
  });

  it("a sign-in older than the window does not count", () => {
    const result = verdictFor(identityResult({ lastSignInAt: daysAgo(45) }), verdictOptions(), { sources: ALL });
    expect(result.verdict).toBe("unused");
  });

  it("sign-ins are ignored when the run did not check them", () => {
    const result = verdictFor(identityResult({ lastSignInAt: daysAgo(2) }), verdictOptions(), { sources: { associationsApi: true, resourceGraph: true } });
    expect(result.verdict).toBe("unused");
    expect(result.reasons.join(" ")).not.toMatch(/sign-in/);
  });

  it("with the API unavailable, unused rests on the other evidence and is unconfirmed", () => {
    const sources = { associationsApi: false, resourceGraph: true };
    const unused = verdictFor(identityResult({ associationCount: undefined }), verdictOptions(), { sources });
    expect(unused.verdict).toBe("unused");
    expect(unused.confirmed).toBe(false);
    expect(unused.reasons[0]).toBe("listAssociatedResources unavailable");
    const used = verdictFor(identityResult({ associationCount: undefined, referenceCount: 3 }), verdictOptions(), { sources });
    expect(used.verdict).toBe("in-use");
    expect(used.disagreement).toBe(false);
  });

  it("no source of associations at all proves nothing: error", () => {
    const result = verdictFor(identityResult({ associationCount: undefined }), verdictOptions(), { sources: { associationsApi: false, resourceGraph: false } });
    expect(result.verdict).toBe("error");
  });

  it("a reference count is ignored when the run's sweep failed (its zero means nothing either way)", () => {
    const result = verdictFor(identityResult({ referenceCount: 4 }), verdictOptions(), { sources: { associationsApi: true, resourceGraph: false } });
    expect(result.verdict).toBe("unused");
    expect(result.reasons.join(" ")).not.toMatch(/Resource Graph/);
  });

  it("property: any sign of use from any available source means never unused", () => {
    fc.assert(
      fc.property(
        fc.record({
          associationCount: fc.option(fc.nat(5), { nil: undefined }),
          referenceCount: fc.option(fc.nat(5), { nil: undefined }),
          federatedCredentialCount: fc.option(fc.nat(3), { nil: undefined }),
          signInDaysAgo: fc.option(fc.integer({ min: 0, max: 90 }), { nil: undefined }),
          createdDaysAgo: fc.option(fc.integer({ min: -2, max: 400 }), { nil: undefined }),
          api: fc.boolean(),
          graph: fc.boolean(),
          signIns: fc.boolean(),
        }),
        (c) => {
          const identity = identityResult({
            associationCount: c.associationCount,
            referenceCount: c.referenceCount,
            federatedCredentialCount: c.federatedCredentialCount,
            lastSignInAt: c.signInDaysAgo === undefined ? undefined : daysAgo(c.signInDaysAgo),
            createdAt: undefined,
            createdTime: c.createdDaysAgo === undefined ? undefined : daysAgo(c.createdDaysAgo),
          });
          const sources = { associationsApi: c.api, resourceGraph: c.graph, ...(c.signIns ? { signInWindowDays: 30 } : {}) };
          const result = verdictFor(identity, verdictOptions(), { sources });
          const used =
            (c.api && (c.associationCount ?? 0) > 0) ||
            (c.graph && (c.referenceCount ?? 0) > 0) ||
            (c.federatedCredentialCount ?? 0) > 0 ||
            (c.signIns && c.signInDaysAgo !== undefined && c.signInDaysAgo <= 30);
          if (used) expect(result.verdict).not.toBe("unused");
          if (result.verdict === "unused") {
            expect(c.createdDaysAgo).toBeGreaterThanOrEqual(7);
            expect(result.confirmed).toBe(c.api);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
