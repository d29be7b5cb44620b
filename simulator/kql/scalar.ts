/**
 * Compiles scalar expressions to closures, once per query. Names and types are checked here against the
 * columns in scope, so every error surfaces before the first row is read.
 */
import type { Expr } from "./ast.js";
import { INVALID_QUERY, UNSUPPORTED_FUNCTION, errorAt } from "./errors.js";
import { extractAll, RegexTranslationError, translateRe2 } from "./regex.js";
import type { ScalarType, SchemaColumn } from "./schema.js";
import {
  elementAt,
  hasTerm,
  isBag,
  isEmptyValue,
  isNullValue,
  kqlEquals,
  memberOf,
  toKqlString,
  toLowerKql,
} from "./values.js";

export type Row = Record<string, unknown>;
export type Evaluator = (row: Row) => unknown;

export interface CompiledExpr {
  readonly type: ScalarType;
  readonly evaluate: Evaluator;
  /** Present when the value does not depend on the row (literals), so operators can precompute. */
  readonly constant?: { readonly value: unknown };
}

/** What an expression can see: the columns of the operator's input, and the text for error positions. */
export interface Scope {
  readonly columns: ReadonlyMap<string, SchemaColumn>;
  readonly text: string;
}

/** Reads one column, applying Kusto's rule that strings are never null (a missing string is ""). */
export function columnReader(column: SchemaColumn): Evaluator {
  const name = column.name;
  if (column.type === "string") {
    return (row) => {
      const value = row[name];
      return typeof value === "string" ? value : toKqlString(value);
    };
  }
  return (row) => {
    const value = row[name];
    return value === undefined ? null : value;
  };
}

/**
 * The column name Kusto gives an unnamed expression: `a.b['c']` becomes `a_b_c`, `zones[0]` becomes
 * `zones_0`. Undefined for anything else (calls, comparisons), which must then be named explicitly.
 */
export function derivedName(expr: Expr): string | undefined {
  switch (expr.kind) {
    case "column":
      return expr.name;
    case "member": {
      const base = derivedName(expr.target);
      return base !== undefined && /^[A-Za-z0-9_]+$/.test(expr.key) ? `${base}_${expr.key}` : undefined;
    }
    case "index": {
      const base = derivedName(expr.target);
      const index = expr.index;
      return base !== undefined && index.kind === "literal" && index.type === "long" && (index.value as number) >= 0
        ? `${base}_${String(index.value)}`
        : undefined;
    }
    default:
      return undefined;
  }
}

export function compileExpr(expr: Expr, scope: Scope): CompiledExpr {
  switch (expr.kind) {
    case "literal": {
      const value = expr.value;
      return { type: expr.type, evaluate: () => value, constant: { value } };
    }
    case "column": {
      const column = scope.columns.get(expr.name);
      if (column === undefined) throw unknownColumn(expr.name, expr.pos, scope);
      return { type: column.type, evaluate: columnReader(column) };
    }
    case "member": {
      const target = compileExpr(expr.target, scope);
      requireDynamic(target, `property '${expr.key}'`, expr.pos, scope);
      const read = target.evaluate;
      const key = expr.key;
      return { type: "dynamic", evaluate: (row) => memberOf(read(row), key) };
    }
    case "index":
      return compileIndex(expr, scope);
    case "call":
      return compileCall(expr, scope);
    case "binary":
      return compileBinary(expr, scope);
  }
}

function unknownColumn(name: string, pos: number, scope: Scope): Error {
  const available = [...scope.columns.keys()];
  const sameLetters = available.find((c) => c.toLowerCase() === name.toLowerCase());
  const hint = sameLetters !== undefined ? ` (column names are case-sensitive: did you mean '${sameLetters}'?)` : "";
  return errorAt(
    INVALID_QUERY,
    `Unknown column '${name}'${hint}. Columns available here: ${available.join(", ")}`,
    scope.text,
    pos,
  );
}

