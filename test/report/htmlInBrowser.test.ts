/**
 * The HTML report as a person sees it: opened from disk in headless Chromium (Debian's package), it loads
 * without script errors, runs none of the hostile values Azure can hand us (its only script is its own,
 * allowed by hash), and shows every identity that is not in use in one table, unused ones highest risk
 * first, each with its evidence, portal link and delete command behind its name. The same page for a
 * 10,000-identity tenant sorts, filters and expands, and its subscription table fits a 1,400 px window.
 *
 * Screenshots for people are written to .tmp/report-screenshots/ (git-ignored), or to
 * UAMI_REPORT_SCREENSHOT_DIR.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/findings/history.js";
import type { Verdict } from "../../src/findings/verdicts.js";
import { buildReport, type AuditReport } from "../../src/report/model.js";
import { renderReport } from "../../src/report/render.js";
import { NOW, RUN_ID, SUBSCRIPTION_ID, TENANT_ID, auditRun, identityResult, roleAssignment, verdictOptions } from "../findings/builders.js";
import { launchChromium, requireChromium } from "../helpers/chromium.js";
import { HOSTILE_LARGE_NAME, largeReport, subscriptionIdOf } from "./largeReport.js";

const SUB = `/subscriptions/${SUBSCRIPTION_ID}`;
const HOSTILE_NAME = "<script>alert(1)</script>";
const IMG_PAYLOAD = `"'><img src=x onerror=alert(2)>`;
const UNICODE_RG = "rg-é-日本";

// Unused, one per risk level (the hostile one shares "medium", just below the Reader at subscription scope).
const ownerAtSubscription = identityResult({ name: "id-owner-sub", tags: { env: "prod" } });
const contributorAtRg = identityResult({ name: "id-contributor-rg" });
const readerAtSubscription = identityResult({ name: "id-reader-sub" });
const hostile = identityResult({
  name: HOSTILE_NAME,
  resourceGroup: UNICODE_RG,
  tags: { [IMG_PAYLOAD]: "<script>alert(3)</script>", owner: IMG_PAYLOAD, team: "équipe-日本" },
});
const readerAtRg = identityResult({ name: "id-reader-rg" });
const noRoles = identityResult({ name: "id-no-roles" });
// The review lists.
const federated = identityResult({ name: "id-github", federatedCredentialCount: 2 });
const recent = identityResult({ name: "id-new", createdAt: "2026-11-29T12:00:00Z" });
const exempt = identityResult({ name: "id-kept", tags: { "uami-audit-exempt": "ticket-123" } });
const failed = identityResult({ name: "id-failed", status: "error", error: `<b>boom</b> & "quoted"`, associationCount: undefined });
const deleted = identityResult({ name: "id-gone", status: "deleted" });
const inUse = identityResult({
  name: "id-in-use",
  associationCount: 1,
  associations: [
    {
      id: `${SUB}/resourceGroups/rg-app/providers/Microsoft.Web/sites/app-1`,
      name: "app-1",
      type: "microsoft.web/sites",
      resourceGroup: "rg-app",
      subscriptionId: SUBSCRIPTION_ID,
      subscriptionDisplayName: "Contoso Prod",
    },
  ],
});

/** What the page must show, in this order: critical, high, medium (two), low, none. */
const RANKED = [
  { identity: ownerAtSubscription, level: "critical" },
  { identity: contributorAtRg, level: "high" },
  { identity: readerAtSubscription, level: "medium" },
  { identity: hostile, level: "medium" },
  { identity: readerAtRg, level: "low" },
  { identity: noRoles, level: "none" },
] as const;

