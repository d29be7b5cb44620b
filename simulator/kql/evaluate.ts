/**
 * Compiles a parsed query into a pipeline of stages, each a plain loop over an array of rows. Columns are
 * tracked statically through the pipeline so that names and types are checked before any row is read.
 *
 * Rows straight from the source are never copied by where/order/take (the caller's objects pass through
 * untouched); the first operator that reshapes rows builds new objects, and a query that never reshapes
 * gets one final copy so every output row holds exactly the output columns.
 */
import type { Expr, NamedExpr, Operator, Query, SortKey } from "./ast.js";
import { INVALID_QUERY, UNSUPPORTED_OPERATOR, errorAt } from "./errors.js";
import { columnReader, compileExpr, derivedName, type Evaluator, type Row, type Scope } from "./scalar.js";
import { ARG_TABLE_SCHEMAS, type ScalarType, type SchemaColumn } from "./schema.js";
import { rowBuilder } from "./shape.js";
import { compareScalars, isBag } from "./values.js";

type Stage = (rows: Iterable<Row>) => Row[];
/** A row-by-row operator (where, extend, project, mv-expand): passes on zero or more rows per row. */
type RowStep = (row: Row, emit: (row: Row) => void) => void;

export interface CompiledPipeline {
  /** The table name as the catalog keys it (lower-case for Resource Graph). */
  readonly table: string;
  readonly usesLimit: boolean;
  /** The output columns, in order, with their static types. */
  readonly columns: readonly SchemaColumn[];
  run(source: Iterable<Row>): Row[];
}

/** What the compiler knows about the rows between two operators. */
interface State {
  readonly columns: readonly SchemaColumn[];
  /** True once rows are objects we built with exactly `columns`; false while they are the caller's rows. */
  readonly exact: boolean;
}

/** The tables a query may read, and how their names resolve. */
export interface TableCatalog {
  /** Schemas by table name: lower-case keys when names are case-insensitive. */
  readonly schemas: Readonly<Record<string, readonly SchemaColumn[]>>;
  /** Resource Graph takes table names in any case; Log Analytics only as written. */
  readonly caseSensitive: boolean;
}

/** Resource Graph's tables, in any case: the default catalog. */
export const ARG_CATALOG: TableCatalog = { schemas: ARG_TABLE_SCHEMAS, caseSensitive: false };

export function compilePipeline(query: Query, text: string, catalog: TableCatalog = ARG_CATALOG): CompiledPipeline {
  const table = catalog.caseSensitive ? query.table : query.table.toLowerCase();
  const schema = Object.hasOwn(catalog.schemas, table) ? catalog.schemas[table] : undefined;
  if (schema === undefined) {
    throw errorAt(
      INVALID_QUERY,
      `Unknown table '${query.table}': the simulator serves ${Object.keys(catalog.schemas).join(", ")}`,
      text,
      query.tablePos,
    );
  }
  let state: State = { columns: schema, exact: false };
  const stages: Stage[] = [];
  // Consecutive row-by-row operators run as one pass per source row: a million-row scan whose first `where`
  // keeps most rows no longer builds an array between every two operators (the garbage collector's work was
  // most of such a query's time). Sort, take, summarize and count still see the whole input.
  let pending: RowStep[] = [];
  const flush = (): void => {
    if (pending.length > 0) stages.push(fusedStage(pending));
    pending = [];
  };
  let usesLimit = false;
  for (const [index, operator] of query.operators.entries()) {
    const compiled = compileOperator(operator, state, text, query.operators.slice(index + 1));
    if (compiled.step) pending.push(compiled.step);
    else {
      flush();
      stages.push(compiled.stage);
    }
    state = compiled.state;
    if (operator.kind === "take") usesLimit = true;
  }
  if (!state.exact) {
    const copy = rowCopier(state.columns);
    pending.push((row, emit) => emit(copy(row)));
  }
  flush();
  const columns = state.columns;
  return {
    table,
    usesLimit,
    columns,
    run(source) {
      let rows: Iterable<Row> = source;
      for (const stage of stages) rows = stage(rows);
      return rows as Row[];
    },
  };
}

