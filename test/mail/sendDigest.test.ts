import { describe, expect, it } from "vitest";
import { backoffDelay, isPermanentMailError, sendDigest } from "../../src/mail/sendDigest.js";
import type { MailMessage, MailTransport } from "../../src/mail/transport.js";

const message = { subject: "s", text: "t", html: "<p>h</p>" };
const addresses = { from: "audit@example.com", to: ["secops@example.com"] };

function flakyTransport(failures: Array<Error | undefined>): MailTransport & { sent: MailMessage[]; calls: number } {
  const transport = {
    sent: [] as MailMessage[],
    calls: 0,
    async send(mail: MailMessage) {
      const failure = failures[transport.calls];
      transport.calls += 1;
      if (failure) throw failure;
      transport.sent.push(mail);
      return { messageId: `<m${transport.calls}@test>` };
    },
  };
  return transport;
}

describe("sendDigest (with a transport double)", () => {
  it("sends once when the transport succeeds", async () => {
    const transport = flakyTransport([]);
    await expect(sendDigest(transport, message, addresses)).resolves.toEqual({ status: "sent", attempts: 1, messageId: "<m1@test>" });
    expect(transport.sent).toEqual([{ ...addresses, ...message }]);
  });

  it("retries transient failures and reports the attempt that worked", async () => {
    const transport = flakyTransport([new Error("ETIMEDOUT"), Object.assign(new Error("451"), { responseCode: 451 })]);
    await expect(sendDigest(transport, message, { ...addresses, minDelayMs: 1 })).resolves.toMatchObject({ status: "sent", attempts: 3 });
  });

  it("gives up after retries + 1 attempts without throwing", async () => {
    const transport = flakyTransport(Array.from({ length: 10 }, () => new Error("connection refused")));
    await expect(sendDigest(transport, message, { ...addresses, retries: 2, minDelayMs: 0 })).resolves.toEqual({
      status: "failed",
      attempts: 3,
      error: "connection refused",
    });
    expect(transport.calls).toBe(3);
  });

  it("does not retry permanent failures", async () => {
    const transport = flakyTransport([Object.assign(new Error("550 no such user"), { responseCode: 550 })]);
    await expect(sendDigest(transport, message, { ...addresses, minDelayMs: 0 })).resolves.toMatchObject({ status: "failed", attempts: 1 });
  });

  it("never throws, even for a transport that throws a non-Error or bad options", async () => {
    const weird: MailTransport = {
      send: () => Promise.reject("just a string"),
    };
    await expect(sendDigest(weird, message, { ...addresses, retries: 0 })).resolves.toEqual({ status: "failed", attempts: 1, error: "just a string" });
    await expect(sendDigest(weird, message, { ...addresses, to: [] })).resolves.toMatchObject({ status: "failed", attempts: 0, error: expect.stringMatching(/`to`/) });
    await expect(sendDigest(weird, message, { ...addresses, from: "" })).resolves.toMatchObject({ attempts: 0, error: expect.stringMatching(/`from`/) });
    await expect(sendDigest(weird, message, { ...addresses, retries: -1 })).resolves.toMatchObject({ attempts: 0, error: expect.stringMatching(/`retries`/) });
    await expect(sendDigest(weird, message, { ...addresses, minDelayMs: Number.NaN })).resolves.toMatchObject({ attempts: 0, error: expect.stringMatching(/`minDelayMs`/) });
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(1, 1000, 30_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(10, 1000, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(2, 0, 30_000, () => 0.5)).toBe(0);
  });

  it.each([
    [{ responseCode: 550 }, true],
    [{ responseCode: 535 }, true],
    [{ responseCode: 451 }, false],
    [{ responseCode: 421 }, false],
    [{ statusCode: 401 }, true],
    [{ statusCode: 429 }, false],
    [{ statusCode: 503 }, false],
    [{}, false],
  ])("isPermanentMailError(%o) is %s", (fields, expected) => {
    expect(isPermanentMailError(Object.assign(new Error("x"), fields))).toBe(expected);
  });
});
