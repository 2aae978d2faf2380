"""SQLite files, opened read-only. PRAGMA table_xinfo per table is SQLite's catalog."""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote

from catalog.connectors.base import TABLE, VIEW, ColumnMeta, Connector, ConnectorError, DatasetMeta, Extraction, schema_in_scope
from catalog.connectors.registry import register


@register
class SQLiteConnector(Connector):
    schemes = ("sqlite",)
    engine_label = "SQLite"

    @property
    def path(self) -> str:
        # sqlite:////abs/file.db is absolute; sqlite:///file.db is absolute when that file
        # exists, else relative to the working directory (SQLAlchemy's reading).
        path = self.url.path
        if self.url.host:  # sqlite://host/path is not a thing; read the host as the first segment
            path = "/" + self.url.host + path
        if path.startswith("//"):
            return "/" + path.lstrip("/")
        if path.startswith("/") and not os.path.exists(path) and os.path.exists(path[1:]):
            return path[1:]
        return path

    def connect(self) -> sqlite3.Connection:
        path = self.path
        if not path or not os.path.isfile(path):
            raise ConnectorError(f"SQLite file {path or '(none)'} does not exist")
        try:
            conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=self.connect_timeout)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ConnectorError(f"{path} is not a readable SQLite database: {exc}") from None
        return conn

    def test(self) -> str:
        conn = self.connect()
        try:
            version = conn.execute("SELECT sqlite_version()").fetchone()[0]
        finally:
            conn.close()
        return f"SQLite {version}, file {self.path}"

    def extract(self, include=None, exclude=None) -> Extraction:
        include, exclude = list(include or []), list(exclude or [])
        conn = self.connect()
        try:
            available = ["main"]
            schemas = [s for s in available if schema_in_scope(s, include, exclude)]
            datasets = []
            if schemas:
                rows = conn.execute(
                    "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') "
                    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
                ).fetchall()
                for kind, name, sql in rows:
                    columns = []
                    for cid, col, data_type, notnull, default, pk, hidden in conn.execute(
                        "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)", (name,)
                    ):
                        if hidden == 1:
                            continue
                        columns.append(
                            ColumnMeta(name=col, data_type=data_type or "", position=cid + 1,
                                       nullable=not notnull and not pk, default=default,
                                       is_primary_key=bool(pk))
                        )
                    rows_estimate = None
                    datasets.append(
                        DatasetMeta(schema="main", name=name, kind=VIEW if kind == "view" else TABLE,
                                    columns=columns, row_estimate=rows_estimate,
                                    definition=(sql or "") if kind == "view" else "")
                    )
            return Extraction(datasets=datasets, schemas=schemas, warnings=self.scope_warnings(available, include))
        except sqlite3.DatabaseError as exc:
            raise ConnectorError(f"reading {self.path} failed: {exc}") from None
        finally:
            conn.close()
