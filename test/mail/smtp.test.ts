/**
 * The digest over real SMTP: nodemailer (our transport) talks to a real `smtp-server` on 127.0.0.1, and what
 * arrives is parsed back with mailparser, as a mail client would.
 */
import { simpleParser, type ParsedMail } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { buildDigest } from "../../src/mail/digest.js";
import { sendDigest } from "../../src/mail/sendDigest.js";
import { createSmtpTransport } from "../../src/mail/smtpTransport.js";
import { buildReport } from "../../src/report/model.js";
import { identityResult } from "../findings/builders.js";
import { HOSTILE_NAME, reportInput } from "../report/fixtures.js";
import { startSmtpTestServer, type SmtpTestServer } from "./smtpTestServer.js";

const FROM = "uami-audit <audit@example.com>";
const TO = ["secops@example.com", "platform@example.com"];

let server: SmtpTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function received(index = 0): Promise<ParsedMail> {
  const raw = server?.messages[index];
  if (!raw) throw new Error(`no message ${index} received`);
  return simpleParser(raw);
}

describe("digest over SMTP", () => {
  it("arrives with the right subject, both parts, exactly the new identities, and escaped HTML", async () => {
    server = await startSmtpTestServer();
    const hostile = `${HOSTILE_NAME} "quoted" 'single' & 日本`;
    const input = reportInput();
    input.identities = input.identities.map((identity) => (identity.name === HOSTILE_NAME ? { ...identity, name: hostile } : identity));
    const digest = buildDigest(buildReport(input), { reportUrl: "https://audit.example.com/report", alwaysSend: false })!;

    const transport = createSmtpTransport({ host: "127.0.0.1", port: server.port, secure: false });
    const result = await sendDigest(transport, digest, { from: FROM, to: TO, minDelayMs: 1 });
    expect(result).toMatchObject({ status: "sent", attempts: 1 });
    expect(result.messageId).toMatch(/^<.+>$/);

    const mail = await received();
    expect(mail.subject).toBe(digest.subject);
    expect(mail.from?.value).toEqual([{ address: "audit@example.com", name: "uami-audit" }]);
    expect([mail.to].flat().flatMap((address) => address?.value.map((value) => value.address))).toEqual(TO);
    expect(mail.messageId).toBe(result.messageId);
    expect(mail.text).toBe(digest.text);
    expect(mail.html).toBe(digest.html);

    // Exactly the new unused identities are listed.
    const listed = [...(mail.text ?? "").matchAll(/^\d+\. (.+): [A-Z]+ risk/gm)].map((match) => match[1]);
    expect(listed).toEqual(["id-rg-contributor", hostile]);
    expect(mail.text).not.toContain("id-owner-sub");

    // The hostile name arrives escaped in HTML, and intact (Unicode too) in text.
    const html = mail.html || "";
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &#39;single&#39; &amp; 日本");
    expect(mail.text).toContain(hostile);
  });

  it("retries when the server answers 451 at first", async () => {
    server = await startSmtpTestServer({ failFirst: 2 });
    const transport = createSmtpTransport({ host: "127.0.0.1", port: server.port });
    const result = await sendDigest(transport, { subject: "s", text: "t", html: "<p>h</p>" }, { from: FROM, to: TO, retries: 3, minDelayMs: 5 });
    expect(result).toMatchObject({ status: "sent", attempts: 3 });
    expect(server.attempts()).toBe(3);
    expect(server.messages).toHaveLength(1);
    expect((await received()).subject).toBe("s");
  });

  it("fails without throwing after retries + 1 attempts when the server always refuses", async () => {
    server = await startSmtpTestServer({ failAlways: true });
    const transport = createSmtpTransport({ host: "127.0.0.1", port: server.port });
    const result = await sendDigest(transport, { subject: "s", text: "t", html: "h" }, { from: FROM, to: TO, retries: 2, minDelayMs: 1 });
    expect(result.status).toBe("failed");
    expect(result.attempts).toBe(3);
    expect(server.attempts()).toBe(3);
    expect(result.error).toMatch(new RegExp(`^SMTP send via smtp://127\\.0\\.0\\.1:${server.port} failed: .*451`));
    expect(server.messages).toHaveLength(0);
  });

  it("does not retry a permanent refusal (550)", async () => {
    server = await startSmtpTestServer({ failAlways: true, responseCode: 550 });
    const transport = createSmtpTransport({ host: "127.0.0.1", port: server.port });
    const result = await sendDigest(transport, { subject: "s", text: "t", html: "h" }, { from: FROM, to: TO, retries: 3, minDelayMs: 1 });
    expect(result).toMatchObject({ status: "failed", attempts: 1 });
    expect(server.attempts()).toBe(1);
  });

  it("authenticates, and never shows the password in an error or on the transport", async () => {
    const password = "s3cret-Pa55word";
    server = await startSmtpTestServer({ credentials: { user: "audit", password } });

    const good = createSmtpTransport({ host: "127.0.0.1", port: server.port, user: "audit", password });
    expect(JSON.stringify(good)).not.toContain(password);
    expect(good.describe()).toBe(`smtp://127.0.0.1:${server.port} as audit`);
    await expect(sendDigest(good, { subject: "authenticated", text: "t", html: "h" }, { from: FROM, to: TO })).resolves.toMatchObject({ status: "sent" });

    const bad = createSmtpTransport({ host: "127.0.0.1", port: server.port, user: "audit", password: `${password}-wrong` });
    const result = await sendDigest(bad, { subject: "s", text: "t", html: "h" }, { from: FROM, to: TO, minDelayMs: 1 });
    expect(result).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.error).toContain("535");
    expect(result.error).not.toContain(password);
  });

  it("reports an unreachable server as a failure with the host and port", async () => {
    const probe = await startSmtpTestServer();
    const { port } = probe;
    await probe.close();
    const transport = createSmtpTransport({ host: "127.0.0.1", port, timeoutMs: 2_000 });
    const result = await sendDigest(transport, { subject: "s", text: "t", html: "h" }, { from: FROM, to: TO, retries: 1, minDelayMs: 1 });
    expect(result).toMatchObject({ status: "failed", attempts: 2 });
    expect(result.error).toContain(`smtp://127.0.0.1:${port}`);
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it("sends a heartbeat digest when asked to even with nothing new", async () => {
    server = await startSmtpTestServer();
    const quiet = buildReport(reportInput({ identities: [identityResult({ name: "id-old" })], previousRunVerdicts: new Map([[identityResult({ name: "id-old" }).id.toLowerCase(), "unused"]]) }));
    const digest = buildDigest(quiet, { alwaysSend: true })!;
    const transport = createSmtpTransport({ host: "127.0.0.1", port: server.port });
    await expect(sendDigest(transport, digest, { from: FROM, to: TO })).resolves.toMatchObject({ status: "sent" });
    expect((await received()).subject).toContain("No new unused managed identities");
  });
});

describe("createSmtpTransport options", () => {
  it.each([
    [{ host: "", port: 25 }, /`host`/],
    [{ host: "smtp.example.com", port: 0 }, /`port`/],
    [{ host: "smtp.example.com", port: 70_000 }, /`port`/],
    [{ host: "smtp.example.com", port: 587, password: "p" }, /`user`/],
    [{ host: "smtp.example.com", port: 587, timeoutMs: -1 }, /`timeoutMs`/],
  ])("rejects %o naming the option", (options, message) => {
    expect(() => createSmtpTransport(options)).toThrow(message);
  });
});
