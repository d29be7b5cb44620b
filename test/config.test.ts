import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HOST_QUEUE_SETTINGS } from "../src/cli/scan.js";
import { ConfigError, loadConfig, SETTINGS } from "../src/config.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("settings", () => {
  it("the README's settings table lists exactly the settings the code reads, with the same defaults", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Settings"), readme.indexOf("\n## ", readme.indexOf("## Settings") + 5));
    const rows = [...section.matchAll(/^\| `([A-Za-z_]+)` \| (.+?) \| .+ \|$/gm)].map((m) => [m[1], m[2]!.replace(/`/g, "")]);
    expect(rows).toEqual(SETTINGS.map((s) => [s.name, s.default]));
  });

  it("local.settings.sample.json carries every setting", () => {
    const sample = JSON.parse(readFileSync(new URL("../local.settings.sample.json", import.meta.url), "utf8")) as { Values: Record<string, string> };
    for (const setting of SETTINGS) expect(Object.keys(sample.Values)).toContain(setting.name);
  });

  it("host.json's queue contract matches what the code and the CLI's queue host assume", () => {
    const host = JSON.parse(readFileSync(new URL("../host.json", import.meta.url), "utf8"));
    const queues = host.extensions.queues;
    expect(queues.messageEncoding).toBe("base64");
    expect(queues.batchSize).toBe(HOST_QUEUE_SETTINGS.batchSize);
    expect(queues.maxDequeueCount).toBe(HOST_QUEUE_SETTINGS.maxDequeueCount);
    expect(queues.maxDequeueCount).toBe(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT }).maxDequeueCount);
    expect(queues.visibilityTimeout).toBe(`00:00:${String(HOST_QUEUE_SETTINGS.visibilityTimeoutSeconds).padStart(2, "0")}`);
    expect(host.concurrency.dynamicConcurrencyEnabled).toBe(false);
  });

  it("has sane defaults", () => {
    const config = loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT });
    expect(config).toMatchObject({
      ratePerSecond: 1,
      associationsToStore: 10,
      gracePeriodDays: 7,
      exemptTag: "uami-audit-exempt",
      armEndpoint: "https://management.azure.com",
      scope: { subscriptions: [], managementGroups: [] },
      mail: { transport: "none", to: [], alwaysSend: false },
    });
    // Unset: the limiter picks the margin for the rate (see tenantRateLimiter's defaultSafetyMs).
    expect(config.rateSafetyMs).toBeUndefined();
    expect(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_RATE_SAFETY_MS: "0" }).rateSafetyMs).toBe(0);
    expect(() => loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_RATE_SAFETY_MS: "-5" })).toThrow(/UAMI_RATE_SAFETY_MS must be an integer from 0/);
  });

  it("collects every problem into one clear error and never echoes a secret", () => {
    let error: unknown;
    try {
      loadConfig({
        UAMI_AUDIT_TENANT_ID: "contoso",
        UAMI_RATE_LIMIT_PER_SECOND: "fast",
        UAMI_AUDIT_SUBSCRIPTIONS: "0336439f-0e9d-44ec-975e-62accb9b3901, nope",
        UAMI_MAIL_TRANSPORT: "smtp",
        UAMI_SMTP_PASSWORD: "hunter2-secret",
        UAMI_ARM_ENDPOINT: "http://insecure",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/UAMI_AUDIT_TENANT_ID must be a GUID/);
    expect(message).toMatch(/UAMI_RATE_LIMIT_PER_SECOND must be a number/);
    expect(message).toMatch(/"nope" is not a subscription id/);
    expect(message).toMatch(/needs UAMI_MAIL_FROM and UAMI_MAIL_TO/);
    expect(message).toMatch(/needs UAMI_SMTP_HOST/);
    expect(message).toMatch(/https:\/\//);
    expect(message).not.toMatch(/hunter2/);
  });

  it("requires the tenant and accepts `all` associations", () => {
    expect(() => loadConfig({})).toThrow(/UAMI_AUDIT_TENANT_ID is required/);
    expect(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_ASSOCIATIONS_TO_STORE: "all" }).associationsToStore).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("sign-in settings", () => {
  const WORKSPACE = "b332fa58-f401-4607-9782-73ec3ee98cbf";

  it("are off without a workspace, whatever else is set", () => {
    expect(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT }).signIns).toBeUndefined();
    expect(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_SIGNIN_WINDOW_DAYS: "90", UAMI_LOGS_TOKEN: "tok-123456" }).signIns).toBeUndefined();
  });

  it("default to a 30-day window on the public Logs endpoint, with no static token", () => {
    expect(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_SIGNIN_WORKSPACE_ID: WORKSPACE }).signIns).toEqual({
      workspaceId: WORKSPACE,
      windowDays: 30,
      endpoint: "https://api.loganalytics.io",
    });
  });

  it("read the window, a sovereign or simulator endpoint (trailing slash dropped) and a static token", () => {
    const config = loadConfig({
      UAMI_AUDIT_TENANT_ID: TENANT,
      UAMI_SIGNIN_WORKSPACE_ID: ` ${WORKSPACE} `,
      UAMI_SIGNIN_WINDOW_DAYS: "730",
      UAMI_LOGS_ENDPOINT: "https://127.0.0.1:8443/",
      UAMI_LOGS_TOKEN: "eyJ0eXAiOiJKV1QifQ.e30.sig",
    });
    expect(config.signIns).toEqual({ workspaceId: WORKSPACE, windowDays: 730, endpoint: "https://127.0.0.1:8443", token: "eyJ0eXAiOiJKV1QifQ.e30.sig" });
    expect(loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_SIGNIN_WORKSPACE_ID: WORKSPACE, UAMI_SIGNIN_WINDOW_DAYS: "1" }).signIns?.windowDays).toBe(1);
  });

  it.each([
    ["a workspace name", { UAMI_SIGNIN_WORKSPACE_ID: "law-security" }, /UAMI_SIGNIN_WORKSPACE_ID must be the workspace's Workspace ID \(a GUID\)/],
    ["a workspace resource id", { UAMI_SIGNIN_WORKSPACE_ID: "/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/z" }, /not its name or resource id/],
    ["a zero window", { UAMI_SIGNIN_WORKSPACE_ID: WORKSPACE, UAMI_SIGNIN_WINDOW_DAYS: "0" }, /UAMI_SIGNIN_WINDOW_DAYS must be an integer from 1 to 730/],
    ["a window past retention", { UAMI_SIGNIN_WORKSPACE_ID: WORKSPACE, UAMI_SIGNIN_WINDOW_DAYS: "731" }, /UAMI_SIGNIN_WINDOW_DAYS must be an integer from 1 to 730/],
    ["a fractional window", { UAMI_SIGNIN_WORKSPACE_ID: WORKSPACE, UAMI_SIGNIN_WINDOW_DAYS: "7.5" }, /UAMI_SIGNIN_WINDOW_DAYS/],
    ["an http endpoint", { UAMI_SIGNIN_WORKSPACE_ID: WORKSPACE, UAMI_LOGS_ENDPOINT: "http://api.loganalytics.io" }, /UAMI_LOGS_ENDPOINT must be an https:\/\/ URL/],
  ])("refuse %s", (_what, env, problem) => {
    expect(() => loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, ...env })).toThrow(problem);
  });

  it("never echo the static token in an error", () => {
    let message = "";
    try {
      loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_SIGNIN_WORKSPACE_ID: "nope", UAMI_LOGS_TOKEN: "secret-logs-token-value" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/UAMI_SIGNIN_WORKSPACE_ID/);
    expect(message).not.toMatch(/secret-logs-token-value/);
  });
});
