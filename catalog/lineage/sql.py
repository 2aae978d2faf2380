"""The datasets a view reads, from its SQL. Django-free.

sqlglot parses the view in its engine's dialect; qualify() then gives every
table its schema (the view's own, where the SQL leaves it out) and the scope
walk keeps real tables only: CTE names, derived tables and table functions are
not datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

# Source URL scheme -> sqlglot dialect.
DIALECTS = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
}


class LineageParseError(ValueError):
    """The SQL cannot be read. The message is one line, fit to show on the dataset's page."""


@dataclass(frozen=True, order=True)
class TableRef:
    catalog: str
    schema: str
    name: str

    @property
    def qualified_name(self) -> str:
        return ".".join(part for part in (self.catalog, self.schema, self.name) if part)


def dialect_for(scheme: str) -> str | None:
    return DIALECTS.get((scheme or "").lower())


def _query_of(statement: exp.Expression) -> exp.Expression:
    """A view's SQL as engines report it: a bare query, or the whole CREATE VIEW statement."""
    if isinstance(statement, exp.Create):
        statement = statement.expression
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper() if statement is not None else "nothing"
        raise LineageParseError(f"the view's SQL is not a query (read as {kind})")
    return statement


@lru_cache(maxsize=4096)
def view_upstreams(sql: str, dialect: str | None, default_schema: str, default_catalog: str = "") -> tuple[TableRef, ...]:
    """The tables and views a view reads, each fully qualified, in a stable order.

    Names in default_catalog come back without it, so they match the source's own
    schema.name datasets. Raises LineageParseError when the SQL cannot be read.
    """
    text = (sql or "").strip().rstrip(";").strip()
    if not text:
        raise LineageParseError("the view has no SQL")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
        if len(statements) != 1:
            raise LineageParseError(f"the view's SQL holds {len(statements)} statements, not one query")
        query = _query_of(statements[0])
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
        found: set[TableRef] = set()
        for scope in traverse_scope(query):
            for source in scope.sources.values():
                # A Scope here is a CTE or a derived table; only Table nodes are datasets.
                if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
                    continue
                catalog = source.catalog or ""
                if default_catalog and catalog.lower() == default_catalog.lower():
                    catalog = ""
                found.add(TableRef(catalog=catalog, schema=source.db or default_schema, name=source.name))
    except LineageParseError:
        raise
    except SqlglotError as exc:
        raise LineageParseError(_one_line(exc)) from None
    except (RecursionError, ValueError, KeyError, AttributeError, TypeError) as exc:
        # sqlglot's optimizer can trip over shapes its parser accepted.
        raise LineageParseError(f"the view's SQL could not be analysed ({exc.__class__.__name__})") from None
    return tuple(sorted(found))


def _one_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
        return f"{first.get('description', 'invalid SQL')}{where}"
    text = " ".join(str(exc).split())
    return text[:300] or exc.__class__.__name__
