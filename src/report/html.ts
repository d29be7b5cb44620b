import { createHash } from "node:crypto";
import { RISK_LEVELS } from "../findings/risk.js";
import { VERDICTS, type Verdict } from "../findings/verdicts.js";
import { SafeHtml, html, safeLinkUrl } from "./escape.js";
import {
  REVIEW_VERDICTS,
  VERDICT_DESCRIPTIONS,
  VERDICT_SHORT_TITLES,
  VERDICT_TITLES,
  describeRunScope,
  formatDay,
  formatDuration,
  formatTime,
  plural,
  reviewText,
} from "./labels.js";
import type { AuditReport, IdentityFinding } from "./model.js";
import { type TrendPoint, unusedTotal } from "./trend.js";

/** The verdicts the identity table lists, in report order (in-use identities are only counted). */
const LISTED_VERDICTS = ["unused", ...REVIEW_VERDICTS] as const satisfies readonly Verdict[];

/** A subscription table longer than this starts folded (a tenant can have thousands). */
const OPEN_SUBSCRIPTION_ROWS = 25;

/**
 * The report as one self-contained HTML page: inline CSS and one small inline script, nothing fetched.
 * The Content Security Policy forbids every external resource and allows only that style and that script,
 * by their sha256 hashes (computed here, from the exact bytes on the page), so even a value that escaped
 * escaping could neither run nor call out. Every value is interpolated through the `html` tag, which
 * escapes by default; the script reads what it sorts and filters from the escaped page (data attributes
 * and cell text), never from code; links are only built from https URLs.
 *
 * Without script (a mail client, a locked-down viewer) the page is complete: every identity is in the
 * table, and each one's evidence, role assignments and delete command open with `<details>`. The script
 * only adds sorting by column and filtering by text, verdict, subscription and risk.
 */
export function renderHtml(report: AuditReport): string {
  const { run } = report;
  const title = `Unused managed identities: run ${run.runId}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${new SafeHtml(contentSecurityPolicy())}">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<header>
<h1>Unused managed identities</h1>
<p class="muted">Tenant <code>${run.tenantId}</code> · ${describeRunScope(run.scope)} · run <code>${run.runId}</code></p>
</header>
${run.status === "complete" ? "" : html`<p class="warning">This run is <strong>${run.status}</strong>${run.error ? html`: ${run.error}` : ""}. The lists below may be incomplete.</p>`}
${(run.banners ?? []).map((banner) => html`<p class="${banner.level === "warning" ? "warning" : "note"}">${banner.text}</p>`)}
<section>
<h2>Summary</h2>
<div class="cards">${VERDICTS.map(
    (verdict) => html`<div class="card v-${verdict}"><span class="count">${run.countsByVerdict[verdict]}</span><span>${VERDICT_TITLES[verdict]}</span></div>`,
  )}</div>
<p>${plural(run.identityCount, "identity", "identities")} checked, <strong>${run.newUnusedCount}</strong> newly unused since the previous run.
Started ${formatTime(run.startedAt)}, finished ${formatTime(run.finishedAt)} (${formatDuration(run.durationSeconds)}), status ${run.status}.
Grace period ${report.settings.gracePeriodDays} days; exemption tag <code>${report.settings.exemptTag}</code>.
${run.mode ? html`Mode <strong>${run.mode}</strong>${run.modeReason ? html` (${run.modeReason})` : ""}; ${plural(run.apiRequests, "listAssociatedResources request", "listAssociatedResources requests")}.` : ""}</p>
${trendChart(report.trend ?? [])}
${sourcesTable(report)}
${subscriptionTable(report)}
</section>
${identitySection(report)}
<section>
<h2>${VERDICT_TITLES["in-use"]} (${report.inUseCount})</h2>
<p class="muted">${VERDICT_DESCRIPTIONS["in-use"]} Listed individually in the JSON report.</p>
</section>
<footer class="muted">Generated ${formatTime(report.generatedAt)} by uami-audit · report schema version ${report.schemaVersion}</footer>
<script>${new SafeHtml(SCRIPT)}</script>
</body>
</html>
`;
  return page.value;
}

/**
 * Nothing from anywhere (`default-src 'none'`), except this page's own style element and script element,
 * each allowed by the hash of its exact text. No `unsafe-inline`: an injected `<script>`, `<style>`,
 * event handler or `style` attribute would not run.
 */
