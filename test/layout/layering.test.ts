/**
 * The layering of src/ is enforced by ESLint (eslint.config.js LAYERS, no-restricted-imports per folder):
 * these tests lint imports that must fail and pass, so the rule cannot rot into a no-op unnoticed, and hold
 * the README's layout and layering sections to the real folders and order.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let eslint: ESLint;
let LAYERS: string[][];

beforeAll(async () => {
  eslint = new ESLint({ cwd: ROOT });
  const configPath = new URL("../../eslint.config.js", import.meta.url).href;
  ({ LAYERS } = (await import(configPath)) as { LAYERS: string[][] });
});

/** The lint messages for `code` as if it were the file at `path` (relative to the repository). */
async function lint(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${path}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe("the layering of src/", () => {
  it("refuses an import of a layer above: src/store may not import src/audit", async () => {
    const messages = await lint("src/store/layerProbe.ts", 'import type { AuditDeps } from "../audit/deps.js";\nexport type Probe = AuditDeps;\n');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^no-restricted-imports: .*src\/store\/ may import only layers below it; src\/audit\/ is above it/);
  });

  it("refuses an import of a layer beside, and of the top-level modules above", async () => {
    expect(await lint("src/limiter/layerProbe.ts", 'import { DEFAULT_SIGNIN_WINDOW_DAYS } from "../activity/signInActivity.js";\nexport const probe = DEFAULT_SIGNIN_WINDOW_DAYS;\n')).toEqual([
      expect.stringMatching(/src\/activity\/ is beside it/),
    ]);
    expect(await lint("src/findings/layerProbe.ts", 'import { loadConfig } from "../config.js";\nexport const probe = loadConfig;\n')).toEqual([
      expect.stringMatching(/src\/config\.ts is above it/),
    ]);
    expect(await lint("src/config.ts", 'import { createAuditDeps } from "./audit/createAuditDeps.js";\nexport const probe = createAuditDeps;\n')).toEqual([
      expect.stringMatching(/src\/config\.ts may import only layers below it; src\/audit\/ is above it/),
    ]);
  });

  it("allows imports of layers below and of the folder itself", async () => {
    const code = [
      'import { getRun } from "../store/runs.js";',
      'import type { AuditRun } from "../model/run.js";',
      'import type { AuditDeps } from "./deps.js";',
      "export const probe: [typeof getRun, AuditRun?, AuditDeps?] = [getRun];",
      "",
    ].join("\n");
    expect(await lint("src/audit/layerProbe.ts", code)).toEqual([]);
  });

  it("keeps @azure/functions to the entry points and the app runtime, and the simulator out of src/", async () => {
    expect(await lint("src/audit/layerProbe.ts", 'import { app } from "@azure/functions";\nexport const probe = app;\n')).toEqual([
      expect.stringMatching(/Only src\/functions\/, src\/app\/ and the host emulation in src\/cli\/ may import @azure\/functions/),
    ]);
    expect(await lint("src/app/layerProbe.ts", 'import { app } from "@azure/functions";\nexport const probe = app;\n')).toEqual([]);
    expect(await lint("src/cli/layerProbe.ts", 'import { startSimulator } from "../../simulator/index.js";\nexport const probe = startSimulator;\n')).toEqual([
      expect.stringMatching(/must never import the simulator/),
    ]);
  });
});

describe("the README", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = (title: string) => {
    const start = readme.indexOf(`## ${title}\n`);
    expect(start, `README section "${title}"`).toBeGreaterThanOrEqual(0);
    const end = readme.indexOf("\n## ", start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };

  it("lists every folder of src/ in its layout, and no other", () => {
    const folders = readdirSync(new URL("../../src/", import.meta.url), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `src/${entry.name}/`)
      .sort();
    const listed = [...section("Layout").matchAll(/^(src\/[a-z]+\/)/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(folders);
  });

  it("draws the layers in the order eslint.config.js enforces, top first", () => {
    const drawn = section("Layering")
      .split("\n")
      .filter((line) => line.startsWith("  src/"))
      .map((line) => [...line.matchAll(/src\/([a-z]+)(?:\/|\.ts)/g)].map((m) => m[1]));
    expect(drawn).toEqual([...LAYERS].reverse());
  });
});
