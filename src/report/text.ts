import { RISK_LEVELS } from "../findings/risk.js";
import { VERDICTS } from "../findings/verdicts.js";
import { terminalSafe } from "./escape.js";
import { REVIEW_VERDICTS, VERDICT_TITLES, describeRunScope, formatDay, formatDuration, formatTime, plural } from "./labels.js";
import type { AuditReport, IdentityFinding } from "./model.js";
import { countByRisk, unusedTotal } from "./trend.js";

/** How many unused identities the text report lists; the other formats list them all. */
export const TEXT_TOP_FINDINGS = 10;
/** How many of the latest runs the trend line lists. */
const TEXT_TREND_RUNS = 6;

/**
 * The report for a terminal: the run, the counts, the trend and the highest-risk unused identities, in
 * plain lines. Every value from Azure goes through `terminalSafe`: a tag holding an escape sequence must
 * not recolour or rewrite the terminal of the person reading it.
 */
export function renderText(report: AuditReport): string {
  const { run } = report;
  const t = terminalSafe;
  const lines: string[] = [];
  lines.push(
    `Unused managed identities: run ${t(run.runId)}`,
    `Tenant ${t(run.tenantId)} (${t(describeRunScope(run.scope))}), run ${t(run.status)}${run.error ? `: ${t(run.error)}` : ""}`,
    `Started ${formatTime(run.startedAt)}, finished ${formatTime(run.finishedAt)} (${formatDuration(run.durationSeconds)}); ` +
      `grace period ${report.settings.gracePeriodDays} days, exemption tag ${t(report.settings.exemptTag)}`,
  );
  if (run.status !== "complete") lines.push("WARNING: this run did not complete; the lists may be incomplete.");
  for (const banner of run.banners ?? []) lines.push(`${banner.level === "warning" ? "WARNING" : "Note"}: ${t(banner.text)}`);
  lines.push("");

  lines.push(
    `${plural(run.identityCount, "identity", "identities")}: ` +
      VERDICTS.map((verdict) => `${run.countsByVerdict[verdict]} ${VERDICT_TITLES[verdict].toLowerCase()}`).join(", "),
  );
  const byRisk = countByRisk(report.unused);
  lines.push(
    `Unused: ${report.unused.length} (${run.newUnusedCount} new since the previous run${run.unconfirmedUnusedCount > 0 ? `, ${run.unconfirmedUnusedCount} unconfirmed` : ""}), by risk: ` +
      RISK_LEVELS.map((level) => `${byRisk[level]} ${level}`).join(", "),
  );
  const trend = report.trend ?? [];
  if (trend.length > 1) {
    // The last few runs in full; the first one too when the trend is longer, for the overall change.
    const recent = trend.slice(-TEXT_TREND_RUNS).map((point) => `${unusedTotal(point)} (${formatDay(point.startedAt)})`);
    const first = trend[0]!;
    const from = trend.length > TEXT_TREND_RUNS ? `${unusedTotal(first)} (${formatDay(first.startedAt)}) ... ` : "";
    lines.push(`Unused over the last ${trend.length} runs: ${from}${recent.join(", ")}`);
  }
  lines.push("");

  if (report.unused.length === 0) {
    lines.push("No unused identities.");
  } else {
    const top = report.unused.slice(0, TEXT_TOP_FINDINGS);
    lines.push(`Top ${top.length} unused ${top.length === 1 ? "identity" : "identities"} by risk:`);
    const width = String(top.length).length;
    top.forEach((finding, index) => lines.push(...findingLines(finding, `${String(index + 1).padStart(width)}. `)));
    const rest = report.unused.length - top.length;
    if (rest > 0) lines.push(`... and ${rest} more: the html, csv, md and json formats list them all, with delete commands.`);
  }
  const review = REVIEW_VERDICTS.filter((verdict) => (report[verdict] ?? []).length > 0);
  if (review.length > 0) {
    lines.push("", `For review: ${review.map((verdict) => `${(report[verdict] ?? []).length} ${VERDICT_TITLES[verdict].toLowerCase()}`).join(", ")}.`);
  }
  lines.push("");
  return lines.join("\n");
}

function findingLines(finding: IdentityFinding, prefix: string): string[] {
  const t = terminalSafe;
  const indent = " ".repeat(prefix.length);
  const flags = [finding.isNew ? "new" : "", finding.confirmed ? "" : "unconfirmed"].filter(Boolean);
  const roles = finding.roleAssignments.map((assignment) => `${t(assignment.roleName)} at ${t(assignment.scope)}`).join("; ") || "no role assignments";
  const subscription = finding.subscriptionName ? `${t(finding.subscriptionName)} (${t(finding.subscriptionId)})` : t(finding.subscriptionId);
  return [
    `${prefix}${finding.risk.level.toUpperCase()} ${finding.risk.score}  ${t(finding.name)}${flags.length > 0 ? ` [${flags.join(", ")}]` : ""}`,
    `${indent}subscription ${subscription}, resource group ${t(finding.resourceGroup)}; unused since ${formatDay(finding.unusedSince)}`,
    `${indent}roles: ${roles}`,
  ];
}
