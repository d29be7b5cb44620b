import { describe, expect, it } from "vitest";
import { buildDigest } from "../../src/mail/digest.js";
import { buildReport } from "../../src/report/model.js";
import { identityResult } from "../findings/builders.js";
import { HOSTILE_NAME, reportInput } from "../report/fixtures.js";

const report = buildReport(reportInput());

describe("buildDigest", () => {
  it("lists exactly the new unused identities, highest risk first, then totals, then the report link", () => {
    const digest = buildDigest(report, { reportUrl: "https://audit.example.com/api/runs/r1/report?format=html", alwaysSend: false })!;
    expect(digest.subject).toBe("[uami-audit] 2 new unused managed identities (0 critical) in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47");
    const text = digest.text;
    expect(text).toContain("2 identities became unused since the previous run, highest risk first:");
    expect(text).toContain("1. id-rg-contributor: HIGH risk (score 304)");
    expect(text).toContain(`2. ${HOSTILE_NAME}: NONE risk (score 0)`);
    expect(text).not.toContain("id-owner-sub");
    expect(text).not.toContain("id-other-sub");
    expect(text).toContain("2 other identities still unused (already reported).");
    expect(text).toContain("Privileged roles: Contributor at /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app");
    expect(text.indexOf("1. id-rg-contributor")).toBeLessThan(text.indexOf("Totals by verdict:"));
    expect(text.indexOf("Totals by verdict:")).toBeLessThan(text.indexOf("Full report: https://audit.example.com/"));
    expect(text).toContain("  Unused: 4\n");
    expect(digest.html.indexOf("id-rg-contributor")).toBeLessThan(digest.html.indexOf("Totals by verdict"));
    expect(digest.html).toContain('<a href="https://audit.example.com/api/runs/r1/report?format=html">Open the full report</a>');
  });

  it("names the identity in the subject when only one is new", () => {
    const single = buildReport(reportInput({ identities: [identityResult({ name: "id-lonely" })], previousRunVerdicts: new Map() }));
    expect(buildDigest(single, { alwaysSend: false })!.subject).toBe(
      "[uami-audit] New unused managed identity id-lonely (none risk) in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47",
    );
  });

  it("escapes every Azure value in the HTML part", () => {
    const { html } = buildDigest(report, { alwaysSend: false })!;
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("rg-é-日本");
    expect(html).toContain("Contoso &lt;Prod&gt; &amp; Co");
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^https:\/\/portal\.azure\.com\/#@/);
  });

  it("keeps CR/LF from names out of the subject and out of the text part's structure", () => {
    const sneaky = buildReport(
      reportInput({
        identities: [identityResult({ name: "id-evil\r\nBcc: victim@example.com\nPortal: https://evil.example" })],
        previousRunVerdicts: new Map(),
      }),
    );
    const digest = buildDigest(sneaky, { alwaysSend: false })!;
    expect(digest.subject).not.toMatch(/[\r\n]/);
    expect(digest.subject).toContain("id-evil Bcc: victim@example.com Portal: https://evil.example");
    expect(digest.text).not.toMatch(/^Bcc:/m);
    expect(digest.text).not.toMatch(/^\s*Portal: https:\/\/evil/m);
  });

  it("bounds the subject length", () => {
    const long = buildReport(reportInput({ identities: [identityResult({ name: "x".repeat(500) })], previousRunVerdicts: new Map() }));
    const { subject } = buildDigest(long, { alwaysSend: false })!;
    expect(subject.length).toBeLessThanOrEqual(180);
    expect(subject.endsWith("…")).toBe(true);
  });

  it("returns undefined when nothing is new, unless alwaysSend", () => {
    const quiet = buildReport(reportInput({ previousRunVerdicts: new Map(reportInput().identities.map((identity) => [identity.id.toLowerCase(), "unused"])) }));
    expect(quiet.run.newUnusedCount).toBe(0);
    expect(buildDigest(quiet, { alwaysSend: false })).toBeUndefined();
    const heartbeat = buildDigest(quiet, { alwaysSend: true })!;
    expect(heartbeat.subject).toBe("[uami-audit] No new unused managed identities in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 (4 unused in total)");
    expect(heartbeat.text).toContain("No identity became unused since the previous run.");
    expect(heartbeat.text).toContain("The full report is stored with the run.");
  });

  it("says when the run did not complete", () => {
    const partial = buildReport(reportInput({ run: { ...reportInput().run, status: "failed" } }));
    const digest = buildDigest(partial, { alwaysSend: false })!;
    expect(digest.subject.endsWith("(run failed)")).toBe(true);
    expect(digest.text).toContain("This run did not complete");
    expect(digest.html).toContain("This run did not complete");
  });

  it("rejects a report URL that is not http(s)", () => {
    expect(() => buildDigest(report, { alwaysSend: true, reportUrl: "javascript:alert(1)" })).toThrow(/reportUrl/);
    expect(buildDigest(report, { alwaysSend: true, reportUrl: "http://localhost:7071/api/report" })!.text).toContain(
      "Full report: http://localhost:7071/api/report",
    );
  });
});
