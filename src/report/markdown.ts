import { VERDICTS } from "../findings/verdicts.js";
import { escapeMarkdown, safeLinkUrl } from "./escape.js";
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
        ["Mode", md(run.mode ?? "exhaustive") + (run.modeReason ? ` (${md(run.modeReason)})` : "")],
        ["listAssociatedResources requests", String(run.apiRequests)],
      ],
    ),
    "",
  );

  for (const banner of run.banners) lines.push(`> **${banner.level === "warning" ? "Warning" : "Note"}:** ${md(banner.text)}`, "");
  lines.push("## Summary", "");
  if (run.sources) {
    const state = (s: { status: string; reason?: string }) => md([s.status, s.reason].filter(Boolean).join(": "));
    lines.push(
      ...table(
        ["Source of evidence", "Status"],
        [
          ["listAssociatedResources", state(run.sources.associationsApi) + (run.sources.associationsApi.apiVersion ? ` (${md(run.sources.associationsApi.apiVersion)})` : "")],
          ["Resource Graph reference sweep", state(run.sources.resourceGraph)],
          ["Creation times (ARM resource list)", state(run.sources.createdTime)],
          ["Sign-in activity (Log Analytics)", state(run.sources.signIns)],
        ],
      ),
      "",
      `Disagreements (listAssociatedResources 0, Resource Graph referenced): ${run.disagreementCount}. Unconfirmed unused verdicts: ${run.unconfirmedUnusedCount}.`,
      "",
    );
  }
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
          md(finding.name) + (finding.isNew ? " **NEW**" : "") + (finding.confirmed ? "" : " _unconfirmed_"),
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

/**
 * A value from Azure as Markdown text that no renderer turns into a link. GFM (GitHub, remark, marked)
 * makes live links of bare `https://…`, `www.…` and `user@host` ("autolink literals"), so a tag or a
 * subscription name could put a phishing link in front of the people who delete identities. Renderers
 * match those patterns in the source, so writing `/`, `.` and `@` there as character references breaks
 * the match while the rendered text reads the same.
 */
function md(value: unknown): string {
  return escapeMarkdown(value)
    .replace(/:\/\//g, ":&#47;&#47;")
    .replace(/(www)\./gi, "$1&#46;")
    .replace(/@/g, "&#64;");
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
