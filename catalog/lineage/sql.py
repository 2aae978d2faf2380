"""The datasets a view reads, from its SQL. Django-free.

sqlglot parses the view in its engine's dialect; qualify() then gives every
table its schema (the default the engine binds the view's unqualified names in,
see `default_schema`) and the scope walk keeps real tables only: CTE names,
derived tables and table functions are not datasets.

How an engine binds a name its view's SQL leaves unqualified, as the connector
reads that SQL:
- PostgreSQL and Redshift print a view's SQL relative to the session's search
  path. Their connectors read it under a search path holding only pg_catalog,
  so every name outside pg_catalog comes out schema-qualified (and quoted where
  its case or spelling needs it): what is left unqualified is in pg_catalog,
  whatever schema the view is in.
- MySQL and MariaDB print every table qualified with its database.
- SQLite, DuckDB and Snowflake keep the SQL as written, and bind unqualified
  names in the view's own schema (and, for Snowflake, database); DuckDB then
  looks in its default schema, main (`fallback_schemas`).
- PostgreSQL and Snowflake keep the case of quoted names: a name matches a
  dataset exactly, never case-folded (`case_sensitive`). The other engines
  compare names without case.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from catalog.core.oneline import one_line
from catalog.core.sqlnames import TableRef

_IMPLICIT = "canon_implicit_schema"


class LineageParseError(ValueError):
    """The SQL cannot be read. The message is one line, fit to show on the dataset's page."""


_QUALIFIED_BY_CONNECTOR = frozenset({"postgresql", "postgres", "redshift"})
_CASE_SENSITIVE = frozenset({"postgresql", "postgres", "snowflake"})
_FALLBACK_SCHEMAS = {"duckdb": ("main",)}


def default_schema(scheme: str, view_schema: str) -> str:
    """The schema an engine binds a view's unqualified table names in, for the SQL as its connector reads it."""
    if (scheme or "").lower() in _QUALIFIED_BY_CONNECTOR:
        return "pg_catalog"
    return view_schema


def fallback_schemas(scheme: str) -> tuple[str, ...]:
    """Schemas an engine also looks in for an unqualified name the default schema does not hold, in order."""
    return _FALLBACK_SCHEMAS.get((scheme or "").lower(), ())


def case_sensitive(scheme: str) -> bool:
    """Whether a name the SQL reads matches a dataset only in its exact case (quoted names keep theirs)."""
    return (scheme or "").lower() in _CASE_SENSITIVE


def _query_of(statement: exp.Expression) -> exp.Expression:
    """A view's SQL as engines report it: a bare query, or the whole CREATE VIEW statement."""
    if isinstance(statement, exp.Create):
        statement = statement.expression
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper() if statement is not None else "nothing"
        raise LineageParseError(f"the view's SQL is not a query (read as {kind})")
    return statement


@lru_cache(maxsize=4096)
def parse_view(sql: str, dialect: str | None) -> exp.Query:
    """A view's SQL as one parsed query, remembered: table and column lineage both start from it, each
    working on its own copy (qualify changes the tree). Raises LineageParseError when it cannot be read."""
    text = (sql or "").strip().rstrip(";").strip()
    if not text:
        raise LineageParseError("the view has no SQL")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise LineageParseError(error_line(exc)) from None
    except (RecursionError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise LineageParseError(f"the view's SQL could not be analysed ({exc.__class__.__name__})") from None
    if len(statements) != 1:
        raise LineageParseError(f"the view's SQL holds {len(statements)} statements, not one query")
    return _query_of(statements[0])


@lru_cache(maxsize=4096)
def view_upstreams(sql: str, dialect: str | None, default_schema: str, default_catalog: str = "") -> tuple[TableRef, ...]:
    """The tables and views a view reads, each fully qualified, in a stable order.

    Names in default_catalog come back without it, so they match the source's own
    schema.name datasets. Raises LineageParseError when the SQL cannot be read.
    """
    return table_qualified(sql, dialect, default_schema, default_catalog)[1]


@lru_cache(maxsize=4096)
def table_qualified(sql: str, dialect: str | None, default_schema: str,
                    default_catalog: str = "") -> tuple[exp.Query, tuple[TableRef, ...], Scope | None]:
    """The view's query with every table qualified (and aliased), the tables it reads, and the query's root
    scope over that tree: column lineage goes on from them (catalog/lineage/columns.py, which reads the tree
    as it is when it can and otherwise works on a copy), so the tables are qualified and the scopes built once."""
    query = parse_view(sql, dialect).copy()
    try:
        for table in query.find_all(exp.Table):
            if not table.args.get("db"):
                table.meta[_IMPLICIT] = True  # kept by qualify(), which fills in the default schema
            # A table named without an alias gets its own name as one, quoted as written: qualify() would give
            # it an unquoted one, and then `"Accounts"."Id"` (PostgreSQL's way of printing a view) finds no table.
            if not table.alias and isinstance(table.this, exp.Identifier):
                table.set("alias", exp.TableAlias(this=table.this.copy()))
        query = qualify(
            query,
            dialect=dialect,
            db=default_schema or None,
            catalog=default_catalog or None,
            qualify_columns=False,
            validate_qualify_columns=False,
            expand_stars=False,
            quote_identifiers=False,
        )
        found: dict[tuple[str, str, str], bool] = {}  # (catalog, schema, name) -> named only without a schema
        scopes = traverse_scope(query)  # innermost first: the root is the last
        for scope in scopes:
            for source in scope.sources.values():
                # A Scope here is a CTE or a derived table; only Table nodes are datasets.
                if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
                    continue
                catalog = source.catalog or ""
                if default_catalog and catalog.lower() == default_catalog.lower():
                    catalog = ""
                key = (catalog, source.db or default_schema, source.name)
                found[key] = found.get(key, True) and bool(source.meta.get(_IMPLICIT))
    except LineageParseError:
        raise
    except SqlglotError as exc:
        raise LineageParseError(error_line(exc)) from None
    except (RecursionError, ValueError, KeyError, AttributeError, TypeError) as exc:
        # sqlglot's optimizer can trip over shapes its parser accepted.
        raise LineageParseError(f"the view's SQL could not be analysed ({exc.__class__.__name__})") from None
    return query, tuple(sorted(TableRef(*key, implicit_schema=implicit) for key, implicit in found.items())), (scopes[-1] if scopes else None)


def error_line(exc: Exception) -> str:
    """A parse error on one line: sqlglot's first error with its line and column, or the message itself."""
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
        return f"{first.get('description', 'invalid SQL')}{where}"
    return one_line(exc)
