import { createHash } from "node:crypto";
import type { RiskLevel } from "../findings/risk.js";
import { singleLine } from "./escape.js";
import { VERDICT_DESCRIPTIONS, describeRunScope, formatDay, plural } from "./labels.js";
import type { AuditReport, IdentityFinding } from "./model.js";

/**
 * The report as a SARIF 2.1.0 log (OASIS), for GitHub code scanning, Defender for Cloud DevOps and any other
 * tool that ingests static-analysis results. One run, one result per finding:
 *
 * - `unused` identities are `kind: "fail"` results of one rule per risk level (GitHub takes a result's
 *   severity from its rule's `security-severity`, so each level is its own rule): critical and high are
 *   `error`, medium `warning`, low and no-role `note`. `baselineState` is `new` for identities unused since
 *   the previous run, `unchanged` otherwise.
 * - `active` and `federated` identities are `kind: "review"` results (level `none`, as SARIF requires for
 *   any kind but `fail`): someone must look before anything is deleted.
 * - `error` identities (not checked) are tool execution notifications, not results: the audit proved
 *   nothing about them. Banners (a missing source of evidence, a partial run) are notifications too.
 * - `recent`, `exempt`, `deleted` and `in-use` identities are not reported.
 *
 * Azure resources are not files: each result's location is the identity's ARM id, as a relative URI
 * (`subscriptions/.../userAssignedIdentities/<name>`, every segment percent-encoded) with a one-line region
 * (GitHub requires a region), and as a logical location of kind `resource`. `partialFingerprints` carries a
 * hash of the lower-cased id, so the same identity is the same alert from run to run.
 */
export function renderSarif(report: AuditReport): string {
  return `${JSON.stringify(sarifLog(report), null, 2)}\n`;
}

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

interface RuleDefinition {
  id: string;
  name: string;
  short: string;
  full: string;
  help: string;
  level: "error" | "warning" | "note" | "none";
  securitySeverity: string;
}

const DELETE_HELP =
  "Check the identity's evidence and role assignments in the uami-audit report, then delete it (az identity delete --ids '<id>'), or tag it with the exemption tag to keep it out of future reports.";

const UNUSED_RULES: Record<RiskLevel, RuleDefinition> = {
  critical: {
    id: "uami-audit/unused-identity-critical",
    name: "UnusedIdentityCriticalRisk",
    short: "Unused managed identity with a privileged role at subscription scope or wider",
    full: `${VERDICT_DESCRIPTIONS.unused} Critical risk: Owner, Contributor, User Access Administrator or a '*' role at subscription, management group or root scope.`,
    help: DELETE_HELP,
    level: "error",
    securitySeverity: "9.5",
  },
  high: {
    id: "uami-audit/unused-identity-high",
    name: "UnusedIdentityHighRisk",
    short: "Unused managed identity with a privileged role on a resource group",
    full: `${VERDICT_DESCRIPTIONS.unused} High risk: a privileged role at resource group scope.`,
    help: DELETE_HELP,
    level: "error",
    securitySeverity: "8.0",
  },
  medium: {
    id: "uami-audit/unused-identity-medium",
    name: "UnusedIdentityMediumRisk",
    short: "Unused managed identity with a privileged role on one resource, or any role at subscription scope or wider",
    full: `${VERDICT_DESCRIPTIONS.unused} Medium risk: a privileged role on a single resource, or any other role at subscription scope or wider.`,
    help: DELETE_HELP,
    level: "warning",
    securitySeverity: "5.5",
  },
  low: {
    id: "uami-audit/unused-identity-low",
    name: "UnusedIdentityLowRisk",
    short: "Unused managed identity with non-privileged roles on resource groups or resources",
    full: `${VERDICT_DESCRIPTIONS.unused} Low risk: only non-privileged roles on resource groups or resources.`,
    help: DELETE_HELP,
    level: "note",
    securitySeverity: "3.0",
  },
  none: {
    id: "uami-audit/unused-identity-no-roles",
    name: "UnusedIdentityNoRoles",
    short: "Unused managed identity without role assignments",
    full: `${VERDICT_DESCRIPTIONS.unused} It holds no role assignment today, but anyone who can use it inherits whatever it is granted later.`,
    help: DELETE_HELP,
    level: "note",
    securitySeverity: "1.0",
  },
};

