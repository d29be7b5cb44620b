/**
 * The HTML report of a 10,000-identity tenant in headless Chromium (Debian's package, as the tests use):
 * how long it takes to render, to open from disk, and to filter and sort in the page. Each figure is the
 * median of a few rounds; the wall time a person waits, and the renderer's main-thread CPU time (CDP
 * `ThreadTime`), which a busy machine inflates far less.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CDPSession, Page } from "playwright-core";
import { renderReport } from "../src/report/render.js";
import { findChromium, launchChromium } from "../test/helpers/chromium.js";
import { largeReport } from "../test/report/largeReport.js";
import { toMiB, type FigureRecorder, type Measurement } from "./measurement.js";

const IDENTITIES = 10_000;
const ROUNDS = 3;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function threadTimeMs(cdp: CDPSession): Promise<number> {
  const { metrics } = (await cdp.send("Performance.getMetrics")) as { metrics: Array<{ name: string; value: number }> };
  return (metrics.find((metric) => metric.name === "ThreadTime")?.value ?? Number.NaN) * 1000;
}

/** One thing a person does in the page: type a search, pick a filter, click a column heading. */
type PageAction = { search: string } | { select: string; value: string } | { sort: string };

interface PageElement {
  value: string;
  click(): void;
  dispatchEvent(event: unknown): void;
}

/** Does `actions` in the page, then waits for two frames (style, layout and paint done): wall ms in the page, CPU ms. */
async function inPage(page: Page, cdp: CDPSession, actions: PageAction[]): Promise<{ wallMs: number; cpuMs: number }> {
  const before = await threadTimeMs(cdp);
  const wallMs = await page.evaluate(async (steps: PageAction[]) => {
    const scope = globalThis as unknown as {
      document: { getElementById(id: string): PageElement; querySelector(selector: string): PageElement };
      Event: new (type: string) => unknown;
      requestAnimationFrame(callback: () => void): void;
    };
    const started = performance.now();
    for (const step of steps) {
      if ("search" in step) {
        const input = scope.document.getElementById("q");
        input.value = step.search;
        input.dispatchEvent(new scope.Event("input"));
      } else if ("select" in step) {
        const select = scope.document.getElementById(step.select);
        select.value = step.value;
        select.dispatchEvent(new scope.Event("change"));
      } else {
        scope.document.querySelector(`#identities th[data-sort="${step.sort}"] button`).click();
      }
    }
    await new Promise<void>((resolve) => scope.requestAnimationFrame(() => scope.requestAnimationFrame(resolve)));
    return performance.now() - started;
  }, actions);
  return { wallMs, cpuMs: (await threadTimeMs(cdp)) - before };
}

export const htmlReport: Measurement = {
  name: "htmlReport",
  title: `HTML report of ${IDENTITIES.toLocaleString("en")} identities in headless Chromium`,
  async run(out: FigureRecorder) {
    let started = performance.now();
    const report = largeReport(IDENTITIES);
    out.progress(`report built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    const html = renderReport(report, "html").body;
    out.figure("render the HTML", (performance.now() - started) / 1000, "s");
    out.figure("page size", toMiB(Buffer.byteLength(html)), "MiB");

    const executablePath = findChromium();
    if (!executablePath) {
      out.note("Chromium not found (install Debian's chromium, or set CHROMIUM_PATH): no browser figures");
      return;
    }
    const directory = await mkdtemp(join(tmpdir(), "uami-bench-html-"));
    const file = join(directory, "report.html");
    await writeFile(file, html, "utf8");
    const url = pathToFileURL(file).href;
    const chromium = await launchChromium(executablePath, { viewport: { width: 1400, height: 1000 } });
    const samples = new Map<string, { wall: number[]; cpu: number[] }>();
    const sample = (label: string, wall: number, cpu: number) => {
      const entry = samples.get(label) ?? { wall: [], cpu: [] };
      entry.wall.push(wall);
      entry.cpu.push(cpu);
      samples.set(label, entry);
    };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const page = await chromium.context.newPage();
        const cdp = await chromium.context.newCDPSession(page);
        await cdp.send("Performance.enable");
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        const cpuBefore = await threadTimeMs(cdp);
        const opened = performance.now();
        await page.goto(url, { waitUntil: "load", timeout: 300_000 });
        await page.evaluate(() => new Promise<void>((resolve) => (globalThis as unknown as { requestAnimationFrame(callback: () => void): void }).requestAnimationFrame(() => resolve())));
        const openWall = performance.now() - opened;
        const openCpu = (await threadTimeMs(cdp)) - cpuBefore;
        const navigation = await page.evaluate(() => {
          // In the page: the DOM's performance (the project compiles without the DOM library).
          const entry = performance.getEntriesByType("navigation" as never)[0] as unknown as { domContentLoadedEventEnd: number } | undefined;
          const paint = performance.getEntriesByName("first-contentful-paint")[0];
          return { domContentLoaded: entry?.domContentLoadedEventEnd ?? Number.NaN, firstPaint: paint?.startTime ?? Number.NaN };
        });
        if (errors.length > 0) throw new Error(`the page raised ${errors.join("; ")}`);
        const ready = await page.locator("html[data-report-ready]").count();
        if (ready !== 1) throw new Error("the report's script did not run");
        sample("open: load event, wall", openWall, openCpu);
        sample("open: first contentful paint", navigation.firstPaint, Number.NaN);
        sample("open: DOMContentLoaded", navigation.domContentLoaded, Number.NaN);

        const steps: Array<[string, PageAction[]]> = [
          ['filter: type a search ("prod")', [{ search: "prod" }]],
          ["filter: risk critical", [{ select: "f-risk", value: "critical" }]],
          ["filter: one subscription", [{ select: "f-subscription", value: report.run.subscriptions[3]!.subscriptionId.toLowerCase() }]],
          ["filter: clear all", [{ search: "" }, { select: "f-risk", value: "" }, { select: "f-subscription", value: "" }]],
          ["sort: by name", [{ sort: "name" }]],
          ["sort: by name, descending", [{ sort: "name" }]],
          ["sort: by risk", [{ sort: "risk" }]],
        ];
        for (const [label, action] of steps) {
          const { wallMs, cpuMs } = await inPage(page, cdp, action);
          sample(label, wallMs, cpuMs);
        }
        await page.close();
      }
      for (const [label, { wall, cpu }] of samples) {
        out.figure(`${label} (median of ${ROUNDS})`, median(wall), "ms");
        const cpuMedian = median(cpu.filter((value) => Number.isFinite(value)));
        if (Number.isFinite(cpuMedian)) out.figure(`${label}, renderer main-thread CPU`, cpuMedian, "ms");
      }
    } finally {
      await chromium.close();
      await rm(directory, { recursive: true, force: true });
    }
  },
};
