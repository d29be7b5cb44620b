/**
 * The deployment templates (infra/, azure.yaml's parameters) against the code and the docs: settings in sync
 * with src/config.ts and docs/deploy.md, no secret anywhere, every built-in role id checked against one
 * table, the tenant-access role holding what docs/deploy.md says and nothing else, and the scale settings
 * holding the arithmetic docs/deploy.md writes down. No Bicep compiler is needed: the checks read the text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig, SETTINGS } from "../../src/config.js";
import { defaultSafetyMs } from "../../src/limiter/tenantRateLimiter.js";
import { roleDefinitionsFor } from "../../simulator/roles.js";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");

const BICEP_FILES = [
  "infra/main.bicep",
  "infra/tenant-access.bicep",
  ...readdirSync(new URL("infra/app/", ROOT)).filter((f) => f.endsWith(".bicep")).map((f) => `infra/app/${f}`),
];
const bicep = Object.fromEntries(BICEP_FILES.map((f) => [f, read(f)]));
const deployDoc = read("docs/deploy.md");
const parameters = JSON.parse(read("infra/main.parameters.json")) as { parameters: Record<string, { value: string }> };

/**
 * Built-in Azure roles the templates may grant, with their definition ids (the same in every tenant), from
 * Microsoft's list of Azure built-in roles. One table: templates, docs and the simulator are checked against it.
 */
const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
};

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** `Storage Blob Data Owner` -> `storageBlobDataOwner`. */
function camelCase(name: string): string {
  const words = name.split(/\s+/);
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase())).join("");
}

/** The `key: value` lines of the first `{ ... }` block that follows `anchor` (one level deep). */
function objectKeys(text: string, anchor: string): string[] {
  const start = text.indexOf(anchor);
  expect(start, anchor).toBeGreaterThanOrEqual(0);
  const open = text.indexOf("{", start);
  let depth = 0;
  let end = open;
  for (; end < text.length; end++) {
    if (text[end] === "{") depth++;
    if (text[end] === "}" && --depth === 0) break;
  }
  return [...text.slice(open + 1, end).matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)].map((m) => m[1]!);
}

/** A Bicep string array declared as `var name = [ ... ]`, comments dropped. */
function stringArray(text: string, name: string): string[] {
  const m = new RegExp(`var ${name} = \\[([\\s\\S]*?)\\n\\]`).exec(text);
  expect(m, name).not.toBeNull();
  return [...m![1]!.replace(/\/\/.*$/gm, "").matchAll(/'([^']+)'/g)].map((x) => x[1]!);
}

/** `param name type = default` -> the default's text (quotes removed), or undefined. */
function paramDefault(text: string, name: string): string | undefined {
  const m = new RegExp(`^param ${name} \\w+ = (.+)$`, "m").exec(text);
  return m ? m[1]!.trim().replace(/^'(.*)'$/, "$1") : undefined;
}

/** main.parameters.json: parameter -> { env var, default after `=` }. */
function parameterEnv(): Map<string, { env: string; fallback?: string }> {
  const out = new Map<string, { env: string; fallback?: string }>();
  for (const [name, { value }] of Object.entries(parameters.parameters)) {
    const m = /^\$\{([A-Z0-9_]+)(?:=([^}]*))?\}$/.exec(value);
    expect(m, `${name}: ${value}`).not.toBeNull();
    out.set(name, m![2] === undefined ? { env: m![1]! } : { env: m![1]!, fallback: m![2] });
  }
  return out;
}

