import nodemailer from "nodemailer";
import type { MailMessage, MailTransport } from "./transport.js";

/** The SMTP submission port (STARTTLS when the server offers it): UAMI_SMTP_PORT and `--smtp-port` default to it. */
export const DEFAULT_SMTP_PORT = 587;

export interface SmtpTransportOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Default: true on port 465, false otherwise (STARTTLS if offered). */
  secure?: boolean;
  user?: string;
  password?: string;
  /** Refuse to send unless the server upgrades with STARTTLS. Default false. */
  requireTls?: boolean;
  /** Default true. Turn off only for a test server with a self-signed certificate. */
  tlsRejectUnauthorized?: boolean;
  /** Connection, greeting and socket timeouts in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/**
 * An SMTP transport (nodemailer). The password stays inside nodemailer's options: it is not a property of
 * the returned object, never logged (nodemailer's logger stays off) and never part of an error message.
 */
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport & { describe(): string } {
  validate(options);
  const { host, port } = options;
  const timeout = options.timeoutMs ?? 30_000;
  const transporter = nodemailer.createTransport({
    host,
    port,
    secure: options.secure ?? port === 465,
    requireTLS: options.requireTls ?? false,
    auth: options.user ? { user: options.user, pass: options.password ?? "" } : undefined,
    tls: { rejectUnauthorized: options.tlsRejectUnauthorized ?? true },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
    debug: false,
  });
  const where = `smtp://${host}:${port}`;

  return {
    describe: () => `${where}${options.user ? ` as ${options.user}` : ""}`,
    async send(message: MailMessage) {
      try {
        const info = await transporter.sendMail({
          from: message.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
        });
        return { messageId: info.messageId };
      } catch (error) {
        throw smtpError(error, where, options.password);
      }
    },
  };
}

/**
 * "SMTP send via smtp://host:port failed: <reason> (code EAUTH, SMTP 535)". Keeps nodemailer's `code` and
 * `responseCode` on the error so callers can tell permanent (5xx) from transient failures. The password is
 * scrubbed in case a server ever echoes it.
 */
function smtpError(error: unknown, where: string, password: string | undefined): Error {
  const source = error as { message?: unknown; code?: unknown; responseCode?: unknown } | undefined;
  const code = typeof source?.code === "string" ? source.code : undefined;
  const responseCode = typeof source?.responseCode === "number" ? source.responseCode : undefined;
  let reason = typeof source?.message === "string" ? source.message : String(error);
  if (password) reason = reason.replaceAll(password, "***");
  const details = [code && `code ${code}`, responseCode && `SMTP ${responseCode}`].filter(Boolean).join(", ");
  const wrapped = new Error(`SMTP send via ${where} failed: ${reason}${details ? ` (${details})` : ""}`);
  return Object.assign(wrapped, { code, responseCode });
}

function validate(options: SmtpTransportOptions): void {
  if (typeof options.host !== "string" || options.host.trim() === "") {
    throw new TypeError("Expected `host` to be a non-empty host name");
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
    throw new TypeError(`Expected \`port\` to be an integer from 1 to 65535, got ${String(options.port)}`);
  }
  if (options.password !== undefined && !options.user) {
    throw new TypeError("Expected `user` to be set when `password` is");
  }
  if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
    throw new TypeError(`Expected \`timeoutMs\` to be a positive number, got ${String(options.timeoutMs)}`);
  }
}