export function contentSecurityPolicy(): string {
  return `default-src 'none'; style-src ${hashSource(STYLE)}; script-src ${hashSource(SCRIPT)}; base-uri 'none'; form-action 'none'`;
}

function hashSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** The run's sources of evidence: which answered, and the disagreements between them. */
function sourcesTable(report: AuditReport): SafeHtml {
  const sources = report.run.sources;
  if (!sources) return html``;
  const rows: [string, { status: string; reason?: string }, string][] = [
    ["listAssociatedResources", sources.associationsApi, sources.associationsApi.apiVersion ? `api-version ${sources.associationsApi.apiVersion}` : ""],
    ["Resource Graph reference sweep", sources.resourceGraph, `${sources.resourceGraph.referencedIdentities ?? 0} identities referenced`],
    ["Creation times (ARM resource list)", sources.createdTime, ""],
    ["Sign-in activity (Log Analytics)", sources.signIns, sources.signIns.windowDays ? `last ${sources.signIns.windowDays} days` : ""],
  ];
  return html`<table class="sources">
<thead><tr><th>Source of evidence</th><th>Status</th><th>Detail</th></tr></thead>
<tbody>${rows.map(([name, state, detail]) => html`
<tr><td>${name}</td><td>${state.status}</td><td>${[detail, state.reason].filter(Boolean).join("; ")}</td></tr>`)}
</tbody>
</table>
<p>${plural(report.run.disagreementCount, "identity", "identities")} where listAssociatedResources said 0 but Resource Graph showed a reference (counted in use)${report.run.unconfirmedUnusedCount > 0 ? html`; ${plural(report.run.unconfirmedUnusedCount, "unused verdict", "unused verdicts")} unconfirmed by listAssociatedResources` : ""}.</p>`;
}

/** One line per source: what it said about this identity. */
export function evidenceText(finding: IdentityFinding): string {
  const { associationsApi, resourceGraph, federatedCredentials, signIns, creation } = finding.evidence;
  return [
    associationsApi.status === "checked" ? `listAssociatedResources: ${associationsApi.count}` : `listAssociatedResources: ${associationsApi.status}`,
    resourceGraph.status === "checked" ? `Resource Graph: ${resourceGraph.referenceCount} references` : "Resource Graph: unavailable",
    `federated credentials: ${federatedCredentials.count ?? "unknown"}`,
    signIns.status === "checked" ? `last sign-in: ${signIns.lastSignInAt ?? `none in ${signIns.windowDays} days`}` : `sign-ins: ${signIns.status}`,
    `created: ${creation.createdAt ?? "unknown"} (${creation.source})`,
  ].join("; ");
}

/** Counts per subscription: short verdict headings that wrap, so the table fits the page at any width. */
function subscriptionTable(report: AuditReport): SafeHtml {
  const subscriptions = report.run.subscriptions;
  if (subscriptions.length === 0) return html``;
  return html`<details class="subscriptions"${new SafeHtml(subscriptions.length <= OPEN_SUBSCRIPTION_ROWS ? " open" : "")}>
<summary>By subscription (${subscriptions.length})</summary>
<div class="fit"><table class="subs">
<colgroup><col class="c-subscription"><col>${VERDICTS.map(() => html`<col>`)}</colgroup>
<thead><tr><th scope="col">Subscription</th><th scope="col" class="num">Total</th>${VERDICTS.map(
    (verdict) => html`<th scope="col" class="num" title="${VERDICT_TITLES[verdict]}">${VERDICT_SHORT_TITLES[verdict]}</th>`,
  )}</tr></thead>
<tbody>${subscriptions.map(
    (subscription) => html`
<tr><td>${subscription.subscriptionName ? html`${subscription.subscriptionName}<br>` : ""}<code>${subscription.subscriptionId}</code></td><td class="num">${subscription.identityCount}</td>${VERDICTS.map(
      (verdict) => html`<td class="num${subscription.countsByVerdict[verdict] > 0 && verdict === "unused" ? " hot" : ""}">${subscription.countsByVerdict[verdict]}</td>`,
    )}</tr>`,
  )}
</tbody>
</table></div>
</details>`;
}

// ---------------------------------------------------------------------------------------------------------
// The trend: stacked bars of unused identities by risk, one per run, drawn as inline SVG (no script).

const CHART = { width: 720, height: 240, left: 48, right: 40, top: 14, bottom: 40 } as const;
/** Bottom to top: the worst at the base, where the eye compares bars. */
const STACK_ORDER = RISK_LEVELS;

