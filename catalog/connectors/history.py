"""Query history, as engines log it: what each connector's query_history() answers. Django-free.

A connector module that can read its engine's history (pg_stat_statements, performance_schema digests,
Snowflake's ACCOUNT_USAGE, BigQuery's INFORMATION_SCHEMA.JOBS) has a function
`query_history(connector, *, limit, since=None) -> QueryHistory`, listed in READERS by URL scheme. It reads at most
`limit` statements, read-only, under the connector's statement timeout, and never raises for a missing
extension or privilege: it answers available=False with a note a person can act on. Engines that keep
cumulative counts (PostgreSQL, MySQL) ignore `since`; those that log each query (Snowflake, BigQuery) read
from `since`, the last read (at most a day back), and count within that window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module

READERS = {
    "postgresql": "catalog.connectors.postgres.query_history",
    "postgres": "catalog.connectors.postgres.query_history",
    "mysql": "catalog.connectors.mysql.query_history",
    "mariadb": "catalog.connectors.mysql.query_history",
    "snowflake": "catalog.connectors.snowflake.query_history",
    "bigquery": "catalog.connectors.bigquery.query_history",
}


@dataclass(frozen=True)
class LoggedStatement:
    """One normalised statement as one user ran it: its digest (the engine's, or a hash of its text), the text,
    how many times in all (cumulative, as the engine counts: the catalog keeps the last count and takes the
    difference), and when last, if the engine says."""

    digest: str
    text: str
    calls: int
    user: str = ""
    last_seen: datetime | None = None
    default_schema: str = ""  # where the engine binds its unqualified names (MySQL: the statement's database)


@dataclass
class QueryHistory:
    available: bool
    statements: list[LoggedStatement] = field(default_factory=list)
    note: str = ""  # why it is not available, or what is missing (statements of other users hidden)
    cumulative: bool = True  # calls count since the engine's reset (PostgreSQL, MySQL), not within a window


def history_reader(scheme: str):
    """The query_history function for a URL scheme, or None where Canon reads no history."""
    path = READERS.get((scheme or "").lower())
    if not path:
        return None
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name, None)
