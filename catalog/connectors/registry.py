"""Which connector reads which URL scheme: a scheme names the dotted path of its connector class.

A connector module is imported the first time a source of its scheme is asked for (as Django imports
a database ENGINE), so starting a process imports no driver, and a connector module imports nothing of
this one: there is no cycle to break. A new kind of system is a module and one line here.
"""

from __future__ import annotations

from importlib import import_module

from catalog.connectors.base import Connector, ConnectorError
from catalog.core.sourceurl import InvalidSourceURL, SourceURL, parse_source_url

CONNECTORS: dict[str, str] = {
    "postgresql": "catalog.connectors.postgres.PostgresConnector",
    "postgres": "catalog.connectors.postgres.PostgresConnector",
    "redshift": "catalog.connectors.redshift.RedshiftConnector",
    "mysql": "catalog.connectors.mysql.MySQLConnector",
    "mariadb": "catalog.connectors.mysql.MySQLConnector",
    "sqlite": "catalog.connectors.sqlite.SQLiteConnector",
    "duckdb": "catalog.connectors.duckdb.DuckDBConnector",
    "snowflake": "catalog.connectors.snowflake.SnowflakeConnector",
    "bigquery": "catalog.connectors.bigquery.BigQueryConnector",
    "s3": "catalog.connectors.lake.connector.LakeConnector",
    "file": "catalog.connectors.lake.connector.LakeConnector",
}


def connector_class(scheme: str) -> type[Connector]:
    """The connector class for a scheme, imported now if it was not yet. Raises InvalidSourceURL for a scheme
    nothing reads."""
    path = CONNECTORS.get(scheme)
    if path is None:
        raise InvalidSourceURL(f"Unknown URL scheme '{scheme}'. Canon reads: {', '.join(sorted(CONNECTORS))}.")
    module_name, class_name = path.rsplit(".", 1)
    return getattr(import_module(module_name), class_name)


def connector_for(url: str | SourceURL, **options) -> Connector:
    """The connector for a URL. Raises InvalidSourceURL for a URL nothing can read."""
    parsed = url if isinstance(url, SourceURL) else parse_source_url(url)
    return connector_class(parsed.scheme)(parsed, **options)


__all__ = ["CONNECTORS", "connector_class", "connector_for", "ConnectorError"]
