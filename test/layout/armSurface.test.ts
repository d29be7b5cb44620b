/**
 * src/arm/index.ts is the ARM client's surface for the app: it exports what the rest of src/ imports from
 * it, and nothing else (tests, benchmarks and the simulator import the internals by path).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SRC = join(ROOT, "src");
const ARM_INDEX = join(SRC, "arm", "index.ts");

function sourceOf(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
}

function exportedNames(file: string): string[] {
  return sourceOf(file).statements.flatMap((statement) =>
    ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)
      ? statement.exportClause.elements.map((element) => element.name.text)
      : [],
  );
}

/** Names imported from src/arm/index.ts by the src/ files outside src/arm/. */
function namesImportedFromArmIndex(): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".ts") && !path.startsWith(`arm/`) && !path.startsWith(`arm\\`))
    .map((path) => join(SRC, path));
  for (const file of files) {
    for (const statement of sourceOf(file).statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const target = resolve(dirname(file), statement.moduleSpecifier.text).replace(/\.js$/, ".ts");
      if (target !== ARM_INDEX) continue;
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) names.add((element.propertyName ?? element.name).text);
      }
    }
  }
  return names;
}

describe("src/arm/index.ts", () => {
  it("exports only what the rest of src/ imports from it", () => {
    const used = namesImportedFromArmIndex();
    const unused = exportedNames(ARM_INDEX).filter((name) => !used.has(name));
    expect(unused, "exports of src/arm/index.ts no src/ file imports (tests import internals by path)").toEqual([]);
  });
});
