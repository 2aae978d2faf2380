"""What a metric definition's SQL reads, and what it computes. Django-free.

A metric's SQL is one query in one dialect (what it computes, as a fingerprint and a
signature, is sqlcompare.py's). `parse_metric_sql` reads it with
sqlglot (a syntax error carries its line and column); `table_refs` names the
real tables it reads (CTE names and derived tables are not tables: the scope
walk tells them apart, which `find_all(exp.Table)` does not); `analyse` takes
those tables as the catalog resolved them, qualifies every column against the
catalog's stored columns (sqlglot's `qualify` with a schema built from them),
and returns:

- the datasets and columns used, by the keys the caller gave them;
- warnings for what could not be tied to the catalog (never errors);
- a fingerprint: a hash of the query with formatting, comments, identifier
  case and alias names taken out (CTE, table, subquery and projection aliases
  are renamed by position), so the same query written twice hashes the same.
  Literal values are kept: `status = 'active'` and `status = 'churned'` are
  different metrics, not one metric written twice;
- a signature: the aggregates, filters, joins and grouping, each with its
  columns traced to the base table column it reads, compared as sets, so the
  same aggregate over the same columns with the same filters matches however
  the query is arranged (conjunct order, a CTE instead of an inline filter).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Mapping

import sqlglot
import sqlparse
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema
from sqlglot.tokens import TokenType

from catalog.core.deadline import TimeLimitExceeded, time_limit
from catalog.core.oneline import one_line
from catalog.core.sqlnames import TableRef
from catalog.metrics.dialects import DIALECT_LABELS, DIALECTS
from catalog.metrics.sqlcompare import digest, signature_parts, sql_fingerprint

# sqlglot parses in pure Python at roughly 20-80 µs a token on a busy machine: 20,000 characters
# is about a second at worst. Real metric SQL is rarely over 5,000.
MAX_SQL_CHARS = 20_000
# Guessing the dialect means parsing again in each of the others: only for short texts.
_GUESS_MAX_CHARS = 5_000
# sqlglot's parser recurses about twenty Python frames per level of parentheses, CASE or subquery and gives
# up near 35 levels; sqlparse's layout takes seconds on a 2 KB text nested a few hundred deep. Real metric SQL
# nests under ten. Deeper SQL is refused from one tokenizer pass, before either of them sees it.
MAX_SQL_DEPTH = 20
# Seconds of one request's work on one SQL text (parse, qualify, fingerprint, layout), enforced by a hard stop
# (catalog/core/deadline.py): within the size and depth limits, a 12 KB chain of additions or a few CTEs that
# double their columns each still take minutes to qualify.
SQL_TIME_BUDGET = 2.0
# Laying SQL out for reading is a courtesy: past this it is shown as written.
FORMAT_TIME_LIMIT = 1.0
_OPENERS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE}
# Nesting is measured on this much of the text first: a request nested too deeply is refused after reading
# a twentieth of the longest SQL allowed (tokenizing is pure Python too).
_DEPTH_PREFIX_CHARS = 1_000
_CLOSERS = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END}

# Schemas an unqualified table name falls back to when several schemas hold that name.
DEFAULT_SCHEMAS = {
    "postgres": ("public",), "redshift": ("public",), "snowflake": ("public",), "duckdb": ("main",),
    "sqlite": ("main",), "mysql": (), "bigquery": (),
}


class MetricSqlError(ValueError):
    """The SQL cannot be used. `message` is one sentence for a person; line and column are 1-based."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None, hint: str = ""):
        self.message, self.line, self.column, self.hint = message, line, column, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return f"{self.message}{where}" + (f" {self.hint}" if self.hint else "")

    def as_dict(self) -> dict:
        return {"message": self.message, "line": self.line, "column": self.column, "hint": self.hint, "text": str(self)}


