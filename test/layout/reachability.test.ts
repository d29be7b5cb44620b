/**
 * No file in src/ is there only for the tests: every src/**\/*.ts is reachable through the static import
 * graph (imports, re-exports, `import type`, and `import("...")` with a literal string) from the app's entry
 * points, the function registrations (src/functions/*.ts) and the CLI (src/cli/main.ts). A helper only tests
 * use belongs in test/.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SRC = join(ROOT, "src");

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFilesUnder(path);
    return entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The src file a relative specifier names (`./x.js` is `./x.ts` in the source tree), or undefined. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined; // a package, or node:*
  const target = resolve(dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, ".ts"), `${target}.ts`, join(target, "index.ts"), target];
  return candidates.find((candidate) => candidate.endsWith(".ts") && existsSync(candidate));
}

function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles.flatMap(({ fileName }) => resolveSpecifier(file, fileName) ?? []);
}

function reachableFrom(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...entries];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(...importsOf(file));
  }
  return seen;
}

const display = (file: string) => relative(ROOT, file).split(sep).join("/");

describe("src/ layout", () => {
  it("every file in src/ is reachable from a function registration or the CLI", () => {
    const functionsDir = join(SRC, "functions");
    const entries = [
      ...readdirSync(functionsDir).filter((name) => name.endsWith(".ts")).map((name) => join(functionsDir, name)),
      join(SRC, "cli", "main.ts"),
    ];
    expect(entries.length).toBeGreaterThan(1);
    const reachable = reachableFrom(entries);
    const unreachable = tsFilesUnder(SRC).filter((file) => !reachable.has(file)).map(display).sort();
    expect(unreachable, "files in src/ that no entry point imports (delete them, or move test helpers to test/)").toEqual([]);
  });
});
