/** Stored reports: each run's report as blobs named `<runId>/report.<format>`, written once it is built. */
import type { AuditStorage } from "./auditStorage.js";
import { statusCode } from "./storageAccount.js";

const reportBlobName = (runId: string, format: string) => `${runId}/report.${format}`;

/** Writes one rendered format of a run's report (replacing an earlier build). */
export async function writeReportBlob(storage: AuditStorage, runId: string, format: string, rendered: { body: string; contentType: string }): Promise<void> {
  const blob = storage.reports.getBlockBlobClient(reportBlobName(runId, format));
  await blob.upload(rendered.body, Buffer.byteLength(rendered.body), { blobHTTPHeaders: { blobContentType: rendered.contentType } });
}

/** The stored JSON report of a run, parsed; undefined if it was never built. */
export async function readReportJson(storage: AuditStorage, runId: string): Promise<unknown> {
  try {
    const buffer = await storage.reports.getBlockBlobClient(reportBlobName(runId, "json")).downloadToBuffer();
    return JSON.parse(buffer.toString("utf8")) as unknown;
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw new Error(`Reading the stored report of run ${runId} failed: ${(error as Error).message}`, { cause: error });
  }
}
