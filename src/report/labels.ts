/** Words shared by the human-readable renderers and the alert email, so they all say the same thing. */
import type { AuditScope } from "../arm/types.js";
import type { Verdict } from "../findings/verdicts.js";

export const VERDICT_TITLES: Record<Verdict, string> = {
  unused: "Unused",
  active: "Signed in recently",
  federated: "Federated credentials only",
  recent: "Recently created",
  exempt: "Exempt",
  error: "Could not be checked",
  deleted: "Deleted during the run",
  "in-use": "In use",
};

/** Column headings where space is short (the subscription table, filters). */
export const VERDICT_SHORT_TITLES: Record<Verdict, string> = {
  unused: "Unused",
  active: "Signed in",
  federated: "Federated",
  recent: "Recent",
  exempt: "Exempt",
  error: "Not checked",
  deleted: "Deleted",
  "in-use": "In use",
};

export const VERDICT_DESCRIPTIONS: Record<Verdict, string> = {
  unused:
    "No associated resource (neither listAssociatedResources nor Resource Graph), no federated credential, no recent sign-in, older than the grace period and not exempt: candidates for deletion, highest risk first.",
  active:
    "No associated resource anywhere, but a successful sign-in within the sign-in window: something outside Azure's resource index (a deployment script, a container group, a job that exists only while it runs) uses them. Review; never delete on this report alone.",
  federated:
    "No associated Azure resource, but federated credentials (GitHub Actions, Kubernetes workload identity, other clouds) may use them: review before deleting.",
  recent: "Too new (or of unknown age) to be called unused yet: they will be judged once the grace period has passed.",
  exempt: "Carry the exemption tag: never proposed for deletion.",
  error: "The audit could not prove anything about these: they are never reported as unused.",
  deleted: "Disappeared while the run was checking them.",
  "in-use": "Attached to at least one Azure resource (by listAssociatedResources or Resource Graph).",
};

/** The review sections after the unused list, in report order. */
export const REVIEW_VERDICTS = ["active", "federated", "recent", "exempt", "error", "deleted"] as const satisfies readonly Verdict[];

/** What a review row says about a finding: its error when it could not be checked, else its reasons. */
export function reviewText(finding: { error?: string | null; reasons: readonly string[] }, verdict: Verdict): string {
  return verdict === "error" ? (finding.error ?? finding.reasons.join("; ")) : finding.reasons.join("; ");
}

/** "whole tenant", or the subscriptions and management groups the run covered. */
export function describeRunScope(scope: AuditScope): string {
  const parts: string[] = [];
  if (scope.managementGroups.length > 0) parts.push(`management groups ${scope.managementGroups.join(", ")}`);
  if (scope.subscriptions.length > 0) parts.push(`subscriptions ${scope.subscriptions.join(", ")}`);
  return parts.length === 0 ? "whole tenant" : parts.join("; ");
}

/** "1 h 02 min 05 s", "42 s", "unknown". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "unknown";
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = Math.round(seconds % 60);
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, "0")} min ${String(rest).padStart(2, "0")} s`;
  if (minutes > 0) return `${minutes} min ${String(rest).padStart(2, "0")} s`;
  return `${rest} s`;
}

/** The date part of an ISO timestamp ("2026-11-25"), or "unknown". */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return "unknown";
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toISOString().slice(0, 10);
}

/** "2026-11-25 14:03 UTC", or "unknown". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "unknown";
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : `${new Date(time).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