function requireDynamic(target: CompiledExpr, what: string, pos: number, scope: Scope): void {
  if (target.type !== "dynamic") {
    throw errorAt(INVALID_QUERY, `Cannot read ${what} of a ${target.type} value: only dynamic values have properties`, scope.text, pos);
  }
}

function compileIndex(expr: Extract<Expr, { kind: "index" }>, scope: Scope): CompiledExpr {
  const target = compileExpr(expr.target, scope);
  requireDynamic(target, "an element", expr.pos, scope);
  const index = compileExpr(expr.index, scope);
  const read = target.evaluate;
  if (index.constant !== undefined && typeof index.constant.value === "number") {
    const at = index.constant.value;
    if (!Number.isInteger(at)) throw errorAt(INVALID_QUERY, `Array index ${String(at)} is not a whole number`, scope.text, expr.pos);
    return { type: "dynamic", evaluate: (row) => elementAt(read(row), at) };
  }
  if (index.type !== "long" && index.type !== "string" && index.type !== "dynamic") {
    throw errorAt(INVALID_QUERY, `An index must be a number or a string, not a ${index.type}`, scope.text, expr.pos);
  }
  const readIndex = index.evaluate;
  return {
    type: "dynamic",
    evaluate: (row) => {
      const at = readIndex(row);
      if (typeof at === "number") return elementAt(read(row), at);
      if (typeof at === "string") return memberOf(read(row), at);
      return null;
    },
  };
}

// ---- functions ----

type TypeRule = "any" | "string" | "dynamic";

interface FunctionSpec {
  readonly argument: TypeRule;
  readonly result: ScalarType;
  readonly apply: (value: unknown) => unknown;
}

/**
 * The supported scalar functions, all of one argument: those the app's queries and the tests call (plus
 * extract_all, below). Any other name is refused as unsupported.
 */
const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  tostring: { argument: "any", result: "string", apply: toKqlString },
  tolower: { argument: "string", result: "string", apply: (v) => toLowerKql(toKqlString(v)) },
  isnotempty: { argument: "any", result: "bool", apply: (v) => !isEmptyValue(v) },
  isnotnull: { argument: "any", result: "bool", apply: (v) => !isNullValue(v) },
  bag_keys: { argument: "dynamic", result: "dynamic", apply: (v) => (isBag(v) ? Object.keys(v) : null) },
};

/** Kusto aggregation functions: valid only inside summarize (and only count() is in the subset). */
const AGGREGATIONS = new Set([
  "count", "countif", "dcount", "dcountif", "sum", "sumif", "avg", "avgif", "min", "max", "minif", "maxif",
  "make_list", "make_set", "make_bag", "arg_max", "arg_min", "any", "take_any", "percentile", "percentiles",
  "stdev", "variance", "make_list_if", "make_set_if",
]);

function accepts(rule: TypeRule, type: ScalarType): boolean {
  switch (rule) {
    case "any":
      return true;
    case "dynamic":
      return type === "dynamic";
    case "string":
      return type === "string" || type === "dynamic";
  }
}

function compileCall(expr: Extract<Expr, { kind: "call" }>, scope: Scope): CompiledExpr {
  if (expr.name === "extract_all") return compileExtractAll(expr, scope);
  const spec = Object.hasOwn(FUNCTIONS, expr.name) ? FUNCTIONS[expr.name] : undefined;
  if (spec === undefined) {
    if (AGGREGATIONS.has(expr.name)) {
      throw errorAt(INVALID_QUERY, `Aggregation '${expr.name}()' can only be used in summarize`, scope.text, expr.pos);
    }
    throw errorAt(UNSUPPORTED_FUNCTION, `Function '${expr.name}' is not supported`, scope.text, expr.pos);
  }
  const [first, ...extra] = expr.args;
  if (first === undefined || extra.length > 0) {
    throw errorAt(INVALID_QUERY, `Function '${expr.name}' takes exactly 1 argument, got ${expr.args.length}`, scope.text, expr.pos);
  }
  const argument = compileExpr(first, scope);
  if (!accepts(spec.argument, argument.type)) {
    throw errorAt(
      INVALID_QUERY,
      `Function '${expr.name}' expects a ${spec.argument} argument, got a ${argument.type}`,
      scope.text,
      first.pos,
    );
  }
  // tostring() of a string is the string itself: skip a closure on the hot path.
  if (expr.name === "tostring" && argument.type === "string") return argument;
  const read = argument.evaluate;
  const apply = spec.apply;
  return { type: spec.result, evaluate: (row) => apply(read(row)) };
}