function trendChart(trend: readonly TrendPoint[]): SafeHtml {
  if (trend.length === 0) return html``;
  const totals = trend.map(unusedTotal);
  const top = niceCeiling(Math.max(...totals));
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const slot = plotWidth / trend.length;
  const barWidth = Math.max(2, Math.min(36, slot * 0.7));
  const y = (value: number) => CHART.top + plotHeight - (value / top) * plotHeight;
  const labelEvery = Math.ceil(trend.length / 7);
  const first = trend[0]!;
  const last = trend[trend.length - 1]!;
  const summary =
    trend.length === 1
      ? `${unusedTotal(last)} unused on ${formatDay(last.startedAt)}; the trend grows with each completed run of this scope.`
      : `From ${unusedTotal(first)} unused on ${formatDay(first.startedAt)} to ${unusedTotal(last)} on ${formatDay(last.startedAt)}.`;
  const ticks = [0, top / 2, top];

  const bars = trend.map((point, index) => {
    const x = CHART.left + slot * index + (slot - barWidth) / 2;
    let base = 0;
    const segments = STACK_ORDER.map((level) => {
      const count = point.unusedByRisk[level] ?? 0;
      if (count === 0) return html``;
      const rect = html`<rect class="r-${level}" x="${fixed(x)}" y="${fixed(y(base + count))}" width="${fixed(barWidth)}" height="${fixed(y(base) - y(base + count))}"><title>${formatDay(point.startedAt)}: ${count} ${level}</title></rect>`;
      base += count;
      return rect;
    });
    const showLabel = index % labelEvery === 0 || index === trend.length - 1;
    return html`<g><title>${formatTime(point.startedAt)} (run ${point.runId}): ${unusedTotal(point)} unused</title>${segments}${
      showLabel ? html`<text class="x" x="${fixed(x + barWidth / 2)}" y="${CHART.height - CHART.bottom + 16}" text-anchor="middle">${formatDay(point.startedAt)}</text>` : ""
    }</g>`;
  });

  return html`<figure class="trend">
<figcaption>Unused identities over the last ${plural(trend.length, "run")} of this scope, by risk</figcaption>
<svg class="chart" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-labelledby="trend-title trend-desc" xmlns="http://www.w3.org/2000/svg">
<title id="trend-title">Unused identities per run, by risk</title>
<desc id="trend-desc">${summary}</desc>
${ticks.map(
    (tick) => html`<line class="grid" x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${fixed(y(tick))}" y2="${fixed(y(tick))}"></line><text class="y" x="${CHART.left - 6}" y="${fixed(y(tick) + 4)}" text-anchor="end">${formatCount(tick)}</text>`,
  )}
${bars}
</svg>
<p class="legend">${[...STACK_ORDER].reverse().map((level) => html`<span class="key r-${level}"></span>${level} `)}· ${summary}</p>
<details><summary>The numbers</summary>
<div class="fit"><table class="trend-numbers"><thead><tr><th scope="col">Run started</th>${RISK_LEVELS.map((level) => html`<th scope="col" class="num">${level}</th>`)}<th scope="col" class="num">unused</th></tr></thead>
<tbody>${trend.map(
    (point) => html`<tr><td>${formatTime(point.startedAt)}</td>${RISK_LEVELS.map((level) => html`<td class="num">${point.unusedByRisk[level] ?? 0}</td>`)}<td class="num">${unusedTotal(point)}</td></tr>`,
  )}</tbody></table></div>
</details>
</figure>`;
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 4, so the ticks are whole). */
function niceCeiling(value: number): number {
  if (!(value > 4)) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function fixed(value: number): string {
  return String(Math.round(value * 10) / 10);
}

// ---------------------------------------------------------------------------------------------------------
// The identity table: one row per identity, its details in a second row that its name's <details> opens.

function identitySection(report: AuditReport): SafeHtml {
  const listed = LISTED_VERDICTS.flatMap((verdict) => report[verdict] ?? []);
  const present = LISTED_VERDICTS.filter((verdict) => (report[verdict] ?? []).length > 0);
  const subscriptions = new Map<string, { label: string; count: number }>();
  for (const finding of listed) {
    const key = finding.subscriptionId.toLowerCase();
    const entry = subscriptions.get(key) ?? { label: finding.subscriptionName ? `${finding.subscriptionName} (${finding.subscriptionId})` : finding.subscriptionId, count: 0 };
    entry.count += 1;
    subscriptions.set(key, entry);
  }
  const risks = RISK_LEVELS.map((level) => [level, listed.filter((finding) => finding.risk.level === level).length] as const);
  const reviewCount = listed.length - report.unused.length;

  return html`<section id="findings">
