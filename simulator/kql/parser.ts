/**
 * Recursive-descent parser for the KQL subset. It checks syntax only; names and types are checked by the
 * compiler. Everything outside the subset is rejected here by name, so the error says "not supported"
 * rather than "syntax error" when the query is valid Kusto.
 */
import type { Expr, NamedExpr, Operator, Query, SortKey } from "./ast.js";
import { INVALID_QUERY, UNSUPPORTED_FUNCTION, UNSUPPORTED_OPERATOR, errorAt } from "./errors.js";
import { isReservedAsNewName, isReservedAsProperty, isReservedAsReference } from "./keywords.js";
import { tokenize, type Token } from "./lexer.js";

/**
 * Kusto tabular operators that exist but are outside the subset: rejected as unsupported, not unknown. The
 * subset is what the app's queries and the tests send; `filter` (where's alias), `sort` (order's alias) and
 * `project-away` were dropped when nothing sent them any more.
 */
const UNSUPPORTED_TABULAR_OPERATORS = new Set([
  "filter", "sort", "project-away", "as", "consume", "evaluate", "extend-schema", "externaldata", "facet", "find", "fork", "getschema",
  "invoke", "join", "lookup", "make-graph", "make-series", "mv-apply", "parse", "parse-kv", "parse-where",
  "partition", "print", "project-keep", "project-rename", "project-reorder", "project-smart", "range",
  "reduce", "render", "sample", "sample-distinct", "scan", "search", "serialize", "top", "top-hitters",
  "top-nested", "union", "graph-match", "graph-merge", "graph-to-table", "macro-expand", "assert-schema",
]);

/**
 * Comparison and string operators written as words (the `!` forms come from the lexer as one token; any other
 * `!word` is refused as unsupported).
 */
const WORD_COMPARISONS = new Set(["contains", "!contains", "has", "!has", "startswith", "!startswith"]);

/** Kusto scalar operators outside the subset, named so the error can say so. */
const UNSUPPORTED_WORD_OPERATORS = new Set([
  "matches", "between", "has_any", "has_all", "hasprefix", "hassuffix", "hasprefix_cs", "hassuffix_cs", "like",
  "notlike", "likecs", "notlikecs", "in", "in~", "endswith", "contains_cs", "has_cs", "startswith_cs", "endswith_cs",
]);

const SYMBOL_COMPARISONS = new Set(["==", "!=", "=~", "!~", "<", "<=", ">", ">="]);
const ARITHMETIC = new Set(["+", "-", "*", "/", "%"]);

/** Kusto literal forms written like calls (`dynamic([...])`, `datetime(2024-01-01)`): not in the subset. */
const TYPED_LITERALS = new Set([
  "dynamic", "datetime", "timespan", "time", "guid", "decimal", "int", "long", "real", "double", "bool",
  "boolean", "date", "uniqueid",
]);