function buildTestReport(): AuditReport {
  // Deliberately neither in risk nor in name order.
  const identities = [noRoles, federated, hostile, inUse, readerAtRg, recent, ownerAtSubscription, failed, exempt, contributorAtRg, deleted, readerAtSubscription];
  const history = new Map<string, HistoryEntry[]>([
    [
      ownerAtSubscription.id.toLowerCase(),
      [
        { runId: "run-2026-11-17", startedAt: "2026-11-17T06:00:00.000Z", verdict: "unused" },
        { runId: "run-2026-11-24", startedAt: "2026-11-24T06:00:00.000Z", verdict: "unused" },
      ],
    ],
  ]);
  return buildReport({
    run: auditRun({ runId: RUN_ID, expected: identities.length, checked: 10, failed: 1, deleted: 1, requests: 40, throttled: 2 }),
    identities,
    roleAssignments: [
      roleAssignment({ id: "ra-owner", principalId: ownerAtSubscription.principalId, roleName: "Owner", scope: SUB }),
      roleAssignment({ id: "ra-contributor", principalId: contributorAtRg.principalId, roleName: "Contributor", scope: `${SUB}/resourceGroups/rg-app` }),
      roleAssignment({ id: "ra-reader-sub", principalId: readerAtSubscription.principalId, roleName: "Reader", scope: SUB }),
      roleAssignment({
        id: "ra-hostile",
        principalId: hostile.principalId,
        roleName: "Contributor",
        scope: `${SUB}/resourceGroups/${UNICODE_RG}/providers/Microsoft.KeyVault/vaults/kv-日本`,
      }),
      roleAssignment({ id: "ra-reader-rg", principalId: readerAtRg.principalId, roleName: "Reader", scope: `${SUB}/resourceGroups/rg-app` }),
      roleAssignment({ id: "ra-federated", principalId: federated.principalId, roleName: "Owner", scope: "/" }),
    ],
    history,
    previousRunVerdicts: new Map<string, Verdict>([[ownerAtSubscription.id.toLowerCase(), "unused"]]),
    options: verdictOptions({ now: NOW }),
  });
}

/** The few DOM members the in-page functions below use (the project compiles without the DOM library). */
interface DomElement {
  tagName: string;
  attributes: ArrayLike<{ name: string }>;
}

interface LoadedPage {
  page: Page;
  pageErrors: string[];
  consoleErrors: string[];
  dialogs: string[];
  requests: string[];
}

