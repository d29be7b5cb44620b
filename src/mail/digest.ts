import { VERDICTS } from "../findings/verdicts.js";
import { html, safeLinkUrl, singleLine, type SafeHtml } from "../report/escape.js";
import { VERDICT_TITLES, describeRunScope, formatDay, formatTime, plural } from "../report/labels.js";
import type { AuditReport, IdentityFinding } from "../report/model.js";

export interface DigestOptions {
  /** Link to the full HTML report (http or https). */
  reportUrl?: string;
  /** Send even when no identity is newly unused (a "still nothing new" heartbeat). */
  alwaysSend: boolean;
}

export interface Digest {
  subject: string;
  text: string;
  html: string;
}

const MAX_SUBJECT_LENGTH = 180;
const RISK_COLORS: Record<string, string> = {
  critical: "#b3261e",
  high: "#c2410c",
  medium: "#a16207",
  low: "#2563eb",
  none: "#5f6368",
};

/**
 * The alert for one run: the newly unused identities first (highest risk first, with their privileged
 * roles), then totals by verdict, then the link to the full report. Undefined when nothing is new, unless
 * `alwaysSend`. Identities that were already unused in the previous run are counted, not listed: they were
 * announced then, and the full report has them.
 */
export function buildDigest(report: AuditReport, options: DigestOptions): Digest | undefined {
  const reportUrl = validateReportUrl(options.reportUrl);
  const fresh = report.unused.filter((finding) => finding.isNew);
  if (fresh.length === 0 && !options.alwaysSend) return undefined;
  return {
    subject: subjectFor(report, fresh),
    text: textFor(report, fresh, reportUrl),
    html: htmlFor(report, fresh, reportUrl).value,
  };
}

/** One line, no control characters from names, bounded length (some servers fold or reject long subjects). */
function subjectFor(report: AuditReport, fresh: IdentityFinding[]): string {
  const incomplete = report.run.status === "complete" ? "" : ` (run ${report.run.status})`;
  const [only] = fresh;
  const subject =
    fresh.length === 1 && only
      ? `[uami-audit] New unused managed identity ${only.name} (${only.risk.level} risk) in tenant ${report.run.tenantId}`
      : fresh.length > 1
        ? `[uami-audit] ${fresh.length} new unused managed identities (${countCritical(fresh)} critical) in tenant ${report.run.tenantId}`
        : `[uami-audit] No new unused managed identities in tenant ${report.run.tenantId} (${report.unused.length} unused in total)`;
  const line = singleLine(subject + incomplete).replace(/ {2,}/g, " ").trim();
  return line.length <= MAX_SUBJECT_LENGTH ? line : `${line.slice(0, MAX_SUBJECT_LENGTH - 1)}…`;
}

function textFor(report: AuditReport, fresh: IdentityFinding[], reportUrl: string | undefined): string {
  const { run } = report;
  // Values from Azure go through `line`, so a name cannot fake extra lines (a "Portal:" line of its own).
  const line = (value: unknown) => singleLine(String(value ?? ""));
  const out: string[] = [];
  out.push(
    `uami-audit run ${line(run.runId)} on tenant ${line(run.tenantId)} (${line(describeRunScope(run.scope))}), ` +
      `started ${formatTime(run.startedAt)}, status ${line(run.status)}.`,
  );
  if (run.status !== "complete") out.push("This run did not complete: the results may be incomplete.");
  for (const banner of run.banners ?? []) if (banner.level === "warning") out.push(`WARNING: ${line(banner.text)}`);
  out.push("");
  if (fresh.length === 0) {
    out.push("No identity became unused since the previous run.");
  } else {
    out.push(`${plural(fresh.length, "identity", "identities")} became unused since the previous run, highest risk first:`, "");
    fresh.forEach((finding, index) => {
      out.push(
        `${index + 1}. ${line(finding.name)}: ${finding.risk.level.toUpperCase()} risk (score ${finding.risk.score})`,
        `   Subscription: ${line([finding.subscriptionName, finding.subscriptionId].filter(Boolean).join(" "))}; ` +
          `resource group ${line(finding.resourceGroup)}; ${line(finding.location)}`,
        `   Privileged roles: ${privilegedRoles(finding).map(line).join("; ") || "none"}`,
        `   Created ${formatDay(finding.createdAt)}; unused since ${formatDay(finding.unusedSince)}${finding.confirmed ? "" : " (unconfirmed: listAssociatedResources unavailable)"}`,
        `   Portal: ${line(finding.portalUrl)}`,
        `   Delete: ${line(finding.deleteCommand ?? "")}`,
        "",
      );
    });
  }
  const alreadyKnown = report.unused.length - fresh.length;
  if (alreadyKnown > 0) {
    out.push(`${plural(alreadyKnown, "other identity", "other identities")} still unused (already reported).`, "");
  }
  out.push("Totals by verdict:");
  for (const verdict of VERDICTS) out.push(`  ${VERDICT_TITLES[verdict]}: ${run.countsByVerdict[verdict]}`);
  out.push("");
  out.push(reportUrl ? `Full report: ${reportUrl}` : "The full report is stored with the run.");
  return `${out.join("\n")}\n`;
}

