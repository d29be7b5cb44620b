import { describe, expect, it } from "vitest";
import { terminalSafe } from "../../src/report/escape.js";
import { buildReport } from "../../src/report/model.js";
import { renderReport } from "../../src/report/render.js";
import { TEXT_TOP_FINDINGS, renderText } from "../../src/report/text.js";
import type { TrendPoint } from "../../src/report/trend.js";
import { identityResult } from "../findings/builders.js";
import { HOSTILE_NAME, reportInput } from "./fixtures.js";

const point = (day: number, critical: number): TrendPoint => ({
  runId: `run-2026-11-${day}`,
  startedAt: `2026-11-${String(day).padStart(2, "0")}T06:00:00.000Z`,
  unusedByRisk: { critical, high: 1, medium: 0, low: 0, none: 0 },
});

describe("the text report", () => {
  const report = buildReport({ ...reportInput(), trend: [point(17, 2), point(24, 3)] });
  const text = renderText(report);
  const lines = text.split("\n");

  it("is plain text, in a .txt file", () => {
    const rendered = renderReport(report, "text");
    expect(rendered).toEqual({ body: text, contentType: "text/plain; charset=utf-8", fileExtension: "txt" });
    expect(text.endsWith("\n")).toBe(true);
  });

  it("opens with the run, then the counts by verdict and risk, and the trend", () => {
    expect(lines[0]).toBe(`Unused managed identities: run ${report.run.runId}`);
    expect(lines[1]).toBe(`Tenant ${report.run.tenantId} (whole tenant), run complete`);
    expect(text).toContain("12 identities: 4 unused, 0 signed in recently, 1 federated credentials only, 1 recently created, 1 exempt, 2 could not be checked, 1 deleted during the run, 2 in use");
    expect(text).toContain("Unused: 4 (2 new since the previous run), by risk: 1 critical, 1 high, 1 medium, 0 low, 1 none");
    expect(text).toContain("Unused over the last 3 runs: 3 (2026-11-17), 4 (2026-11-24), 4 (2026-12-01)");
  });

  it("lists the unused identities highest risk first, with their roles and whether they are new", () => {
    const first = lines.findIndex((line) => line.startsWith("Top 4 unused identities by risk:"));
    expect(first).toBeGreaterThan(0);
    expect(lines[first + 1]).toMatch(/^1\. CRITICAL \d+ {2}id-owner-sub$/);
    expect(lines[first + 2]).toBe("   subscription Contoso <Prod> & Co (00000000-0000-0000-0000-000000000001), resource group rg-identities; unused since 2026-11-17");
    expect(lines[first + 3]).toMatch(/^ {3}roles: Owner at \/subscriptions\/[0-9a-f-]+; Reader at /);
    expect(lines[first + 4]).toMatch(/^2\. HIGH \d+ {2}id-rg-contributor \[new\]$/);
    expect(text).toContain("For review: 1 federated credentials only, 1 recently created, 1 exempt, 2 could not be checked, 1 deleted during the run.");
    expect(text).not.toContain("az identity delete");
  });

  it(`lists at most ${TEXT_TOP_FINDINGS} and says how many more there are`, () => {
    const input = reportInput();
    const many = Array.from({ length: 25 }, (_, index) => identityResult({ name: `id-many-${String(index).padStart(2, "0")}` }));
    const long = renderText(buildReport({ ...input, identities: many }));
    expect(long).toContain(`Top ${TEXT_TOP_FINDINGS} unused identities by risk:`);
    expect(long.match(/^ ?\d+\. /gm)).toHaveLength(TEXT_TOP_FINDINGS);
    expect(long).toContain("... and 15 more: the html, csv, md and json formats list them all, with delete commands.");
    // A long trend: the first run, then the last six.
    const trend = Array.from({ length: 12 }, (_, index) => point(index + 1, index));
    expect(renderText(buildReport({ ...input, trend }))).toMatch(/Unused over the last 13 runs: 1 \(2026-11-01\) \.\.\. 8 \(2026-11-08\), 9 \(2026-11-09\), .*, 12 \(2026-11-12\), 4 \(2026-12-01\)\n/);
  });

  it("writes no control character or bidi override from Azure to the terminal", () => {
    const input = reportInput();
    const hostile = identityResult({
      name: "id-\u001b]0;owned\u0007\u001b[31mred\u009b2J",
      resourceGroup: "rg-\u202eevil\u202c",
      tags: {},
    });
    const out = renderText(buildReport({ ...input, identities: [hostile], subscriptionNames: new Map([[hostile.subscriptionId, "Prod\r\nFAKE LINE"]]) }));
    // eslint-disable-next-line no-control-regex
    expect(out.replace(/\n/g, "")).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain("id- ]0;owned [31mred 2J [new]");
    expect(out).toContain("rg-<U+202E>evil<U+202C>");
    expect(out).toContain("Prod FAKE LINE");
    expect(out.split("\n").some((line) => line.startsWith("FAKE LINE"))).toBe(false);
    expect(terminalSafe("a\u2067b\u200fc")).toBe("a<U+2067>b<U+200F>c");
    expect(text).toContain(HOSTILE_NAME);
  });

  it("reads a report stored before trends existed", () => {
    const { trend: _trend, ...old } = report;
    expect(renderText(old as typeof report)).not.toContain("Unused over the last");
  });
});