async function openReport(context: BrowserContext, url: string): Promise<LoadedPage> {
  const loaded: LoadedPage = { page: await context.newPage(), pageErrors: [], consoleErrors: [], dialogs: [], requests: [] };
  const { page } = loaded;
  page.on("pageerror", (error) => loaded.pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") loaded.consoleErrors.push(message.text());
  });
  page.on("dialog", (dialog) => {
    loaded.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("request", (request) => loaded.requests.push(request.url()));
  await page.goto(url, { waitUntil: "load" });
  // One more round trip, so that an error or dialog raised while the page settled has been reported.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
  return loaded;
}

/** Elements through which a value that escaped escaping would run or load something. */
const ACTIVE_TAGS = ["script", "img", "iframe", "object", "embed", "svg", "foreignobject", "image", "use", "a", "link", "style", "audio", "video", "source"];

/**
 * Every active element and event-handler attribute on the page, as `<tag>` or `<tag onx>`, for the caller
 * to compare with what the report writes on purpose: its one script, its one style, the chart's one
 * `<svg>` and the portal links.
 */
async function activeContent(page: Page): Promise<string[]> {
  return page.locator("*").evaluateAll(
    (elements: DomElement[], tags: string[]) =>
      elements.flatMap((element) => {
        const tag = element.tagName.toLowerCase();
        const found = tags.includes(tag) ? [`<${tag}>`] : [];
        const handlers = Array.from(element.attributes)
          .map((attribute) => attribute.name)
          .filter((name) => name.toLowerCase().startsWith("on") || name.toLowerCase() === "style")
          .map((name) => `<${tag} ${name}>`);
        return [...found, ...handlers];
      }),
    ACTIVE_TAGS,
  );
}

/** What the report writes on purpose: one style, one chart, the portal links, one script. */
function expectedActiveContent(links: number): string[] {
  return ["<style>", "<svg>", ...Array<string>(links).fill("<a>"), "<script>"];
}

function screenshotDirectory(): string {
  return resolve(process.env.UAMI_REPORT_SCREENSHOT_DIR ?? ".tmp/report-screenshots");
}

interface RowState {
  name: string;
  verdict: string;
  risk: string;
  score: number;
  sub: string;
  hidden: boolean;
  order: number;
  index: number;
}

/** Every identity row group as the page holds it, in the order the page shows them (CSS order, then DOM). */
async function rowsInShownOrder(page: Page): Promise<RowState[]> {
  const rows = await page.locator("#identities > tbody.identity").evaluateAll((bodies: DomRowGroup[]) =>
    bodies.map((body, index) => ({
      name: body.querySelector("summary")?.textContent ?? "",
      verdict: body.dataset.verdict ?? "",
      risk: body.dataset.risk ?? "",
      score: Number(body.dataset.score),
      sub: body.dataset.sub ?? "",
      hidden: body.hidden,
      order: Number(body.style.order || 0),
      index,
    })),
  );
  return rows.sort((a, b) => a.order - b.order || a.index - b.index);
}

interface DomRowGroup {
  hidden: boolean;
  dataset: Record<string, string | undefined>;
  style: { order: string };
  querySelector(selector: string): { textContent: string | null } | null;
}

function identityRow(page: Page, name: string): Locator {
  return page.locator("#identities > tbody.identity").filter({ has: page.locator("summary", { hasText: name }) }).first();
}

describe("the HTML report in headless Chromium", () => {
  const report = buildTestReport();
  let directory: string;
  let reportUrl: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "uami-html-report-"));
    const rendered = renderReport(report, "html");
    expect(rendered.contentType).toBe("text/html; charset=utf-8");
    const file = join(directory, "report.html");
    await writeFile(file, rendered.body, "utf8");
    reportUrl = pathToFileURL(file).href;
  });

  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it("is built from the intended findings (guards the fixture, not the page)", () => {
    expect(report.unused.map((finding) => [finding.name, finding.risk.level])).toEqual(
      RANKED.map(({ identity, level }) => [identity.name, level]),
    );
    expect(report.federated.map((finding) => finding.name)).toEqual(["id-github"]);
    expect(report.recent.map((finding) => finding.name)).toEqual(["id-new"]);
    expect(report.exempt.map((finding) => finding.name)).toEqual(["id-kept"]);
    expect(report.error.map((finding) => finding.name)).toEqual(["id-failed"]);
    expect(report.deleted.map((finding) => finding.name)).toEqual(["id-gone"]);
    expect(report.inUseCount).toBe(1);
    expect(report.trend).toHaveLength(1);
  });

  it("loads without script errors, runs only its own script, and shows the ranked table", async (context) => {
    const chromium = await launchChromium(requireChromium(context), { viewport: { width: 1280, height: 900 } });
    try {
      const { page, pageErrors, consoleErrors, dialogs, requests } = await openReport(chromium.context, reportUrl);

      // Loads cleanly, self-contained, its script ran (it reveals the controls), and nothing hostile runs.
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(requests).toEqual([reportUrl]);
      expect(await page.locator("html[data-report-ready]").count()).toBe(1);
      expect(await page.locator("#controls").isVisible()).toBe(true);
      expect(await activeContent(page)).toEqual(expectedActiveContent(RANKED.length + 5));
      expect(await page.title()).toBe(`Unused managed identities: run ${RUN_ID}`);

      // One table: the unused identities first, critical first, then the ones to review.
      const rows = page.locator("#identities > tbody.identity");
      expect(await rows.count()).toBe(RANKED.length + 5);
      const unusedRows = page.locator('#identities > tbody.identity[data-verdict="unused"]');
      expect(await unusedRows.locator("summary").allTextContents()).toEqual(RANKED.map(({ identity }) => identity.name));
      expect(await unusedRows.locator("td:nth-child(5) .badge").allTextContents()).toEqual(RANKED.map(({ level }) => level));
      expect(await page.locator("#shown").textContent()).toBe(`all ${RANKED.length + 5} shown`);

      // The hostile identity: its name, tags and Unicode resource group are text, and visible.
      const hostileRow = identityRow(page, HOSTILE_NAME);
      expect(await hostileRow.locator("summary").isVisible()).toBe(true);
      expect(await hostileRow.locator("summary").innerText()).toBe(HOSTILE_NAME);
      expect(await hostileRow.locator("tr").first().locator("td").nth(3).innerText()).toBe(UNICODE_RG);
      expect(await hostileRow.locator("tr.more").isVisible()).toBe(false);
      await hostileRow.locator("summary").click();
      expect(await hostileRow.locator("tr.more").isVisible()).toBe(true);
      expect(await hostileRow.locator(".tag").allInnerTexts()).toEqual([
        `${IMG_PAYLOAD}=<script>alert(3)</script>`,
        `owner=${IMG_PAYLOAD}`,
        "team=équipe-日本",
      ]);
      expect(await hostileRow.locator("dd.roles").innerText()).toContain("kv-日本");
      expect(await page.locator("body").innerText()).toContain(HOSTILE_NAME);
      expect(await activeContent(page)).toEqual(expectedActiveContent(RANKED.length + 5));

      // Each unused identity, opened: a portal link to exactly it, and the command that deletes exactly it.
      for (const { identity } of RANKED) {
        const row = identityRow(page, identity.name);
        if (!(await row.locator("tr.more").isVisible())) await row.locator("summary").click();
        const link = row.getByRole("link", { name: "Open in the Azure portal" });
        expect(await link.isVisible()).toBe(true);
        const href = (await link.getAttribute("href")) ?? "";
        const match = /^https:\/\/portal\.azure\.com\/#@([^/]+)\/resource(\/.+)\/overview$/.exec(href);
        expect(match, href).not.toBeNull();
        expect(decodeURIComponent(match![1]!)).toBe(TENANT_ID);
        expect(match![2]!.split("/").map((part) => decodeURIComponent(part)).join("/")).toBe(identity.id);
        expect(href).not.toMatch(/[<>"' ]/);
        expect(await row.locator("pre code").innerText()).toBe(`az identity delete --ids '${identity.id}'`);
      }

      // Every link goes to the portal, and only the unused identities have a delete command.
      const hrefs = await page.locator("a").evaluateAll((links: Array<{ getAttribute(name: string): string | null }>) =>
        links.map((link) => link.getAttribute("href") ?? ""),
      );
      expect(hrefs).toHaveLength(RANKED.length + 5);
      for (const href of hrefs) expect(href.startsWith("https://portal.azure.com/#@")).toBe(true);
      expect(await page.locator("pre").count()).toBe(RANKED.length);
      expect((await page.locator("body").textContent())?.match(/az identity delete/g)).toHaveLength(RANKED.length);

      // The review identities: one verdict at a time through the filter, none with a delete command.
      const reviews: Array<[string, string]> = [
        ["federated", "id-github"],
        ["recent", "id-new"],
        ["exempt", "id-kept"],
        ["error", "id-failed"],
        ["deleted", "id-gone"],
      ];
      for (const [verdict, name] of reviews) {
        await page.locator("#f-verdict").selectOption(verdict);
        const shown = (await rowsInShownOrder(page)).filter((row) => !row.hidden);
        expect(shown.map((row) => row.name), verdict).toEqual([name]);
        expect(await identityRow(page, name).locator("pre").count(), verdict).toBe(0);
        if (verdict === "error") {
          await identityRow(page, name).locator("summary").click();
          expect(await identityRow(page, name).locator("dl.detail dd").first().innerText()).toBe(`<b>boom</b> & "quoted"`);
        }
      }
      await page.locator("#f-verdict").selectOption("");
      expect(await page.getByRole("heading", { level: 2, name: "In use (1)", exact: true }).count()).toBe(1);

      // A screenshot of the whole page, for people: in a window as tall as the page, since rows off screen
      // (content-visibility: auto) are not painted into a full-page capture.
      await mkdir(screenshotDirectory(), { recursive: true });
      const screenshot = join(screenshotDirectory(), "report-small.png");
      const height = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement.scrollHeight);
      await page.setViewportSize({ width: 1280, height });
      await page.evaluate(() => new Promise((resolve) => (globalThis as unknown as { requestAnimationFrame(callback: () => void): void }).requestAnimationFrame(() => resolve(undefined))));
      await page.screenshot({ path: screenshot });
      const png = await readFile(screenshot);
      expect((await stat(screenshot)).size).toBeGreaterThan(10_000);
      expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
      if (process.env.UAMI_REPORT_SCREENSHOT) await copyFile(screenshot, process.env.UAMI_REPORT_SCREENSHOT);
    } finally {
      await chromium.close();
    }
  });

  it("runs none of the hostile values even with the Content Security Policy switched off (escaping alone holds)", async (context) => {
    const chromium = await launchChromium(requireChromium(context), { bypassCSP: true });
    try {
      const { page, pageErrors, consoleErrors, dialogs } = await openReport(chromium.context, reportUrl);
      await page.locator("#identities summary").evaluateAll((summaries: Array<{ click(): void }>) => summaries.forEach((summary) => summary.click()));
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(await activeContent(page)).toEqual(expectedActiveContent(RANKED.length + 5));
      expect(await page.locator("#identities summary", { hasText: HOSTILE_NAME }).count()).toBe(1);
    } finally {
      await chromium.close();
    }
  });

  it("without script (a mail client's viewer) shows the whole table, and each identity's details open", async (context) => {
    const chromium = await launchChromium(requireChromium(context), { javaScriptEnabled: false });
    try {
      // Not openReport: its settling timeout is page script, which does not run here.
      const page = await chromium.context.newPage();
      await page.goto(reportUrl, { waitUntil: "load" });
      expect(await page.locator("html[data-report-ready]").count()).toBe(0);
      expect(await page.locator("#controls").isVisible()).toBe(false);
      expect(await page.locator("#identities th button").count()).toBe(0);
      const rows = await rowsInShownOrder(page);
      expect(rows.filter((row) => !row.hidden).map((row) => row.name)).toEqual([...report.unused, ...report.federated, ...report.recent, ...report.exempt, ...report.error, ...report.deleted].map((finding) => finding.name));
      for (const row of await page.locator("#identities > tbody.identity > tr:first-child").all()) expect(await row.isVisible()).toBe(true);
      const first = identityRow(page, RANKED[0].identity.name);
      expect(await first.locator("tr.more").isVisible()).toBe(false);
      await first.locator("summary").click();
      expect(await first.locator("pre code").innerText()).toBe(`az identity delete --ids '${RANKED[0].identity.id}'`);
      // The chart needs no script either.
      expect(await page.locator("svg.chart rect").count()).toBeGreaterThan(0);
    } finally {
      await chromium.close();
    }
  });
});