function htmlFor(report: AuditReport, fresh: IdentityFinding[], reportUrl: string | undefined): SafeHtml {
  const { run } = report;
  const alreadyKnown = report.unused.length - fresh.length;
  // Inline styles only: many mail clients drop <style> blocks.
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>uami-audit</title></head>
<body style="font-family:Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.5;color:#1b1b1f;max-width:760px">
<p>uami-audit run <code>${run.runId}</code> on tenant <code>${run.tenantId}</code> (${describeRunScope(run.scope)}), started ${formatTime(run.startedAt)}, status <strong>${run.status}</strong>.</p>
${run.status === "complete" ? "" : html`<p style="border-left:4px solid #b3261e;padding:4px 10px">This run did not complete: the results may be incomplete.</p>`}
${(run.banners ?? []).filter((banner) => banner.level === "warning").map((banner) => html`<p style="border-left:4px solid #b3261e;padding:4px 10px">${banner.text}</p>`)}
${fresh.length === 0
    ? html`<p>No identity became unused since the previous run.</p>`
    : html`<h2 style="font-size:18px">${plural(fresh.length, "identity", "identities")} newly unused, highest risk first</h2>
${fresh.map((finding) => newFindingHtml(finding))}`}
${alreadyKnown > 0 ? html`<p>${plural(alreadyKnown, "other identity", "other identities")} still unused (already reported).</p>` : ""}
<h2 style="font-size:18px">Totals by verdict</h2>
<table style="border-collapse:collapse">${VERDICTS.map(
    (verdict) =>
      html`<tr><td style="padding:2px 16px 2px 0">${VERDICT_TITLES[verdict]}</td><td style="padding:2px 0;text-align:right"><strong>${run.countsByVerdict[verdict]}</strong></td></tr>`,
  )}</table>
<p>${reportUrl ? html`<a href="${reportUrl}">Open the full report</a>` : "The full report is stored with the run."}</p>
</body></html>
`;
}

function newFindingHtml(finding: IdentityFinding): SafeHtml {
  const color = RISK_COLORS[finding.risk.level] ?? "#5f6368";
  const portal = safeLinkUrl(finding.portalUrl);
  const roles = privilegedRoles(finding);
  return html`<div style="border:1px solid #dadce0;border-left:6px solid ${color};border-radius:6px;padding:8px 12px;margin:10px 0">
<div style="font-size:16px"><strong>${finding.name}</strong> <span style="background:${color};color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;text-transform:uppercase">${finding.risk.level} risk</span></div>
<div>Subscription ${finding.subscriptionName ? html`${finding.subscriptionName} ` : ""}<code>${finding.subscriptionId}</code>, resource group ${finding.resourceGroup}, ${finding.location}</div>
<div>Privileged roles: ${roles.length > 0 ? html`<span style="color:#b3261e">${roles.join("; ")}</span>` : "none"}</div>
<div>Created ${formatDay(finding.createdAt)}; unused since ${formatDay(finding.unusedSince)}${finding.confirmed ? "" : html` <strong>(unconfirmed: listAssociatedResources unavailable)</strong>`}</div>
${portal ? html`<div><a href="${portal}">Open in the Azure portal</a></div>` : ""}
${finding.deleteCommand ? html`<pre style="background:#f6f8fa;padding:6px;white-space:pre-wrap;word-break:break-all;margin:6px 0 0">${finding.deleteCommand}</pre>` : ""}
</div>`;
}

function privilegedRoles(finding: IdentityFinding): string[] {
  return finding.roleAssignments
    .filter((assignment) => assignment.privileged)
    .map((assignment) => `${assignment.roleName} at ${assignment.scope}`);
}

function countCritical(findings: IdentityFinding[]): number {
  return findings.filter((finding) => finding.risk.level === "critical").length;
}

function validateReportUrl(reportUrl: string | undefined): string | undefined {
  if (reportUrl === undefined || reportUrl === "") return undefined;
  const safe = safeLinkUrl(reportUrl, ["https:", "http:"]);
  if (!safe) throw new TypeError("Expected `reportUrl` to be an absolute http(s) URL without credentials");
  return safe;
}