@dataclass
class ResolvedTable:
    """A catalog dataset a TableRef stands for. `key` is the caller's (a dataset id)."""

    key: object
    schema: str
    name: str
    columns: dict[str, str]  # column name as stored -> data type

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Analysis:
    tables: list[tuple[TableRef, object | None]] = field(default_factory=list)  # (ref, resolved key or None)
    columns: list[tuple[object, str]] = field(default_factory=list)  # (table key, column name as stored)
    missing_columns: list[tuple[object, str]] = field(default_factory=list)  # (table key, name as written): not in the table
    warnings: list[str] = field(default_factory=list)
    fingerprint: str = ""
    canonical_sql: str = ""
    signature: str = ""
    signature_parts: dict = field(default_factory=dict)


# ---------------------------------------------------------------- bounds


_RAW_NESTING = re.compile(r"[()\[\]]|\b(?:case|end)\b", re.I)


def _raw_depth(text: str) -> int:
    """How deep parentheses, brackets and CASE … END nest, counting every one in the text (quoted ones too)."""
    depth = deepest = 0
    for match in _RAW_NESTING.finditer(text):
        if match.group() in "([" or match.group().lower() == "case":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def _token_depth(tokens) -> int:
    depth = deepest = 0
    for token in tokens:
        if token.token_type in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in _CLOSERS and depth:
            depth -= 1
    return deepest


def sql_nesting_depth(text: str, dialect: str, *, stop_above: int | None = None) -> int:
    """How deep parentheses, brackets and CASE … END nest, from one pass of the dialect's tokenizer (linear, no
    recursion; the parser is what recursion and backtracking make dear). A text the tokenizer cannot read (an
    unclosed string) is measured by its raw parentheses.

    With `stop_above`, the first _DEPTH_PREFIX_CHARS are read first: if they already nest deeper than that,
    their depth is returned (a lower bound, enough to refuse) without tokenizing the rest. Its last token may
    be cut by the prefix's end, so it is not counted."""
    tokenizer = Dialect.get_or_raise(dialect)
    if stop_above is not None and len(text) > _DEPTH_PREFIX_CHARS:
        try:
            prefix_depth = _token_depth(tokenizer.tokenize(text[:_DEPTH_PREFIX_CHARS])[:-1])
        except (SqlglotError, RecursionError, ValueError):
            prefix_depth = 0  # cut inside a string or comment: read the whole text
        if prefix_depth > stop_above:
            return prefix_depth
    try:
        return _token_depth(tokenizer.tokenize(text))
    except (SqlglotError, RecursionError, ValueError):
        return _raw_depth(text)


def check_sql_bounds(text: str, dialect: str, *, max_chars: int = MAX_SQL_CHARS, max_depth: int = MAX_SQL_DEPTH) -> None:
    """Refuse SQL too long or nested too deeply to parse in reasonable time, before any parser sees it."""
    if len(text) > max_chars:
        raise MetricSqlError(
            f"The SQL is {len(text):,} characters long; a metric's SQL may be at most {max_chars:,}. "
            "Keep the query that computes the metric, and move shared logic into a view or a dbt model."
        )
    if sql_nesting_depth(text, dialect, stop_above=max_depth) > max_depth:
        raise MetricSqlError(
            f"The SQL nests parentheses, CASE or subqueries more than {max_depth} levels deep; a metric's SQL may nest "
            f"at most {max_depth}. Name the inner steps in a WITH clause instead."
        )


def over_budget_error(seconds: float) -> MetricSqlError:
    """What a person is told when reading their SQL ran out of its time budget."""
    return MetricSqlError(
        f"Canon stopped reading this SQL after {seconds:g} seconds, the most it spends on one query. "
        "Simplify it (fewer repeated expressions, fewer CTEs built on each other), or move shared logic into a view "
        "or a dbt model."
    )


# ---------------------------------------------------------------- parsing


