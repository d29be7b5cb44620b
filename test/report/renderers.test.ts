import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { renderCsv } from "../../src/report/csv.js";
import { escapeHtml, escapeMarkdown, html, safeLinkUrl, singleLine } from "../../src/report/escape.js";
import { contentSecurityPolicy, renderHtml } from "../../src/report/html.js";
import { renderJson } from "../../src/report/json.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/model.js";
import { REPORT_FORMATS, isReportFormat, renderReport, type ReportFormat } from "../../src/report/render.js";
import { HOSTILE_NAME, UNICODE_RG, parseCsv, reportInput } from "./fixtures.js";

const report = buildReport(reportInput());

describe("renderJson", () => {
  it("is pretty, ends with a newline and reads back as the report", () => {
    const json = renderJson(report);
    expect(json.startsWith('{\n  "schemaVersion": 2,\n  "generatedAt"')).toBe(true);
    expect(json.endsWith("}\n")).toBe(true);
    expect(JSON.parse(json)).toEqual(report);
  });

  it("keeps hostile and Unicode values intact (JSON escaping is the reader's business)", () => {
    const parsed = JSON.parse(renderJson(report)) as typeof report;
    expect(parsed.unused.some((finding) => finding.name === HOSTILE_NAME && finding.resourceGroup === UNICODE_RG)).toBe(true);
  });
});

