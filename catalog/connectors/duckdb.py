"""DuckDB files, opened read-only: four bulk queries over DuckDB's own catalog functions.

duckdb_tables() gives the estimated row count DuckDB keeps per table; DuckDB has
no cheap per-table size on disk, so size is left unknown. Table oids are
assigned when the file is opened, so they are not kept as native ids.
There is no statement timeout: the file is local and the catalog is in memory.
"""

from __future__ import annotations

import os
import threading

import duckdb

from catalog.connectors.base import TABLE, VIEW, ColumnMeta, Connector, ConnectorError, DatasetMeta, ExtractRequest, Extraction, schema_in_scope
from catalog.connectors.sampling import Budget, aggregates, profile_from_aggregates
from catalog.connectors.sqlite import local_path
from catalog.core.oneline import one_line

SCHEMAS_SQL = """
SELECT schema_name FROM duckdb_schemas()
WHERE database_name = current_database() AND schema_name NOT IN ('information_schema', 'pg_catalog')
ORDER BY schema_name
"""

TABLES_SQL = """
SELECT schema_name, table_name, comment, estimated_size, tags
FROM duckdb_tables()
WHERE database_name = current_database() AND NOT internal AND NOT temporary AND list_contains(?, schema_name)
"""

VIEWS_SQL = """
SELECT schema_name, view_name, comment, sql, tags
FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal AND NOT temporary AND list_contains(?, schema_name)
"""

COLUMNS_SQL = """
SELECT schema_name, table_name, column_name, column_index, data_type, is_nullable, column_default, comment,
       is_generated, generation_expression
FROM duckdb_columns()
WHERE database_name = current_database() AND NOT internal AND list_contains(?, schema_name)
ORDER BY schema_name, table_name, column_index
"""

PRIMARY_KEYS_SQL = """
SELECT schema_name, table_name, constraint_column_names
FROM duckdb_constraints()
WHERE database_name = current_database() AND constraint_type = 'PRIMARY KEY' AND list_contains(?, schema_name)
"""


def _engine():
    return duckdb


def _one_line(exc: Exception) -> str:
    """DuckDB's message without its error class prefix."""
    text = one_line(exc, limit=1000)
    for prefix in ("IO Error: ", "Catalog Error: ", "Binder Error: "):
        text = text.replace(prefix, "")
    return text


class DuckDBConnector(Connector):
    engine_label = "DuckDB"

    @property
    def path(self) -> str:
        return local_path(self.url)

    def local_paths(self) -> list[str]:
        return [self.path]

    def connect(self):
        duckdb = _engine()
        path = self.path
        if not path or not os.path.isfile(path):
            raise ConnectorError(f"DuckDB file {path or '(none)'} does not exist")
        try:
            return duckdb.connect(path, read_only=True, config={"enable_external_access": False})
        except duckdb.Error as exc:
            message = _one_line(exc)
            if "not a valid DuckDB database file" in message:
                raise ConnectorError(f"{path} is not a DuckDB database file") from None
            if "lock" in message.lower():
                raise ConnectorError(f"{path} is locked by another DuckDB process that has it open for writing") from None
            raise ConnectorError(self.clean_message(f"{path} cannot be opened: {message}")) from None

    def test(self) -> str:
        conn = self.connect()
        try:
            version = conn.execute("SELECT version()").fetchone()[0]
        finally:
            conn.close()
        return f"DuckDB {version}, file {self.path}"

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        duckdb = _engine()
        include, exclude = list(request.include or ()), list(request.exclude or ())
        conn = self.connect()
        try:
            extraction = self._extract(conn, include, exclude)
            if request.statistics:
                summarize_tables(conn, extraction, duckdb.Error)
            return extraction
        except duckdb.Error as exc:
            raise ConnectorError(self.clean_message(f"reading {self.path} failed: {_one_line(exc)}")) from None
        finally:
            conn.close()

    def _extract(self, conn, include, exclude) -> Extraction:
        available = [r[0] for r in conn.execute(SCHEMAS_SQL).fetchall()]
        schemas = [s for s in available if schema_in_scope(s, include, exclude)]
        warnings = self.scope_warnings(available, include)
        by_key: dict[tuple[str, str], DatasetMeta] = {}
        for schema, name, comment, estimated_rows, tags in conn.execute(TABLES_SQL, [schemas]).fetchall():
            by_key[(schema, name)] = DatasetMeta(schema=schema, name=name, kind=TABLE, comment=comment or "",
                                                 row_estimate=estimated_rows, properties=_tags(tags))
        for schema, name, comment, sql, tags in conn.execute(VIEWS_SQL, [schemas]).fetchall():
            by_key[(schema, name)] = DatasetMeta(schema=schema, name=name, kind=VIEW, comment=comment or "",
                                                 definition=(sql or "").strip(), properties=_tags(tags))
        primary = {
            (schema, name, column)
            for schema, name, columns in conn.execute(PRIMARY_KEYS_SQL, [schemas]).fetchall()
            for column in columns
        }
        cursor = conn.execute(COLUMNS_SQL, [schemas])
        while rows := cursor.fetchmany(5000):
            for schema, name, column, index, data_type, nullable, default, comment, generated, expression in rows:
                meta = by_key.get((schema, name))
                if meta is None:
                    continue
                if generated:  # DuckDB's generated columns are virtual: computed when read
                    default = f"GENERATED ALWAYS AS ({expression or default}) VIRTUAL"
                meta.columns.append(ColumnMeta(
                    name=column, data_type=data_type, position=index, nullable=bool(nullable), default=default,
                    is_primary_key=(schema, name, column) in primary, comment=comment or "",
                    generated="virtual" if generated else "",
                ))
        datasets = sorted(by_key.values(), key=lambda d: (d.schema, d.name))
        return Extraction(datasets=datasets, schemas=schemas, warnings=warnings)