/**
 * `extract_all(regex, source)`: the regex must be a constant with 1 to 16 capture groups (Kusto's rule); it is
 * RE2, translated or refused by regex.ts. The three-argument form (`captureGroups`) is outside the subset.
 */
function compileExtractAll(expr: Extract<Expr, { kind: "call" }>, scope: Scope): CompiledExpr {
  const [regexArg, sourceArg, ...extra] = expr.args;
  if (extra.length > 0) {
    throw errorAt(UNSUPPORTED_FUNCTION, "extract_all() with captureGroups is not supported: write extract_all(regex, source)", scope.text, expr.pos);
  }
  if (regexArg === undefined || sourceArg === undefined) {
    throw errorAt(INVALID_QUERY, `Function 'extract_all' takes 2 arguments (regex, source), got ${expr.args.length}`, scope.text, expr.pos);
  }
  const pattern = compileExpr(regexArg, scope);
  if (pattern.constant === undefined || typeof pattern.constant.value !== "string") {
    throw errorAt(INVALID_QUERY, "extract_all(): the regex must be a constant string", scope.text, regexArg.pos);
  }
  let translated: ReturnType<typeof translateRe2>;
  try {
    translated = translateRe2(pattern.constant.value);
  } catch (error) {
    if (error instanceof RegexTranslationError) {
      throw errorAt(INVALID_QUERY, `extract_all(): ${error.message} (at character ${error.offset + 1} of the regex)`, scope.text, regexArg.pos);
    }
    throw error;
  }
  const { regex, groupCount } = translated;
  if (groupCount < 1 || groupCount > 16) {
    throw errorAt(INVALID_QUERY, `extract_all(): the regex must have between 1 and 16 capture groups, it has ${groupCount}`, scope.text, regexArg.pos);
  }
  const source = compileExpr(sourceArg, scope);
  if (!accepts("string", source.type)) {
    throw errorAt(INVALID_QUERY, `Function 'extract_all' expects a string source, got a ${source.type}`, scope.text, sourceArg.pos);
  }
  const read = source.evaluate;
  return { type: "dynamic", evaluate: (row) => extractAll(regex, groupCount, toKqlString(read(row))) };
}

// ---- operators ----

/** Type families that `==` may compare; dynamic compares with anything. */
function family(type: ScalarType): string {
  return type === "long" || type === "real" ? "number" : type;
}

function requireComparable(left: CompiledExpr, right: CompiledExpr, op: string, pos: number, scope: Scope): void {
  if (left.type === "dynamic" || right.type === "dynamic") return;
  if (family(left.type) !== family(right.type)) {
    throw errorAt(INVALID_QUERY, `Cannot compare a ${left.type} with a ${right.type} using '${op}'`, scope.text, pos);
  }
}

function requireStringOperand(operand: CompiledExpr, op: string, pos: number, scope: Scope): void {
  if (operand.type !== "string" && operand.type !== "dynamic") {
    throw errorAt(INVALID_QUERY, `Operator '${op}' needs string operands, got a ${operand.type}`, scope.text, pos);
  }
}

interface StringOperator {
  readonly test: (haystack: string, needle: string) => boolean;
  readonly negated: boolean;
}

const STRING_TESTS: Readonly<Record<string, (haystack: string, needle: string) => boolean>> = {
  contains: (h, n) => h.includes(n),
  has: hasTerm,
  startswith: (h, n) => h.startsWith(n),
};

