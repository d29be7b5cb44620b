/**
 * Queue names, message types and their encoding, declared once.
 *
 * Messages carry ids only (a queue message is at most 64 KiB). They are written base64-encoded because
 * the Functions queue trigger decodes base64 by default (host.json `extensions.queues.messageEncoding`);
 * plain text would land straight in the poison queue.
 */
import { z } from "zod";
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
/** An ARM resource id is a few hundred characters at most: a longer "id" is not one. */
const MAX_IDENTITY_ID_CHARS = 1024;
/** Tenant ids are GUIDs; this only bounds what a damaged message can make us carry around. */
const MAX_TENANT_ID_CHARS = 128;

const envelope = {
  runId: z.string().regex(RUN_ID),
  tenantId: z.string().min(1).max(MAX_TENANT_ID_CHARS),
};

/** The identity GET as carried: whole, or not at all. */
const carriedReadSchema = z.object({
  at: z.string().refine((at) => Number.isFinite(Date.parse(at))),
  details: z.object({
    id: z.string(),
    name: z.string(),
    location: z.string(),
    tags: z.record(z.string(), z.string()),
    clientId: z.string(),
    principalId: z.string(),
    tenantId: z.string(),
    createdAt: z.string().optional(),
    createdBy: z.string().optional(),
  }) satisfies z.ZodType<IdentityDetails>,
  federatedCredentialCount: z.int().nonnegative(),
}) satisfies z.ZodType<CarriedIdentityRead>;

const checkMessageSchema = z
  .object({
    kind: z.literal("check"),
    ...envelope,
    identityId: z.string().startsWith("/subscriptions/").max(MAX_IDENTITY_ID_CHARS),
    // A damaged hand-back count or carried read is dropped, never the message: the count only paces
    // hand-backs, and a check without a read reads the identity again (a damaged cache must cost a
    // request, never a wrong verdict or a lost message).
    throttled: z.int().positive().optional().catch(undefined),
    read: carriedReadSchema.optional().catch(undefined),
  })
  .transform(({ throttled, read, ...message }): CheckIdentityMessage => ({
    ...message,
    ...(throttled !== undefined ? { throttled } : {}),
    // A read about another identity is no read of this one.
    ...(read && read.details.id.toLowerCase() === message.identityId.toLowerCase() ? { read } : {}),
  }));

const queueMessageSchema = z.discriminatedUnion("kind", [
  checkMessageSchema,
  z.object({ kind: z.literal("completed"), ...envelope }),
  z.object({ kind: z.literal("enumerate"), ...envelope }),
]) satisfies z.ZodType<QueueMessage>;

const QUEUE_MESSAGE_KINDS: readonly QueueMessage["kind"][] = ["check", "completed", "enumerate"];

/** A value from a message, quoted and cut short for an error. */
function quoted(value: unknown, max = 100): string {
  const text = String(value);
  return `"${text.length > max ? `${text.slice(0, max)}…` : text}"`;
}

/** The first thing wrong with a message, in the order a reader checks it: shape, kind, run, tenant, identity. */
function messageProblem(issues: readonly z.core.$ZodIssue[], value: unknown): string {
  const on = (field: string) => issues.some((issue) => issue.path[0] === field);
  if (issues.some((issue) => issue.path.length === 0 && issue.code === "invalid_type")) return "Queue message is not an object";
  const m = value as Record<string, unknown>;
  if (on("kind")) return `Queue message has unknown kind ${quoted(m.kind)}; expected ${QUEUE_MESSAGE_KINDS.join(", ")}`;
  if (on("runId")) return "Queue message has no valid runId (1 to 64 letters, digits or -)";
  const run = String(m.runId);
  if (on("tenantId")) return `Queue message for run ${run} has no tenantId (or one longer than ${MAX_TENANT_ID_CHARS} characters)`;
  if (on("identityId")) {
    return `Check message for run ${run} has no valid identityId (an ARM id starting with /subscriptions/, at most ${MAX_IDENTITY_ID_CHARS} characters)`;
  }
  return `Queue message for run ${run} is malformed: ${issues[0]?.message ?? "unknown problem"}`;
}

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
  const parsed = queueMessageSchema.safeParse(value);
  if (!parsed.success) throw new BadMessageError(messageProblem(parsed.error.issues, value));
  return parsed.data;
}
