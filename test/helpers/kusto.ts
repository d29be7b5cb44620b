/**
 * Microsoft's own Kusto parser for tests (`@kusto/language-service-next`, a Bridge.NET build of
 * Kusto.Language that installs a global `Kusto`): the little of its surface the query tests use.
 */
import { createRequire } from "node:module";

/** The little of Kusto.Language's surface this test uses. */
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
