import { describe, expect, it } from "vitest";
import { isNew, sortHistory, unusedSince, type HistoryEntry } from "../../src/findings/history.js";
import type { Verdict } from "../../src/findings/verdicts.js";

const entry = (day: number, verdict: Verdict): HistoryEntry => ({
  runId: `run-${day}`,
  startedAt: `2026-11-${String(day).padStart(2, "0")}T06:00:00.000Z`,
  verdict,
});

describe("unusedSince", () => {
  it("is undefined without history", () => {
    expect(unusedSince([])).toBeUndefined();
  });

  it("is the run itself for a single unused run", () => {
    expect(unusedSince([entry(1, "unused")])).toBe("2026-11-01T06:00:00.000Z");
  });

  it("is undefined for a single run that is not unused", () => {
    expect(unusedSince([entry(1, "recent")])).toBeUndefined();
  });

  it("is the first run of an unbroken series", () => {
    expect(unusedSince([entry(1, "recent"), entry(2, "unused"), entry(3, "unused"), entry(4, "unused")])).toBe(
      "2026-11-02T06:00:00.000Z",
    );
  });

  it("restarts after a gap: unused, in-use, unused is unused since the last", () => {
    expect(unusedSince([entry(1, "unused"), entry(2, "in-use"), entry(3, "unused")])).toBe("2026-11-03T06:00:00.000Z");
  });

  it("is broken by any other verdict, errors included (an error proved nothing)", () => {
    expect(unusedSince([entry(1, "unused"), entry(2, "error"), entry(3, "unused"), entry(4, "unused")])).toBe(
      "2026-11-03T06:00:00.000Z",
    );
  });

  it("is undefined when the latest run is not unused", () => {
    expect(unusedSince([entry(1, "unused"), entry(2, "unused"), entry(3, "exempt")])).toBeUndefined();
  });

  it("is not broken by runs that did not list the identity (no entry)", () => {
    // Runs 2 and 3 covered other subscriptions: the identity has no entry there.
    expect(unusedSince([entry(1, "unused"), entry(4, "unused")])).toBe("2026-11-01T06:00:00.000Z");
  });

  it("orders by start time whatever the input order", () => {
    expect(unusedSince([entry(3, "unused"), entry(1, "in-use"), entry(2, "unused")])).toBe("2026-11-02T06:00:00.000Z");
    expect(unusedSince([entry(3, "in-use"), entry(1, "unused"), entry(2, "unused")])).toBeUndefined();
  });
});

describe("sortHistory", () => {
  it("is stable for equal times and puts unparseable dates first", () => {
    const a = { runId: "a", startedAt: "2026-11-02T00:00:00Z", verdict: "unused" as const };
    const b = { runId: "b", startedAt: "2026-11-02T00:00:00Z", verdict: "in-use" as const };
    const bad = { runId: "bad", startedAt: "not a date", verdict: "unused" as const };
    expect(sortHistory([a, bad, b]).map((item) => item.runId)).toEqual(["bad", "a", "b"]);
  });
});

describe("isNew", () => {
  it.each<[Verdict, Verdict | undefined, boolean]>([
    ["unused", undefined, true],
    ["unused", "in-use", true],
    ["unused", "recent", true],
    ["unused", "error", true],
    ["unused", "exempt", true],
    ["unused", "unused", false],
    ["in-use", undefined, false],
    ["federated", "unused", false],
    ["exempt", undefined, false],
  ])("current %s, previous %s -> %s", (current, previous, expected) => {
    expect(isNew(current, previous)).toBe(expected);
  });
});
