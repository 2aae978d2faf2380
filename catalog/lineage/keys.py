"""What a source's lineage depends on besides its datasets (lineage_key). Light on purpose: lineage's crawl step
reads it on every crawl, and a crawl that changed nothing must not load sqlglot (about 60 ms) to learn that."""

from __future__ import annotations

from functools import cache
from importlib.metadata import version

from catalog.core.sourceurl import parse_source_url

# Bump when the way edges are derived changes, so every source derives them again on its next crawl.
LINEAGE_VERSION = 2  # 2: unqualified names bound as each engine binds them; exact case where the engine keeps it
# Bump when the way column edges are derived changes: every view's column lineage is then derived again.
COLUMN_LINEAGE_VERSION = 1


@cache
def parser_version() -> str:
    """sqlglot's version, read from its installed metadata: the same string as sqlglot.__version__."""
    return version("sqlglot")


def default_catalog(source) -> str:
    """The database (Snowflake) or project (BigQuery) a source's URL names: names in it are local."""
    if source.engine not in ("snowflake", "bigquery"):
        return ""
    url = parse_source_url(source.url_display)
    if source.engine == "bigquery":
        return url.host
    return url.database.split("/")[0]


def lineage_key(source) -> str:
    """Everything besides the datasets that a source's edges depend on: when it and the datasets are
    unchanged since the last crawl, so are the edges, and the views need not be parsed again."""
    return f"{LINEAGE_VERSION}.{COLUMN_LINEAGE_VERSION}:{parser_version()}:{source.engine}:{default_catalog(source)}"
