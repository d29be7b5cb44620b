import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Command } from "commander";
import { buildProgram } from "../src/cli/main.js";
import { HOST_QUEUE_SETTINGS } from "../src/cli/scan.js";
import { ConfigError, loadCliEnvironment, loadConfig, SETTING_NAMES_READ, SETTINGS, unknownSettings } from "../src/config.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("settings", () => {
  it("the README's settings table lists exactly the settings the code reads, with the same defaults", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Settings"), readme.indexOf("\n## ", readme.indexOf("## Settings") + 5));
    const rows = [...section.matchAll(/^\| `([A-Za-z_]+)` \| (.+?) \| .+ \|$/gm)].map((m) => [m[1], m[2]!.replace(/`/g, "")]);
    expect(rows).toEqual(SETTINGS.map((s) => [s.name, s.default]));
  });

  it("the schema reads every documented setting but the timers' schedules (the Functions host reads them), and nothing undocumented", () => {
    const documented = SETTINGS.map((s) => s.name);
    expect(documented.filter((name) => !SETTING_NAMES_READ.includes(name))).toEqual(["UAMI_AUDIT_SCHEDULE", "UAMI_REPORT_SCHEDULE"]);
    // Read but documented inside another row: AzureWebJobsStorage's identity-based parts, and AZURE_CLIENT_ID (UAMI_ACS_ENDPOINT).
    const undocumented = SETTING_NAMES_READ.filter((name) => !documented.includes(name));
    expect(undocumented.every((name) => name.startsWith("AzureWebJobsStorage__") || name === "AZURE_CLIENT_ID")).toBe(true);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const name of undocumented) expect(readme, name).toContain(name.replace(/^AzureWebJobsStorage/, ""));
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

/** The problems a ConfigError lists for `env` (with the tenant set unless `env` says otherwise). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`no problem with ${JSON.stringify(env)}`);
}

describe("setting schemas", () => {
  it.each([
    ["text for a number", { UAMI_MAX_SLOT_WAIT_MS: "20s" }, `UAMI_MAX_SLOT_WAIT_MS must be an integer from 0 to 600000, got "20s"`],
    ["a fraction for an integer", { UAMI_GRACE_PERIOD_DAYS: "1.5" }, `UAMI_GRACE_PERIOD_DAYS must be an integer from 0 to 3650, got "1.5"`],
    ["a number above its range", { UAMI_SMTP_PORT: "70000" }, `UAMI_SMTP_PORT must be an integer from 1 to 65535, got "70000"`],
    ["a rate below its range", { UAMI_RATE_LIMIT_PER_SECOND: "0" }, `UAMI_RATE_LIMIT_PER_SECOND must be a number from 0.01 to 1000, got "0"`],
    ["an infinite rate", { UAMI_RATE_LIMIT_PER_SECOND: "Infinity" }, `UAMI_RATE_LIMIT_PER_SECOND must be a number from 0.01 to 1000, got "Infinity"`],
    ["a word for a boolean", { UAMI_MAIL_ALWAYS_SEND: "yes" }, `UAMI_MAIL_ALWAYS_SEND must be true or false, got "yes"`],
    ["an unknown mode", { UAMI_AUDIT_MODE: "quick" }, `UAMI_AUDIT_MODE must be fast or exhaustive, got "quick"`],
    ["an unknown mail transport", { UAMI_MAIL_TRANSPORT: "pigeon" }, `UAMI_MAIL_TRANSPORT must be none, smtp or acs, got "pigeon"`],
    ["a bad association count", { UAMI_ASSOCIATIONS_TO_STORE: "most" }, `UAMI_ASSOCIATIONS_TO_STORE must be an integer from 0 to 100000, or all, got "most"`],
    ["too many associations", { UAMI_ASSOCIATIONS_TO_STORE: "100001" }, `UAMI_ASSOCIATIONS_TO_STORE must be an integer from 0 to 100000, or all, got "100001"`],
    ["a bad sender", { UAMI_MAIL_FROM: "security team" }, `UAMI_MAIL_FROM must be an email address, got "security team"`],
    ["a bad recipient", { UAMI_MAIL_TO: "a@contoso.com, bob" }, `UAMI_MAIL_TO: "bob" is not an email address`],
    ["a bad management group", { UAMI_AUDIT_MANAGEMENT_GROUPS: "mg-1, a/b" }, `UAMI_AUDIT_MANAGEMENT_GROUPS: "a/b" is not a management group id`],
    ["both scopes", { UAMI_AUDIT_SUBSCRIPTIONS: TENANT, UAMI_AUDIT_MANAGEMENT_GROUPS: "mg-1" }, "Set UAMI_AUDIT_SUBSCRIPTIONS or UAMI_AUDIT_MANAGEMENT_GROUPS, not both"],
    ["acs without its endpoint", { UAMI_MAIL_TRANSPORT: "acs", UAMI_MAIL_FROM: "a@contoso.com", UAMI_MAIL_TO: "b@contoso.com" }, "UAMI_MAIL_TRANSPORT=acs needs UAMI_ACS_ENDPOINT (https://<resource>.communication.azure.com)"],
    ["a bad storage account name", { AzureWebJobsStorage__accountName: "My_Account" }, `AzureWebJobsStorage__accountName must be a storage account name (3 to 24 lower-case letters and digits), got "My_Account"`],
    ["an http storage endpoint", { AzureWebJobsStorage__queueServiceUri: "http://x.queue.core.windows.net" }, `AzureWebJobsStorage__queueServiceUri must be an https:// URL, got "http://x.queue.core.windows.net"`],
  ])("refuse %s, naming the setting, the value and what it must be", (_what, env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it("refuse a scope list over 5,000 items without echoing it, and cut a long bad value short", () => {
    const many = Array.from({ length: 5001 }, () => TENANT).join(",");
    expect(problemsOf({ UAMI_AUDIT_SUBSCRIPTIONS: many })).toEqual([
      "UAMI_AUDIT_SUBSCRIPTIONS lists 5001 subscriptions; at most 5000 (as POST /api/audits): use UAMI_AUDIT_MANAGEMENT_GROUPS, or the whole tenant",
    ]);
    const [problem] = problemsOf({ UAMI_AUDIT_TENANT_ID: "x".repeat(10_000) });
    expect(problem).toMatch(/^UAMI_AUDIT_TENANT_ID must be a GUID, got "x{80}…"$/);
  });

  it("accept values in any case, trimmed, and treat a blank setting as unset", () => {
    const config = loadConfig({
      UAMI_AUDIT_TENANT_ID: ` ${TENANT} `,
      UAMI_AUDIT_MODE: "Exhaustive",
      UAMI_MAIL_ALWAYS_SEND: "TRUE",
      UAMI_ASSOCIATIONS_TO_STORE: "ALL",
      UAMI_MAX_SLOT_WAIT_MS: "",
      UAMI_SMTP_PORT: "  ",
      UAMI_REPORT_BASE_URL: "https://uami.example//",
    });
    expect(config).toMatchObject({ tenantId: TENANT, mode: "exhaustive", associationsToStore: Number.MAX_SAFE_INTEGER, maxSlotWaitMs: 20_000, reportBaseUrl: "https://uami.example" });
    expect(config.mail.alwaysSend).toBe(true);
  });

  it("read the storage account, the app's identity and the CLI's secrets without echoing a secret", () => {
    const config = loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, AzureWebJobsStorage__accountName: "uamiaudit", AzureWebJobsStorage__clientId: "cid", AZURE_CLIENT_ID: "app-cid" });
    expect(config.storage).toMatchObject({ accountName: "uamiaudit", clientId: "cid" });
    expect(config.storage.connectionString).toBeUndefined();
    expect(config.managedIdentityClientId).toBe("app-cid");
    const secretConnection = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0LWtleQ==";
    const problems = problemsOf({ AzureWebJobsStorage: secretConnection, UAMI_ARM_TOKEN: "arm-secret", UAMI_AUDIT_MODE: "nope" });
    expect(problems.join("\n")).not.toMatch(/c2VjcmV0|arm-secret/);
    expect(loadCliEnvironment({ UAMI_ARM_TOKEN: " tok ", UAMI_SMTP_PASSWORD: "", UAMI_AUDIT_MODE: "ignored by the CLI" })).toEqual({ armToken: "tok", smtpPassword: undefined });
  });

  it("the CLI's option defaults are the settings' defaults", () => {
    const config = loadConfig({ UAMI_AUDIT_TENANT_ID: TENANT, UAMI_SMTP_HOST: "smtp.example", UAMI_SIGNIN_WORKSPACE_ID: TENANT });
    const program = buildProgram();
    const defaultOf = (command: string, flag: string): unknown => {
      const found = program.commands.find((c: Command) => c.name() === command)?.options.find((o) => o.long === flag);
      expect(found, `${command} ${flag}`).toBeDefined();
      return found!.defaultValue;
    };
    for (const command of ["scan", "report"]) {
      expect(defaultOf(command, "--arm-endpoint")).toBe(config.armEndpoint);
      expect(defaultOf(command, "--grace-days")).toBe(config.gracePeriodDays);
      expect(defaultOf(command, "--exempt-tag")).toBe(config.exemptTag);
    }
    expect(defaultOf("scan", "--rate")).toBe(config.ratePerSecond);
    expect(defaultOf("worker", "--rate")).toBe(config.ratePerSecond);
    expect(defaultOf("scan", "--mode")).toBe(config.mode);
    expect(defaultOf("scan", "--smtp-port")).toBe(config.mail.smtp?.port);
    expect(defaultOf("scan", "--signin-window-days")).toBe(config.signIns?.windowDays);
    expect(defaultOf("scan", "--logs-endpoint")).toBe(config.signIns?.endpoint);
  });
});

describe("unknownSettings", () => {
  it("warns about each UAMI_ variable that is no setting, naming the nearest one, and ignores other tools' variables", () => {
    const warnings = unknownSettings({ UAMI_RATE_PER_SECOND: "2", UAMI_AUDIT_TENNANT_ID: "x", UAMI_SOMETHING: "1", UAMI_TEST_STORAGE: "x", UAMI_BENCH_FAST_SIZES: "1", UAMI_AUDIT_MODE: "fast", OTHER: "1" });
    expect(warnings).toEqual([
      "UAMI_AUDIT_TENNANT_ID is not a setting of uami-audit and is ignored; did you mean UAMI_AUDIT_TENANT_ID? (the README's Settings table lists them all)",
      "UAMI_RATE_PER_SECOND is not a setting of uami-audit and is ignored; did you mean UAMI_RATE_LIMIT_PER_SECOND? (the README's Settings table lists them all)",
      "UAMI_SOMETHING is not a setting of uami-audit and is ignored (the README's Settings table lists them all)",
    ]);
  });

  it("says nothing when every UAMI_ variable is a documented setting", () => {
    expect(unknownSettings(Object.fromEntries(SETTINGS.map((s) => [s.name, "x"])))).toEqual([]);
  });
});
