/**
 * Words Kusto's parser refuses as plain names: it wants them bracketed (`['last']`). The lists were
 * produced by running Microsoft's parser (@kusto/language-service-next 12.4.1) over every Kusto keyword in
 * three positions: `project w = 1`, `where w == 1` and `where x.w == 1` (the last two refuse the same
 * words). kusto-parser.test.ts re-derives them from the installed package and fails if they drift apart.
 */

/** Refused as the name of a new column (`project w = ...`, `extend w = ...`). */
const NEW_NAME_KEYWORDS: ReadonlySet<string> = new Set([
  "__contextual_datatable", "__crossCluster", "__crossDB", "__executeAndCache", "__id", "__isFuzzy",
  "__noWithSource", "__packedColumn", "__projectAway", "__sourceColumnIndex", "and", "anomalychart",
  "areachart", "asc", "bagexpansion", "barchart", "between", "bin_legacy", "boolean", "byte", "cachingpolicy",
  "callout", "cancel", "card", "char", "columnchart", "contains_cs", "containscs", "cycles", "dataexport",
  "datascope", "date", "datetime", "decimal", "decodeblocks", "desc", "double", "dynamic", "encodingpolicy",
  "endswith", "endswith_cs", "expandoutput", "extent_tags_retention", "external_data", "first", "flags",
  "float", "force_remote", "harddelete", "hardretention", "has_all", "has_any", "has_cs", "hasprefix",
  "hasprefix_cs", "hassuffix", "hassuffix_cs", "hotcache", "int", "int16", "int32", "int64", "int8", "isfuzzy",
  "journal", "kind", "ladderchart", "last", "like", "likecs", "linechart", "long", "missing", "nooptimization",
  "notcontains", "notcontainscs", "notlike", "notlikecs", "or", "others", "pathformat", "piechart",
  "pivotchart", "project", "queries", "query_results", "real", "relaxed", "restricted_view_access",
  "row_level_security", "rowstore", "rowstore_references", "rowstore_sealinfo", "rowstorepolicy", "rowstores",
  "scatterchart", "seal", "seals", "shards", "simple", "softdelete", "softretention", "stackedareachart",
  "startswith", "startswith_cs", "statistics", "storedqueryresultcontainers", "string", "tablepurge", "time",
  "timechart", "timeline", "timepivot", "timespan", "treemap", "uint", "uint16", "uint32", "uint64", "uint8",
  "ulong", "union", "uniqueid", "unrestrictedviewers", "views", "with_itemindex", "with_match_id",
  "with_source", "with_step_name", "withsource", "writeaheadlog",
]);

/** Refused as a column reference (`where w == 1`) and as a property after a dot (`x.w`). */
const REFERENCE_KEYWORDS: ReadonlySet<string> = new Set([
  "__contextual_datatable", "__crossCluster", "__crossDB", "__executeAndCache", "__id", "__isFuzzy",
  "__noWithSource", "__packedColumn", "__projectAway", "__sourceColumnIndex", "accumulate", "and",
  "anomalychart", "areachart", "as", "asc", "bagexpansion", "barchart", "between", "bin_legacy", "boolean",
  "by", "byte", "cachingpolicy", "callout", "cancel", "card", "char", "columnchart", "contains", "contains_cs",
  "containscs", "cycles", "dataexport", "datascope", "datatable", "date", "datetime", "decimal", "decodeblocks",
  "desc", "double", "dynamic", "earliest", "encodingpolicy", "endswith", "endswith_cs", "expandoutput",
  "extent_tags_retention", "external_data", "externaldata", "find", "first", "flags", "float", "force_remote",
  "harddelete", "hardretention", "has", "has_all", "has_any", "has_cs", "hasprefix", "hasprefix_cs",
  "hassuffix", "hassuffix_cs", "hotcache", "in", "int", "int16", "int32", "int64", "int8", "invoke", "isfuzzy",
  "journal", "ladderchart", "last", "latest", "like", "likecs", "linechart", "long", "materialize", "mdm",
  "missing", "nooptimization", "notcontains", "notcontainscs", "notlike", "notlikecs", "of", "or", "others",
  "pathformat", "piechart", "pivotchart", "print", "project", "queries", "query_results", "real", "relaxed",
  "restricted_view_access", "row_level_security", "rowstore", "rowstore_references", "rowstore_sealinfo",
  "rowstorepolicy", "rowstores", "sample", "scatterchart", "seal", "seals", "search", "set", "shards", "simple",
  "softdelete", "softretention", "sql", "stackedareachart", "startswith", "startswith_cs", "statistics",
  "storedqueryresultcontainers", "string", "tablepurge", "time", "timechart", "timeline", "timepivot",
  "timespan", "title", "to", "toscalar", "totable", "treemap", "uint", "uint16", "uint32", "uint64", "uint8",
  "ulong", "union", "uniqueid", "unrestrictedviewers", "verbose", "viewers", "views", "where", "with_itemindex",
  "with_match_id", "with_step_name", "writeaheadlog",
]);

/** `true` and `false` are literals, so they cannot name a new column or follow a dot either. */
export function isReservedAsNewName(name: string): boolean {
  return NEW_NAME_KEYWORDS.has(name) || name === "true" || name === "false";
}

export function isReservedAsReference(name: string): boolean {
  return REFERENCE_KEYWORDS.has(name);
}

export function isReservedAsProperty(name: string): boolean {
  return REFERENCE_KEYWORDS.has(name) || name === "true" || name === "false";
}

/** Every word refused somewhere, for the test that checks no listed word is accepted everywhere. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([...NEW_NAME_KEYWORDS, ...REFERENCE_KEYWORDS]);
