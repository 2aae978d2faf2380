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
import random
import re
import sqlite3
import time
from urllib.parse import quote

from catalog.connectors.base import TABLE, VIEW, ColumnMeta, Connector, ConnectorError, DatasetMeta, ExtractRequest, Extraction, schema_in_scope
from catalog.connectors.sampling import SAMPLE_MAX_ROWS, Budget, profile_rows, range_starts, sample_size
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

    def connect(self, timeout: float | None = None) -> sqlite3.Connection:
        """The file, read-only; a file locked by a writer is waited for `timeout` seconds (the connect timeout)."""
        path = self.path
        if not path or not os.path.isfile(path):
            raise ConnectorError(f"SQLite file {path or '(none)'} does not exist")
        try:
            conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True,
                                   timeout=self.connect_timeout if timeout is None else timeout)
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


# Sampled profiles (opt-in per source, for tables without statistics: SQLite keeps none of columns). SQLite has no
# TABLESAMPLE: a rowid table is read in SAMPLE_RANGES short ranges of its rowid at random starts (min and max rowid
# come from the b-tree's ends), at most SAMPLE_MAX_ROWS rows; a WITHOUT ROWID table gives its first rows in key
# order, and says they are not random. The budget is enforced by a progress handler that aborts the statement
# running past the deadline; that ends the run (the rest are sampled next time).
_TABLE_SQL = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?"
_WITHOUT_ROWID = re.compile(r"\)[^)]*\bWITHOUT\s+ROWID\b[^)]*$", re.I)  # a table option, after the columns' closing paren


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run_until(conn: sqlite3.Connection, deadline: float, sql: str, params=()) -> list[tuple]:
    """The rows of one statement, aborted (sqlite3.OperationalError: interrupted) once time.monotonic() passes the
    deadline: SQLite calls the handler every 1,000 virtual machine instructions. A file locked by a writer is waited
    for only until the deadline too (then: database is locked)."""
    conn.execute(f"PRAGMA busy_timeout = {max(int((deadline - time.monotonic()) * 1000), 1)}")
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.set_progress_handler(None, 0)


def sample_profiles(connector: SQLiteConnector, tables: list[tuple[str, str, list[tuple[str, str]]]], *,
                    percent: float, budget_s: float, rng=None) -> tuple[dict, dict, bool]:
    """Profiles of these tables ((schema, name, [(column, type family)])) from rowid-range samples, in order, until
    the budget is spent (see sampling.py for the contract). Counts are of the sample."""
    rng = rng or random.Random()
    budget = Budget(budget_s)
    deadline = budget.deadline
    profiles, problems = {}, {}
    conn = connector.connect(timeout=min(connector.connect_timeout, budget_s))
    try:
        estimates = connector._stats(conn)
        for schema, name, columns in budget.tables(tables):
            table, listed = _ident(name), ", ".join(_ident(c) for c, _ in columns)
            try:
                found = run_until(conn, deadline, _TABLE_SQL, (name,))
                if found and _WITHOUT_ROWID.search(found[0][0] or ""):  # the first rows in key order
                    wanted = sample_size(estimates[name], percent) if estimates.get(name) else SAMPLE_MAX_ROWS
                    rows = run_until(conn, deadline, f"SELECT {listed} FROM {table} LIMIT ?", (wanted,))
                    basis = f"sample of the first {len(rows):,} rows, not random (a WITHOUT ROWID table)"
                else:
                    low, high = run_until(conn, deadline, f"SELECT min(rowid), max(rowid) FROM {table}")[0]
                    low, high = (0, 0) if low is None else (int(low), int(high))
                    wanted = sample_size(high - low + 1, percent)
                    starts, per = range_starts(low, high, wanted, rng=rng)
                    seen, rows = set(), []
                    for start in starts:  # ranges may overlap: each row once
                        for rowid, *values in run_until(conn, deadline, f"SELECT rowid, {listed} FROM {table} WHERE rowid >= ? "
                                                                        "ORDER BY rowid LIMIT ?", (start, per)):
                            if rowid not in seen:
                                seen.add(rowid)
                                rows.append(values)
                    basis = (f"sample of all {len(rows):,} rows (a small table, read by rowid)" if high - low + 1 <= wanted
                             else f"sample of {len(rows):,} rows from {len(starts)} random rowid ranges")
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc) or "locked" in str(exc):
                    problems[(schema, name)] = budget.overrun("stopped")
                    return profiles, problems, False
                problems[(schema, name)] = f"no sampled profile: {exc}"
                continue
            except sqlite3.DatabaseError as exc:
                problems[(schema, name)] = f"no sampled profile: {exc}"
                continue
            profiles[(schema, name)] = profile_rows(columns, rows, basis)
    finally:
        conn.close()
    return profiles, problems, budget.complete
