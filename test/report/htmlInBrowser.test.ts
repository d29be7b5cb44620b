/**
 * The HTML report as a person sees it: opened from disk in headless Chromium (Debian's package), it loads
 * without script errors, runs none of the hostile values Azure can hand us, and shows the unused identities
 * highest risk first, each with its portal link and delete command.
 */
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/findings/history.js";
import type { Verdict } from "../../src/findings/verdicts.js";
import { buildReport, type AuditReport } from "../../src/report/model.js";
import { renderReport } from "../../src/report/render.js";
import { NOW, RUN_ID, SUBSCRIPTION_ID, TENANT_ID, auditRun, identityResult, roleAssignment, verdictOptions } from "../findings/builders.js";
import { launchChromium, requireChromium } from "../helpers/chromium.js";

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
interface DomNode {
  nodeType: number;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}
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

/** Elements and attributes through which a value that escaped escaping would run. */
async function activeContent(page: Page): Promise<string[]> {
  return page.locator("*").evaluateAll((elements: DomElement[]) =>
    elements.flatMap((element) => {
      const tag = element.tagName.toLowerCase();
      const found = ["script", "img", "iframe", "object", "embed", "svg"].includes(tag) ? [`<${tag}>`] : [];
      const handlers = Array.from(element.attributes)
        .map((attribute) => attribute.name)
        .filter((name) => name.toLowerCase().startsWith("on"))
        .map((name) => `<${tag} ${name}>`);
      return [...found, ...handlers];
    }),
  );
}

/** The text a heading holds itself, without its child elements (the rank and the badges). */
async function ownText(locator: Locator): Promise<string[]> {
  return locator.evaluateAll((nodes: DomNode[]) =>
    nodes.map((node) =>
      Array.from(node.childNodes)
        .filter((child) => child.nodeType === 3)
        .map((child) => child.textContent ?? "")
        .join("")
        .trim(),
    ),
  );
}

function section(page: Page, heading: string): Locator {
  return page.locator("section").filter({ has: page.getByRole("heading", { level: 2, name: heading, exact: true }) });
}

function definition(card: Locator, term: string): Locator {
  return card.locator(`xpath=.//dt[normalize-space(.)='${term}']/following-sibling::dd[1]`);
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
  });

  it("loads without script errors and shows the ranked unused list", async (context) => {
    const chromium = await launchChromium(requireChromium(context), { viewport: { width: 1280, height: 900 } });
    try {
      const { page, pageErrors, consoleErrors, dialogs, requests } = await openReport(chromium.context, reportUrl);

      // Loads cleanly, self-contained, and nothing hostile runs.
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(requests).toEqual([reportUrl]);
      expect(await activeContent(page)).toEqual([]);
      expect(await page.title()).toBe(`Unused managed identities: run ${RUN_ID}`);

      // The ranked unused list: every unused identity, critical first, read from the rendered page.
      const unused = section(page, `Unused (${RANKED.length})`);
      const cards = unused.locator("article.finding");
      expect(await cards.count()).toBe(RANKED.length);
      expect(await ownText(cards.locator("h3"))).toEqual(RANKED.map(({ identity }) => identity.name));
      expect(await cards.locator("h3 .rank").allInnerTexts()).toEqual(RANKED.map((_, index) => `#${index + 1}`));
      expect(await cards.evaluateAll((nodes: Array<{ className: string }>) => nodes.map((node) => node.className))).toEqual(
        RANKED.map(({ level }) => `finding risk-${level}`),
      );
      const riskBadges = await cards.locator("h3 .badge:not(.new)").allTextContents();
      expect(riskBadges.map((badge) => badge.split(" ")[0])).toEqual(RANKED.map(({ level }) => level));

      // The hostile identity: its name, tags and Unicode resource group are shown as text, and visible.
      const hostileCard = cards.nth(RANKED.findIndex(({ identity }) => identity === hostile));
      const hostileHeading = hostileCard.locator("h3");
      expect(await hostileHeading.isVisible()).toBe(true);
      expect(await hostileHeading.innerText()).toContain(HOSTILE_NAME);
      expect(await hostileCard.locator(".tag").allInnerTexts()).toEqual([
        `${IMG_PAYLOAD}=<script>alert(3)</script>`,
        `owner=${IMG_PAYLOAD}`,
        "team=équipe-日本",
      ]);
      expect(await definition(hostileCard, "Resource group").innerText()).toBe(`${UNICODE_RG} · westeurope`);
      expect(await hostileCard.locator("table.roles").innerText()).toContain(`kv-日本`);
      expect(await page.locator("body").innerText()).toContain(HOSTILE_NAME);

      // Each card: a portal link to exactly this identity, and the command that deletes exactly it.
      for (const [index, { identity }] of RANKED.entries()) {
        const card = cards.nth(index);
        const link = card.getByRole("link", { name: "Open in the Azure portal" });
        const href = (await link.getAttribute("href")) ?? "";
        const match = /^https:\/\/portal\.azure\.com\/#@([^/]+)\/resource(\/.+)\/overview$/.exec(href);
        expect(match, href).not.toBeNull();
        expect(decodeURIComponent(match![1]!)).toBe(TENANT_ID);
        expect(match![2]!.split("/").map((part) => decodeURIComponent(part)).join("/")).toBe(identity.id);
        expect(href).not.toMatch(/[<>"' ]/);
        expect(await card.locator("pre code").innerText()).toBe(`az identity delete --ids '${identity.id}'`);
      }

      // Every link on the page goes to the portal, and only the unused identities get a delete command.
      const hrefs = await page.locator("a").evaluateAll((links: Array<{ getAttribute(name: string): string | null }>) =>
        links.map((link) => link.getAttribute("href") ?? ""),
      );
      expect(hrefs).toHaveLength(RANKED.length + 5);
      for (const href of hrefs) expect(href.startsWith("https://portal.azure.com/#@")).toBe(true);
      expect(await page.locator("pre").count()).toBe(RANKED.length);
      expect((await page.locator("body").innerText()).match(/az identity delete/g)).toHaveLength(RANKED.length);

      // The review lists, each under its own heading, with no delete command.
      const reviews: Array<[string, string]> = [
        ["Federated credentials only (1)", "id-github"],
        ["Recently created (1)", "id-new"],
        ["Exempt (1)", "id-kept"],
        ["Could not be checked (1)", "id-failed"],
        ["Deleted during the run (1)", "id-gone"],
      ];
      for (const [heading, name] of reviews) {
        const rows = section(page, heading).locator("tbody tr");
        expect(await rows.locator("td:first-child").allInnerTexts(), heading).toEqual([name]);
        expect(await rows.getByRole("link", { name: "open" }).count(), heading).toBe(1);
      }
      expect(await section(page, "Could not be checked (1)").locator("tbody td").nth(2).innerText()).toBe(`<b>boom</b> & "quoted"`);
      expect(await page.getByRole("heading", { level: 2, name: "In use (1)", exact: true }).count()).toBe(1);

      // A screenshot of the whole page, for people (UAMI_REPORT_SCREENSHOT=path keeps a copy).
      const screenshot = join(directory, "report.png");
      await page.screenshot({ path: screenshot, fullPage: true });
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
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
      expect(await activeContent(page)).toEqual([]);
      expect(await page.locator("article.finding h3", { hasText: HOSTILE_NAME }).count()).toBe(1);
    } finally {
      await chromium.close();
    }
  });
});