const REVIEW_RULES = {
  active: {
    id: "uami-audit/signed-in-without-association",
    name: "IdentitySignedInWithoutAssociation",
    short: "Managed identity with no associated resource that still signs in",
    full: VERDICT_DESCRIPTIONS.active,
    help: "Find what signs in as this identity (the sign-in resource is in the report) before deciding anything; never delete it on this report alone.",
    level: "none",
    securitySeverity: "2.0",
  },
  federated: {
    id: "uami-audit/federated-credentials-only",
    name: "IdentityWithFederatedCredentialsOnly",
    short: "Managed identity used only through federated credentials",
    full: VERDICT_DESCRIPTIONS.federated,
    help: "Check whether the federated credentials (GitHub Actions, Kubernetes, other clouds) are still used before deleting the identity.",
    level: "none",
    securitySeverity: "2.0",
  },
} satisfies Record<string, RuleDefinition>;

const RULES: RuleDefinition[] = [...Object.values(UNUSED_RULES), REVIEW_RULES.active, REVIEW_RULES.federated];
const RULE_INDEX = new Map(RULES.map((rule, index) => [rule.id, index]));

const NOTIFICATIONS = [
  { id: "uami-audit/not-checked", name: "IdentityNotChecked", text: "An identity could not be checked: nothing is claimed about it." },
  { id: "uami-audit/evidence", name: "EvidenceMissing", text: "A source of evidence was missing or partial for this run." },
  { id: "uami-audit/run-incomplete", name: "RunIncomplete", text: "The run did not complete: the results may be incomplete." },
] as const;

function sarifLog(report: AuditReport) {
  const { run } = report;
  const results = [
    ...report.unused.map((finding) => result(finding, UNUSED_RULES[finding.risk.level], "fail")),
    ...(report.active ?? []).map((finding) => result(finding, REVIEW_RULES.active, "review")),
    ...report.federated.map((finding) => result(finding, REVIEW_RULES.federated, "review")),
  ];
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "uami-audit",
            fullName: "uami-audit: unused user-assigned managed identities",
            rules: RULES.map(ruleDescriptor),
            notifications: NOTIFICATIONS.map((notification) => ({
              id: notification.id,
              name: notification.name,
              shortDescription: { text: notification.text },
            })),
          },
        },
        automationDetails: {
          // GitHub reads "<category>/<run id>": a category per tenant and scope, so a scan of one
          // subscription does not close the alerts of a whole-tenant scan.
          id: `uami-audit/${run.tenantId}/${scopeCategory(report)}/${run.runId}`,
          description: { text: sarifText(`uami-audit run ${run.runId} of tenant ${run.tenantId} (${describeRunScope(run.scope)})`) },
        },
        invocations: [
          {
            executionSuccessful: run.status === "complete",
            startTimeUtc: run.startedAt,
            ...(run.finishedAt ? { endTimeUtc: run.finishedAt } : {}),
            toolExecutionNotifications: notifications(report),
          },
        ],
        results,
        properties: {
          reportSchemaVersion: report.schemaVersion,
          generatedAt: report.generatedAt,
          runId: run.runId,
          tenantId: run.tenantId,
          scope: run.scope,
          status: run.status,
          countsByVerdict: run.countsByVerdict,
          newUnusedCount: run.newUnusedCount,
          unconfirmedUnusedCount: run.unconfirmedUnusedCount,
          partial: run.partial,
        },
      },
    ],
  };
}

function ruleDescriptor(rule: RuleDefinition) {
  return {
    id: rule.id,
    name: rule.name,
    shortDescription: { text: rule.short },
    fullDescription: { text: rule.full },
    help: { text: rule.help },
    defaultConfiguration: { level: rule.level },
    properties: {
      tags: ["security", "azure", "managed-identity"],
      precision: "high",
      "security-severity": rule.securitySeverity,
    },
  };
}

function result(finding: IdentityFinding, rule: RuleDefinition, kind: "fail" | "review") {
  return {
    ruleId: rule.id,
    ruleIndex: RULE_INDEX.get(rule.id) ?? 0,
    kind,
    level: kind === "fail" ? rule.level : "none",
    message: { text: sarifText(messageFor(finding)) },
    locations: [identityLocation(finding)],
    partialFingerprints: {
      primaryLocationLineHash: `${createHash("sha256").update(finding.key).digest("hex").slice(0, 16)}:1`,
      "armResourceId/v1": finding.key,
    },
    ...(kind === "fail" ? { baselineState: finding.isNew ? "new" : "unchanged" } : {}),
    // SARIF's priority, 0-100: the risk score (0-499) scaled.
    rank: Math.min(100, Math.round(finding.risk.score / 5)),
    properties: {
      verdict: finding.verdict,
      riskLevel: finding.risk.level,
      riskScore: finding.risk.score,
      riskReasons: finding.risk.reasons,
      reasons: finding.reasons,
      confirmed: finding.confirmed,
      disagreement: finding.disagreement,
      isNew: finding.isNew,
      unusedSince: finding.unusedSince,
      createdAt: finding.createdAt,
      subscriptionId: finding.subscriptionId,
      subscriptionName: finding.subscriptionName,
      resourceGroup: finding.resourceGroup,
      location: finding.location,
      principalId: finding.principalId,
      clientId: finding.clientId,
      azureTags: finding.tags,
      roleAssignments: finding.roleAssignments,
      portalUrl: finding.portalUrl,
      deleteCommand: finding.deleteCommand,
    },
  };
}