def parse_metric_sql(sql: str, dialect: str, *, max_chars: int = MAX_SQL_CHARS, max_depth: int = MAX_SQL_DEPTH) -> exp.Query:
    """The one query `sql` holds, parsed in `dialect`. Raises MetricSqlError with a message for a person.

    Size and nesting are checked first (check_sql_bounds); callers serving a request also run this
    under a time limit (catalog/metrics/services/resolve.py)."""
    if dialect not in DIALECT_LABELS:
        raise MetricSqlError(f"Unknown dialect '{dialect}'. Choose one of: {', '.join(DIALECT_LABELS)}.")
    text = (sql or "").strip()
    if not text:
        raise MetricSqlError("Write the SQL query that computes the metric.")
    check_sql_bounds(text, dialect, max_chars=max_chars, max_depth=max_depth)
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect, error_level=ErrorLevel.RAISE) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise MetricSqlError(
            f"The SQL does not parse as {DIALECT_LABELS[dialect]}: {_describe(first.get('description'))}",
            line=first.get("line"), column=first.get("col"), hint=_dialect_hint(text, dialect),
        ) from None
    except TokenError as exc:
        line, column = _token_error_position(text, str(exc))
        raise MetricSqlError(
            f"The SQL does not parse as {DIALECT_LABELS[dialect]}: a string, quoted name or comment is not closed",
            line=line, column=column, hint=_dialect_hint(text, dialect),
        ) from None
    except RecursionError:
        raise MetricSqlError("The SQL is nested too deeply to read.") from None
    except SqlglotError as exc:
        raise MetricSqlError(f"The SQL does not parse as {DIALECT_LABELS[dialect]}: {one_line(exc)}") from None
    if not statements:
        raise MetricSqlError("Write the SQL query that computes the metric.")
    if len(statements) > 1:
        raise MetricSqlError(
            f"The SQL holds {len(statements)} statements; a metric is computed by a single query. "
            "Combine them with a WITH clause, or keep only the final SELECT."
        )
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise MetricSqlError(f"A metric is computed by a query (SELECT …); this SQL is a {query.key.upper()} statement.")
    return query


def _describe(description: str | None) -> str:
    text = (description or "invalid SQL").strip()
    if text.startswith("Invalid expression / Unexpected token"):
        return "unexpected token"
    if text.startswith("Required keyword:"):
        match = re.search(r"for <class 'sqlglot\.expressions\.(\w+)'>", text)
        return f"the {match.group(1).upper()} clause is incomplete" if match else "a clause is incomplete"
    return text[0].lower() + text[1:]


def _token_error_position(text: str, message: str) -> tuple[int | None, int | None]:
    """sqlglot's tokenizer error quotes the text read so far; find where that ends."""
    match = re.search(r"Error tokenizing '(.*)'", message, re.S)
    if not match:
        return None, None
    snippet = match.group(1)
    index = text.rfind(snippet) if snippet else -1
    if index < 0:
        return None, None
    offset = index + len(snippet)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _dialect_hint(text: str, dialect: str) -> str:
    """'It reads as BigQuery SQL: is the dialect right?' when another dialect parses what this one cannot."""
    if len(text) > _GUESS_MAX_CHARS:
        return ""
    fits = []
    for other, label in DIALECTS:
        if other == dialect:
            continue
        try:
            statements = [s for s in sqlglot.parse(text, read=other, error_level=ErrorLevel.RAISE) if s is not None]
        except (SqlglotError, RecursionError):
            continue
        if len(statements) == 1 and isinstance(statements[0], exp.Query):
            fits.append(label)
    if not fits or len(fits) == len(DIALECTS) - 1:
        return ""
    return f"It reads as {' or '.join(fits[:3])} SQL: is the dialect right?"


def foreign_functions(query: exp.Query, dialect: str, text: str) -> list[str]:
    """Warnings for functions this dialect does not know but another does (IFF in PostgreSQL, say).

    sqlglot reads an unknown function as an anonymous call rather than failing, so
    SQL in the wrong dialect often parses; this is how it is caught.
    """
    unknown = sorted({f.name.upper() for f in query.find_all(exp.Anonymous) if isinstance(f.this, str)})
    if not unknown or len(text) > _GUESS_MAX_CHARS:
        return []
    warnings = []
    for name in unknown[:5]:
        known_in = []
        for other, label in DIALECTS:
            if other == dialect:
                continue
            try:
                probe = sqlglot.parse_one(f"SELECT {name}(x, y, z)", read=other)
            except (SqlglotError, RecursionError):
                continue
            if not isinstance(probe.selects[0], exp.Anonymous):
                known_in.append(label)
        if known_in:
            warnings.append(
                f"{name}() is not a {DIALECT_LABELS[dialect]} function (it is one in {', '.join(known_in[:3])}): is the dialect right?"
            )
    return warnings