export function parseQuery(text: string): Query {
  return new Parser(text).parseQuery();
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parseQuery(): Query {
    const first = this.peek();
    if (first.kind === "eof") throw this.error(INVALID_QUERY, "The query is empty", first);
    if (first.kind === "ident" && (first.value === "let" || first.value === "set" || first.value === "declare")) {
      throw this.error(UNSUPPORTED_OPERATOR, `'${first.text}' statements are not supported`, first);
    }
    if (first.kind === "ident" && UNSUPPORTED_TABULAR_OPERATORS.has(first.text)) {
      throw this.error(UNSUPPORTED_OPERATOR, `Operator '${first.text}' is not supported`, first);
    }
    if (first.kind !== "ident") {
      throw this.error(INVALID_QUERY, `Expected a table name but found '${first.text}'`, first);
    }
    this.index++;
    const operators: Operator[] = [];
    while (this.isPunct("|")) {
      this.index++;
      operators.push(this.parseOperator());
    }
    const rest = this.peek();
    if (rest.kind !== "eof") {
      if (rest.text === ";") throw this.error(UNSUPPORTED_OPERATOR, "Multiple statements (';') are not supported", rest);
      throw this.error(INVALID_QUERY, `Unexpected '${rest.text}' after the end of the query`, rest);
    }
    return { table: first.text, tablePos: first.start, operators };
  }

  // ---- tabular operators ----

  private parseOperator(): Operator {
    const token = this.peek();
    if (token.kind !== "ident") {
      throw this.error(INVALID_QUERY, `Expected a query operator after '|' but found '${token.text || "end of query"}'`, token);
    }
    const pos = token.start;
    this.index++;
    switch (token.text) {
      case "where":
        return { kind: "where", predicate: this.parseExpr(), pos };
      case "project":
        return { kind: "project", items: this.parseNamedList(), pos };
      case "extend":
        return { kind: "extend", items: this.parseNamedList(), pos };
      case "order":
        this.expectWord("by");
        return { kind: "sort", keys: this.parseSortKeys(), pos };
      case "take":
      case "limit":
        return { kind: "take", count: this.parseCount(token.text), pos };
      case "mv-expand":
        return this.parseMvExpand(pos);
      case "summarize":
        return this.parseSummarize(pos);
      case "distinct":
        if (this.isPunct("*")) throw this.error(UNSUPPORTED_OPERATOR, "'distinct *' is not supported: list the columns", this.peek());
        return { kind: "summarize", aggregates: [], by: this.parseNamedList(), pos };
      case "count":
        return { kind: "count", pos };
      default:
        if (UNSUPPORTED_TABULAR_OPERATORS.has(token.text)) {
          throw this.error(UNSUPPORTED_OPERATOR, `Operator '${token.text}' is not supported`, token);
        }
        throw this.error(INVALID_QUERY, `Unknown query operator '${token.text}'`, token);
    }
  }

  /** `a, b = expr, c.d`: the items of project, extend, distinct and summarize. */
  private parseNamedList(): NamedExpr[] {
    const items = [this.parseNamed()];
    while (this.isPunct(",")) {
      this.index++;
      items.push(this.parseNamed());
    }
    return items;
  }

  private parseNamed(): NamedExpr {
    const token = this.peek();
    if (token.kind === "punct" && token.text === "(") {
      // `(a, b) = f(x)` tuple assignment: Kusto, but not the subset. Plain parenthesized expressions are fine.
      const next = this.peek(2);
      if (next.kind === "punct" && next.text === ",") {
        throw this.error(UNSUPPORTED_OPERATOR, "Tuple assignments '(a, b) = ...' are not supported", token);
      }
    }
    if (token.kind === "punct" && token.text === "*") {
      throw this.error(UNSUPPORTED_OPERATOR, "Wildcards ('*') are not supported", token);
    }
    if (token.kind === "ident" && this.isPunct("=", 1)) {
      if (isReservedAsNewName(token.text)) {
        throw this.error(INVALID_QUERY, `'${token.text}' is a Kusto keyword and cannot name a column here`, token);
      }
      this.index += 2;
      return { name: token.text, expr: this.parseExpr(), pos: token.start };
    }
    return { name: undefined, expr: this.parseExpr(), pos: token.start };
  }

  private parseSortKeys(): SortKey[] {
    const keys: SortKey[] = [];
    do {
      if (keys.length > 0) this.index++;
      const expr = this.parseExpr();
      let descending = true; // Kusto sorts descending unless told otherwise.
      if (this.isWord("asc")) {
        descending = false;
        this.index++;
      } else if (this.isWord("desc")) {
        this.index++;
      }
      let nullsFirst: boolean | undefined;
      if (this.isWord("nulls")) {
        this.index++;
        if (this.isWord("first")) nullsFirst = true;
        else if (this.isWord("last")) nullsFirst = false;
        else throw this.error(INVALID_QUERY, `Expected 'first' or 'last' after 'nulls' but found '${this.peek().text}'`, this.peek());
        this.index++;
      }
      keys.push({ expr, descending, nullsFirst });
    } while (this.isPunct(","));
    return keys;
  }

  private parseCount(operator: string): number {
    const token = this.peek();
    if (token.kind !== "number" || token.isReal) {
      throw this.error(INVALID_QUERY, `'${operator}' needs a whole number of rows but found '${token.text || "end of query"}'`, token);
    }
    this.index++;
    return token.value as number;
  }

  private parseMvExpand(pos: number): Operator {
    let bagExpansion: "bag" | "array" = "bag";
    for (;;) {
      const word = this.peek();
      if (word.kind !== "ident" || !this.isPunct("=", 1)) break;
      if (word.text === "kind" || word.text === "bagexpansion") {
        const value = this.peek(2);
        // `kind = bag_keys(tags)` names a column `kind`; only `kind=bag|array` is the parameter.
        if (value.kind !== "ident" || (value.text !== "bag" && value.text !== "array") || this.isPunct("(", 3)) break;
        bagExpansion = value.text;
        this.index += 3;
        continue;
      }
      if (word.text === "with_itemindex") {
        throw this.error(UNSUPPORTED_OPERATOR, "mv-expand with_itemindex is not supported", word);
      }
      break;
    }
    const item = this.parseNamed();
    let toType: string | undefined;
    if (this.isWord("to")) {
      this.index++;
      this.expectWord("typeof");
      this.expectPunct("(");
      const type = this.peek();
      if (type.kind !== "ident") throw this.error(INVALID_QUERY, `Expected a type name but found '${type.text}'`, type);
      this.index++;
      this.expectPunct(")");
      toType = type.text;
    }
    if (this.isPunct(",")) {
      throw this.error(UNSUPPORTED_OPERATOR, "mv-expand of several columns at once is not supported", this.peek());
    }
    let limit: number | undefined;
    if (this.isWord("limit")) {
      this.index++;
      limit = this.parseCount("mv-expand limit");
    }
    return { kind: "mv-expand", item, bagExpansion, toType, limit, pos };
  }

  private parseSummarize(pos: number): Operator {
    const aggregates = this.isWord("by") ? [] : this.parseNamedList();
    let by: NamedExpr[] = [];
    if (this.isWord("by")) {
      this.index++;
      by = this.parseNamedList();
    }
    if (aggregates.length === 0 && by.length === 0) {
      throw this.error(INVALID_QUERY, "summarize needs an aggregation or a 'by' clause", this.peek());
    }
    return { kind: "summarize", aggregates, by, pos };
  }

  // ---- scalar expressions, lowest precedence first ----

  private parseExpr(): Expr {
    let left = this.parseAnd();
    while (this.isWord("or")) {
      const pos = this.peek().start;
      this.index++;
      left = { kind: "binary", op: "or", left, right: this.parseAnd(), pos };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseComparison();
    while (this.isWord("and")) {
      const pos = this.peek().start;
      this.index++;
      left = { kind: "binary", op: "and", left, right: this.parseComparison(), pos };
    }
    return left;
  }

  private parseComparison(): Expr {
    const left = this.parseUnary();
    this.rejectArithmetic();
    const token = this.peek();
    const op = this.comparisonOperator(token);
    if (op === undefined) return left;
    this.index++;
    const result: Expr = { kind: "binary", op, left, right: this.parseUnary(), pos: token.start };
    this.rejectArithmetic();
    const chained = this.peek();
    if (this.comparisonOperator(chained) !== undefined) {
      throw this.error(INVALID_QUERY, `Unexpected '${chained.text}': comparisons cannot be chained, use 'and'`, chained);
    }
    return result;
  }

  /** The comparison operator `token` spells, if any; throws for Kusto operators outside the subset. */
  private comparisonOperator(token: Token): string | undefined {
    if (token.kind === "punct" && SYMBOL_COMPARISONS.has(token.text)) return token.text;
    if (token.kind === "punct" && token.text === "<>") return "!=";
    if (token.kind === "word-op" || token.kind === "ident") {
      if (WORD_COMPARISONS.has(token.text)) return token.text;
      if (UNSUPPORTED_WORD_OPERATORS.has(token.text) || token.text.startsWith("!")) {
        throw this.error(UNSUPPORTED_OPERATOR, `Operator '${token.text}' is not supported`, token);
      }
    }
    return undefined;
  }

  private rejectArithmetic(): void {
    const token = this.peek();
    if (token.kind === "punct" && ARITHMETIC.has(token.text)) {
      throw this.error(UNSUPPORTED_OPERATOR, `Arithmetic operator '${token.text}' is not supported`, token);
    }
  }

  private parseUnary(): Expr {
    const token = this.peek();
    if (token.kind === "punct" && token.text === "-") {
      const next = this.peek(1);
      if (next.kind === "number") {
        this.index += 2;
        return { kind: "literal", value: -(next.value as number), type: next.isReal ? "real" : "long", pos: token.start };
      }
      throw this.error(UNSUPPORTED_OPERATOR, "Unary minus is supported only before a number", token);
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Expr {
    let expr = this.parsePrimary();
    for (;;) {
      const token = this.peek();
      if (token.kind === "punct" && token.text === ".") {
        this.index++;
        const key = this.peek();
        // After a dot any word is a property name, including keywords such as `type` or `kind`.
        if (key.kind !== "ident") {
          throw this.error(INVALID_QUERY, `Expected a property name after '.' but found '${key.text || "end of query"}'`, key);
        }
        if (isReservedAsProperty(key.text)) {
          throw this.error(INVALID_QUERY, `'${key.text}' is a Kusto keyword: write ['${key.text}'] to read that property`, key);
        }
        this.index++;
        expr = { kind: "member", target: expr, key: key.text, pos: token.start };
      } else if (token.kind === "punct" && token.text === "[") {
        this.index++;
        const index = this.parseExpr();
        this.expectPunct("]");
        expr =
          index.kind === "literal" && index.type === "string"
            ? { kind: "member", target: expr, key: index.value as string, pos: token.start }
            : { kind: "index", target: expr, index, pos: token.start };
      } else {
        return expr;
      }
    }
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case "string": {
        // Adjacent string literals are one string in Kusto: 'ab' 'cd' is 'abcd'.
        let value = "";
        while (this.peek().kind === "string") {
          value += this.peek().value as string;
          this.index++;
        }
        return { kind: "literal", value, type: "string", pos: token.start };
      }
      case "number":
        this.index++;
        return { kind: "literal", value: token.value, type: token.isReal ? "real" : "long", pos: token.start };
      case "ident":
        return this.parseIdentifierExpr(token);
      case "punct":
        if (token.text === "(") {
          this.index++;
          const inner = this.parseExpr();
          this.expectPunct(")");
          return inner;
        }
        if (token.text === "[") {
          throw this.error(UNSUPPORTED_OPERATOR, "Bracketed column names (['name']) are not supported", token);
        }
        break;
      case "word-op":
      case "eof":
        break;
    }
    throw this.error(INVALID_QUERY, `Expected an expression but found '${token.text || "end of query"}'`, token);
  }

  private parseIdentifierExpr(token: Token): Expr {
    this.index++;
    const name = token.text;
    if (this.isPunct("(")) {
      if (TYPED_LITERALS.has(name)) {
        throw this.error(UNSUPPORTED_FUNCTION, `Typed literals such as '${name}(...)' are not supported`, token);
      }
      this.index++;
      const args: Expr[] = [];
      if (!this.isPunct(")")) {
        args.push(this.parseExpr());
        while (this.isPunct(",")) {
          this.index++;
          args.push(this.parseExpr());
        }
      }
      this.expectPunct(")", `Expected ')' to close the call to '${name}'`);
      return { kind: "call", name, args, pos: token.start };
    }
    if (name === "true" || name === "false") {
      return { kind: "literal", value: name === "true", type: "bool", pos: token.start };
    }
    if (name === "not") {
      // `not` is a Kusto function (`not(expr)`), outside the subset like its call form: never a column.
      throw this.error(UNSUPPORTED_FUNCTION, "Function 'not' is not supported", token);
    }
    if (isReservedAsReference(name)) {
      throw this.error(INVALID_QUERY, `Expected an expression but found the keyword '${name}'`, token);
    }
    return { kind: "column", name, pos: token.start };
  }

  // ---- token helpers ----

  private peek(ahead = 0): Token {
    const token = this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
    if (token === undefined) throw new Error("The token list always ends with an eof token");
    return token;
  }

  private isPunct(text: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "punct" && token.text === text;
  }

  private isWord(text: string): boolean {
    const token = this.peek();
    return token.kind === "ident" && token.text === text;
  }

  private expectPunct(text: string, message?: string): void {
    const token = this.peek();
    if (!this.isPunct(text)) {
      const found = `found '${token.text || "end of query"}'`;
      throw this.error(INVALID_QUERY, message === undefined ? `Expected '${text}' but ${found}` : `${message}, ${found}`, token);
    }
    this.index++;
  }

  private expectWord(text: string): void {
    const token = this.peek();
    if (!this.isWord(text)) {
      throw this.error(INVALID_QUERY, `Expected '${text}' but found '${token.text || "end of query"}'`, token);
    }
    this.index++;
  }

  private error(code: string, message: string, token: Token): Error {
    return errorAt(code, message, this.text, token.start);
  }
}