describe("renderCsv", () => {
  const csv = renderCsv(report);
  const [header, ...rows] = parseCsv(csv.replace(/^\uFEFF/, ""));
  const column = (name: string) => header!.indexOf(name);
  const rowOf = (name: string) => rows.find((row) => row[column("name")] === name || row[column("name")] === `'${name}`);

  it("starts with a BOM (Excel reads UTF-8) and a header row", () => {
    expect(csv.startsWith("\uFEFFverdict,name,subscriptionId,")).toBe(true);
    expect(header).toContain("deleteCommand");
    expect(header).toContain("riskLevel");
  });

  it("has one row per identity, every verdict, unused first in ranked order", () => {
    expect(rows).toHaveLength(12);
    expect(rows.map((row) => row[column("verdict")])).toEqual([
      "unused", "unused", "unused", "unused", "federated", "recent", "exempt", "error", "error", "deleted", "in-use", "in-use",
    ]);
    expect(rows.slice(0, 3).map((row) => row[column("name")])).toEqual(["id-owner-sub", "id-rg-contributor", "id-other-sub"]);
    expect(rows.every((row) => row.length === header!.length)).toBe(true);
  });

  it("neutralises spreadsheet formulas in any cell from Azure", () => {
    const hostile = rowOf(HOSTILE_NAME)!;
    const tags = hostile[column("tags")]!;
    expect(tags.startsWith("'+plus=-minus; ")).toBe(true);
    expect(tags).toContain("=cmd|' /C calc'!A0=@SUM(1+1)");
    for (const row of rows) {
      for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it.each([
    ["=HYPERLINK(\"http://evil\")"],
    ["+1"],
    ["-1+2"],
    ["@SUM(A1)"],
    ["\tindented"],
    ["\rcarriage"],
  ])("prefixes a quote to a name starting like %j", (name) => {
    const single = buildReport({ ...reportInput(), identities: [{ ...reportInput().identities[1]!, name, tags: {} }] });
    const [, row] = parseCsv(renderCsv(single).replace(/^\uFEFF/, ""));
    expect(row![1]).toBe(`'${name}`);
  });

  it("keeps quotes, commas, newlines and Unicode inside quoted cells", () => {
    const hostile = rowOf(HOSTILE_NAME)!;
    expect(hostile[column("resourceGroup")]).toBe(UNICODE_RG);
    expect(hostile[column("tags")]).toContain(`note=Tom & "Jerry" 'x'`);
    expect(hostile[column("tags")]).toContain("pipe=a|b `code` [link](x)\nnext line");
    expect(rowOf("id-failed")![column("error")]).toBe(`<b>boom</b> & "quoted"`);
  });

  it("fills the action columns", () => {
    const owner = rowOf("id-owner-sub")!;
    expect(owner[column("privilegedRoles")]).toMatch(/^Owner @ \/subscriptions\//);
    expect(owner[column("otherRoles")]).toMatch(/^Reader @ /);
    expect(owner[column("deleteCommand")]).toMatch(/^az identity delete --ids '\/subscriptions\//);
    expect(owner[column("isNew")]).toBe("false");
    expect(rowOf("id-in-use-1")![column("deleteCommand")]).toBe("");
  });
});

describe("renderMarkdown", () => {
  const markdown = renderMarkdown(report);

  it("escapes pipes, backticks, brackets, angle brackets and newlines from Azure", () => {
    // Only the fenced block of delete commands holds raw text: Markdown renders it as code.
    const outsideFences = markdown.replace(/```sh\n[\s\S]*?\n```/g, "");
    expect(outsideFences).not.toContain("<script>");
    expect(markdown.match(/<script>/g)).toHaveLength(1);
    expect(markdown).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(markdown).toContain("pipe=a\\|b \\`code\\` \\[link\\](x) next line");
    expect(markdown).toContain("&lt;b&gt;boom&lt;/b&gt; &amp; \"quoted\"");
  });

  it("keeps every table row on one line with the header's cell count", () => {
    const lines = markdown.split("\n");
    let expected: number | undefined;
    for (const line of lines) {
      if (!line.startsWith("|")) {
        expected = undefined;
        continue;
      }
      const cells = line.replace(/\\\|/g, "").split("|").length;
      expected ??= cells;
      expect(cells).toBe(expected);
    }
  });

  it("lists unused identities ranked, with delete commands in a fenced block", () => {
    const ownerAt = markdown.indexOf("| 1 | id-owner-sub");
    const contributorAt = markdown.indexOf("| 2 | id-rg-contributor **NEW**");
    expect(ownerAt).toBeGreaterThan(0);
    expect(contributorAt).toBeGreaterThan(ownerAt);
    expect(markdown).toMatch(/```sh\naz identity delete --ids '\/subscriptions\/[^\n]+'\n/);
    expect(markdown).toContain("## Federated credentials only (1)");
    expect(markdown).toContain("2 identities in use (listed in the JSON report).");
    expect(markdown).not.toContain("id-in-use-1");
  });

  it("links to the portal with an encoded URL", () => {
    expect(markdown).toMatch(/\[open\]\(https:\/\/portal\.azure\.com\/#@[^)\s]+\/overview\)/);
    expect(markdown).toContain("%3Cscript%3Ealert%281%29%3C/script%3E");
  });
});

describe("renderHtml", () => {
  const page = renderHtml(report);

  it("escapes every value from Azure", () => {
    // The only script element is ours, at the end of the body.
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page.indexOf("<script>")).toBeGreaterThan(page.indexOf("</footer>"));
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain(UNICODE_RG);
    expect(page).toContain("Tom &amp; &quot;Jerry&quot; &#39;x&#39;");
    expect(page).toContain("&lt;b&gt;boom&lt;/b&gt; &amp; &quot;quoted&quot;");
    expect(page).toContain("Contoso &lt;Prod&gt; &amp; Co");
    expect(page).not.toContain("<b>boom</b>");
    expect(page).not.toContain("<Prod>");
  });

  it("is self-contained: one inline script and style, allowed by their hashes, nothing external", () => {
    expect(page.startsWith("<!doctype html>")).toBe(true);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page)?.[1] ?? "";
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? "";
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? "";
    const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
    expect(csp).toBe(`default-src 'none'; style-src ${sha256(style)}; script-src ${sha256(script)}; base-uri 'none'; form-action 'none'`);
    expect(csp).not.toContain("unsafe");
    expect(contentSecurityPolicy()).toBe(csp);
    // Exactly one script element (ours) and one style element; no element that loads anything.
    expect(page.match(/<script\b/gi)).toHaveLength(1);
    expect(page.match(/<style\b/gi)).toHaveLength(1);
    expect(page).not.toMatch(/<(link|img|iframe|object|embed|image|use|foreignObject)\b/i);
    expect(page).not.toMatch(/\b(src|srcset|xlink:href)=/i);
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/url\(/i);
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^https:\/\/portal\.azure\.com\/#@[0-9a-f-]+\/resource\/subscriptions\/[^"<>\s]+\/overview$/);
  });

  it("the script holds no value from the report: the same bytes for every report", () => {
    const other = renderHtml(buildReport(reportInput({ identities: [] })));
    expect(/<script>([\s\S]*?)<\/script>/.exec(other)?.[1]).toBe(/<script>([\s\S]*?)<\/script>/.exec(page)?.[1]);
  });

  it("shows counts by verdict and subscription, and one table of every identity not in use, unused first", () => {
    expect(page).toContain('<span class="count">4</span><span>Unused</span>');
    expect(page).toContain("00000000-0000-0000-0000-000000000002");
    const names = [...page.matchAll(/<tbody class="identity"[^>]*><tr><td><details><summary>([^<]*)<\/summary>/g)].map((match) => match[1]);
    expect(names).toEqual([
      "id-owner-sub",
      "id-rg-contributor",
      "id-other-sub",
      "&lt;script&gt;alert(1)&lt;/script&gt;",
      "id-github",
      "id-new",
      "id-kept",
      "id-failed",
      "id-pending",
      "id-gone",
    ]);
    expect(page).toContain("<h2>Unused (4) and to review (6)</h2>");
    expect(page).toContain("<h2>In use (2)</h2>");
    expect(page).not.toContain("id-in-use-1");
    // The filters list what is there, with counts.
    expect(page).toContain('<option value="unused">Unused (4)</option>');
    expect(page).toContain('<option value="error">Not checked (2)</option>');
    expect(page).toContain('<option value="critical">critical (2)</option>');
  });

  it("gives each identity its row and, behind its name, its evidence, roles, portal link and delete command", () => {
    const start = page.indexOf("<summary>id-owner-sub</summary>");
    const body = page.slice(page.lastIndexOf("<tbody", start), page.indexOf("</tbody>", start));
    expect(body).toMatch(/^<tbody class="identity" data-verdict="unused" data-risk="critical" data-score="\d+" data-sub="00000000-0000-0000-0000-000000000001" data-since="2026-11-17T06:00:00.000Z" data-new="0">/);
    expect(body).toContain('<span class="badge risk-critical">critical</span>');
    expect(body).toContain("<td>2026-11-17</td>");
    expect(body).toContain('<b class="privileged">Owner</b> (subscription)');
    expect(body).toContain('<tr class="more"><td colspan="8"><dl class="detail">');
    expect(body).toContain('<b class="privileged">Owner</b> at subscription <code>/subscriptions/00000000-0000-0000-0000-000000000001</code>');
    expect(body).toContain("<dt>Evidence</dt><dd>listAssociatedResources: 0; Resource Graph: unavailable; federated credentials: 0;");
    expect(body).toContain('<span class="tag">env=prod</span>');
    expect(body).toContain("Open in the Azure portal</a>");
    expect(body).toMatch(/<pre><code>az identity delete --ids &#39;\/subscriptions\/[^<]+&#39;<\/code><\/pre>/);
    expect(page).toContain('<span class="badge new">new</span>');
    // Review identities: no delete command.
    const failed = page.slice(page.indexOf("<summary>id-failed</summary>"), page.indexOf("</tbody>", page.indexOf("<summary>id-failed</summary>")));
    expect(failed).toContain("<dt>Error</dt><dd>&lt;b&gt;boom&lt;/b&gt; &amp; &quot;quoted&quot;</dd>");
    expect(failed).not.toContain("az identity delete");
    expect(page.match(/az identity delete/g)).toHaveLength(4);
  });

  it("draws the trend as inline SVG, with its numbers in a table", () => {
    const trended = renderHtml(
      buildReport({
        ...reportInput(),
        trend: [{ runId: "run-a", startedAt: "2026-11-24T06:00:00.000Z", unusedByRisk: { critical: 2, high: 0, medium: 1, low: 0, none: 0 } }],
      }),
    );
    const svg = /<svg class="chart"[\s\S]*?<\/svg>/.exec(trended)?.[0] ?? "";
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<desc id="trend-desc">From 3 unused on 2026-11-24 to 4 on 2026-12-01.</desc>');
    expect(svg.match(/<rect class="r-critical"/g)).toHaveLength(2);
    expect(svg).toContain("<title>2026-11-24: 2 critical</title>");
    expect(svg).not.toMatch(/<(script|a|foreignObject|image|use)\b/);
    expect(trended).toContain("Unused identities over the last 2 runs of this scope, by risk");
    expect(trended).toContain('<td class="num">2</td><td class="num">0</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">3</td>');
    // A report stored before trends existed: no chart, no error.
    const { trend: _trend, ...old } = report;
    expect(renderHtml(old as typeof report)).not.toContain("<svg");
  });

  it("folds a long subscription table, and keeps its headings short", () => {
    expect(page).toContain('<details class="subscriptions" open>');
    expect(page).toContain('<th scope="col" class="num" title="Federated credentials only">Federated</th>');
    const base = reportInput().identities[1]!;
    const many = buildReport({
      ...reportInput(),
      identities: Array.from({ length: 30 }, (_, index) => ({ ...base, name: `id-${index}`, id: `${base.id}-${index}`, subscriptionId: `00000000-0000-0000-0000-${String(index).padStart(12, "0")}` })),
    });
    expect(renderHtml(many)).toContain('<details class="subscriptions">');
  });

  it("warns when the run did not complete", () => {
    const failed = buildReport(reportInput({ run: { ...reportInput().run, status: "failed", error: "<i>quota</i>" } }));
    expect(renderHtml(failed)).toContain('<p class="warning">This run is <strong>failed</strong>: &lt;i&gt;quota&lt;/i&gt;.');
  });

  it("renders an empty run", () => {
    const empty = renderHtml(buildReport(reportInput({ identities: [] })));
    expect(empty).toContain("<p>None.</p>");
    expect(empty).not.toContain('id="identities"');
    expect(empty).toContain("</html>");
  });
});

describe("renderReport", () => {
  it.each<[ReportFormat, string, string]>([
    ["json", "application/json; charset=utf-8", "json"],
    ["csv", "text/csv; charset=utf-8", "csv"],
    ["md", "text/markdown; charset=utf-8", "md"],
    ["html", "text/html; charset=utf-8", "html"],
    ["sarif", "application/sarif+json; charset=utf-8", "sarif"],
    ["text", "text/plain; charset=utf-8", "txt"],
  ])("%s", (format, contentType, fileExtension) => {
    const rendered = renderReport(report, format);
    expect(rendered.contentType).toBe(contentType);
    expect(rendered.fileExtension).toBe(fileExtension);
    expect(rendered.body.length).toBeGreaterThan(100);
  });

  it("rejects an unknown format naming the option", () => {
    expect(() => renderReport(report, "pdf" as ReportFormat)).toThrow(/`format`.*json, csv, md, html, sarif, text/);
    expect(REPORT_FORMATS).toEqual(["json", "csv", "md", "html", "sarif", "text"]);
    expect(isReportFormat("html")).toBe(true);
    expect(isReportFormat("sarif")).toBe(true);
    expect(isReportFormat("HTML")).toBe(false);
  });
});

describe("escaping helpers", () => {
  it("escapeHtml", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(escapeHtml(undefined)).toBe("");
  });

  it("html escapes interpolations by default and nests its own output", () => {
    const inner = html`<b>${"<i>"}</b>`;
    expect(html`<p>${inner}${["<", html`<br>`]}${null}${false}${0}</p>`.value).toBe("<p><b>&lt;i&gt;</b>&lt;<br>0</p>");
  });

  it("escapeMarkdown", () => {
    expect(escapeMarkdown("a|b`c`[d](e)<f>&g*h_i\\j\r\nk")).toBe("a\\|b\\`c\\`\\[d\\](e)&lt;f&gt;&amp;g\\*h\\_i\\\\j k");
  });

  it("singleLine removes every kind of line break", () => {
    expect(singleLine("a\r\nb\nc\u2028d\u0000e\u0085f")).toBe("a b c d e f");
  });

  it("safeLinkUrl allows only the given protocols", () => {
    expect(safeLinkUrl("https://portal.azure.com/#@x")).toBe("https://portal.azure.com/#@x");
    expect(safeLinkUrl("javascript:alert(1)")).toBeUndefined();
    expect(safeLinkUrl("http://example.com")).toBeUndefined();
    expect(safeLinkUrl("http://example.com", ["http:", "https:"])).toBe("http://example.com");
    expect(safeLinkUrl("https://u:p@example.com")).toBeUndefined();
    expect(safeLinkUrl("/relative")).toBeUndefined();
  });
});
