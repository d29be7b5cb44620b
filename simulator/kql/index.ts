/**
 * The simulator's Azure Resource Graph query engine: a documented subset of KQL, compiled once to
 * closures and run over in-memory rows. Anything outside the subset throws KqlError (never wrong data);
 * see README.md in this folder for the subset and its semantics.
 */
import { compilePipeline, type TableCatalog } from "./evaluate.js";
import { parseQuery } from "./parser.js";
import type { ScalarType, SchemaColumn } from "./schema.js";

export { KqlError, INVALID_QUERY, UNSUPPORTED_FUNCTION, UNSUPPORTED_OPERATOR } from "./errors.js";
export { ARG_TABLE_SCHEMAS, LOG_ANALYTICS_TABLE_SCHEMAS, type ScalarType, type SchemaColumn } from "./schema.js";
export { ARG_CATALOG, type TableCatalog } from "./evaluate.js";
export { parseQuery } from "./parser.js";

export type KqlRow = Record<string, unknown>;

export interface KqlColumn {
  name: string;
  type: "string" | "integer" | "real" | "boolean" | "datetime" | "object" | "array" | "dynamic";
}

export interface KqlResult {
  columns: KqlColumn[];
  rows: KqlRow[];
}

/** Compile once, run many times (the server caches compiled queries across pages). */
export interface CompiledQuery {
  /** The source table as its catalog keys it: lower-cased for Resource Graph ("resources", ...). */
  readonly table: string;
  /** True when the query contains `limit` or `take` (ARG pages such queries differently). */
  readonly usesLimit: boolean;
  /**
   * Runs the query over `tables[table]` (looked up by the lower-case name, then case-insensitively).
   * Rows are read, never modified; output rows are new objects holding exactly the output columns.
   */
  run(tables: Record<string, Iterable<KqlRow>>): KqlResult;
}

/**
 * Parses and type-checks `query`; throws KqlError for syntax errors and anything outside the subset.
 * `catalog` names the tables it may read: Resource Graph's by default.
 */
export function compileKql(query: string, catalog?: TableCatalog): CompiledQuery {
  const pipeline = compilePipeline(parseQuery(query), query, catalog);
  const table = pipeline.table;
  return {
    table,
    usesLimit: pipeline.usesLimit,
    run(tables) {
      const rows = pipeline.run(findTable(tables, table));
      return { columns: resultColumns(pipeline.columns, rows), rows };
    },
  };
}

export function runKql(query: string, tables: Record<string, Iterable<KqlRow>>): KqlResult {
  return compileKql(query).run(tables);
}

function findTable(tables: Record<string, Iterable<KqlRow>>, table: string): Iterable<KqlRow> {
  if (Object.hasOwn(tables, table)) return tables[table] as Iterable<KqlRow>;
  const key = Object.keys(tables).find((name) => name.toLowerCase() === table);
  if (key === undefined) {
    // A server bug, not a bad query: a plain Error so it surfaces as a 500, not as ARG's 400.
    throw new Error(`The query reads table '${table}' but run() was given only: ${Object.keys(tables).join(", ") || "no tables"}`);
  }
  return tables[key] as Iterable<KqlRow>;
}

const STATIC_COLUMN_TYPES: Readonly<Record<Exclude<ScalarType, "dynamic">, KqlColumn["type"]>> = {
  string: "string",
  long: "integer",
  real: "real",
  bool: "boolean",
  datetime: "datetime",
};

/** Column types: static where the query fixes them, else inferred from the values actually produced. */
function resultColumns(columns: readonly SchemaColumn[], rows: readonly KqlRow[]): KqlColumn[] {
  return columns.map(({ name, type }) => ({
    name,
    type: type === "dynamic" ? inferDynamicType(name, rows) : STATIC_COLUMN_TYPES[type],
  }));
}

function valueType(value: unknown): KqlColumn["type"] | undefined {
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return Number.isInteger(value) ? "integer" : "real";
    case "boolean":
      return "boolean";
    case "object":
      if (value === null) return undefined;
      if (Array.isArray(value)) return "array";
      return value instanceof Date ? "datetime" : "object";
    default:
      return undefined;
  }
}

/** One kind of value gives its type; integers mixed with reals are real; other mixes are dynamic. */
function inferDynamicType(name: string, rows: readonly KqlRow[]): KqlColumn["type"] {
  let found: KqlColumn["type"] | undefined;
  for (const row of rows) {
    const type = valueType(row[name]);
    if (type === undefined || type === found) continue;
    if (found === undefined) found = type;
    else if ((found === "integer" && type === "real") || (found === "real" && type === "integer")) found = "real";
    else return "dynamic";
  }
  return found ?? "object";
}
