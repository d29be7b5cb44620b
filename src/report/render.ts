import { renderCsv } from "./csv.js";
import { renderHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import type { AuditReport } from "./model.js";
import { renderSarif } from "./sarif.js";
import { renderText } from "./text.js";

export const REPORT_FORMATS = ["json", "csv", "md", "html", "sarif", "text"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  body: string;
  contentType: string;
  /** Without the dot: `json`, `csv`, `md`, `html`, `sarif`, `txt`. */
  fileExtension: string;
}

const RENDERERS: Record<ReportFormat, { render: (report: AuditReport) => string; contentType: string; fileExtension: string }> = {
  json: { render: renderJson, contentType: "application/json; charset=utf-8", fileExtension: "json" },
  csv: { render: renderCsv, contentType: "text/csv; charset=utf-8", fileExtension: "csv" },
  md: { render: renderMarkdown, contentType: "text/markdown; charset=utf-8", fileExtension: "md" },
  html: { render: renderHtml, contentType: "text/html; charset=utf-8", fileExtension: "html" },
  // The media type IANA registered for SARIF (OASIS); GitHub's upload action looks for `.sarif` files.
  sarif: { render: renderSarif, contentType: "application/sarif+json; charset=utf-8", fileExtension: "sarif" },
  text: { render: renderText, contentType: "text/plain; charset=utf-8", fileExtension: "txt" },
};

export function isReportFormat(value: unknown): value is ReportFormat {
  return typeof value === "string" && (REPORT_FORMATS as readonly string[]).includes(value);
}

/** The report in one format, with what an HTTP response or a blob upload needs. */
export function renderReport(report: AuditReport, format: ReportFormat): RenderedReport {
  // Formats often come from a query string or a setting: check at run time too.
  if (!isReportFormat(format)) {
    throw new TypeError(`Expected \`format\` to be one of ${REPORT_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  }
  const renderer = RENDERERS[format];
  return { body: renderer.render(report), contentType: renderer.contentType, fileExtension: renderer.fileExtension };
}