<h2>${VERDICT_TITLES.unused} (${report.unused.length}) and to review (${reviewCount})</h2>
<p class="muted">Every identity that is not in use: unused ones first, highest risk first, then the ones to review. Open a name for its evidence, role assignments and delete command.</p>
<dl class="verdicts">${present.map((verdict) => html`<dt><span class="badge v-${verdict}">${VERDICT_SHORT_TITLES[verdict]}</span></dt><dd>${VERDICT_DESCRIPTIONS[verdict]}</dd>`)}</dl>
${listed.length === 0
    ? html`<p>None.</p>`
    : html`<div class="controls" id="controls" hidden>
<label>Search <input type="search" id="q" placeholder="name, subscription, resource group, role" autocomplete="off" spellcheck="false"></label>
<label>Verdict <select id="f-verdict"><option value="">All verdicts</option>${present.map(
        (verdict) => html`<option value="${verdict}">${VERDICT_SHORT_TITLES[verdict]} (${(report[verdict] ?? []).length})</option>`,
      )}</select></label>
<label>Subscription <select id="f-subscription"><option value="">All subscriptions</option>${[...subscriptions.entries()]
        .sort(([, a], [, b]) => (a.label.toLowerCase() < b.label.toLowerCase() ? -1 : 1))
        .map(([key, entry]) => html`<option value="${key}">${entry.label} (${entry.count})</option>`)}</select></label>
<label>Risk <select id="f-risk"><option value="">All risks</option>${risks
        .filter(([, count]) => count > 0)
        .map(([level, count]) => html`<option value="${level}">${level} (${count})</option>`)}</select></label>
<output id="shown" aria-live="polite"></output>
</div>
<table id="identities" class="findings">
<colgroup><col class="c-name"><col class="c-verdict"><col class="c-sub"><col class="c-rg"><col class="c-risk"><col class="c-since"><col class="c-new"><col class="c-roles"></colgroup>
<thead><tr><th scope="col" data-sort="name">Name</th><th scope="col" data-sort="verdict">Verdict</th><th scope="col" data-sort="subscription">Subscription</th><th scope="col" data-sort="rg">Resource group</th><th scope="col" data-sort="risk">Risk</th><th scope="col" data-sort="since">Unused since</th><th scope="col" data-sort="new">New</th><th scope="col" data-sort="roles">Roles</th></tr></thead>
${listed.map(identityRows)}
</table>`}
</section>`;
}

/**
 * One `<tbody>` per identity: its row, and its details row that the name's `<details>` opens (CSS `:has`).
 * Written without whitespace between elements and with few of them: a 10,000-identity page is about
 * 700,000 DOM nodes, and every node costs parse time.
 */
function identityRows(finding: IdentityFinding): SafeHtml {
  const verdict = finding.verdict;
  return html`<tbody class="identity" data-verdict="${verdict}" data-risk="${finding.risk.level}" data-score="${finding.risk.score}" data-sub="${finding.subscriptionId.toLowerCase()}" data-since="${finding.unusedSince ?? ""}" data-new="${finding.isNew ? "1" : "0"}"><tr><td><details><summary>${finding.name}</summary></details></td><td><span class="badge v-${verdict}">${VERDICT_SHORT_TITLES[verdict]}</span>${verdict === "unused" && !finding.confirmed ? html` <span class="badge unconfirmed">unconfirmed</span>` : ""}</td><td title="${finding.subscriptionId}">${finding.subscriptionName ?? finding.subscriptionId}</td><td>${finding.resourceGroup}</td><td><span class="badge risk-${finding.risk.level}">${finding.risk.level}</span> ${finding.risk.score}</td><td>${verdict === "unused" ? formatDay(finding.unusedSince) : ""}</td><td>${finding.isNew ? html`<span class="badge new">new</span>` : ""}</td><td>${roleSummary(finding)}</td></tr><tr class="more"><td colspan="8">${identityDetails(finding)}</td></tr></tbody>
