import type { AuditReport } from "./model.js";

/**
 * The report as pretty JSON. Key order is the order `buildReport` writes (schema order; tags sorted by name),
 * so the same run always renders to the same bytes.
 */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