interface CompiledOperator {
  readonly stage: Stage;
  /** Present for row-by-row operators, which the pipeline fuses. */
  readonly step?: RowStep;
  readonly state: State;
}

/** Runs row-by-row operators as one pass: each source row goes through all of them before the next. */
function fusedStage(steps: readonly RowStep[]): Stage {
  return (rows) => {
    const out: Row[] = [];
    let sink: (row: Row) => void = (row) => {
      out.push(row);
    };
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i] as RowStep;
      const next = sink;
      sink = (row) => step(row, next);
    }
    for (const row of rows) sink(row);
    return out;
  };
}

/** A one-row-in, one-row-out operator, as a stage and as a fusable step. */
function mapOperator(transform: (row: Row) => Row, state: State): CompiledOperator {
  return { stage: mapStage(transform), step: (row, emit) => emit(transform(row)), state };
}

function compileOperator(operator: Operator, state: State, text: string, later: readonly Operator[]): CompiledOperator {
  switch (operator.kind) {
    case "where":
      return compileWhere(operator.predicate, state, text);
    case "project":
      return compileProject(operator.items, state, text);
    case "extend":
      return compileExtend(operator.items, state, text, columnsReadLater(later));
    case "sort":
      return compileSort(operator.keys, state, text);
    case "take":
      return { stage: takeStage(operator.count), state };
    case "mv-expand":
      return compileMvExpand(operator, state, text, columnsReadLater(later));
    case "summarize":
      return compileSummarize(operator.aggregates, operator.by, state, text);
    case "count":
      return {
        stage: (rows) => {
          let count = 0;
          for (const _row of rows) count++;
          return [{ Count: count }];
        },
        state: { columns: [{ name: "Count", type: "long" }], exact: true },
      };
  }
}

function scopeOf(columns: readonly SchemaColumn[], text: string): Scope {
  return { columns: new Map(columns.map((c) => [c.name, c])), text };
}

/** The output name of a project/extend/summarize item: its alias, else Kusto's name for a path. */
function itemName(item: NamedExpr, text: string): string {
  const name = item.name ?? derivedName(item.expr);
  if (name === undefined) {
    throw errorAt(INVALID_QUERY, "Name this expression's column: write 'name = expression'", text, item.pos);
  }
  return checkedName(name, item.pos, text);
}

/** Refuses `__proto__`, the one name a JavaScript object cannot hold as a plain property. */
function checkedName(name: string, pos: number, text: string): string {
  if (name === "__proto__") throw errorAt(INVALID_QUERY, "'__proto__' cannot be used as a column name", text, pos);
  return name;
}

/** Builds a new row holding exactly `columns`, read with Kusto's rules (missing string = "", else null). */
function rowCopier(columns: readonly SchemaColumn[]): (row: Row) => Row {
  return rowBuilder(
    columns.map((c) => c.name),
    columns.map(columnReader),
  );
}

function mapStage(transform: (row: Row) => Row): Stage {
  return (rows) => {
    const out: Row[] = [];
    for (const row of rows) out.push(transform(row));
    return out;
  };
}

function compileWhere(predicate: Expr, state: State, text: string): CompiledOperator {
  const compiled = compileExpr(predicate, scopeOf(state.columns, text));
  if (compiled.type !== "bool" && compiled.type !== "dynamic") {
    throw errorAt(INVALID_QUERY, `where needs a boolean condition, got a ${compiled.type} expression`, text, predicate.pos);
  }
  const test = compiled.evaluate;
  return {
    stage: (rows) => {
      const out: Row[] = [];
      // Only true keeps a row: false and null (a comparison involving null) both drop it.
      for (const row of rows) if (test(row) === true) out.push(row);
      return out;
    },
    step: (row, emit) => {
      if (test(row) === true) emit(row);
    },
    state,
  };
}

function requireUniqueName(seen: Set<string>, name: string, item: NamedExpr, text: string): void {
  if (seen.has(name)) throw errorAt(INVALID_QUERY, `Column '${name}' appears twice in the output`, text, item.pos);
  seen.add(name);
}

