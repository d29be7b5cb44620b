/**
 * A real SMTP server for tests (the `smtp-server` package) on 127.0.0.1, port 0, TLS off. It can refuse the
 * first N messages (or all of them) with a reply code, and it keeps what it received as raw messages.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface SmtpTestServer {
  port: number;
  /** Raw RFC 5322 messages accepted, in order. */
  messages: Buffer[];
  /** MAIL FROM commands seen, accepted or not: one per send attempt. */
  attempts: () => number;
  close(): Promise<void>;
}

export interface SmtpTestServerOptions {
  /** Refuse this many attempts before accepting. */
  failFirst?: number;
  /** Refuse every attempt. */
  failAlways?: boolean;
  /** Reply code for refusals. Default 451 (transient). */
  responseCode?: number;
  /** When set, AUTH is required and only these credentials pass. */
  credentials?: { user: string; password: string };
}

export async function startSmtpTestServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const messages: Buffer[] = [];
  let attempts = 0;
  const credentials = options.credentials;
  const serverOptions: SMTPServerOptions = {
    secure: false,
    authOptional: !credentials,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.password) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
      }
    },
    onMailFrom(_address, _session, callback) {
      attempts += 1;
      if (options.failAlways || attempts <= (options.failFirst ?? 0)) {
        callback(Object.assign(new Error("Try again later"), { responseCode: options.responseCode ?? 451 }));
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        messages.push(Buffer.concat(chunks));
        callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