`;
}

function identityDetails(finding: IdentityFinding): SafeHtml {
  const about = [
    `subscription ${finding.subscriptionName ? `${finding.subscriptionName} ` : ""}(${finding.subscriptionId})`,
    `location ${finding.location}`,
    `created ${formatDay(finding.createdAt)}`,
    `principal id ${finding.principalId}`,
    `client id ${finding.clientId}`,
  ].join(" · ");
  return html`<dl class="detail"><dt>${finding.verdict === "error" ? "Error" : "Why"}</dt><dd>${finding.verdict === "unused" && !finding.confirmed ? html`<span class="badge unconfirmed">unconfirmed</span> ` : ""}${reviewText(finding, finding.verdict)}</dd><dt>Evidence</dt><dd>${evidenceText(finding)}</dd><dt>Why this risk</dt><dd>${finding.risk.reasons.join("; ")}</dd><dt>Role assignments</dt><dd class="roles">${roleList(finding)}</dd><dt>Identity</dt><dd>${about}</dd><dt>Tags</dt><dd>${tagChips(finding)}</dd><dt>Portal</dt><dd>${portalLink(finding, "Open in the Azure portal")}</dd>${finding.deleteCommand ? html`<dt>Delete</dt><dd><pre><code>${finding.deleteCommand}</code></pre></dd>` : ""}</dl>`;
}

/** Every role assignment, privileged first, one per line: role, scope level, scope. */
function roleList(finding: IdentityFinding): SafeHtml {
  if (finding.roleAssignments.length === 0) return html`none`;
  return html`${finding.roleAssignments.map(
    (assignment, index) =>
      html`${index > 0 ? html`<br>` : ""}${assignment.privileged ? html`<b class="privileged">${assignment.roleName}</b>` : assignment.roleName} at ${assignment.scopeLevel} <code>${assignment.scope}</code>`,
  )}`;
}

/** The table cell: the first two roles (privileged first) and how many more. */
function roleSummary(finding: IdentityFinding): SafeHtml {
  const assignments = finding.roleAssignments;
  if (assignments.length === 0) return html`<span class="muted">none</span>`;
  return html`${assignments.slice(0, 2).map(
    (assignment, index) =>
      html`${index > 0 ? "; " : ""}${assignment.privileged ? html`<b class="privileged">${assignment.roleName}</b>` : assignment.roleName} (${assignment.scopeLevel})`,
  )}${assignments.length > 2 ? html` +${assignments.length - 2}` : ""}`;
}

function tagChips(finding: IdentityFinding): SafeHtml {
  const tags = Object.entries(finding.tags);
  if (tags.length === 0) return html`<span class="muted">none</span>`;
  return html`${tags.map(([name, value]) => html`<span class="tag">${name}=${value}</span> `)}`;
}

function portalLink(finding: IdentityFinding, label: string): SafeHtml {
  const url = safeLinkUrl(finding.portalUrl);
  return url ? html`<a href="${url}" rel="noopener noreferrer" target="_blank">${label}</a>` : html``;
}

// ---------------------------------------------------------------------------------------------------------

/** Constant CSS, ours alone: inserted as is (escaping would break the quoted font names); hashed for the CSP. */
const STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1f; --bg: #fff; --muted: #5f6368; --line: #dadce0; --card: #f6f8fa;
  --critical: #b3261e; --high: #c2410c; --medium: #a16207; --low: #2563eb; --none: #5f6368; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --bg: #121212; --muted: #9aa0a6; --line: #3c4043; --card: #1e1f22; } }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 1.5rem; max-width: 90rem; }
h1 { margin: 0 0 .25rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
code, pre { font: 13px/1.4 ui-monospace, "Cascadia Code", Consolas, monospace; overflow-wrap: anywhere; }
pre { background: var(--card); border: 1px solid var(--line); padding: .5rem; margin: 0; white-space: pre-wrap; user-select: all; }
.muted { color: var(--muted); }
.warning { border-left: 4px solid var(--critical); padding: .5rem 1rem; background: var(--card); }
.note { border-left: 4px solid var(--muted); padding: .5rem 1rem; background: var(--card); }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem; min-width: 9rem; display: flex; flex-direction: column; }
.card .count { font-size: 1.8rem; font-weight: 600; }
.card.v-unused { border-color: var(--critical); }
.fit { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; } .num { text-align: right; } td.hot { color: var(--critical); font-weight: 600; }
td code { word-break: break-all; }
table.subs { table-layout: fixed; } table.subs col.c-subscription { width: 24%; } table.subs th { font-size: .85rem; }
dd.roles { line-height: 1.7; }
.privileged { color: var(--critical); font-weight: 600; }
details > summary { cursor: pointer; }
details.subscriptions > summary, figure.trend details > summary { margin: .75rem 0 0; font-weight: 600; }
figure.trend { margin: 1.5rem 0; }
figure.trend figcaption { font-weight: 600; }
svg.chart { width: 100%; max-width: 720px; height: auto; display: block; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart text { fill: var(--muted); font: 11px system-ui, sans-serif; }
.r-critical { fill: #b3261e; background: #b3261e; } .r-high { fill: #f08c00; background: #f08c00; }
.r-medium { fill: #f5c518; background: #f5c518; } .r-low { fill: #5b8def; background: #5b8def; }
.r-none { fill: #bdc1c6; background: #bdc1c6; }
.legend { font-size: .85rem; color: var(--muted); } .key { display: inline-block; width: .8em; height: .8em; margin: 0 .25em 0 .5em; vertical-align: -.05em; }
dl.verdicts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; font-size: .9rem; }
dl.verdicts dd { margin: 0; color: var(--muted); }
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 1rem 0 .5rem; }
.controls[hidden] { display: none; }
.controls label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
.controls input, .controls select { font: inherit; font-size: .95rem; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .25rem .4rem; max-width: 22rem; }
.controls input { width: 20rem; }
.controls output { font-size: .9rem; padding-bottom: .3rem; }
/*
 * The identity table is a real <table> (a browser or mail client without this CSS shows a plain table),
 * laid out as a column of grid rows: Chromium's table layout of 10,000 row groups took ten times longer to
 * open. Each row group has content-visibility: auto, so the rows off screen are neither styled nor laid
 * out: sorting (it sets the CSS order of every row group, rather than moving 10,000 subtrees in the DOM)
 * and filtering then restyle only the rows in view, instead of taking seconds to restyle them all.
 */
table.findings { display: flex; flex-direction: column; font-size: .9rem; }
table.findings > colgroup { display: none; }
table.findings > thead { order: -1; position: sticky; top: 0; z-index: 1; background: var(--bg); border-bottom: 2px solid var(--line); }
table.findings > thead, table.findings > tbody { display: block; }
table.findings > tbody { content-visibility: auto; contain-intrinsic-size: auto 2.6rem; border-bottom: 1px solid var(--line); }
table.findings > tbody[hidden] { display: none; }
table.findings tr { display: grid; grid-template-columns: 20% 9% 15% 14% 10% 8.5% 5% 18.5%; }
table.findings th, table.findings td { display: block; border: 0; padding: .25rem .5rem; min-width: 0; }
table.findings tr.more { grid-template-columns: 100%; }
table.findings th button { font: inherit; font-weight: 600; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; text-align: left; }
table.findings th[aria-sort="ascending"] button::after { content: " \u25b2"; } table.findings th[aria-sort="descending"] button::after { content: " \u25bc"; }
tbody.identity summary { font-weight: 600; }
tr.more > td { background: var(--card); padding: .5rem 1rem .75rem; }
@supports selector(tbody:has(details)) {
  tbody.identity > tr.more { display: none; }
  tbody.identity:has(details[open]) > tr.more { display: grid; }
}
dl.detail { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.detail dt { color: var(--muted); } dl.detail dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
.badge { display: inline-block; font-size: .72rem; font-weight: 600; border-radius: 999px; padding: .05rem .5rem; color: #fff; background: var(--none); vertical-align: middle; text-transform: uppercase; white-space: nowrap; }
.badge.risk-critical { background: var(--critical); } .badge.risk-high { background: var(--high); }
.badge.risk-medium { background: var(--medium); } .badge.risk-low { background: var(--low); }
.badge.new { background: #7c3aed; } .badge.unconfirmed { background: #fde68a; color: #713f12; }
.badge.v-unused { background: var(--critical); } .badge.v-active, .badge.v-federated { background: #0f766e; }
.badge.v-recent { background: #4f46e5; } .badge.v-exempt, .badge.v-deleted { background: var(--none); } .badge.v-error { background: #92400e; }
.tag { display: inline-block; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0 .35rem; margin: 0 .25rem .15rem 0; font-size: .85rem; overflow-wrap: anywhere; }
a { color: var(--low); }
footer { margin-top: 3rem; font-size: .85rem; }
`;