function compileProject(items: readonly NamedExpr[], state: State, text: string): CompiledOperator {
  const scope = scopeOf(state.columns, text);
  const seen = new Set<string>();
  const columns: SchemaColumn[] = [];
  const evaluators: Evaluator[] = [];
  for (const item of items) {
    const compiled = compileExpr(item.expr, scope);
    const name = itemName(item, text);
    requireUniqueName(seen, name, item, text);
    columns.push({ name, type: compiled.type });
    evaluators.push(compiled.evaluate);
  }
  return mapOperator(
    rowBuilder(
      columns.map((c) => c.name),
      evaluators,
    ),
    { columns, exact: true },
  );
}

/**
 * `needed`: the columns later operators read (undefined: all). Source rows are then copied with only those
 * (and what the extend itself reads): the reference sweep extends a million resource rows to keep three columns.
 */
function compileExtend(items: readonly NamedExpr[], state: State, text: string, needed: ReadonlySet<string> | undefined): CompiledOperator {
  const columns = [...state.columns];
  const steps: { name: string; evaluate: Evaluator }[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    // Later items see earlier ones (`extend a = x, b = a`), so each compiles against the columns so far.
    const compiled = compileExpr(item.expr, scopeOf(columns, text));
    const name = itemName(item, text);
    requireUniqueName(seen, name, item, text);
    const existing = columns.findIndex((c) => c.name === name);
    // Extending an existing name replaces that column in place, as in Kusto.
    if (existing >= 0) columns[existing] = { name, type: compiled.type };
    else columns.push({ name, type: compiled.type });
    steps.push({ name, evaluate: compiled.evaluate });
  }
  const prune = !state.exact && needed !== undefined;
  let copy: (row: Row) => Row;
  if (state.exact) copy = (row) => ({ ...row });
  else if (prune) {
    const keep = new Set(needed);
    for (const item of items) columnsOf(item.expr, keep);
    copy = rowCopier(state.columns.filter((c) => keep.has(c.name)));
  } else copy = rowCopier(state.columns);
  return mapOperator(
    (row) => {
      const out = copy(row);
      for (const step of steps) {
        const value = step.evaluate(out);
        out[step.name] = value === undefined ? null : value;
      }
      return out;
    },
    // Pruned rows lack the columns nobody reads any more: not "exact", so a later copy reads them as null.
    { columns, exact: !prune },
  );
}

function requireGroupableType(type: ScalarType, what: string, pos: number, text: string): void {
  // Kusto refuses to sort or group by dynamic values; so do we, rather than invent an order.
  if (type === "dynamic") {
    throw errorAt(INVALID_QUERY, `Cannot ${what} a dynamic value: convert it first, e.g. with tostring()`, text, pos);
  }
}

type KeyComparator = (x: unknown, y: unknown) => number;

/** Compares two values of one sort key, direction and null placement included. */
function keyComparator(type: ScalarType, descending: boolean, nullsFirst: boolean): KeyComparator {
  const before = descending ? 1 : -1;
  if (type === "string") {
    // Kusto strings are never null and sort ordinally: the hot case gets the cheapest comparator (`!==` after
    // `<`: a second ordered comparison would scan the long common prefix of two ids once more).
    return (x, y) => ((x as string) < (y as string) ? before : (x as string) !== (y as string) ? -before : 0);
  }
  const nullOrder = nullsFirst ? -1 : 1;
  return (x, y) => {
    const xNull = x === null || x === undefined;
    const yNull = y === null || y === undefined;
    if (xNull || yNull) return xNull && yNull ? 0 : xNull ? nullOrder : -nullOrder;
    const order = compareScalars(x, y);
    return descending ? -order : order;
  };
}

