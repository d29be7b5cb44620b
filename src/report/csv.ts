import { stringify } from "csv-stringify/sync";
import { allFindings, type AuditReport, type IdentityFinding } from "./model.js";

/** Column header and how each cell is taken from a finding, in column order. */
const COLUMNS: ReadonlyArray<readonly [header: string, cell: (finding: IdentityFinding) => string | number | boolean | null]> = [
  ["verdict", (finding) => finding.verdict],
  ["name", (finding) => finding.name],
  ["subscriptionId", (finding) => finding.subscriptionId],
  ["subscriptionName", (finding) => finding.subscriptionName],
  ["resourceGroup", (finding) => finding.resourceGroup],
  ["location", (finding) => finding.location],
  ["id", (finding) => finding.id],
  ["principalId", (finding) => finding.principalId],
  ["clientId", (finding) => finding.clientId],
  ["createdAt", (finding) => finding.createdAt],
  ["associationCount", (finding) => finding.associationCount],
  ["federatedCredentialCount", (finding) => finding.federatedCredentialCount],
  ["riskLevel", (finding) => finding.risk.level],
  ["riskScore", (finding) => finding.risk.score],
  ["privilegedRoles", (finding) => roles(finding, true)],
  ["otherRoles", (finding) => roles(finding, false)],
  ["unusedSince", (finding) => finding.unusedSince],
  ["isNew", (finding) => finding.isNew],
  ["reasons", (finding) => finding.reasons.join("; ")],
  ["confirmed", (finding) => finding.confirmed],
  ["disagreement", (finding) => finding.disagreement],
  ["createdAtSource", (finding) => finding.createdAtSource],
  ["resourceGraphReferences", (finding) => finding.evidence.resourceGraph.referenceCount],
  ["lastSignInAt", (finding) => finding.evidence.signIns.lastSignInAt],
  ["tags", (finding) => Object.entries(finding.tags).map(([name, value]) => `${name}=${value}`).join("; ")],
  ["error", (finding) => finding.error],
  ["portalUrl", (finding) => finding.portalUrl],
  ["deleteCommand", (finding) => finding.deleteCommand],
];

/**
 * One row per identity, every verdict (unused first, ranked by risk; in-use last), with a header row.
 * `escape_formulas` prefixes `'` to any text cell starting with = + - @ tab or CR (and their full-width
 * forms), so a tag value like `=HYPERLINK(...)` stays text in a spreadsheet. That covers the start of a
 * cell only: a spreadsheet whose locale splits on `;` (most of Europe) reads `env=x; =HYPERLINK(...)` as two
 * cells, the second a formula. So a formula start after a separator (`,` `;` tab or a line break, then
 * optional blanks) gets the same `'`. The BOM makes Excel read UTF-8.
 */
export function renderCsv(report: AuditReport): string {
  const rows = allFindings(report).map((finding) => COLUMNS.map(([, cell]) => cell(finding)));
  return stringify(rows, {
    header: true,
    columns: COLUMNS.map(([header]) => header),
    bom: true,
    escape_formulas: true,
    cast: { string: neutraliseFormulasAfterSeparators, boolean: (value) => (value ? "true" : "false") },
  });
}

/** The characters `escape_formulas` treats as a formula start (with their full-width forms), after a separator. */
const FORMULA_AFTER_SEPARATOR = /([,;\t\r\n][ \t]*)([=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/g;

function neutraliseFormulasAfterSeparators(value: string): string {
  return value.replace(FORMULA_AFTER_SEPARATOR, "$1'$2");
}

function roles(finding: IdentityFinding, privileged: boolean): string {
  return finding.roleAssignments
    .filter((assignment) => assignment.privileged === privileged)
    .map((assignment) => `${assignment.roleName} @ ${assignment.scope}`)
    .join("; ");
}
