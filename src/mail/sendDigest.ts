import { setTimeout as sleep } from "node:timers/promises";
import type { Digest } from "./digest.js";
import type { MailTransport } from "./transport.js";

export interface SendDigestOptions {
  from: string;
  to: string[];
  /** Retries after the first attempt. Default 3 (so at most 4 attempts). */
  retries?: number;
  /** Delay before the first retry; doubles each time, with jitter. Default 1 000 ms. */
  minDelayMs?: number;
  /** Upper bound for one delay. Default 30 000 ms. */
  maxDelayMs?: number;
}

export interface SendDigestResult {
  status: "sent" | "failed";
  attempts: number;
  messageId?: string;
  /** The last failure, as the transport described it (never credentials). */
  error?: string;
}

/**
 * Sends the digest with a bounded number of retries and exponential backoff. It never throws: a failure is
 * returned for the caller to record on the run (`emailStatus: "failed"`), and the report stays built.
 * Permanent failures (SMTP 5xx such as a rejected login or recipient, HTTP 4xx from ACS) are not retried:
 * they will not heal in seconds, and repeating a rejected login can lock the account.
 */
export async function sendDigest(
  transport: MailTransport,
  message: Pick<Digest, "subject" | "text" | "html">,
  options: SendDigestOptions,
): Promise<SendDigestResult> {
  const invalid = invalidOption(options);
  if (invalid) return { status: "failed", attempts: 0, error: invalid };
  const retries = options.retries ?? 3;
  const minDelayMs = options.minDelayMs ?? 1_000;
  const maxDelayMs = Math.max(minDelayMs, options.maxDelayMs ?? 30_000);

  let lastError = "";
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    try {
      const { messageId } = await transport.send({
        from: options.from,
        to: [...options.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      return messageId === undefined ? { status: "sent", attempts: attempt } : { status: "sent", attempts: attempt, messageId };
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      if (isPermanentMailError(error) || attempt > retries) {
        return { status: "failed", attempts: attempt, error: lastError };
      }
      await sleep(backoffDelay(attempt, minDelayMs, maxDelayMs));
    }
  }
  // Not reached: the loop returns on its last attempt.
  return { status: "failed", attempts: retries + 1, error: lastError };
}

/** `minDelayMs * 2^(attempt-1)`, capped, with "equal jitter" (between half and all of it). */
export function backoffDelay(
  attempt: number,
  minDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/**
 * SMTP 5xx replies (4xx ones, like 451 or 454, say "try again later"), and HTTP 4xx answers from Azure
 * Communication Services other than 408 and 429.
 */
export function isPermanentMailError(error: unknown): boolean {
  const source = error as { responseCode?: unknown; statusCode?: unknown } | undefined;
  const smtp = source?.responseCode;
  if (typeof smtp === "number" && smtp >= 500 && smtp < 600) return true;
  const http = source?.statusCode;
  return typeof http === "number" && http >= 400 && http < 500 && http !== 408 && http !== 429;
}

function invalidOption(options: SendDigestOptions): string | undefined {
  if (typeof options.from !== "string" || options.from.trim() === "") return "Expected `from` to be a sender address";
  const blank = (address: unknown) => typeof address !== "string" || address.trim() === "";
  if (!Array.isArray(options.to) || options.to.length === 0 || options.to.some(blank)) {
    return "Expected `to` to be a non-empty list of recipient addresses";
  }
  if (options.retries !== undefined && (!Number.isInteger(options.retries) || options.retries < 0 || options.retries > 10)) {
    return `Expected \`retries\` to be an integer from 0 to 10, got ${String(options.retries)}`;
  }
  for (const name of ["minDelayMs", "maxDelayMs"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      return `Expected \`${name}\` to be a number >= 0, got ${String(value)}`;
    }
  }
  return undefined;
}