function compileSort(keys: readonly SortKey[], state: State, text: string): CompiledOperator {
  const scope = scopeOf(state.columns, text);
  const evaluators: Evaluator[] = [];
  const comparators: KeyComparator[] = [];
  for (const key of keys) {
    const compiled = compileExpr(key.expr, scope);
    requireGroupableType(compiled.type, "order by", key.expr.pos, text);
    evaluators.push(compiled.evaluate);
    // Kusto's default: nulls first when ascending, last when descending.
    comparators.push(keyComparator(compiled.type, key.descending, key.nullsFirst ?? !key.descending));
  }
  const [onlyEvaluator, ...moreEvaluators] = evaluators;
  const [onlyComparator] = comparators;
  if (onlyEvaluator !== undefined && onlyComparator !== undefined && moreEvaluators.length === 0) {
    return { stage: singleKeySort(onlyEvaluator, onlyComparator), state };
  }
  const count = evaluators.length;
  return {
    stage: (rows) => {
      // Evaluate each key once per row into one array per key, then sort row positions: no object per row,
      // and the two-key case (`order by id asc, identityId asc`, a million rows in the reference sweep) gets a
      // comparator of its own. Array#sort is stable, as Kusto's sort is.
      const list = Array.isArray(rows) ? (rows as Row[]) : [...rows];
      const n = list.length;
      const columns = evaluators.map((evaluate) => {
        const column = new Array<unknown>(n);
        for (let r = 0; r < n; r++) column[r] = evaluate(list[r] as Row);
        return column;
      });
      const order = new Array<number>(n);
      for (let r = 0; r < n; r++) order[r] = r;
      const [first, second] = columns as [unknown[], unknown[]];
      const [compareFirst, compareSecond] = comparators as [KeyComparator, KeyComparator];
      if (count === 2) {
        order.sort((a, b) => compareFirst(first[a], first[b]) || compareSecond(second[a], second[b]));
      } else {
        order.sort((a, b) => {
          for (let i = 0; i < count; i++) {
            const column = columns[i] as unknown[];
            const result = (comparators[i] as KeyComparator)(column[a], column[b]);
            if (result !== 0) return result;
          }
          return 0;
        });
      }
      return order.map((r) => list[r] as Row);
    },
    state,
  };
}

function singleKeySort(evaluate: Evaluator, compareKeys: KeyComparator): Stage {
  type Keyed = { row: Row; key: unknown };
  const compare = (a: Keyed, b: Keyed): number => compareKeys(a.key, b.key);
  return (rows) => {
    const keyed: Keyed[] = [];
    for (const row of rows) keyed.push({ row, key: evaluate(row) });
    keyed.sort(compare);
    return keyed.map((k) => k.row);
  };
}

function takeStage(count: number): Stage {
  return (rows) => {
    const out: Row[] = [];
    if (count <= 0) return out;
    for (const row of rows) {
      out.push(row);
      if (out.length >= count) break;
    }
    return out;
  };
}

/**
 * mv-expand without `to typeof(...)` keeps elements as they are (dynamic); `to typeof(string)` (the reference
 * sweep's) casts without converting: a non-string element, and a null, become "". Other types are refused.
 */
interface MvExpandCast {
  readonly type: ScalarType;
  readonly cast: (value: unknown) => unknown;
}
const KEEP_DYNAMIC: MvExpandCast = { type: "dynamic", cast: (v) => v };
const MV_EXPAND_CASTS: Readonly<Record<string, MvExpandCast>> = {
  string: { type: "string", cast: (v) => (typeof v === "string" ? v : "") },
};

/** Every column name an expression reads. */
function columnsOf(expr: Expr, into: Set<string>): void {
  switch (expr.kind) {
    case "column":
      into.add(expr.name);
      return;
    case "member":
      columnsOf(expr.target, into);
      return;
    case "index":
      columnsOf(expr.target, into);
      columnsOf(expr.index, into);
      return;
    case "call":
      for (const arg of expr.args) columnsOf(arg, into);
      return;
    case "binary":
      columnsOf(expr.left, into);
      columnsOf(expr.right, into);
      return;
    case "literal":
      return;
  }
}

/**
 * The columns the operators after this one can read, up to the first one that chooses its output columns
 * (project, summarize, distinct, count); undefined when every column may reach the output.
 */
function columnsReadLater(later: readonly Operator[]): ReadonlySet<string> | undefined {
  const read = new Set<string>();
  for (const operator of later) {
    switch (operator.kind) {
      case "where":
        columnsOf(operator.predicate, read);
        break;
      case "extend":
        for (const item of operator.items) columnsOf(item.expr, read);
        break;
      case "sort":
        for (const key of operator.keys) columnsOf(key.expr, read);
        break;
      case "mv-expand":
        columnsOf(operator.item.expr, read);
        break;
      case "take":
        break;
      case "project":
        for (const item of operator.items) columnsOf(item.expr, read);
        return read;
      case "summarize":
        for (const item of [...operator.aggregates, ...operator.by]) columnsOf(item.expr, read);
        return read;
      case "count":
        return read;
    }
  }
  return undefined;
}