def format_sql(sql: str, *, seconds: float = FORMAT_TIME_LIMIT) -> str:
    """The SQL laid out for reading (sqlparse: it never fails, whatever the text). Case is left as written:
    sqlparse would upper-case names that are also keywords (an alias `week`).

    sqlparse's grouping is superlinear (seconds for 2 KB nested a few hundred deep, or 17 KB of columns):
    text over the size or depth limits, or that takes longer than `seconds`, is shown as written."""
    text = (sql or "").strip()
    if len(text) > MAX_SQL_CHARS or _raw_depth(text) > MAX_SQL_DEPTH:
        return text
    try:
        with time_limit(seconds):
            return sqlparse.format(text, reindent=True, strip_whitespace=True).strip()
    except TimeLimitExceeded:
        return text
    except Exception:  # sqlparse gives up on some pathological inputs; show the text as written
        return text


# ---------------------------------------------------------------- tables


def _ref_of(table: exp.Table) -> TableRef:
    return TableRef(catalog=table.catalog or "", schema=table.db or "", name=table.name)


def _real_tables(query: exp.Expression):
    """(scope, alias, Table node) for every real table the query reads; CTEs and subqueries excluded."""
    for scope in traverse_scope(query):
        for alias, (node, source) in scope.selected_sources.items():
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                yield scope, alias, source


def table_refs(query: exp.Query) -> list[TableRef]:
    """The real tables a query reads, as written, in order of first appearance."""
    try:
        seen = {}
        for _, _, table in _real_tables(query):
            seen.setdefault(_ref_of(table), None)
        return list(seen)
    except (SqlglotError, RecursionError):
        # Scope building trips over some shapes the parser accepts; fall back to every table
        # whose name is not a CTE's.
        ctes = {c.alias_or_name.lower() for c in query.find_all(exp.CTE)}
        refs = {}
        for table in query.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier) and not (not table.db and table.name.lower() in ctes):
                refs.setdefault(_ref_of(table), None)
        return list(refs)


# ---------------------------------------------------------------- analysis


