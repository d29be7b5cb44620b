/**
 * Text from Azure that a renderer or a spreadsheet would act on: bare URLs and addresses that GitHub
 * Flavoured Markdown turns into live links (autolink literals), and formulas hidden after a `;` for
 * spreadsheets whose locale splits cells on semicolons. The Markdown is rendered by two real GFM
 * renderers (micromark with its GFM extension, as remark and GitHub-compatible tools use, and marked).
 */
import { marked } from "marked";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { renderCsv } from "../../src/report/csv.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/model.js";
import { SUBSCRIPTION_ID } from "../findings/builders.js";
import { parseCsv, reportInput } from "./fixtures.js";

const LURES = {
  docs: "https://evil.example/login",
  wiki: "see www.evil.example/reset now",
  owner: "attacker@evil.example",
  ftp: "ftp://evil.example/x",
  mixed: "HTTPS://EVIL.EXAMPLE and WWW.Evil.Example and mailto:x@evil.example",
};

function hostileReport() {
  const input = reportInput();
  const identities = input.identities.map((identity, index) => (index === 1 ? { ...identity, name: "id-lure", tags: LURES } : identity));
  return buildReport({
    ...input,
    identities,
    subscriptionNames: new Map([[SUBSCRIPTION_ID.toLowerCase(), "Prod https://evil.example/sub www.evil.example ops@evil.example"]]),
  });
}

/** Every link a renderer made, except the portal links the report writes on purpose. */
function linksIn(html: string): string[] {
  return [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((match) => match[1]!).filter((href) => !href.startsWith("https://portal.azure.com/"));
}

describe("Markdown report: values from Azure never become live links", () => {
  const markdown = renderMarkdown(hostileReport());

  it("renders no autolink with micromark + GFM, and still shows the text", () => {
    const html = micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(linksIn(html)).toEqual([]);
    expect(html).toContain("https://evil.example/login");
    expect(html).toContain("www.evil.example/reset");
    expect(html).toContain("attacker@evil.example");
    expect(html).toContain("Prod https://evil.example/sub");
  });

  it("renders no autolink with marked (GFM)", async () => {
    const html = await marked.parse(markdown, { gfm: true });
    expect(linksIn(html)).toEqual([]);
    expect(html).toContain("attacker@evil.example");
  });

  it("keeps the portal links, which the report writes on purpose", () => {
    const html = micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
    expect(html).toMatch(/<a href="https:\/\/portal\.azure\.com\/#@/);
  });
});

describe("CSV report: no formula after a separator", () => {
  it.each([
    ["owner=a; =HYPERLINK(\"https://evil\")", "; ="],
    ["x;+1", ";+"],
    ["x; -2+3", "; -"],
    ["x;@SUM(A1)", ";@"],
    ["x,=1", ",="],
    ["x\t=1", "\t="],
    ["x;\t=1", ";\t="],
    ["x; \uFF1D1", "; \uFF1D"],
  ])("neutralises the formula in a tag %j", (value) => {
    const input = reportInput();
    const single = buildReport({ ...input, identities: [{ ...input.identities[1]!, name: "id-csv", tags: { note: value } }] });
    const [header, row] = parseCsv(renderCsv(single).replace(/^\uFEFF/, ""));
    const tags = row![header!.indexOf("tags")]!;
    // Split the cell the way a `;`-locale (or a `,`-locale, or a tab-pasting user) would: no piece may start a formula.
    for (const piece of tags.split(/[;,\t]/)) expect(piece.trimStart(), tags).not.toMatch(/^[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/);
    // Only quotes were added: the text reads the same.
    expect(tags.replace(/'/g, "")).toBe(`note=${value}`);
  });

  it("keeps plain values untouched", () => {
    const input = reportInput();
    const single = buildReport({ ...input, identities: [{ ...input.identities[1]!, name: "id-csv", tags: { env: "prod; eu-west", range: "1-2" } }] });
    const [header, row] = parseCsv(renderCsv(single).replace(/^\uFEFF/, ""));
    expect(row![header!.indexOf("tags")]).toBe("env=prod; eu-west; range=1-2");
  });
});
