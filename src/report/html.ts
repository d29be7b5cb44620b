import { VERDICTS, type Verdict } from "../findings/verdicts.js";
import { SafeHtml, html, safeLinkUrl } from "./escape.js";
import {
  REVIEW_VERDICTS,
  VERDICT_DESCRIPTIONS,
  VERDICT_TITLES,
  describeRunScope,
  formatDay,
  formatDuration,
  formatTime,
  plural,
  reviewText,
} from "./labels.js";
import type { AuditReport, IdentityFinding } from "./model.js";

/**
 * The report as one self-contained HTML page: inline CSS, no script, no external resource (the Content
 * Security Policy forbids them, so even a value that escaped escaping could not run or call out). Every
 * value is interpolated through the `html` tag, which escapes by default; links are only built from
 * https URLs.
 */
export function renderHtml(report: AuditReport): string {
  const { run } = report;
  const title = `Unused managed identities: run ${run.runId}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
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
${report.run.banners.map((banner) => html`<p class="${banner.level === "warning" ? "warning" : "note"}">${banner.text}</p>`)}
<section>
<h2>Summary</h2>
<div class="cards">${VERDICTS.map(
    (verdict) => html`<div class="card v-${verdict}"><span class="count">${run.countsByVerdict[verdict]}</span><span>${VERDICT_TITLES[verdict]}</span></div>`,
  )}</div>
<p>${plural(run.identityCount, "identity", "identities")} checked, <strong>${run.newUnusedCount}</strong> newly unused since the previous run.
Started ${formatTime(run.startedAt)}, finished ${formatTime(run.finishedAt)} (${formatDuration(run.durationSeconds)}), status ${run.status}.
Grace period ${report.settings.gracePeriodDays} days; exemption tag <code>${report.settings.exemptTag}</code>.
${run.mode ? html`Mode <strong>${run.mode}</strong>${run.modeReason ? html` (${run.modeReason})` : ""}; ${plural(run.apiRequests, "listAssociatedResources request", "listAssociatedResources requests")}.` : ""}</p>
${sourcesTable(report)}
${subscriptionTable(report)}
</section>
<section>
<h2>${VERDICT_TITLES.unused} (${report.unused.length})</h2>
<p class="muted">${VERDICT_DESCRIPTIONS.unused}</p>
${report.unused.length === 0 ? html`<p>None.</p>` : report.unused.map((finding, index) => unusedCard(finding, index + 1))}
</section>
${REVIEW_VERDICTS.map((verdict) => reviewSection(report, verdict))}
<section>
<h2>${VERDICT_TITLES["in-use"]} (${report.inUseCount})</h2>
<p class="muted">${VERDICT_DESCRIPTIONS["in-use"]} Listed individually in the JSON report.</p>
</section>
<footer class="muted">Generated ${formatTime(report.generatedAt)} by uami-audit · report schema version ${report.schemaVersion}</footer>
</body>
</html>
`;
  return page.value;
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

function subscriptionTable(report: AuditReport): SafeHtml {
  if (report.run.subscriptions.length === 0) return html``;
  return html`<table>
<thead><tr><th>Subscription</th><th class="num">Total</th>${VERDICTS.map((verdict) => html`<th class="num">${VERDICT_TITLES[verdict]}</th>`)}</tr></thead>
<tbody>${report.run.subscriptions.map(
    (subscription) => html`
<tr><td>${subscription.subscriptionName ? html`${subscription.subscriptionName}<br>` : ""}<code>${subscription.subscriptionId}</code></td><td class="num">${subscription.identityCount}</td>${VERDICTS.map(
      (verdict) => html`<td class="num${subscription.countsByVerdict[verdict] > 0 && verdict === "unused" ? " hot" : ""}">${subscription.countsByVerdict[verdict]}</td>`,
    )}</tr>`,
  )}
</tbody>
</table>`;
}

function unusedCard(finding: IdentityFinding, rank: number): SafeHtml {
  return html`
<article class="finding risk-${finding.risk.level}">
<h3><span class="rank">#${rank}</span> ${finding.name} <span class="badge risk-${finding.risk.level}">${finding.risk.level} risk · ${finding.risk.score}</span>${finding.isNew ? html` <span class="badge new">new</span>` : ""}</h3>
<dl>
<dt>Subscription</dt><dd>${finding.subscriptionName ? html`${finding.subscriptionName} ` : ""}<code>${finding.subscriptionId}</code></dd>
<dt>Resource group</dt><dd>${finding.resourceGroup} · ${finding.location}</dd>
<dt>Unused since</dt><dd>${finding.unusedSince ? formatTime(finding.unusedSince) : "this run"}</dd>
<dt>Created</dt><dd>${formatDay(finding.createdAt)}</dd>
<dt>Principal / client id</dt><dd><code>${finding.principalId}</code> / <code>${finding.clientId}</code></dd>
<dt>Tags</dt><dd>${tagChips(finding)}</dd>
<dt>Why unused</dt><dd>${finding.confirmed ? "" : html`<span class="badge unconfirmed">unconfirmed</span> `}${finding.reasons.join("; ")}</dd>
<dt>Evidence</dt><dd>${evidenceText(finding)}</dd>
<dt>Why this risk</dt><dd>${finding.risk.reasons.join("; ")}</dd>
<dt>Role assignments</dt><dd>${roleTable(finding)}</dd>
<dt>Portal</dt><dd>${portalLink(finding, "Open in the Azure portal")}</dd>
<dt>Delete</dt><dd>${finding.deleteCommand ? html`<pre><code>${finding.deleteCommand}</code></pre>` : ""}</dd>
</dl>
</article>`;
}

function reviewSection(report: AuditReport, verdict: Exclude<Verdict, "unused" | "in-use">): SafeHtml {
  const findings = report[verdict];
  return html`
<section>
<h2>${VERDICT_TITLES[verdict]} (${findings.length})</h2>
<p class="muted">${VERDICT_DESCRIPTIONS[verdict]}</p>
${findings.length === 0
    ? html`<p>None.</p>`
    : html`<table>
<thead><tr><th>Name</th><th>Subscription / resource group</th><th>${verdict === "error" ? "Error" : "Reasons"}</th><th>Risk</th><th>Role assignments</th><th>Created</th><th>Tags</th><th>Portal</th></tr></thead>
<tbody>${findings.map(
        (finding) => html`
<tr><td>${finding.name}</td><td>${finding.subscriptionName ?? finding.subscriptionId}<br>${finding.resourceGroup}</td><td>${reviewText(finding, verdict)}</td><td><span class="badge risk-${finding.risk.level}">${finding.risk.level}</span></td><td>${roleSummary(finding)}</td><td>${formatDay(finding.createdAt)}</td><td>${tagChips(finding)}</td><td>${portalLink(finding, "open")}</td></tr>`,
      )}
</tbody>
</table>`}
</section>`;
}

function roleTable(finding: IdentityFinding): SafeHtml {
  if (finding.roleAssignments.length === 0) return html`none`;
  return html`<table class="roles"><tbody>${finding.roleAssignments.map(
    (assignment) =>
      html`<tr class="${assignment.privileged ? "privileged" : ""}"><td>${assignment.roleName}</td><td>${assignment.scopeLevel}</td><td><code>${assignment.scope}</code></td></tr>`,
  )}</tbody></table>`;
}

function roleSummary(finding: IdentityFinding): SafeHtml {
  if (finding.roleAssignments.length === 0) return html`none`;
  return html`${finding.roleAssignments.map(
    (assignment, index) =>
      html`${index > 0 ? html`<br>` : ""}<span class="${assignment.privileged ? "privileged" : ""}">${assignment.roleName}</span> at <code>${assignment.scope}</code>`,
  )}`;
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

/** Constant CSS, ours alone: inserted as is (escaping would break the quoted font names). */
const STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1f; --bg: #fff; --muted: #5f6368; --line: #dadce0; --card: #f6f8fa;
  --critical: #b3261e; --high: #c2410c; --medium: #a16207; --low: #2563eb; --none: #5f6368; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --bg: #121212; --muted: #9aa0a6; --line: #3c4043; --card: #1e1f22; } }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 1.5rem; max-width: 80rem; }
h1 { margin: 0 0 .25rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { margin: 0 0 .5rem; font-size: 1.1rem; overflow-wrap: anywhere; }
code, pre { font: 13px/1.4 ui-monospace, "Cascadia Code", Consolas, monospace; overflow-wrap: anywhere; }
pre { background: var(--card); border: 1px solid var(--line); padding: .5rem; margin: 0; white-space: pre-wrap; user-select: all; }
.muted { color: var(--muted); }
.warning { border-left: 4px solid var(--critical); padding: .5rem 1rem; background: var(--card); }
.note { border-left: 4px solid var(--muted, #5f6368); padding: .5rem 1rem; background: var(--card); }
.badge.unconfirmed { background: #fde68a; color: #713f12; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem; min-width: 9rem; display: flex; flex-direction: column; }
.card .count { font-size: 1.8rem; font-weight: 600; }
.card.v-unused { border-color: var(--critical); }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; word-break: normal; }
th { white-space: nowrap; }
td:first-child { min-width: 14rem; }
td code { word-break: break-all; }
th { font-weight: 600; } .num { text-align: right; } td.hot { color: var(--critical); font-weight: 600; }
table.roles { margin: 0; } table.roles td { padding: .15rem .5rem .15rem 0; }
.privileged { color: var(--critical); font-weight: 600; }
.finding { border: 1px solid var(--line); border-left-width: 6px; border-radius: 8px; padding: .75rem 1rem; margin: 1rem 0; }
.finding.risk-critical { border-left-color: var(--critical); } .finding.risk-high { border-left-color: var(--high); }
.finding.risk-medium { border-left-color: var(--medium); } .finding.risk-low { border-left-color: var(--low); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; border-radius: 999px; padding: .05rem .55rem; color: #fff; background: var(--none); vertical-align: middle; text-transform: uppercase; white-space: nowrap; }
.badge.risk-critical { background: var(--critical); } .badge.risk-high { background: var(--high); }
.badge.risk-medium { background: var(--medium); } .badge.risk-low { background: var(--low); }
.badge.new { background: #7c3aed; }
.rank { color: var(--muted); font-weight: 400; }
.tag { display: inline-block; background: var(--card); border: 1px solid var(--line); border-radius: 4px; padding: 0 .35rem; margin: 0 .25rem .15rem 0; font-size: .85rem; overflow-wrap: anywhere; }
a { color: var(--low); }
footer { margin-top: 3rem; font-size: .85rem; }
`;