/**
 * Sorting and filtering of the identity table. Constant, ours alone, hashed for the CSP. It reads only
 * the escaped page (data attributes, cell text) and writes only attributes, `hidden` and text content.
 */
const SCRIPT = `
(function () {
  "use strict";
  var table = document.getElementById("identities");
  var controls = document.getElementById("controls");
  if (!table || !controls || !table.tHead) return;
  var query = document.getElementById("q");
  var verdictFilter = document.getElementById("f-verdict");
  var subscriptionFilter = document.getElementById("f-subscription");
  var riskFilter = document.getElementById("f-risk");
  var shown = document.getElementById("shown");
  var VERDICT_ORDER = ["unused", "active", "federated", "recent", "exempt", "error", "deleted", "in-use"];
  var items = Array.prototype.map.call(table.tBodies, function (body, index) {
    var data = body.dataset;
    var cells = body.rows[0].cells;
    var text = function (i) { return (cells[i] ? cells[i].textContent || "" : "").trim().toLowerCase(); };
    return {
      body: body,
      index: index,
      verdict: data.verdict || "",
      verdictRank: VERDICT_ORDER.indexOf(data.verdict || ""),
      risk: data.risk || "",
      score: Number(data.score) || 0,
      subscription: data.sub || "",
      since: data.since || "",
      isNew: data.new === "1",
      name: text(0),
      subscriptionText: text(2),
      resourceGroup: text(3),
      roles: text(7),
      search: ((body.rows[0].textContent || "") + " " + (data.sub || "")).toLowerCase()
    };
  });
  var total = items.length;
  function byText(field) {
    return function (a, b) { return a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0; };
  }
  var COMPARE = {
    name: byText("name"),
    verdict: function (a, b) { return a.verdictRank - b.verdictRank || b.score - a.score; },
    subscription: byText("subscriptionText"),
    rg: byText("resourceGroup"),
    risk: function (a, b) { return a.score - b.score; },
    since: byText("since"),
    "new": function (a, b) { return Number(a.isNew) - Number(b.isNew); },
    roles: byText("roles")
  };
  var DESCENDING_FIRST = { risk: true, "new": true };
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var sortKey = "";
  var descending = false;
  function sortBy(key) {
    if (sortKey === key) descending = !descending;
    else { sortKey = key; descending = DESCENDING_FIRST[key] === true; }
    var compare = COMPARE[key];
    items.sort(function (a, b) {
      if (key === "since" && !a.since !== !b.since) return a.since ? -1 : 1;
      var order = compare(a, b);
      return (descending ? -order : order) || a.index - b.index;
    });
    // The CSS order, not the DOM order: moving 10,000 row groups restyles every one of them.
    items.forEach(function (item, position) { item.body.style.order = String(position); });
    headers.forEach(function (th) {
      if (th.dataset.sort) th.setAttribute("aria-sort", th.dataset.sort === key ? (descending ? "descending" : "ascending") : "none");
    });
  }
  function applyFilters() {
    var terms = query.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var verdict = verdictFilter.value;
    var subscription = subscriptionFilter.value;
    var risk = riskFilter.value;
    var count = 0;
    items.forEach(function (item) {
      var visible = (!verdict || item.verdict === verdict) && (!subscription || item.subscription === subscription) &&
        (!risk || item.risk === risk) && terms.every(function (term) { return item.search.indexOf(term) !== -1; });
      if (item.body.hidden === visible) item.body.hidden = !visible;
      if (visible) count += 1;
    });
    shown.textContent = count === total ? "all " + total + " shown" : count + " of " + total + " shown";
    table.setAttribute("data-shown", String(count));
  }
  headers.forEach(function (th) {
    var key = th.dataset.sort;
    if (!key || !COMPARE[key]) return;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    button.title = "Sort by " + (th.textContent || "").toLowerCase();
    th.textContent = "";
    th.appendChild(button);
    th.setAttribute("aria-sort", "none");
    button.addEventListener("click", function () { sortBy(key); });
  });
  query.addEventListener("input", applyFilters);
  [verdictFilter, subscriptionFilter, riskFilter].forEach(function (select) { select.addEventListener("change", applyFilters); });
  controls.hidden = false;
  applyFilters();
  document.documentElement.setAttribute("data-report-ready", "");
})();
`;
