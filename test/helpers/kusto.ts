/**
 * Microsoft's own Kusto parser for tests (`@kusto/language-service-next`, a Bridge.NET build of
 * Kusto.Language that installs a global `Kusto`): the little of its surface the query tests use.
 */
import { createRequire } from "node:module";

/** The little of Kusto.Language's surface the tests use. */
export interface KustoDiagnostic {
  Severity: string;
  Message: string;
  Start: number;
  Code: string;
}
export interface KustoList<T> {
  Count: number;
  getItem(index: number): T;
}
export interface KustoCode {
  GetDiagnostics(): KustoList<KustoDiagnostic>;
}
export interface KustoGlobal {
  Language: {
    KustoCode: { Parse(text: string): KustoCode; ParseAndAnalyze(text: string, globals: unknown): KustoCode };
    GlobalState: { Default: { WithDatabase(db: unknown): unknown } };
    Symbols: {
      TableSymbol: { $ctor7: new (name: string, schema: string, description: string | null) => unknown };
      DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown };
    };
  };
}

export function loadKusto(): KustoGlobal {
  const require = createRequire(import.meta.url);
  // bridge.js defines the global `Bridge` runtime; the language bundle registers `Kusto` on it.
  require("@kusto/language-service-next/bridge.js");
  require("@kusto/language-service-next/Kusto.Language.Bridge.js");
  const kusto = (globalThis as { Kusto?: KustoGlobal }).Kusto;
  if (!kusto) throw new Error("@kusto/language-service-next did not define the global Kusto");
  return kusto;
}

/** Loaded once per test file. */
export const Kusto = loadKusto();

function errorsOf(code: KustoCode): string[] {
  const list = code.GetDiagnostics();
  const out: string[] = [];
  for (let i = 0; i < list.Count; i += 1) {
    const d = list.getItem(i);
    if (d.Severity === "Error") out.push(`${d.Code} at ${d.Start}: ${d.Message}`);
  }
  return out;
}

/** The syntax errors of a query (KustoCode.Parse), as `code at offset: message`. */
export function syntaxErrors(text: string): string[] {
  return errorsOf(Kusto.Language.KustoCode.Parse(text));
}

/**
 * Semantic checks against one database: `tables` maps each table's name to its schema in Kusto's
 * notation, e.g. `(id:string, ['kind']:string, tags:dynamic)`. Unknown tables, columns and functions are errors.
 */
export function kustoDatabase(name: string, tables: Readonly<Record<string, string>>): { semanticErrors(text: string): string[] } {
  const globals = Kusto.Language.GlobalState.Default.WithDatabase(
    new Kusto.Language.Symbols.DatabaseSymbol.ctor(
      name,
      Object.entries(tables).map(([table, schema]) => new Kusto.Language.Symbols.TableSymbol.$ctor7(table, schema, null)),
    ),
  );
  return { semanticErrors: (text) => errorsOf(Kusto.Language.KustoCode.ParseAndAnalyze(text, globals)) };
}
