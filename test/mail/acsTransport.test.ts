/**
 * Azure Communication Services cannot be reached from here: these tests cover the pure mapping and error
 * functions the transport uses, and the transport's flow with a stand-in for `EmailClient.beginSend`.
 */
import type { EmailMessage } from "@azure/communication-email";
import { describe, expect, it } from "vitest";
import {
  acsResultError,
  acsSendError,
  createAcsTransport,
  parseAddress,
  toAcsEmailMessage,
  type EmailSender,
} from "../../src/mail/acsTransport.js";

const ENDPOINT = "https://contoso-audit.communication.azure.com";
const message = {
  from: "uami-audit <DoNotReply@contoso.azurecomm.net>",
  to: ["secops@example.com", '"Platform, Team" <platform@example.com>'],
  subject: "[uami-audit] 2 new unused managed identities",
  text: "text part",
  html: "<p>html part</p>",
};

describe("toAcsEmailMessage", () => {
  it("maps our message to ACS's shape with bare addresses and no engagement tracking", () => {
    expect(toAcsEmailMessage(message)).toEqual({
      senderAddress: "DoNotReply@contoso.azurecomm.net",
      content: { subject: message.subject, plainText: "text part", html: "<p>html part</p>" },
      recipients: { to: [{ address: "secops@example.com" }, { address: "platform@example.com", displayName: "Platform, Team" }] },
      disableUserEngagementTracking: true,
    });
  });

  it.each([
    ["a@b.example", { address: "a@b.example" }],
    ["  a@b.example  ", { address: "a@b.example" }],
    ["Name <a@b.example>", { address: "a@b.example", displayName: "Name" }],
    ['"Quoted Name" <a@b.example>', { address: "a@b.example", displayName: "Quoted Name" }],
    ["<a@b.example>", { address: "a@b.example" }],
  ])("parseAddress(%j)", (input, expected) => {
    expect(parseAddress(input)).toEqual(expected);
  });
});

describe("ACS errors", () => {
  it("acsResultError is undefined on success and names the operation, status and code otherwise", () => {
    expect(acsResultError({ id: "op-1", status: "Succeeded" }, ENDPOINT)).toBeUndefined();
    const failure = acsResultError({ id: "op-2", status: "Failed", error: { code: "EmailDroppedAllRecipientsSuppressed", message: "All recipients suppressed" } }, ENDPOINT);
    expect(failure?.message).toBe(
      `Azure Communication Services email op-2 via ${ENDPOINT} ended Failed (code EmailDroppedAllRecipientsSuppressed): All recipients suppressed`,
    );
    expect(acsResultError({ id: "", status: "Canceled" }, ENDPOINT)?.message).toBe(
      `Azure Communication Services email (no operation id) via ${ENDPOINT} ended Canceled`,
    );
  });

  it("acsSendError keeps status and code, hints at the role for 401/403, and drops request objects", () => {
    const restError = Object.assign(new Error("The principal does not have permission"), {
      name: "RestError",
      statusCode: 403,
      code: "Forbidden",
      request: { headers: { authorization: "Bearer eyJ.secret.token" } },
    });
    const error = acsSendError(restError, ENDPOINT);
    expect(error.message).toBe(
      `Azure Communication Services send via ${ENDPOINT} failed: The principal does not have permission (HTTP 403, code Forbidden); ` +
        "check that the app's managed identity may send email with this Communication Services resource",
    );
    expect(error).toMatchObject({ statusCode: 403, code: "Forbidden" });
    expect(JSON.stringify(error)).not.toContain("eyJ");
    expect(error.message).not.toContain("eyJ");
    expect(error.cause).toBeUndefined();
  });

  it("acsSendError explains timeouts and credential failures", () => {
    expect(acsSendError(Object.assign(new Error("The operation was aborted"), { name: "AbortError" }), ENDPOINT).message).toMatch(/did not complete in time$/);
    expect(acsSendError(new Error("ManagedIdentityCredential: no managed identity endpoint found"), ENDPOINT).message).toBe(
      `Azure Communication Services send via ${ENDPOINT} failed: ManagedIdentityCredential: no managed identity endpoint found`,
    );
  });
});

function fakeSender(outcome: { status: string; error?: { code: string; message: string } } | Error): EmailSender & { sent: EmailMessage[] } {
  const sent: EmailMessage[] = [];
  const sender = {
    sent,
    async beginSend(email: EmailMessage) {
      if (outcome instanceof Error) throw outcome;
      sent.push(email);
      return { pollUntilDone: async () => ({ id: "op-42", ...outcome }) };
    },
  };
  return sender as unknown as EmailSender & { sent: EmailMessage[] };
}

describe("createAcsTransport", () => {
  it("sends, polls until done and returns the operation id", async () => {
    const client = fakeSender({ status: "Succeeded" });
    const transport = createAcsTransport({ endpoint: ENDPOINT, client });
    await expect(transport.send(message)).resolves.toEqual({ messageId: "op-42" });
    expect(client.sent).toEqual([toAcsEmailMessage(message)]);
  });

  it("throws with context when ACS reports a failed send", async () => {
    const transport = createAcsTransport({ endpoint: ENDPOINT, client: fakeSender({ status: "Failed", error: { code: "Bad", message: "nope" } }) });
    await expect(transport.send(message)).rejects.toThrow(`Azure Communication Services email op-42 via ${ENDPOINT} ended Failed (code Bad): nope`);
  });

  it("throws with context when the request fails", async () => {
    const transport = createAcsTransport({ endpoint: ENDPOINT, client: fakeSender(Object.assign(new Error("Too many requests"), { statusCode: 429 })) });
    await expect(transport.send(message)).rejects.toMatchObject({ statusCode: 429, message: expect.stringContaining("(HTTP 429)") });
  });

  it("builds a real client with a token credential without any I/O", () => {
    const credential = { getToken: async () => null };
    expect(() => createAcsTransport({ endpoint: `${ENDPOINT}/`, credential })).not.toThrow();
  });

  it.each([
    ["endpoint=https://x.communication.azure.com/;accesskey=c2VjcmV0"],
    ["http://x.communication.azure.com"],
    ["https://x.communication.azure.com/?accesskey=c2VjcmV0"],
  ])("rejects the endpoint %j without echoing it", (endpoint) => {
    expect(() => createAcsTransport({ endpoint })).toThrow(/`endpoint`/);
    try {
      createAcsTransport({ endpoint });
    } catch (error) {
      expect((error as Error).message).not.toContain("c2VjcmV0");
    }
  });

  it("rejects a bad poll interval naming the option", () => {
    expect(() => createAcsTransport({ endpoint: ENDPOINT, pollIntervalMs: 0, client: fakeSender({ status: "Succeeded" }) })).toThrow(/`pollIntervalMs`/);
  });
});
