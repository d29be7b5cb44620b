import { VERDICTS } from "../findings/verdicts.js";
import { escapeMarkdown as md, safeLinkUrl } from "./escape.js";
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
 * The report as GitHub-flavoured Markdown (for a ticket or a pull request). Every value from Azure goes
 * through `escapeMarkdown`; the delete commands go in a fenced block, where nothing is interpreted.
 */
export function renderMarkdown(report: AuditReport): string {
  const { run } = report;
  const lines: string[] = [];
  lines.push(`# Unused managed identities: run ${md(run.runId)}`, "");
  if (run.status !== "complete") {
    lines.push(`> **Warning:** this run is ${md(run.status)}; the lists may be incomplete.`, "");
  }
  lines.push(
    ...table(
      ["Run", "Value"],
      [
        ["Tenant", md(run.tenantId)],
        ["Scope", md(describeRunScope(run.scope))],
        ["Status", md(run.status) + (run.error ? ` (${md(run.error)})` : "")],
        ["Started", md(formatTime(run.startedAt))],
        ["Finished", md(formatTime(run.finishedAt))],
        ["Duration", md(formatDuration(run.durationSeconds))],
        ["Identities", String(run.identityCount)],
        ["New unused", String(run.newUnusedCount)],
        ["Grace period", `${report.settings.gracePeriodDays} days`],
        ["Exemption tag", md(report.settings.exemptTag)],
      ],
    ),
    "",
  );

  lines.push("## Summary", "");
  const verdictRows = VERDICTS.map((verdict) => [VERDICT_TITLES[verdict], String(run.countsByVerdict[verdict])]);
  lines.push(...table(["Verdict", "Identities"], verdictRows), "");
  if (run.subscriptions.length > 0) {
    lines.push("### By subscription", "");
    lines.push(
      ...table(
        ["Subscription", "Name", "Total", ...VERDICTS.map((verdict) => VERDICT_TITLES[verdict])],
        run.subscriptions.map((subscription) => [
          md(subscription.subscriptionId),
          md(subscription.subscriptionName ?? ""),
          String(subscription.identityCount),
          ...VERDICTS.map((verdict) => String(subscription.countsByVerdict[verdict])),
        ]),
      ),
      "",
    );
  }

  lines.push(`## ${VERDICT_TITLES.unused} (${report.unused.length})`, "", VERDICT_DESCRIPTIONS.unused, "");
  if (report.unused.length > 0) {
    lines.push(
      ...table(
        ["#", "Name", "Subscription", "Resource group", "Risk", "Role assignments", "Unused since", "Created", "Tags", "Portal"],
        report.unused.map((finding, index) => [
          String(index + 1),
          md(finding.name) + (finding.isNew ? " **NEW**" : ""),
          md(finding.subscriptionName ?? finding.subscriptionId),
          md(finding.resourceGroup),
          `${finding.risk.level} (${finding.risk.score})`,
          roleList(finding),
          md(formatDay(finding.unusedSince)),
          md(formatDay(finding.createdAt)),
          tagList(finding),
          portalLink(finding),
        ]),
      ),
      "",
      "Delete commands, highest risk first:",
      "",
      ...fenced(
        "sh",
        report.unused.flatMap((finding) => (finding.deleteCommand ? [finding.deleteCommand] : [])),
      ),
      "",
    );
  }

  for (const verdict of REVIEW_VERDICTS) {
    const findings = report[verdict];
    lines.push(`## ${VERDICT_TITLES[verdict]} (${findings.length})`, "", VERDICT_DESCRIPTIONS[verdict], "");
    if (findings.length === 0) continue;
    const headers = ["Name", "Subscription", "Resource group", "Risk", "Reasons", "Created", "Tags", "Portal"];
    if (verdict === "error") headers.splice(4, 1, "Error");
    lines.push(
      ...table(
        headers,
        findings.map((finding) => [
          md(finding.name),
          md(finding.subscriptionName ?? finding.subscriptionId),
          md(finding.resourceGroup),
          `${finding.risk.level} (${finding.risk.score})`,
          md(reviewText(finding, verdict)),
          md(formatDay(finding.createdAt)),
          tagList(finding),
          portalLink(finding),
        ]),
      ),
      "",
    );
  }

  const inUse = plural(report.inUseCount, "identity", "identities");
  lines.push(`## ${VERDICT_TITLES["in-use"]}`, "", `${inUse} in use (listed in the JSON report).`, "");
  lines.push(`_Generated ${md(formatTime(report.generatedAt))}, report schema version ${report.schemaVersion}._`, "");
  return lines.join("\n");
}

/** Cells must already be escaped. */
function table(headers: string[], rows: string[][]): string[] {
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => " --- ").join("|")}|`,
    ...rows.map((row) => `| ${row.map((cell) => cell || " ").join(" | ")} |`),
  ];
}

/** A fence longer than any backtick run in the content, so the content cannot close it. */
function fenced(language: string, contentLines: string[]): string[] {
  const runs = contentLines.flatMap((line) => [...line.matchAll(/`+/g)].map((match) => match[0].length));
  const longestRun = Math.max(0, ...runs);
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return [`${fence}${language}`, ...contentLines, fence];
}

function roleList(finding: IdentityFinding): string {
  if (finding.roleAssignments.length === 0) return "none";
  return finding.roleAssignments
    .map((assignment) => {
      const role = assignment.privileged ? `**${md(assignment.roleName)}**` : md(assignment.roleName);
      return `${role} at ${md(assignment.scope)}`;
    })
    .join("<br>");
}

function tagList(finding: IdentityFinding): string {
  return Object.entries(finding.tags)
    .map(([name, value]) => `${md(name)}=${md(value)}`)
    .join(", ");
}

function portalLink(finding: IdentityFinding): string {
  const url = safeLinkUrl(finding.portalUrl);
  return url ? `[open](${url})` : "";
}