/** docs/deploy.md's `azd env set` table: env var -> its default column. */
function documentedEnv(): Map<string, string> {
  const section = deployDoc.slice(deployDoc.indexOf("| `azd env set` |"), deployDoc.indexOf("\n\n", deployDoc.indexOf("| `azd env set` |")));
  return new Map([...section.matchAll(/^\| `([A-Z0-9_]+)` \| .+? \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe("settings in the templates", () => {
  const settingNames = new Set(SETTINGS.map((s) => s.name));
  const appSettings = objectKeys(bicep["infra/main.bicep"]!, "appSettings:");
  const platformSettings = objectKeys(bicep["infra/app/api.bicep"]!, "var platformSettings =");

  it("are settings the code reads", () => {
    expect(appSettings.length).toBeGreaterThan(10);
    for (const name of [...appSettings, ...platformSettings].filter((n) => n.startsWith("UAMI_"))) expect(settingNames, name).toContain(name);
    for (const name of ["UAMI_AUDIT_MODE", "UAMI_SIGNIN_WORKSPACE_ID", "UAMI_SIGNIN_WINDOW_DAYS"]) expect(appSettings).toContain(name);
  });

  it("come from parameters that main.parameters.json feeds from azd variables, all in docs/deploy.md with their defaults", () => {
    const env = parameterEnv();
    const documented = documentedEnv();
    for (const [param, { env: variable, fallback }] of env) {
      expect(bicep["infra/main.bicep"], param).toMatch(new RegExp(`^param ${param} `, "m"));
      if (!variable.startsWith("UAMI_")) continue;
      expect(documented.has(variable), `${variable} in docs/deploy.md`).toBe(true);
      if (fallback !== undefined && fallback !== "") expect(documented.get(variable), variable).toContain(`\`${fallback}\``);
    }
    expect([...documented.keys()].sort()).toEqual([...env.values()].map((e) => e.env).filter((v) => v.startsWith("UAMI_")).sort());
  });

  it("default to what the code defaults to, in the template and in main.parameters.json", () => {
    const env = parameterEnv();
    const defaults = new Map(SETTINGS.map((s) => [s.name, s.default]));
    let compared = 0;
    for (const [param, { env: variable, fallback }] of env) {
      const codeDefault = defaults.get(variable);
      if (codeDefault === undefined || /^\(|%|;/.test(codeDefault)) continue;
      if (fallback) expect(fallback, variable).toBe(codeDefault);
      const templateDefault = paramDefault(bicep["infra/main.bicep"]!, param);
      if (templateDefault !== undefined) expect(templateDefault, param).toBe(codeDefault);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(6);
  });
});

describe("no secret in the templates", () => {
  it("never reads a key, writes a connection string with a key, or takes a secret parameter", () => {
    for (const [file, text] of Object.entries(bicep)) {
      expect(text, file).not.toMatch(/listKeys\s*\(|AccountKey=|SharedAccessSignature|@secure\(\)/i);
      expect(text, file).not.toMatch(/\bUAMI_(ARM_TOKEN|LOGS_TOKEN|SMTP_PASSWORD)\b\s*:/);
      expect(text, file).not.toMatch(/^\s*AzureWebJobsStorage\s*:/m);
      // Outputs land in .azure/<env>/.env: none may be a key, password or token. The Application Insights
      // connection string names the ingestion endpoint; local auth is off, so it grants nothing.
      for (const m of text.matchAll(/^output (\w+) /gm)) {
        if (m[1] === "APPLICATIONINSIGHTS_CONNECTION_STRING" || m[1] === "connectionString") continue;
        expect(m[1], `${file} output`).not.toMatch(/key|secret|password|token|connection/i);
      }
    }
    expect(Object.values(parameters.parameters).map((p) => p.value).join(" ")).not.toMatch(/TOKEN|PASSWORD|SECRET|KEY/);
  });

  it("turns local (key) authentication off wherever a resource has it", () => {
    expect(bicep["infra/app/storage.bicep"]).toMatch(/allowSharedKeyAccess: false/);
    expect(bicep["infra/app/monitoring.bicep"]).toMatch(/DisableLocalAuth: true/);
    expect(bicep["infra/app/email.bicep"]).toMatch(/disableLocalAuth: true/);
    expect(bicep["infra/app/api.bicep"]).toMatch(/AzureWebJobsStorage__credential: 'managedidentity'/);
  });
});

describe("built-in roles", () => {
  const used = new Map<string, string>();
  for (const [file, text] of Object.entries(bicep)) {
    // The all-zero GUID is tenant-access.bicep's placeholder subscription for an unset workspace.
    for (const m of text.matchAll(GUID)) if (!/^[0-]+$/.test(m[0])) used.set(m[0].toLowerCase(), file);
  }

  it("every GUID in the templates is a built-in role of the table, in a variable named after the role", () => {
    expect(used.size).toBeGreaterThanOrEqual(5);
    for (const [guid, file] of used) {
      const name = BUILT_IN_ROLES[guid];
      expect(name, `${guid} in ${file}`).toBeDefined();
      expect(bicep[file], `${guid} in ${file}`).toMatch(new RegExp(`var ${camelCase(name!)} = '${guid}'`, "i"));
    }
  });

  it("docs/deploy.md lists every role granted, with the same ids, and why", () => {
    const section = deployDoc.slice(deployDoc.indexOf("### Every role the deployment grants"), deployDoc.indexOf("## 4."));
    const rows = [...section.matchAll(/^\| ([^|]+) \| `([0-9a-f-]{36})` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm)];
    expect(new Map(rows.map((r) => [r[2]!, r[1]!.trim()]))).toEqual(new Map([...used.keys()].map((g) => [g, BUILT_IN_ROLES[g]!])));
    for (const row of rows) expect(row[5]!.trim().length, row[1]).toBeGreaterThan(20);
    for (const row of rows) expect(row[4], row[1]).toContain(used.get(row[2]!)!);
    // Custom roles: one row each.
    expect(section).toContain("UAMI audit reader");
    expect(section).toContain("UAMI audit sign-in reader");
  });

  it("the simulator names the roles it shares with the table the same way", () => {
    const shared = roleDefinitionsFor("00000000-0000-4000-8000-000000000000", "s").filter((d) => d.name in BUILT_IN_ROLES);
    expect(shared.length).toBeGreaterThan(0);
    for (const d of shared) expect(d.roleName).toBe(BUILT_IN_ROLES[d.name]);
  });

  it("each role assignment in the templates is scoped to one resource or the tenant-access management group", () => {
    for (const [file, text] of Object.entries(bicep)) {
      for (const m of text.matchAll(/resource \w+ 'Microsoft\.Authorization\/roleAssignments@[^']+' = [^{]*\{([\s\S]*?)\n\}/g)) {
        const body = m[1]!;
        expect(body, file).toMatch(/principalType: 'ServicePrincipal'/);
        if (file !== "infra/tenant-access.bicep") expect(body, file).toMatch(/^\s+scope: \w+$/m);
      }
    }
  });
});

describe("the tenant-access role", () => {
  const text = bicep["infra/tenant-access.bicep"]!;

  it("reads, calls listAssociatedResources, and nothing else; log data is taken back out", () => {
    expect(stringArray(text, "auditActions")).toEqual(["*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action"]);
    expect(stringArray(text, "auditNotActions")).toEqual(["Microsoft.OperationalInsights/workspaces/query/read", "Microsoft.OperationalInsights/workspaces/query/*/read"]);
    expect(text).not.toMatch(/dataActions: \[\s*'/);
  });

  it("grants the sign-in table on its one workspace, only when asked", () => {
    expect(stringArray(text, "signInActions")).toEqual([
      "Microsoft.OperationalInsights/workspaces/read",
      "Microsoft.OperationalInsights/workspaces/query/read",
      "Microsoft.OperationalInsights/workspaces/query/AADManagedIdentitySignInLogs/read",
    ]);
    expect(text).toMatch(/resource signInReader '[^']+' = if \(!empty\(signInWorkspaceResourceId\)\)/);
    expect(text).toMatch(/module signInReaderAssignment 'app\/signInReader\.bicep' = if \(!empty\(signInWorkspaceResourceId\)\)/);
    expect(bicep["infra/app/signInReader.bicep"]).toMatch(/scope: workspace/);
  });

  it("every operation it grants or takes back has its line in docs/deploy.md", () => {
    const section = deployDoc.slice(deployDoc.indexOf("## 3. Grant tenant access"), deployDoc.indexOf("### Every role the deployment grants"));
    for (const action of [...stringArray(text, "auditActions"), ...stringArray(text, "signInActions")]) expect(section, action).toContain(`\`${action}\``);
    expect(section).toContain("`Microsoft.OperationalInsights/workspaces/query/read`");
    // And each operation the app performs (src/arm, src/activity) is named there.
    for (const op of [
      "Microsoft.ResourceGraph/resources/read",
      "Microsoft.Resources/subscriptions/resources/read",
      "Microsoft.ManagedIdentity/userAssignedIdentities/read",
      "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
      "Microsoft.Authorization/roleAssignments/read",
      "Microsoft.Authorization/roleDefinitions/read",
      "Microsoft.Authorization/policyAssignments/read",
    ]) {
      expect(section, op).toContain(`\`${op}\``);
    }
  });
});

describe("scale settings", () => {
  const host = JSON.parse(read("host.json")) as { extensions: { queues: { batchSize: number; newBatchThreshold: number } } };
  const perInstance = host.extensions.queues.batchSize + host.extensions.queues.newBatchThreshold;
  const maxInstances = Number(paramDefault(bicep["infra/main.bicep"]!, "maximumInstanceCount"));

  it("state one maximumInstanceCount in the template, its module, azd's parameters and the docs, within Flex Consumption's 1 to 1000", () => {
    expect(Number(paramDefault(bicep["infra/app/api.bicep"]!, "maximumInstanceCount"))).toBe(maxInstances);
    expect(parameterEnv().get("maximumInstanceCount")).toEqual({ env: "UAMI_MAXIMUM_INSTANCE_COUNT", fallback: String(maxInstances) });
    expect(documentedEnv().get("UAMI_MAXIMUM_INSTANCE_COUNT")).toBe(`\`${maxInstances}\``);
    expect(maxInstances).toBeGreaterThanOrEqual(1);
    expect(maxInstances).toBeLessThanOrEqual(1000);
  });

  it("hold the arithmetic at the default rate: one instance fills every slot, the cap never over-reserves", () => {
    const config = loadConfig({ UAMI_AUDIT_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47" });
    const intervalMs = 1000 / config.ratePerSecond + (config.rateSafetyMs ?? defaultSafetyMs(config.ratePerSecond));
    // Little's law with up to 2 s of work after a slot: the checks one instance must keep in flight.
    expect(perInstance).toBeGreaterThanOrEqual(Math.ceil((intervalMs + 2000) / intervalMs));
    // Every instance serving checkIdentity still reserves no slot further ahead than a check may wait.
    expect(perInstance * maxInstances).toBeLessThanOrEqual(Math.floor(config.maxSlotWaitMs / intervalMs));
    // Room beside checkIdentity for the HTTP group and one more function (per-function scaling).
    expect(maxInstances).toBeGreaterThanOrEqual(3);
    expect(deployDoc).toContain(`| \`maximumInstanceCount\` | ${maxInstances} |`);
    expect(deployDoc).toContain(`${maxInstances} x ${perInstance} = ${perInstance * maxInstances} in flight`);
  });

  it("give the HTTP group always-ready instances only when asked", () => {
    expect(paramDefault(bicep["infra/main.bicep"]!, "httpAlwaysReady")).toBe("0");
    expect(bicep["infra/app/api.bicep"]).toMatch(/name: 'http'\s+instanceCount: httpAlwaysReady/);
  });
});