def _normalised(name: str, dialect: str) -> str:
    """How the dialect folds an unquoted name (snowflake: upper, postgres: lower), for simple one-case names."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) and (name == name.lower() or name == name.upper()):
        return Dialect.get_or_raise(dialect).normalize_identifier(exp.to_identifier(name)).name
    return name


def analyse(query: exp.Query, dialect: str, resolved: Mapping[TableRef, ResolvedTable | str | None], *, sql_text: str = "") -> Analysis:
    """Tie the query to the catalog. `resolved` maps each of table_refs(query) to its dataset, or to why not."""
    analysis = Analysis()
    work = query.copy()
    refs = table_refs(query)
    for ref in refs:
        target = resolved.get(ref)
        if isinstance(target, ResolvedTable):
            analysis.tables.append((ref, target.key))
        else:
            analysis.tables.append((ref, None))
            reason = target if isinstance(target, str) and target else "is not in the catalog"
            analysis.warnings.append(f"Table {ref.qualified_name} {reason}.")
    if sql_text:
        analysis.warnings += foreign_functions(query, dialect, sql_text)

    # A schema for qualify(), keyed the way the dialect folds names, with the way back to the catalog's spelling.
    mapping: dict[str, dict[str, dict[str, str]]] = {}
    by_key: dict[tuple[str, str], ResolvedTable] = {}
    columns_back: dict[tuple[str, str], dict[str, str]] = {}
    placed: dict[object, tuple[str, str]] = {}
    for ref in refs:
        target = resolved.get(ref)
        if not isinstance(target, ResolvedTable) or target.key in placed:
            continue
        schema_key, name_key = _normalised(target.schema, dialect), _normalised(target.name, dialect)
        while (schema_key, name_key) in by_key:  # two datasets folding to one name: keep them apart
            name_key += "_"
        placed[target.key] = (schema_key, name_key)
        by_key[(schema_key, name_key)] = target
        back = {}
        for column, data_type in target.columns.items():
            back.setdefault(_normalised(column, dialect), column)
        columns_back[(schema_key, name_key)] = back
        mapping.setdefault(schema_key, {})[name_key] = {key: target.columns[col] or "unknown" for key, col in back.items()}

    try:
        for scope, alias, table in list(_real_tables(work)):
            target = resolved.get(_ref_of(table))
            if not isinstance(target, ResolvedTable):
                continue
            schema_key, name_key = placed[target.key]
            if not table.alias:
                # Columns may be qualified by the table's own name: keep that name as the alias.
                table.set("alias", exp.TableAlias(this=table.this.copy()))
            table.set("catalog", None)
            table.set("db", exp.to_identifier(schema_key, quoted=True))
            table.set("this", exp.to_identifier(name_key, quoted=True))
        qualified = qualify(
            work, dialect=dialect, schema=MappingSchema(mapping, dialect=dialect, normalize=False),
            validate_qualify_columns=False, allow_partial_qualification=True, quote_identifiers=False, identify=False,
        )
    except (SqlglotError, RecursionError, ValueError, KeyError, AttributeError, TypeError) as exc:
        analysis.warnings.append(f"The columns could not be tied to the catalog ({one_line(exc)}).")
        analysis.fingerprint, analysis.canonical_sql = sql_fingerprint(query.copy(), dialect)
        return analysis

    _collect_columns(qualified, by_key, columns_back, analysis)
    try:
        analysis.signature_parts = signature_parts(qualified)
    except (SqlglotError, RecursionError, ValueError, KeyError, AttributeError, TypeError):
        analysis.signature_parts = {}
    if analysis.signature_parts.get("aggregates"):
        analysis.signature = digest(json.dumps(analysis.signature_parts, sort_keys=True))
    analysis.fingerprint, analysis.canonical_sql = sql_fingerprint(qualified.copy(), dialect)
    return analysis


def _output_names(scope: Scope) -> set[str]:
    expression = scope.expression
    selects = expression.selects if isinstance(expression, exp.Query) else []
    return {s.alias_or_name.lower() for s in selects if s.alias_or_name}


def _collect_columns(qualified, by_key, columns_back, analysis: Analysis) -> None:
    used: dict[tuple[object, str], None] = {}
    missing: dict[tuple[object, str], None] = {}
    loose: dict[str, None] = {}
    for scope in traverse_scope(qualified):
        outputs = _output_names(scope)
        for column in scope.columns:
            if isinstance(column.this, exp.Star):
                continue
            source = scope.sources.get(column.table) if column.table else None
            if isinstance(source, exp.Table):
                target = by_key.get((source.db, source.name))
                if target is None:
                    continue  # a table the catalog does not know: already a warning
                name = columns_back[(source.db, source.name)].get(column.name)
                if name is None:
                    missing.setdefault((target.key, column.name), None)
                    analysis.warnings.append(f"Column {column.name} is not in {target.qualified_name}.")
                else:
                    used.setdefault((target.key, name), None)
            elif not column.table and column.name.lower() not in outputs:
                tables = [s for s in scope.sources.values() if isinstance(s, exp.Table)]
                if tables or scope.sources:
                    loose.setdefault(column.name, None)
    for name in loose:
        analysis.warnings.append(f"Column {name} could not be tied to one table (ambiguous, or in no table the query reads).")
    analysis.columns = list(used)
    analysis.missing_columns = list(missing)
    analysis.warnings = list(dict.fromkeys(analysis.warnings))