describe("the HTML report of a 10,000-identity tenant in headless Chromium", () => {
  const COUNT = 10_000;
  let large: AuditReport;
  let directory: string;
  let reportUrl: string;

  beforeAll(async () => {
    large = largeReport(COUNT);
    directory = await mkdtemp(join(tmpdir(), "uami-html-large-"));
    const file = join(directory, "report.html");
    await writeFile(file, renderReport(large, "html").body, "utf8");
    reportUrl = pathToFileURL(file).href;
  });

  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it("sorts, filters and expands, and its subscription table fits a 1,400 px window", async (context) => {
    const listed = [...large.unused, ...large.active, ...large.federated, ...large.recent, ...large.exempt, ...large.error, ...large.deleted];
    expect(listed).toHaveLength(COUNT);
    const chromium = await launchChromium(requireChromium(context), { viewport: { width: 1400, height: 1000 } });
    const timings: string[] = [];
    const timed = async <T>(label: string, action: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await action();
      timings.push(`${label} ${Math.round(performance.now() - started)} ms`);
      return result;
    };
    try {
      const { page, pageErrors, consoleErrors, requests } = await timed("open", () => openReport(chromium.context, reportUrl));
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([reportUrl]);
      expect(await page.locator("html[data-report-ready]").count()).toBe(1);
      expect(await page.locator("#identities").getAttribute("data-shown")).toBe(String(COUNT));
      expect(await page.locator("#identities > tbody.identity").count()).toBe(COUNT);
      expect(await page.locator("#identities summary", { hasText: HOSTILE_LARGE_NAME }).count()).toBeGreaterThan(0);
      expect(await page.locator("img").count()).toBe(0);

      // Filtering: by verdict, subscription, risk and text, each checked against the report itself.
      const shownRows = async () => (await rowsInShownOrder(page)).filter((row) => !row.hidden);
      await timed("filter by verdict", () => page.locator("#f-verdict").selectOption("federated"));
      expect((await shownRows()).map((row) => row.name)).toEqual(large.federated.map((finding) => finding.name));
      await page.locator("#f-verdict").selectOption("unused");
      await timed("filter by risk", () => page.locator("#f-risk").selectOption("critical"));
      const subscription = subscriptionIdOf(3);
      await timed("filter by subscription", () => page.locator("#f-subscription").selectOption(subscription));
      const expectedUnusedCritical = large.unused.filter((finding) => finding.risk.level === "critical" && finding.subscriptionId === subscription);
      expect((await shownRows()).map((row) => row.name)).toEqual(expectedUnusedCritical.map((finding) => finding.name));
      await page.locator("#f-subscription").selectOption("");
      await timed("filter by text", () => page.locator("#q").fill("prod"));
      const expectedText = large.unused.filter(
        (finding) => finding.risk.level === "critical" && `${finding.resourceGroup} ${finding.subscriptionName}`.toLowerCase().includes("prod"),
      );
      const textRows = await shownRows();
      expect(textRows.map((row) => row.name)).toEqual(expectedText.map((finding) => finding.name));
      expect(textRows.length).toBeGreaterThan(50);
      expect(await page.locator("#shown").textContent()).toBe(`${expectedText.length} of ${COUNT} shown`);
      // Several words: all must match.
      await page.locator("#q").fill("prod billing");
      expect((await shownRows()).map((row) => row.name)).toEqual(
        expectedText.filter((finding) => `${finding.name} ${finding.resourceGroup} ${finding.subscriptionName}`.toLowerCase().includes("billing")).map((finding) => finding.name),
      );
      await page.locator("#q").fill("");
      await page.locator("#f-verdict").selectOption("");
      await page.locator("#f-risk").selectOption("");
      expect(await page.locator("#identities").getAttribute("data-shown")).toBe(String(COUNT));

      // Sorting: by name both ways, then by risk, read in the order the page shows the rows.
      const byName = [...listed].map((finding, index) => ({ name: finding.name.toLowerCase(), original: finding.name, index }));
      byName.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.index - b.index));
      await timed("sort by name", () => page.locator('#identities th[data-sort="name"] button').click());
      expect(await page.locator('#identities th[data-sort="name"]').getAttribute("aria-sort")).toBe("ascending");
      expect((await shownRows()).map((row) => row.name)).toEqual(byName.map((entry) => entry.original));
      await timed("sort by name, descending", () => page.locator('#identities th[data-sort="name"] button').click());
      expect(await page.locator('#identities th[data-sort="name"]').getAttribute("aria-sort")).toBe("descending");
      expect((await shownRows()).slice(0, 20).map((row) => row.name)).toEqual([...byName].reverse().slice(0, 20).map((entry) => entry.original));
      await timed("sort by risk", () => page.locator('#identities th[data-sort="risk"] button').click());
      const scores = (await shownRows()).map((row) => row.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(await page.locator('#identities th[data-sort="name"]').getAttribute("aria-sort")).toBe("none");
      // What is shown first is what is first on screen.
      const [firstRow, secondRow] = (await shownRows()).slice(0, 2);
      const firstBox = await identityRow(page, firstRow!.name).boundingBox();
      const secondBox = await identityRow(page, secondRow!.name).boundingBox();
      expect(firstBox!.y).toBeLessThan(secondBox!.y);

      // Expanding: one identity's details, and only its.
      const opened = identityRow(page, firstRow!.name);
      await timed("expand", () => opened.locator("summary").click());
      expect(await opened.locator("tr.more").isVisible()).toBe(true);
      const finding = listed.find((candidate) => candidate.name === firstRow!.name)!;
      expect(await opened.locator("dl.detail").innerText()).toContain(finding.roleAssignments[0]!.scope);
      if (finding.deleteCommand) expect(await opened.locator("pre code").innerText()).toBe(finding.deleteCommand);
      expect(await identityRow(page, secondRow!.name).locator("tr.more").isVisible()).toBe(false);
      // (Counted by open <details>, not by `:visible`: that lays out each of the 10,000 rows off screen.)
      expect(await page.locator("#identities details[open]").count()).toBe(1);

      // The subscription table fits the window (it overflowed at 1,400 px before).
      await page.locator("details.subscriptions > summary").click();
      const widths = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelector(s: string): { scrollWidth: number; clientWidth: number; parentElement: { clientWidth: number } } } }).document;
        const table = doc.querySelector("table.subs");
        return { page: doc.documentElement.scrollWidth, window: doc.documentElement.clientWidth, table: table.scrollWidth, box: table.parentElement.clientWidth };
      });
      expect(widths.table).toBeLessThanOrEqual(widths.box);
      expect(widths.page).toBeLessThanOrEqual(widths.window);

      // Screenshots for people: the top of the page (chart, subscriptions) and the sorted, opened table.
      await mkdir(screenshotDirectory(), { recursive: true });
      await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
      await page.screenshot({ path: join(screenshotDirectory(), "report-10000-top.png") });
      await page.locator("details.subscriptions > summary").scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(screenshotDirectory(), "report-10000-subscriptions.png") });
      await opened.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(screenshotDirectory(), "report-10000-table.png") });
      expect((await stat(join(screenshotDirectory(), "report-10000-table.png"))).size).toBeGreaterThan(10_000);
      console.log(`10,000-identity report in Chromium: ${timings.join(", ")}`);
    } finally {
      await chromium.close();
    }
  }, 300_000);
});