/**
 * `needed`: the input columns later operators read (undefined: all). Output rows carry only those and the
 * expanded column: copying every column of a million expanded rows, to drop most of them at the next
 * `project`, dominated the reference sweep's run time.
 */
function compileMvExpand(
  operator: Extract<Operator, { kind: "mv-expand" }>,
  state: State,
  text: string,
  needed: ReadonlySet<string> | undefined,
): CompiledOperator {
  const { item, bagExpansion, limit } = operator;
  const compiled = compileExpr(item.expr, scopeOf(state.columns, text));
  if (compiled.type !== "dynamic") {
    throw errorAt(INVALID_QUERY, `mv-expand needs a dynamic array or bag, got a ${compiled.type} expression`, text, item.pos);
  }
  const unchecked = item.name ?? (item.expr.kind === "column" ? item.expr.name : undefined);
  if (unchecked === undefined) {
    throw errorAt(INVALID_QUERY, "Name the expanded column: write 'mv-expand name = expression'", text, item.pos);
  }
  const name = checkedName(unchecked, item.pos, text);
  const toType = operator.toType;
  const cast = toType === undefined ? KEEP_DYNAMIC : Object.hasOwn(MV_EXPAND_CASTS, toType) ? MV_EXPAND_CASTS[toType] : undefined;
  if (cast === undefined) {
    throw errorAt(UNSUPPORTED_OPERATOR, `mv-expand to typeof(${String(toType)}) is not supported: only typeof(string) is`, text, operator.pos);
  }
  // The expanded column replaces an input column of the same name in place, else it is appended.
  const columns = [...state.columns];
  const existing = columns.findIndex((c) => c.name === name);
  if (existing >= 0) columns[existing] = { name, type: cast.type };
  else columns.push({ name, type: cast.type });

  // One generated builder per operator: every output row gets the same shape in one allocation.
  const kept = columns.filter((c) => c.name !== name && (needed === undefined || needed.has(c.name)));
  let current: unknown = null;
  const build = rowBuilder(
    [...kept.map((c) => c.name), name],
    [...kept.map(columnReader), () => current],
  );
  const evaluate = compiled.evaluate;
  const castValue = cast.cast;
  const max = limit ?? Number.POSITIVE_INFINITY;
  const expand: RowStep = (row, emit) => {
    const value = evaluate(row);
    if (Array.isArray(value)) {
      // An empty array expands to no rows at all.
      const n = Math.min(value.length, max);
      for (let i = 0; i < n; i++) {
        current = castValue(value[i] ?? null);
        emit(build(row));
      }
    } else if (isBag(value)) {
      const keys = Object.keys(value);
      const n = Math.min(keys.length, max);
      for (let i = 0; i < n; i++) {
        const key = keys[i] as string;
        current = castValue(bagExpansion === "bag" ? { [key]: value[key] } : [key, value[key]]);
        emit(build(row));
      }
    } else {
      // Null and scalars are not collections: Kusto keeps the row as it is.
      current = castValue(value ?? null);
      emit(build(row));
    }
  };
  return {
    stage: (rows) => {
      const out: Row[] = [];
      const push = (row: Row): void => {
        out.push(row);
      };
      for (const row of rows) expand(row, push);
      return out;
    },
    step: expand,
    // Rows hold only the columns read later; when all may be read (`needed` undefined), all are there.
    state: { columns, exact: needed === undefined },
  };
}

