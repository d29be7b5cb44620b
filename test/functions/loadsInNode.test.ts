import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const dir = fileURLToPath(new URL("../../src/functions/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));

describe("function files load under Node's own ESM loader (as the Functions host loads them)", () => {
  // vitest's module interop hides a named import that Node cannot resolve from the CommonJS
  // `@azure/functions` bundle; a real Node process does not.
  it("every file in src/functions imports without error", async () => {
    const script = `for (const f of ${JSON.stringify(files.map((f) => pathToFileURL(dir + f).href))}) await import(f);`;
    const { stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000 });
    expect(stderr).not.toMatch(/SyntaxError|does not provide an export/);
    expect(files.length).toBeGreaterThanOrEqual(11);
  }, 90_000);
});
