/**
 * Queue names, message types and their encoding, declared once.
 *
 * Messages carry ids only (a queue message is at most 64 KiB). They are written base64-encoded because
 * the Functions queue trigger decodes base64 by default (host.json `extensions.queues.messageEncoding`);
 * plain text would land straight in the poison queue.
 */
import type { IdentityDetails } from "./arm/types.js";

export const QUEUE_BASE_NAMES = {
  /** One message per identity to check. */
  check: "uami-audit-check",
  /** One message per completed run: builds the report and sends the digest. */
  completed: "uami-audit-completed",
  /** One message per on-demand run: enumeration outlives an HTTP request. */
  enumerate: "uami-audit-enumerate",
} as const;

export interface QueueNames {
  check: string;
  checkPoison: string;
  completed: string;
  completedPoison: string;
  enumerate: string;
}

/** Queue names, optionally prefixed (tests and the CLI isolate themselves; the deployed app uses none). */
export function queueNames(prefix = ""): QueueNames {
  if (prefix && !/^[a-z0-9]{1,20}$/.test(prefix)) throw new Error(`Storage name prefix must be 1-20 lower-case letters or digits, got "${prefix}"`);
  const name = (base: string) => (prefix ? `${prefix}-${base}` : base);
  return {
    check: name(QUEUE_BASE_NAMES.check),
    checkPoison: `${name(QUEUE_BASE_NAMES.check)}-poison`,
    completed: name(QUEUE_BASE_NAMES.completed),
    completedPoison: `${name(QUEUE_BASE_NAMES.completed)}-poison`,
    enumerate: name(QUEUE_BASE_NAMES.enumerate),
  };
}

export interface CheckIdentityMessage {
  kind: "check";
  runId: string;
  tenantId: string;
  /** The identity's ARM id as Azure returned it. */
  identityId: string;
  /** How many times this check was handed back to the queue because of throttling (not failures). */
  throttled?: number;
  /** What an earlier delivery read about the identity before it was handed back: not read again (checkIdentity.ts). */
  read?: CarriedIdentityRead;
}

/** The identity GET and its federated credential count, carried by a handed-back check message. */
export interface CarriedIdentityRead {
  /** When it was read (ISO 8601). */
  at: string;
  details: IdentityDetails;
  federatedCredentialCount: number;
}

/** Encoded messages above this many characters drop their carried read: a queue message holds at most 64 KiB. */
export const MAX_ENCODED_MESSAGE_CHARS = 60 * 1024;

export interface RunCompletedMessage {
  kind: "completed";
  runId: string;
  tenantId: string;
}

export interface EnumerateRunMessage {
  kind: "enumerate";
  runId: string;
  tenantId: string;
}

export type QueueMessage = CheckIdentityMessage | RunCompletedMessage | EnumerateRunMessage;

export function encodeQueueMessage(message: QueueMessage): string {
  return Buffer.from(JSON.stringify(message), "utf8").toString("base64");
}

export class BadMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadMessageError";
  }
}

const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Accepts what the Functions host hands a queue trigger (already-decoded JSON object, or a string) and
 * what the CLI's drainer reads raw (base64 text). Anything else is a permanent error: retrying cannot fix it.
 */
export function parseQueueMessage(raw: unknown): QueueMessage {
  let value = raw;
  if (typeof value === "string") {
    const text = value.trim();
    const json = text.startsWith("{") ? text : Buffer.from(text, "base64").toString("utf8");
    try {
      value = JSON.parse(json);
    } catch {
      throw new BadMessageError(`Queue message is not JSON: "${text.slice(0, 100)}"`);
    }
  }
  if (typeof value !== "object" || value === null) throw new BadMessageError("Queue message is not an object");
  const m = value as Record<string, unknown>;
  if (typeof m.runId !== "string" || !RUN_ID.test(m.runId)) throw new BadMessageError(`Queue message has no valid runId`);
  if (typeof m.tenantId !== "string" || m.tenantId.length === 0) throw new BadMessageError(`Queue message for run ${m.runId} has no tenantId`);
  if (m.kind === "check") {
    if (typeof m.identityId !== "string" || !m.identityId.startsWith("/subscriptions/")) {
      throw new BadMessageError(`Check message for run ${m.runId} has no valid identityId`);
    }
    const throttled = typeof m.throttled === "number" && Number.isInteger(m.throttled) && m.throttled > 0 ? m.throttled : undefined;
    const read = carriedRead(m.read, m.identityId);
    return { kind: "check", runId: m.runId, tenantId: m.tenantId, identityId: m.identityId, ...(throttled ? { throttled } : {}), ...(read ? { read } : {}) };
  }
  if (m.kind === "completed" || m.kind === "enumerate") return { kind: m.kind, runId: m.runId, tenantId: m.tenantId };
  throw new BadMessageError(`Queue message has unknown kind "${String(m.kind)}"`);
}

const isText = (v: unknown): v is string => typeof v === "string";

/**
 * A carried read, if it is whole and about this identity; otherwise undefined, and the check reads the
 * identity again (a damaged cache must cost a request, never a wrong verdict or a lost message).
 */
function carriedRead(value: unknown, identityId: string): CarriedIdentityRead | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const d = r.details as Record<string, unknown> | null | undefined;
  if (!isText(r.at) || !Number.isFinite(Date.parse(r.at))) return undefined;
  if (!(typeof r.federatedCredentialCount === "number" && Number.isSafeInteger(r.federatedCredentialCount) && r.federatedCredentialCount >= 0)) return undefined;
  if (typeof d !== "object" || d === null) return undefined;
  if (![d.id, d.name, d.location, d.clientId, d.principalId, d.tenantId].every(isText)) return undefined;
  if ((d.id as string).toLowerCase() !== identityId.toLowerCase()) return undefined;
  if (typeof d.tags !== "object" || d.tags === null || Array.isArray(d.tags) || !Object.values(d.tags).every(isText)) return undefined;
  if ((d.createdAt !== undefined && !isText(d.createdAt)) || (d.createdBy !== undefined && !isText(d.createdBy))) return undefined;
  const details: IdentityDetails = {
    id: d.id as string,
    name: d.name as string,
    location: d.location as string,
    tags: { ...(d.tags as Record<string, string>) },
    clientId: d.clientId as string,
    principalId: d.principalId as string,
    tenantId: d.tenantId as string,
    ...(isText(d.createdAt) ? { createdAt: d.createdAt } : {}),
    ...(isText(d.createdBy) ? { createdBy: d.createdBy } : {}),
  };
  return { at: r.at, details, federatedCredentialCount: r.federatedCredentialCount };
}
