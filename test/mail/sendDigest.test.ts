import { describe, expect, it } from "vitest";
import { backoffDelay, isPermanentMailError, sendDigest } from "../../src/mail/sendDigest.js";
import type { MailTransport } from "../../src/mail/transport.js";

const message = { subject: "s", text: "t", html: "<p>h</p>" };
const addresses = { from: "audit@example.com", to: ["secops@example.com"] };

/*
 * Sending, retrying transient refusals, giving up after `retries + 1` attempts and not retrying a permanent
 * refusal are tested against a real SMTP server in smtp.test.ts ("retries when the server answers 451 at
 * first", "fails without throwing after retries + 1 attempts…", "does not retry a permanent refusal (550)",
 * "reports an unreachable server…"), with nodemailer's own errors. Here: what no real transport does.
 */
describe("sendDigest", () => {
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
