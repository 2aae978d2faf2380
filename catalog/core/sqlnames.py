"""What SQL a source speaks, and a table as SQL names it. Django-free, and free of sqlglot (names only).

One home for both: lineage reads view SQL and metrics read definition SQL in the dialect of the source's
URL scheme, and both speak of the tables that SQL names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Source URL scheme -> the sqlglot dialect its SQL is written in. A scheme not here (a data lake) speaks none.
SCHEME_DIALECTS = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
}


def dialect_for(scheme: str) -> str | None:
    """The dialect of a source's SQL, or None for a scheme that has no SQL."""
    return SCHEME_DIALECTS.get((scheme or "").lower())


@dataclass(frozen=True, order=True)
class TableRef:
    """A table as the SQL names it (parts empty where the SQL leaves them out)."""

    catalog: str
    schema: str
    name: str
    # True when the SQL named the table without a schema and `schema` is the default it was given (lineage);
    # not part of the table's identity.
    implicit_schema: bool = field(default=False, compare=False)

    @property
    def qualified_name(self) -> str:
        return ".".join(part for part in (self.catalog, self.schema, self.name) if part)
