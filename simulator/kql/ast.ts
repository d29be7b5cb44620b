/** Syntax tree of the KQL subset: what the parser produces and the compiler consumes. */

export type LiteralType = "string" | "long" | "real" | "bool";

export type Expr =
  | { readonly kind: "literal"; readonly value: string | number | boolean; readonly type: LiteralType; readonly pos: number }
  | { readonly kind: "column"; readonly name: string; readonly pos: number }
  /** `a.b` and `a['b']`. */
  | { readonly kind: "member"; readonly target: Expr; readonly key: string; readonly pos: number }
  /** `a[0]`, `a[-1]`, `a[expr]`. */
  | { readonly kind: "index"; readonly target: Expr; readonly index: Expr; readonly pos: number }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Expr[]; readonly pos: number }
  /** Comparison, string and logical operators: `==`, `=~`, `contains`, `and`, ... */
  | { readonly kind: "binary"; readonly op: string; readonly left: Expr; readonly right: Expr; readonly pos: number };

/** `name = expr` or a bare `expr` (whose column name is derived from it, when it is a path). */
export interface NamedExpr {
  readonly name: string | undefined;
  readonly expr: Expr;
  readonly pos: number;
}

export interface SortKey {
  readonly expr: Expr;
  readonly descending: boolean;
  /** Undefined means Kusto's default: nulls first when ascending, last when descending. */
  readonly nullsFirst: boolean | undefined;
}

export type Operator =
  | { readonly kind: "where"; readonly predicate: Expr; readonly pos: number }
  | { readonly kind: "project"; readonly items: readonly NamedExpr[]; readonly pos: number }
  | { readonly kind: "extend"; readonly items: readonly NamedExpr[]; readonly pos: number }
  | { readonly kind: "sort"; readonly keys: readonly SortKey[]; readonly pos: number }
  | { readonly kind: "take"; readonly count: number; readonly pos: number }
  | {
      readonly kind: "mv-expand";
      readonly item: NamedExpr;
      /** How a property bag is expanded: single-property bags (default) or `[key, value]` arrays. */
      readonly bagExpansion: "bag" | "array";
      readonly toType: string | undefined;
      readonly limit: number | undefined;
      readonly pos: number;
    }
  | { readonly kind: "summarize"; readonly aggregates: readonly NamedExpr[]; readonly by: readonly NamedExpr[]; readonly pos: number }
  | { readonly kind: "count"; readonly pos: number };

export interface Query {
  readonly table: string;
  readonly tablePos: number;
  readonly operators: readonly Operator[];
}