/** `=~`, `!~`, `contains`, `!has`, ...: the test and its negation (all fold case: the `_cs` forms are not in the subset). */
function stringOperator(op: string): StringOperator | undefined {
  if (op === "=~") return { test: (h, n) => h === n, negated: false };
  if (op === "!~") return { test: (h, n) => h === n, negated: true };
  const negated = op.startsWith("!");
  const name = negated ? op.slice(1) : op;
  const test = Object.hasOwn(STRING_TESTS, name) ? STRING_TESTS[name] : undefined;
  return test === undefined ? undefined : { test, negated };
}

function compileBinary(expr: Extract<Expr, { kind: "binary" }>, scope: Scope): CompiledExpr {
  const left = compileExpr(expr.left, scope);
  const right = compileExpr(expr.right, scope);
  const l = left.evaluate;
  const r = right.evaluate;
  const op = expr.op;

  if (op === "and" || op === "or") {
    for (const side of [left, right]) {
      if (side.type !== "bool" && side.type !== "dynamic") {
        throw errorAt(INVALID_QUERY, `Operator '${op}' needs boolean operands, got a ${side.type}`, scope.text, expr.pos);
      }
    }
    // Three-valued logic: null (unknown) only wins when the other side does not decide the result.
    return op === "and"
      ? {
          type: "bool",
          evaluate: (row) => {
            const a = l(row);
            if (a === false) return false;
            const b = r(row);
            if (b === false) return false;
            return a === true && b === true ? true : null;
          },
        }
      : {
          type: "bool",
          evaluate: (row) => {
            const a = l(row);
            if (a === true) return true;
            const b = r(row);
            if (b === true) return true;
            return a === false && b === false ? false : null;
          },
        };
  }

  if (op === "==" || op === "!=") {
    requireComparable(left, right, op, expr.pos, scope);
    const negated = op === "!=";
    // Any comparison with null is null, which where treats as false: both == and != drop null rows.
    if (right.constant !== undefined) {
      // Literals are strings, numbers or booleans, for which kqlEquals is ===: skip the call per row.
      const expected = right.constant.value;
      return {
        type: "bool",
        evaluate: (row) => {
          const a = l(row);
          return a === null || a === undefined ? null : (a === expected) !== negated;
        },
      };
    }
    return {
      type: "bool",
      evaluate: (row) => {
        const a = l(row);
        const b = r(row);
        if (a === null || a === undefined || b === null || b === undefined) return null;
        return kqlEquals(a, b) !== negated;
      },
    };
  }

  if (op === "<" || op === "<=" || op === ">" || op === ">=") {
    requireComparable(left, right, op, expr.pos, scope);
    if (left.type === "string" || right.type === "string" || left.type === "bool" || right.type === "bool") {
      throw errorAt(INVALID_QUERY, `Operator '${op}' compares numbers and dates only`, scope.text, expr.pos);
    }
    const holds = orderingTest(op);
    return {
      type: "bool",
      evaluate: (row) => {
        const a = numericValue(l(row));
        const b = numericValue(r(row));
        return a === null || b === null ? null : holds(a, b);
      },
    };
  }

  const stringOp = stringOperator(op);
  if (stringOp === undefined) {
    throw new Error(`The parser produced an operator the compiler does not know: ${op}`);
  }
  requireStringOperand(left, op, expr.pos, scope);
  requireStringOperand(right, op, expr.pos, scope);
  const { test, negated } = stringOp;
  const fold = (s: string): string => s.toLowerCase();
  // String operators read dynamic values through tostring(), so a missing property behaves as "".
  if (right.constant !== undefined) {
    const needle = fold(toKqlString(right.constant.value));
    return { type: "bool", evaluate: (row) => test(fold(toKqlString(l(row))), needle) !== negated };
  }
  return {
    type: "bool",
    evaluate: (row) => test(fold(toKqlString(l(row))), fold(toKqlString(r(row)))) !== negated,
  };
}

function orderingTest(op: string): (a: number, b: number) => boolean {
  switch (op) {
    case "<":
      return (a, b) => a < b;
    case "<=":
      return (a, b) => a <= b;
    case ">":
      return (a, b) => a > b;
    default:
      return (a, b) => a >= b;
  }
}

function numericValue(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (value instanceof Date) return value.getTime();
  return null;
}