function compileSummarize(
  aggregates: readonly NamedExpr[],
  by: readonly NamedExpr[],
  state: State,
  text: string,
): CompiledOperator {
  const scope = scopeOf(state.columns, text);
  const seen = new Set<string>();
  const keyColumns: SchemaColumn[] = [];
  const keyEvaluators: Evaluator[] = [];
  for (const item of by) {
    const compiled = compileExpr(item.expr, scope);
    const name = itemName(item, text);
    requireUniqueName(seen, name, item, text);
    requireGroupableType(compiled.type, "summarize by", item.expr.pos, text);
    keyColumns.push({ name, type: compiled.type });
    keyEvaluators.push(compiled.evaluate);
  }
  const compiledAggregates: CompiledAggregate[] = [];
  for (const item of aggregates) {
    const aggregate = compileAggregate(item, scope, text);
    for (const column of aggregate.columns) requireUniqueName(seen, column.name, item, text);
    compiledAggregates.push(aggregate);
  }
  // Kusto puts the `by` columns first, then the aggregates' columns in the order written.
  const columns: SchemaColumn[] = [...keyColumns, ...compiledAggregates.flatMap((a) => a.columns)];
  const names = columns.map((c) => c.name);
  const keyCount = keyEvaluators.length;

  return {
    stage: (rows) => {
      // Groups in order of first appearance; ARG does not promise an order either.
      const groups = new Map<unknown, { values: unknown[]; accumulators: Accumulator[] }>();
      for (const row of rows) {
        const values = new Array<unknown>(keyCount);
        for (let i = 0; i < keyCount; i++) values[i] = (keyEvaluators[i] as Evaluator)(row) ?? null;
        const key = keyCount === 1 ? values[0] : JSON.stringify(values);
        let group = groups.get(key);
        if (group === undefined) {
          group = { values, accumulators: compiledAggregates.map((a) => a.create()) };
          groups.set(key, group);
        }
        for (const accumulator of group.accumulators) accumulator.add(row);
      }
      // Without 'by', summarize always yields one row, even over no input.
      if (keyCount === 0 && groups.size === 0) groups.set("", { values: [], accumulators: compiledAggregates.map((a) => a.create()) });
      const out: Row[] = [];
      for (const { values, accumulators } of groups.values()) {
        const cells = [...values, ...accumulators.flatMap((a) => a.results())];
        const row: Row = {};
        for (let i = 0; i < names.length; i++) row[names[i] as string] = cells[i] ?? null;
        out.push(row);
      }
      return out;
    },
    state: { columns, exact: true },
  };
}

/** The running state of one aggregation over one group. */
interface Accumulator {
  add(row: Row): void;
  /** One value per output column of the aggregation. */
  results(): unknown[];
}

interface CompiledAggregate {
  readonly columns: readonly SchemaColumn[];
  create(): Accumulator;
}

