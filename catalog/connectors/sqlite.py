"""SQLite files, opened read-only. One query joins sqlite_master with pragma_table_xinfo.

Row counts come from ANALYZE's statistics (sqlite_stat1) when the file has them; a table's size (its pages
and its indexes' pages) from the dbstat table, which walks the file's b-trees: only for files up to
SIZE_WALK_MAX_BYTES, and only when SQLite was built with it (Debian's and Python's builds are).

A view whose SQL no longer resolves (its table was dropped) makes the bulk query
fail as a whole; then each dataset is read on its own so that the broken view
gets a warning and everything else is still read.
"""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote

from catalog.connectors.base import TABLE, VIEW, ColumnMeta, Connector, ConnectorError, DatasetMeta, ExtractRequest, Extraction, schema_in_scope
from catalog.core.sourceurl import SourceURL

_SYSTEM = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

BULK_SQL = f"""
SELECT m.type, m.name, m.sql, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
FROM sqlite_master AS m
LEFT JOIN pragma_table_xinfo(m.name) AS p
WHERE m.type IN ('table', 'view') AND {_SYSTEM}
ORDER BY m.name, p.cid
"""

OBJECTS_SQL = f"SELECT m.type, m.name, m.sql FROM sqlite_master AS m WHERE m.type IN ('table', 'view') AND {_SYSTEM} ORDER BY m.name"

ONE_SQL = 'SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid'

# ANALYZE's statistics: the first number of a table's stat is its row count.
STATS_SQL = "SELECT tbl, max(CAST(substr(stat, 1, instr(stat || ' ', ' ') - 1) AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl"

# Bytes of each table with its indexes: dbstat's per-b-tree totals (aggregate), summed by the table they belong to.
SIZES_SQL = """
SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat AS s JOIN sqlite_master AS m ON m.name = s.name
WHERE s.aggregate = 1 GROUP BY m.tbl_name
"""
# dbstat reads every page header of the file: past this size, sizes are left unknown (and the crawl says so).
SIZE_WALK_MAX_BYTES = 256 * 1024 * 1024


def local_path(url: SourceURL) -> str:
    """sqlite:////abs/file.db is absolute; sqlite:///file.db is absolute when that file
    exists, else relative to the working directory (SQLAlchemy's reading). DuckDB shares this."""
    path = url.path
    if url.host:  # scheme://host/path is not a thing for a file; read the host as the first segment
        path = "/" + url.host + path
    if path.startswith("//"):
        return "/" + path.lstrip("/")
    if path.startswith("/") and not os.path.exists(path) and os.path.exists(path[1:]):
        return path[1:]
    return path


# pragma_table_xinfo's hidden: 0 an ordinary column, 1 hidden (a virtual table's), 2 generated VIRTUAL, 3 generated STORED.
_GENERATED = {2: "virtual", 3: "stored"}


def _column(cid, name, data_type, notnull, default, pk, hidden) -> ColumnMeta:
    return ColumnMeta(name=name, data_type=data_type or "", position=cid + 1, nullable=not notnull and not pk,
                      default=default, is_primary_key=bool(pk), generated=_GENERATED.get(hidden, ""))


class SQLiteConnector(Connector):
    engine_label = "SQLite"

    @property
    def path(self) -> str:
        return local_path(self.url)

    def local_paths(self) -> list[str]:
        return [self.path]

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

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        include, exclude = list(request.include or ()), list(request.exclude or ())
        conn = self.connect()
        try:
            available = ["main"]
            schemas = [s for s in available if schema_in_scope(s, include, exclude)]
            datasets = self._read(conn) if schemas else []
            warnings = self.scope_warnings(available, include)
            if datasets:
                warnings += self._add_sizes(conn, datasets)
            return Extraction(datasets=datasets, schemas=schemas, warnings=warnings)
        except sqlite3.DatabaseError as exc:
            raise ConnectorError(f"reading {self.path} failed: {exc}") from None
        finally:
            conn.close()

    def _read(self, conn: sqlite3.Connection) -> list[DatasetMeta]:
        by_name: dict[str, DatasetMeta] = {}
        try:
            for kind, name, sql, cid, col, data_type, notnull, default, pk, hidden in conn.execute(BULK_SQL):
                meta = by_name.get(name)
                if meta is None:
                    meta = by_name[name] = DatasetMeta(schema="main", name=name, kind=VIEW if kind == "view" else TABLE,
                                                       definition=(sql or "") if kind == "view" else "")
                if cid is not None and hidden != 1:
                    meta.columns.append(_column(cid, col, data_type, notnull, default, pk, hidden))
        except sqlite3.OperationalError:
            by_name = self._read_one_by_one(conn)
        for name, rows in self._stats(conn).items():
            if name in by_name and by_name[name].kind == TABLE:
                by_name[name].row_estimate = rows
        return list(by_name.values())

    def _read_one_by_one(self, conn: sqlite3.Connection) -> dict[str, DatasetMeta]:
        by_name: dict[str, DatasetMeta] = {}
        for kind, name, sql in conn.execute(OBJECTS_SQL).fetchall():
            meta = by_name[name] = DatasetMeta(schema="main", name=name, kind=VIEW if kind == "view" else TABLE,
                                               definition=(sql or "") if kind == "view" else "")
            try:
                for cid, col, data_type, notnull, default, pk, hidden in conn.execute(ONE_SQL, (name,)):
                    if hidden != 1:
                        meta.columns.append(_column(cid, col, data_type, notnull, default, pk, hidden))
            except sqlite3.OperationalError as exc:
                meta.warnings.append(f"SQLite cannot resolve its columns: {exc}")
        return by_name

    def _add_sizes(self, conn: sqlite3.Connection, datasets: list[DatasetMeta]) -> list[str]:
        """Each table's bytes (with its indexes), when the file is small enough to walk; the warnings to show."""
        file_bytes = os.path.getsize(self.path)
        if file_bytes > SIZE_WALK_MAX_BYTES:
            return [f"table sizes not read: the file is {file_bytes // (1024 * 1024)} MB, and reading them walks every page "
                    f"(SQLite's dbstat), done for files up to {SIZE_WALK_MAX_BYTES // (1024 * 1024)} MB"]
        try:
            sizes = dict(conn.execute(SIZES_SQL).fetchall())
        except sqlite3.OperationalError:  # built without dbstat: sizes stay unknown
            return []
        for meta in datasets:
            if meta.kind == TABLE and sizes.get(meta.name) is not None:
                meta.size_bytes = int(sizes[meta.name])
        return []

    def _stats(self, conn: sqlite3.Connection) -> dict[str, int]:
        has_stats = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").fetchone()
        if not has_stats:
            return {}
        return {name: rows for name, rows in conn.execute(STATS_SQL) if rows is not None}