/** One sentence GitHub can show as the title, then the evidence. */
function messageFor(finding: IdentityFinding): string {
  const privileged = finding.roleAssignments.filter((assignment) => assignment.privileged);
  const roles = (privileged.length > 0 ? privileged : finding.roleAssignments).slice(0, 3);
  const holding =
    roles.length === 0
      ? "holds no role assignment"
      : `holds ${roles.map((assignment) => `${assignment.roleName} at ${assignment.scope}`).join(", ")}${finding.roleAssignments.length > roles.length ? ` and ${plural(finding.roleAssignments.length - roles.length, "more role assignment")}` : ""}`;
  const where = `in resource group ${finding.resourceGroup} of subscription ${finding.subscriptionName ?? finding.subscriptionId}`;
  if (finding.verdict === "unused") {
    return (
      `Unused managed identity ${finding.name} ${holding} (${finding.risk.level} risk). ` +
      `It is ${where}, unused since ${formatDay(finding.unusedSince)}${finding.isNew ? " (new since the previous run)" : ""}${finding.confirmed ? "" : ", unconfirmed by listAssociatedResources"}. ` +
      `Evidence: ${finding.reasons.join("; ")}.`
    );
  }
  return `Managed identity ${finding.name} needs review: ${finding.reasons.join("; ")}. It ${holding} (${finding.risk.level} risk) and is ${where}.`;
}

function identityLocation(finding: IdentityFinding) {
  return {
    physicalLocation: {
      artifactLocation: { uri: resourceUri(finding.id) },
      region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
    },
    logicalLocations: [{ name: finding.name, fullyQualifiedName: finding.id, kind: "resource" }],
  };
}

function notifications(report: AuditReport) {
  const descriptor = (id: (typeof NOTIFICATIONS)[number]["id"]) => ({ id, index: NOTIFICATIONS.findIndex((n) => n.id === id) });
  const out: object[] = [];
  if (report.run.status !== "complete") {
    out.push({
      descriptor: descriptor("uami-audit/run-incomplete"),
      level: "error",
      message: { text: sarifText(`Run ${report.run.runId} is ${report.run.status}${report.run.error ? `: ${report.run.error}` : ""}. The results may be incomplete.`) },
    });
  }
  for (const banner of report.run.banners ?? []) {
    out.push({
      descriptor: descriptor("uami-audit/evidence"),
      level: banner.level === "warning" ? "warning" : "note",
      message: { text: sarifText(banner.text) },
      properties: { source: banner.source },
    });
  }
  for (const finding of report.error) {
    out.push({
      descriptor: descriptor("uami-audit/not-checked"),
      level: "warning",
      message: { text: sarifText(`Managed identity ${finding.name} could not be checked: ${finding.error ?? finding.reasons.join("; ")}.`) },
      locations: [identityLocation(finding)],
    });
  }
  return out;
}

/** `tenant` for a whole-tenant run, else a short hash of the scope (sorted, lower-cased). */
function scopeCategory(report: AuditReport): string {
  const { subscriptions, managementGroups } = report.run.scope;
  if (subscriptions.length === 0 && managementGroups.length === 0) return "tenant";
  const key = JSON.stringify([[...subscriptions].map((s) => s.toLowerCase()).sort(), [...managementGroups].map((g) => g.toLowerCase()).sort()]);
  return `scope-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

/** `subscriptions/<id>/resourceGroups/<rg>/...`: a relative URI, every segment percent-encoded. */
function resourceUri(resourceId: string): string {
  return resourceId
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

/**
 * A plain-text SARIF message: one line; `{` and `}` doubled (SARIF reads `{0}` as a placeholder, §3.11.5);
 * `[` and `]` backslash-escaped, and a backslash before them doubled (SARIF reads `[text](target)` as an
 * embedded link, §3.11.6), so no value from Azure becomes a link in a SARIF viewer.
 */
export function sarifText(value: string): string {
  return singleLine(value)
    .replace(/[{}]/g, (brace) => brace + brace)
    .replace(/\\(?=[[\]])/g, "\\\\")
    .replace(/[[\]]/g, (bracket) => `\\${bracket}`);
}