def _tags(tags) -> dict:
    return {"tags": dict(tags)} if tags else {}


# Column profiles: DuckDB keeps no column statistics it will show without reading, so SUMMARIZE (it reads the
# table) runs only on tables of at most this many rows (by DuckDB's estimate); larger ones get no profile, and
# their page says none is kept. A table SUMMARIZE fails on gets a warning; the crawl goes on.
SUMMARIZE_MAX_ROWS = 200_000


def summarize_tables(conn, extraction: Extraction, errors) -> None:
    for meta in extraction.datasets:
        if meta.kind != TABLE or meta.row_estimate is None or meta.row_estimate > SUMMARIZE_MAX_ROWS:
            continue
        name = ".".join('"' + part.replace('"', '""') + '"' for part in (meta.schema, meta.name))
        try:
            rows = conn.execute(f"SUMMARIZE {name}").fetchall()
        except errors as exc:
            meta.warnings.append(f"column profiles: SUMMARIZE failed ({_one_line(exc)})")
            continue
        stats = {}
        for column, _type, low, high, approx_unique, *_, count, null_percentage in rows:
            entry = {"basis": "duckdb summarize", "distinct": int(approx_unique) if approx_unique is not None else None}
            if count:
                entry["null_frac"] = round(float(null_percentage or 0) / 100, 4)
            if low is not None:
                entry["min"], entry["max"] = str(low), str(high)
            stats[column] = entry
        meta.column_stats = stats or None


# Sampled profiles (opt-in per source) of the tables SUMMARIZE leaves alone (more than SUMMARIZE_MAX_ROWS rows):
# TABLESAMPLE SYSTEM (p%), which DuckDB pushes into the scan (whole vectors of rows are skipped, not read: 20 ms
# for 1% of a 20-million-row table against 9 s for the table; reservoir sampling, USING SAMPLE n ROWS, reads every
# row). Aggregated in SQL. DuckDB has no statement timeout: a timer interrupts the connection at the deadline,
# which ends the run (the rest are sampled next time).


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sample_query(schema: str, name: str, columns: list[tuple[str, str]], percent: float) -> str:
    parts = aggregates(columns, _quoted, as_text="{}::VARCHAR")
    return f"SELECT {', '.join(parts)} FROM {_quoted(schema)}.{_quoted(name)} TABLESAMPLE SYSTEM ({float(percent)!r}%)"


def sample_profiles(connector: DuckDBConnector, tables: list[tuple[str, str, list[tuple[str, str]]]], *,
                    percent: float, budget_s: float) -> tuple[dict, dict, bool]:
    """Profiles of these tables ((schema, name, [(column, type family)])) from a TABLESAMPLE SYSTEM sample, in order,
    until the budget is spent (see sampling.py for the contract). Counts are of the sample."""
    duckdb = _engine()
    budget = Budget(budget_s)
    profiles, problems = {}, {}
    conn = connector.connect()
    try:
        for schema, name, columns in budget.tables(tables):
            timer = threading.Timer(budget.left(), conn.interrupt)
            timer.start()
            try:
                row = conn.execute(sample_query(schema, name, columns, percent)).fetchone()
            except duckdb.InterruptException:
                problems[(schema, name)] = budget.overrun("stopped")
                return profiles, problems, False
            except duckdb.Error as exc:
                problems[(schema, name)] = f"no sampled profile: {connector.clean_message(_one_line(exc))}"
                continue
            finally:
                timer.cancel()
            profiles[(schema, name)] = profile_from_aggregates(row, columns, f"sample {percent:g}% (TABLESAMPLE SYSTEM, {row[0]:,} rows)")
    finally:
        conn.close()
    return profiles, problems, budget.complete