/** Aggregations of the subset: count(), max(x), min(x), arg_max(x, c1, ...), make_set(x [, maxSize]). */
function compileAggregate(item: NamedExpr, scope: Scope, text: string): CompiledAggregate {
  const expr = item.expr;
  if (expr.kind !== "call") {
    throw errorAt(INVALID_QUERY, "summarize expects aggregations such as count() before 'by'", text, item.pos);
  }
  switch (expr.name) {
    case "count": {
      if (expr.args.length > 0) throw errorAt(INVALID_QUERY, "count() takes no arguments", text, expr.pos);
      const name = checkedName(item.name ?? "count_", item.pos, text);
      return {
        columns: [{ name, type: "long" }],
        create: () => {
          let count = 0;
          return { add: () => void count++, results: () => [count] };
        },
      };
    }
    case "max":
    case "min": {
      const [argument, ...extra] = expr.args;
      if (argument === undefined || extra.length > 0) {
        throw errorAt(INVALID_QUERY, `${expr.name}() takes exactly 1 argument, got ${expr.args.length}`, text, expr.pos);
      }
      const compiled = compileExpr(argument, scope);
      requireGroupableType(compiled.type, `take the ${expr.name}() of`, argument.pos, text);
      // Kusto names `max(x)` max_x when x is a column or path, and needs a name otherwise.
      const derived = derivedName(argument);
      const unchecked = item.name ?? (derived === undefined ? undefined : `${expr.name}_${derived}`);
      if (unchecked === undefined) throw errorAt(INVALID_QUERY, `Name this aggregation's column: write 'name = ${expr.name}(...)'`, text, item.pos);
      const better = expr.name === "max" ? 1 : -1;
      const evaluate = compiled.evaluate;
      return {
        columns: [{ name: checkedName(unchecked, item.pos, text), type: compiled.type }],
        create: () => {
          let best: unknown = null;
          return {
            add: (row) => {
              const value = evaluate(row);
              // Nulls are ignored, as Kusto's max() and min() do.
              if (value === null || value === undefined) return;
              if (best === null || compareScalars(value, best) === better) best = value;
            },
            results: () => [best],
          };
        },
      };
    }
    case "arg_max": {
      if (item.name !== undefined) {
        throw errorAt(UNSUPPORTED_OPERATOR, `Naming the result of ${expr.name}() is not supported: rename its columns with project`, text, item.pos);
      }
      const [target, ...returned] = expr.args;
      if (target === undefined || returned.length === 0) {
        throw errorAt(INVALID_QUERY, `${expr.name}() needs the expression to maximize and the columns to return`, text, expr.pos);
      }
      const compiledTarget = compileExpr(target, scope);
      requireGroupableType(compiledTarget.type, `take the ${expr.name}() of`, target.pos, text);
      const parts = [target, ...returned].map((argument) => {
        const name = derivedName(argument);
        if (name === undefined) {
          throw errorAt(UNSUPPORTED_OPERATOR, `${expr.name}() arguments must be columns (or paths) in the simulator`, text, argument.pos);
        }
        const compiled = argument === target ? compiledTarget : compileExpr(argument, scope);
        return { column: { name: checkedName(name, argument.pos, text), type: compiled.type } as SchemaColumn, evaluate: compiled.evaluate };
      });
      const evaluateTarget = compiledTarget.evaluate;
      const evaluators = parts.map((p) => p.evaluate);
      return {
        columns: parts.map((p) => p.column),
        create: () => {
          let best: unknown = null;
          let bestRow: Row | undefined;
          return {
            add: (row) => {
              const value = evaluateTarget(row);
              // Rows whose maximized value is null never win; ties keep the first row seen.
              if (value === null || value === undefined) return;
              if (bestRow === undefined || compareScalars(value, best) === 1) {
                best = value;
                bestRow = row;
              }
            },
            results: () => (bestRow === undefined ? evaluators.map(() => null) : evaluators.map((e) => e(bestRow as Row) ?? null)),
          };
        },
      };
    }
    case "make_set": {
      // make_set(expr [, maxSize]): the distinct non-null values, at most maxSize of them (Kusto's default
      // 1,048,576). Kusto leaves their order, and which values a full set keeps, unspecified; the simulator keeps
      // the smallest, in order, so a sample (the reference sweep keeps 10 resources per identity) is the same
      // whatever order the rows came in.
      const [argument, sizeArgument, ...extra] = expr.args;
      if (argument === undefined || extra.length > 0) {
        throw errorAt(INVALID_QUERY, `make_set() takes 1 or 2 arguments (expr, maxSize), got ${expr.args.length}`, text, expr.pos);
      }
      const compiled = compileExpr(argument, scope);
      let maxSize = 1_048_576;
      if (sizeArgument !== undefined) {
        const size = compileExpr(sizeArgument, scope).constant?.value;
        if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
          throw errorAt(INVALID_QUERY, "make_set(): maxSize must be a constant whole number of at least 1", text, sizeArgument.pos);
        }
        maxSize = size;
      }
      const derived = derivedName(argument);
      const unchecked = item.name ?? (derived === undefined ? undefined : `set_${derived}`);
      if (unchecked === undefined) throw errorAt(INVALID_QUERY, "Name this aggregation's column: write 'name = make_set(...)'", text, item.pos);
      const evaluate = compiled.evaluate;
      return {
        columns: [{ name: checkedName(unchecked, item.pos, text), type: "dynamic" }],
        create: () => {
          const seen = new Map<string, unknown>();
          return {
            add: (row) => {
              const value = evaluate(row);
              if (value === null || value === undefined) return;
              const key = typeof value === "string" ? `s${value}` : `j${JSON.stringify(value)}`;
              if (!seen.has(key)) seen.set(key, value);
            },
            results: () => [[...seen.values()].sort(compareScalars).slice(0, maxSize)],
          };
        },
      };
    }
    default:
      throw errorAt(UNSUPPORTED_OPERATOR, `Aggregation '${expr.name}()' is not supported: only count(), max(), min(), arg_max() and make_set() are`, text, expr.pos);
  }
}
