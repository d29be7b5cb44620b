import { EmailClient, type EmailAddress, type EmailMessage, type EmailSendResponse } from "@azure/communication-email";
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import type { MailMessage, MailTransport } from "./transport.js";

/** The one method we use, so a test can stand in for the client. */
export type EmailSender = Pick<EmailClient, "beginSend">;

export interface AcsTransportOptions {
  /** `https://<resource>.communication.azure.com` (the resource's endpoint, region part included if any). */
  endpoint: string;
  /** Default: `DefaultAzureCredential` (the Function App's managed identity in Azure). */
  credential?: TokenCredential;
  /** Client id of a user-assigned identity for `DefaultAzureCredential`, when the app has several. */
  managedIdentityClientId?: string;
  /** How often to poll the send operation. Default 2 000 ms. */
  pollIntervalMs?: number;
  /** Give up on one send after this long. Default 120 000 ms. */
  timeoutMs?: number;
  /** For tests: the client to use instead of a real `EmailClient`. */
  client?: EmailSender;
}

/**
 * An Azure Communication Services Email transport, authenticated with a token (managed identity), never an
 * access key. `beginSend` queues the message; we poll until ACS says Succeeded, and anything else is an error
 * naming the endpoint, operation id, status and code.
 */
export function createAcsTransport(options: AcsTransportOptions): MailTransport {
  const endpoint = validateEndpoint(options.endpoint);
  const pollIntervalMs = positive(options.pollIntervalMs, 2_000, "pollIntervalMs");
  const timeoutMs = positive(options.timeoutMs, 120_000, "timeoutMs");
  // Constructing the client and credential does no I/O: the token is fetched on the first send.
  const client: EmailSender =
    options.client ??
    new EmailClient(
      endpoint,
      options.credential ??
        new DefaultAzureCredential(
          options.managedIdentityClientId ? { managedIdentityClientId: options.managedIdentityClientId } : {},
        ),
    );

  return {
    async send(message: MailMessage) {
      const abortSignal = AbortSignal.timeout(timeoutMs);
      let result: EmailSendResponse;
      try {
        const poller = await client.beginSend(toAcsEmailMessage(message), {
          updateIntervalInMs: pollIntervalMs,
          abortSignal,
        });
        result = await poller.pollUntilDone({ abortSignal });
      } catch (error) {
        throw acsSendError(error, endpoint);
      }
      const failure = acsResultError(result, endpoint);
      if (failure) throw failure;
      return { messageId: result.id };
    },
  };
}

/**
 * Our message in ACS's shape. ACS wants bare addresses, so `"Name <a@b>"` is split into address and display
 * name. Engagement tracking is turned off: it would rewrite the report link and count who opened an alert.
 */
export function toAcsEmailMessage(message: MailMessage): EmailMessage {
  return {
    senderAddress: parseAddress(message.from).address,
    content: { subject: message.subject, plainText: message.text, html: message.html },
    recipients: { to: message.to.map(parseAddress) },
    disableUserEngagementTracking: true,
  };
}

/** `a@b`, `Name <a@b>` or `"Name, Team" <a@b>` as an ACS address. */
export function parseAddress(value: string): EmailAddress {
  const match = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/.exec(value);
  if (!match) return { address: value.trim() };
  const displayName = (match[1] ?? "").replace(/^"(.*)"$/, "$1").trim();
  const address = match[2] ?? "";
  return displayName ? { address, displayName } : { address };
}

/** The error for a send that ended in a status other than Succeeded; undefined when it succeeded. */
export function acsResultError(result: Pick<EmailSendResponse, "id" | "status" | "error">, endpoint: string): Error | undefined {
  if (result.status === "Succeeded") return undefined;
  const code = result.error?.code;
  const detail = result.error?.message;
  return Object.assign(
    new Error(
      `Azure Communication Services email ${result.id || "(no operation id)"} via ${endpoint} ended ${result.status}` +
        `${code ? ` (code ${code})` : ""}${detail ? `: ${detail}` : ""}`,
    ),
    { code, status: result.status },
  );
}

/**
 * A failure to queue or poll, with what a person needs to fix it: the HTTP status and code (401/403: give the
 * identity a role on the Communication Services resource that allows sending email; 404: wrong endpoint), or
 * the credential's own message (no managed identity available). Request and response
 * objects (which carry the bearer token's headers) are deliberately not kept.
 */
export function acsSendError(error: unknown, endpoint: string): Error {
  const source = error as { name?: unknown; message?: unknown; code?: unknown; statusCode?: unknown } | undefined;
  const statusCode = typeof source?.statusCode === "number" ? source.statusCode : undefined;
  const code = typeof source?.code === "string" ? source.code : undefined;
  const name = typeof source?.name === "string" ? source.name : "Error";
  const reason = typeof source?.message === "string" ? source.message : String(error);
  const details = [statusCode !== undefined && `HTTP ${statusCode}`, code && `code ${code}`].filter(Boolean).join(", ");
  const hint =
    statusCode === 401 || statusCode === 403
      ? "; check that the app's managed identity may send email with this Communication Services resource"
      : name === "AbortError" || name === "TimeoutError"
        ? "; the send did not complete in time"
        : "";
  return Object.assign(
    new Error(`Azure Communication Services send via ${endpoint} failed: ${reason}${details ? ` (${details})` : ""}${hint}`),
    { code, statusCode },
  );
}

function validateEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    // Not echoed: a connection string pasted here would carry the access key.
    throw new TypeError("Expected `endpoint` to be an https URL like https://<resource>.communication.azure.com");
  }
  if (url.protocol !== "https:" || url.username || url.password || url.search) {
    throw new TypeError(
      "Expected `endpoint` to be an https URL like https://<resource>.communication.azure.com, without credentials or query",
    );
  }
  return url.origin;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected \`${name}\` to be a positive number, got ${String(value)}`);
  }
  return value;
}
