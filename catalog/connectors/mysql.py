"""MySQL and MariaDB: the server's metadata in four bulk information_schema queries.

A schema here is a database. When the URL names a database, that database is
the default scope; otherwise every database the user can see except the
system ones. information_schema shows only what the user has some privilege
on, so a database the user cannot read is simply not there: naming it in the
URL is an error from the server, naming it in a pattern is a scope warning.

The session is read-only, with connect, read and statement timeouts, and its
time zone is UTC so that UPDATE_TIME comes back comparable.
"""

from __future__ import annotations

import json
import random
import re
import threading
from datetime import timezone

import pymysql
import pymysql.cursors

from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.connectors.base import (
    PARTITIONED_TABLE,
    TABLE,
    VIEW,
    ColumnMeta,
    Connector,
    ConnectorError,
    DatasetMeta,
    ExtractRequest,
    Extraction,
    schema_in_scope,
)
from catalog.connectors.sampling import SAMPLE_MAX_ROWS, Budget, profile_rows, range_starts, sample_size

SYSTEM_SCHEMAS = frozenset({"information_schema", "mysql", "performance_schema", "sys"})

SCHEMAS_SQL = "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"

TABLES_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH,
       UPDATE_TIME, CREATE_OPTIONS, TABLE_COMMENT
FROM information_schema.TABLES
WHERE TABLE_SCHEMA IN ({schemas}) AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
"""

VIEWS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, DEFINER, SECURITY_TYPE
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA IN ({schemas})
"""

# Streamed (unbuffered cursor): the largest answer never sits in memory twice.
COLUMNS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE,
       COLUMN_DEFAULT, COLUMN_KEY, EXTRA, COLUMN_COMMENT, GENERATION_EXPRESSION
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA IN ({schemas})
"""

FETCH_SIZE = 5000


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def column_default(default, extra: str, generation: str, nullable: bool) -> str | None:
    """One spelling for what fills a column: MariaDB's quoted literals and 'NULL' as MySQL spells them."""
    extra_low = extra.lower()
    if "generated" in extra_low and generation:
        stored = "STORED" if "stored" in extra_low else "VIRTUAL"
        return f"GENERATED ALWAYS AS ({generation}) {stored}"
    if "auto_increment" in extra_low:
        return "AUTO_INCREMENT"
    if default is None:
        return None
    text = _text(default)
    if text == "NULL" and nullable:
        return None  # MariaDB spells "no default" on a nullable column as the expression NULL
    if "on update" in extra_low:
        text += " " + extra[extra_low.index("on update"):].upper()
    return text


def column_generation(extra: str, generation: str) -> str:
    """ColumnMeta.generated from EXTRA: "VIRTUAL GENERATED", "STORED GENERATED" (MariaDB also "PERSISTENT"), "auto_increment"."""
    extra_low = extra.lower()
    if "generated" in extra_low and generation:
        return "stored" if ("stored" in extra_low or "persistent" in extra_low) else "virtual"
    if "auto_increment" in extra_low:
        return "identity"
    return ""


def describe_error(exc: Exception, url) -> str:
    """PyMySQL's (code, message) pairs as one line a person can act on, without secrets."""
    host = f"{url.host or 'localhost'}:{url.port or 3306}"
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    message = _text(args[1] if len(args) > 1 else (args[0] if args else exc.__class__.__name__))
    low = message.lower()
    if code == 1045:
        return f'access denied for user "{url.username}" at {host} (wrong user name or password)'
    if code == 1049:
        match = re.search(r"unknown database '([^']*)'", message, re.I)
        return f'database "{match.group(1) if match else url.database}" does not exist on {host}'
    if code == 1044:
        match = re.search(r"to database '([^']*)'", message)
        return f'user "{url.username}" has no privileges on database "{match.group(1) if match else url.database}" at {host}'
    if code in (2003, 2006, 2013) or "can't connect" in low:
        if "refused" in low or "errno 111" in low:
            return f"could not connect to {host}: connection refused"
        if "timed out" in low or "timeout" in low:
            return f"could not connect to {host}: no answer within the connect timeout"
        if "name or service not known" in low or "errno -2" in low or "errno -3" in low or "nodename" in low:
            return f"could not connect to {host}: unknown host name"
        if code == 2013:
            return f"lost the connection to {host} while reading the catalog (read timeout or server gone)"
        return f"could not connect to {host}"
    if code in (1969, 3024) or "max_statement_time" in low or "maximum statement execution time" in low:
        return "a catalog query ran past the statement timeout"
    line = " ".join(message.split())
    return f"{host}: {line}" if line else exc.__class__.__name__


class MySQLConnector(Connector):
    engine_label = "MySQL / MariaDB"

    def connect(self):
        url = self.url
        params = {
            "host": url.host or "localhost",
            "port": url.port or 3306,
            "user": url.username or None,
            "password": url.password or "",
            "database": url.database or None,
            "charset": "utf8mb4",
            "connect_timeout": self.connect_timeout,
            # The socket never waits longer than the slowest allowed statement.
            "read_timeout": int(self.statement_timeout) + 30,
            "write_timeout": int(self.statement_timeout) + 30,
            "autocommit": True,
            "program_name": "canon",
        }
        ssl = {key[4:]: url.query[key] for key in ("ssl_ca", "ssl_cert", "ssl_key") if url.query.get(key)}
        if ssl:
            params["ssl"] = ssl
        if url.query.get("ssl_disabled", "").lower() in ("1", "true", "yes"):
            params["ssl_disabled"] = True
        try:
            conn = pymysql.connect(**params)
        except pymysql.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, url))) from None
        except OSError as exc:  # DNS and socket errors PyMySQL does not wrap
            raise ConnectorError(self.clean_message(describe_error(pymysql.err.OperationalError(2003, str(exc)), url))) from None
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                version = _text(cur.fetchone()[0])
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("SET SESSION time_zone = '+00:00'")
                if "mariadb" in version.lower():
                    cur.execute(f"SET SESSION max_statement_time = {float(self.statement_timeout)}")
                else:
                    cur.execute(f"SET SESSION max_execution_time = {int(self.statement_timeout * 1000)}")
        except pymysql.Error as exc:
            conn.close()
            raise ConnectorError(self.clean_message(describe_error(exc, url))) from None
        conn.canon_server_version = version
        return conn

    def test(self) -> str:

        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT DATABASE()")
                database = cur.fetchone()[0]
        except pymysql.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        finally:
            conn.close()
        version = conn.canon_server_version
        product = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        number = version.split("-", 1)[0]
        return f"{product} {number}, " + (f"database {database}" if database else "all databases")

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:

        include, exclude = list(request.include or ()), list(request.exclude or ())
        if not include and self.url.database:
            include = [self.url.database]
        conn = self.connect()
        try:
            extraction = self._extract(conn, include, exclude)
            if request.statistics:
                read_column_stats(conn, extraction)
            return extraction
        except pymysql.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        finally:
            conn.close()

    def _extract(self, conn, include, exclude) -> Extraction:
        with conn.cursor() as cur:
            cur.execute(SCHEMAS_SQL)
            available = sorted(_text(r[0]) for r in cur.fetchall() if _text(r[0]).lower() not in SYSTEM_SCHEMAS)
        schemas = [s for s in available if schema_in_scope(s, include, exclude)]
        warnings = self.scope_warnings(available, include)
        if not schemas:
            return Extraction(datasets=[], schemas=[], warnings=warnings)

        # Tables and views are read on a second connection while this one streams the columns:
        # the server opens every table for its statistics while we parse the columns.
        answer: dict = {}

        def read_tables():
            try:
                try:
                    other = self.connect()
                except ConnectorError:  # e.g. max_user_connections = 1: read them after the columns instead
                    answer["sequential"] = True
                    return
                try:
                    answer["tables"] = self._read_tables(other, schemas)
                finally:
                    other.close()
            except BaseException as exc:  # raised again in the caller's thread
                answer["error"] = exc

        thread = threading.Thread(target=read_tables, name="canon-mysql-tables", daemon=True)
        thread.start()
        try:
            columns = self._read_columns(conn, schemas)
        finally:
            thread.join()
        if "error" in answer:
            raise answer["error"]
        by_key: dict[tuple[str, str], DatasetMeta] = self._read_tables(conn, schemas) if answer.get("sequential") else answer["tables"]
        for key, meta in list(by_key.items()):
            found = columns.get(key)
            if found:
                found.sort(key=lambda c: c.position)
                meta.columns = found
            elif meta.kind != VIEW:
                del by_key[key]  # created between the two reads: the next crawl sees it whole
        datasets = sorted(by_key.values(), key=lambda d: (d.schema, d.name))
        return Extraction(datasets=datasets, schemas=schemas, warnings=warnings)

    @staticmethod
    def _read_tables(conn, schemas: list[str]) -> dict[tuple[str, str], DatasetMeta]:
        placeholders = ", ".join(["%s"] * len(schemas))
        by_key: dict[tuple[str, str], DatasetMeta] = {}
        with conn.cursor() as cur:
            cur.execute(TABLES_SQL.format(schemas=placeholders), schemas)
            for row in cur.fetchall():
                meta = dataset_from_table_row(row)
                by_key[(meta.schema, meta.name)] = meta
            cur.execute(VIEWS_SQL.format(schemas=placeholders), schemas)
            for schema, name, definition, definer, security in cur.fetchall():
                meta = by_key.get((_text(schema), _text(name)))
                if meta is not None:
                    apply_view_row(meta, _text(definition), _text(definer), _text(security))
        return by_key

    @staticmethod
    def _read_columns(conn, schemas: list[str]) -> dict[tuple[str, str], list[ColumnMeta]]:

        placeholders = ", ".join(["%s"] * len(schemas))
        columns: dict[tuple[str, str], list[ColumnMeta]] = {}
        with conn.cursor(pymysql.cursors.SSCursor) as cur:
            cur.execute(COLUMNS_SQL.format(schemas=placeholders), schemas)
            # The hot loop of a crawl (one row per column): unpack in place, no per-value helpers.
            while rows := cur.fetchmany(FETCH_SIZE):
                if type(rows[0][2]) is not str:  # a server that answers bytes: the careful path
                    rows = [tuple(_text(v) if isinstance(v, (bytes, bytearray)) else v for v in row) for row in rows]
                for schema, table, name, position, column_type, is_nullable, default, key, extra, comment, generation in rows:
                    nullable = is_nullable == "YES"
                    if default is not None or extra:
                        default = column_default(default, extra or "", generation or "", nullable)
                    column = ColumnMeta(name, column_type, int(position), nullable, default, key == "PRI", comment or "")
                    if extra:
                        column.generated = column_generation(extra, generation or "")
                    found = columns.get((schema, table))
                    if found is None:
                        columns[(schema, table)] = [column]
                    else:
                        found.append(column)
        return columns


def dataset_from_table_row(row) -> DatasetMeta:
    schema, name, table_type, engine, rows, data_length, index_length, update_time, options, comment = row
    table_type = _text(table_type)
    options = _text(options).lower()
    is_view = table_type == "VIEW"
    meta = DatasetMeta(schema=_text(schema), name=_text(name), kind=VIEW if is_view else TABLE)
    if is_view:
        # For a view, TABLE_COMMENT is 'VIEW', or the server's complaint when the view is broken.
        text = _text(comment)
        if text and text != "VIEW":
            meta.warnings.append(" ".join(text.split()))
        return meta
    if "partitioned" in options:
        meta.kind = PARTITIONED_TABLE
    meta.comment = _text(comment)
    meta.row_estimate = int(rows) if rows is not None else None
    if data_length is not None or index_length is not None:
        meta.size_bytes = int(data_length or 0) + int(index_length or 0)
    if update_time is not None:
        meta.last_modified = update_time.replace(tzinfo=timezone.utc)  # the session's time zone is UTC
    if engine:
        meta.properties["engine"] = _text(engine)
    if table_type == "SYSTEM VERSIONED":
        meta.properties["system_versioned"] = True
    return meta


def apply_view_row(meta: DatasetMeta, definition: str, definer: str, security: str) -> None:
    meta.definition = definition.strip()
    if definer:
        meta.properties["definer"] = definer
    if security:
        meta.properties["security"] = security
    if not meta.definition:
        meta.warnings.append("The view's SQL is hidden from this user (it needs the SHOW VIEW privilege).")


# Column profiles from what the server keeps after ANALYZE TABLE (no scan). MariaDB: engine-independent
# statistics (ANALYZE TABLE ... PERSISTENT FOR ALL) in mysql.column_stats; MySQL 8: histograms (ANALYZE TABLE
# ... UPDATE HISTOGRAM ON ...) in information_schema.COLUMN_STATISTICS.
MARIADB_COLUMN_STATS_SQL = """
SELECT db_name, table_name, column_name, min_value, max_value, nulls_ratio, avg_length, avg_frequency
FROM mysql.column_stats WHERE db_name IN ({schemas})
"""
MYSQL_HISTOGRAMS_SQL = """
SELECT SCHEMA_NAME, TABLE_NAME, COLUMN_NAME, HISTOGRAM FROM information_schema.COLUMN_STATISTICS WHERE SCHEMA_NAME IN ({schemas})
"""


def read_column_stats(conn, extraction: Extraction) -> None:
    """Set DatasetMeta.column_stats from the server's column statistics, where it keeps some. A server (or a
    user) that cannot show them adds one warning to the crawl; the crawl goes on without profiles."""
    by_key = {(d.schema, d.name): d for d in extraction.datasets}
    if not by_key:
        return
    schemas = sorted({schema for schema, _ in by_key})
    placeholders = ", ".join(["%s"] * len(schemas))
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        mariadb = "mariadb" in _text(cur.fetchone()[0]).lower()
        try:
            cur.execute((MARIADB_COLUMN_STATS_SQL if mariadb else MYSQL_HISTOGRAMS_SQL).format(schemas=placeholders), schemas)
            rows = cur.fetchall()
        except pymysql.Error as exc:
            where = "mysql.column_stats" if mariadb else "information_schema.COLUMN_STATISTICS"
            extraction.warnings.append(f"column profiles: could not read {where} ({_text(exc.args[-1] if exc.args else exc)})")
            return
    for row in rows:
        meta = by_key.get((_text(row[0]), _text(row[1])))
        if meta is None:
            continue
        stats = _mariadb_stats(meta, row) if mariadb else _histogram_stats(row[3])
        if stats:
            if meta.column_stats is None:
                meta.column_stats = {}
            meta.column_stats[_text(row[2])] = stats


def _mariadb_stats(meta: DatasetMeta, row) -> dict:
    _, _, _, low, high, nulls_ratio, avg_length, avg_frequency = row
    stats = {"basis": "mysql.column_stats"}
    if nulls_ratio is not None:
        stats["null_frac"] = round(float(nulls_ratio), 4)
    if avg_frequency and meta.row_estimate:
        stats["distinct"] = max(round(meta.row_estimate * (1 - float(nulls_ratio or 0)) / float(avg_frequency)), 1)
    if low is not None and high is not None:
        stats["min"], stats["max"] = _text(low), _text(high)
    return stats


def _histogram_stats(histogram) -> dict:
    """A MySQL 8 histogram (JSON): the fraction of nulls, the lowest and highest values, the most common (singleton)."""
    try:
        data = json.loads(histogram) if isinstance(histogram, (str, bytes)) else dict(histogram)
        buckets = data.get("buckets") or []
        stats = {"basis": "mysql histogram", "null_frac": round(float(data.get("null-values", 0)), 4)}
        if buckets:
            # equi-height buckets are [lower, upper, cumulative frequency, distinct]; singletons [value, cumulative frequency]
            stats["min"], stats["max"] = str(buckets[0][0]), str(buckets[-1][1 if data.get("histogram-type") == "equi-height" else 0])
            if data.get("histogram-type") == "singleton":
                previous, frequencies = 0.0, []
                for value, cumulative in buckets:
                    frequencies.append([str(value), round(float(cumulative) - previous, 4)])
                    previous = float(cumulative)
                stats["most_common"] = sorted(frequencies, key=lambda vf: -vf[1])[:5]
                stats["distinct"] = len(buckets)
        return stats
    except (ValueError, TypeError, KeyError, IndexError):
        return {}
# Query history (issue 19): performance_schema's statement digests, when performance_schema is on.

def query_history(connector: MySQLConnector, *, limit: int, since=None) -> QueryHistory:
    """The most-run statement digests of the server (each with the database it ran in), at most `limit`, read-only."""
    conn = connector.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@performance_schema")
            if not int(cur.fetchone()[0] or 0):
                return QueryHistory(False, note="performance_schema is off on this server: start it with "
                                                "performance_schema=ON to let Canon read statement digests.")
            database = connector.url.database or ""
            where = "WHERE DIGEST IS NOT NULL AND DIGEST_TEXT IS NOT NULL"
            params: list = []
            if database:
                where += " AND (SCHEMA_NAME = %s OR SCHEMA_NAME IS NULL)"
                params.append(database)
            cur.execute("SELECT DIGEST, DIGEST_TEXT, COUNT_STAR, LAST_SEEN, coalesce(SCHEMA_NAME, '') "
                        f"FROM performance_schema.events_statements_summary_by_digest {where} "
                        "ORDER BY COUNT_STAR DESC LIMIT %s", (*params, int(limit)))
            rows = cur.fetchall()
    except pymysql.Error as exc:
        return QueryHistory(False, note=connector.clean_message(
            f"performance_schema's digests could not be read: {describe_error(exc, connector.url)} "
            "(the source's user needs SELECT on performance_schema)"))
    finally:
        conn.close()
    statements = [LoggedStatement(digest=_text(digest), text=_text(text), calls=int(calls),
                                  last_seen=last_seen.replace(tzinfo=timezone.utc) if last_seen else None,
                                  default_schema=_text(schema))
                  for digest, text, calls, last_seen, schema in rows]
    return QueryHistory(True, statements=statements)


# Sampled profiles (opt-in per source, for tables the server keeps no statistics of). MySQL has no TABLESAMPLE:
# a table with a single-column integer primary key is read in SAMPLE_RANGES short ranges of its key at random
# starts (the key's min and max come from the index), at most SAMPLE_MAX_ROWS rows; any other table gives its
# first rows in index order, and says they are not random. Each statement may run only the time left in the
# budget (MariaDB: SET STATEMENT max_statement_time; MySQL: the MAX_EXECUTION_TIME hint); one that runs past it
# is stopped by the server and ends the run (the rest are sampled next time).
_KEY_SQL = """
SELECT t.TABLE_ROWS, s.COLUMN_NAME, c.DATA_TYPE
FROM information_schema.TABLES t
LEFT JOIN information_schema.STATISTICS s
  ON s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME AND s.INDEX_NAME = 'PRIMARY'
LEFT JOIN information_schema.COLUMNS c
  ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
WHERE t.TABLE_SCHEMA = %s AND t.TABLE_NAME = %s
"""
_INTEGER_KEYS = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})
_TIMED_OUT = (1969, 3024, 2013)  # MariaDB's max_statement_time, MySQL's max_execution_time, the socket's read timeout


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def limited(sql: str, seconds: float, mariadb: bool) -> str:
    """A SELECT the server stops after `seconds` (at least a millisecond)."""
    if mariadb:
        return f"SET STATEMENT max_statement_time={max(seconds, 0.001):.3f} FOR {sql}"
    if not sql.startswith("SELECT "):
        raise ValueError("MySQL limits the time of a SELECT only")
    return f"SELECT /*+ MAX_EXECUTION_TIME({max(int(seconds * 1000), 1)}) */ {sql[7:]}"


def sample_query(schema: str, name: str, columns: list[str], key: str | None, starts: list[int], per: int) -> str:
    """The rows to profile: the key ranges (key, then the columns), or the first `per` rows in index order."""
    table = f"{_quote(schema)}.{_quote(name)}"
    listed = ", ".join(_quote(c) for c in columns)
    if key is None:
        return f"SELECT {listed} FROM {table} LIMIT {int(per)}"
    k = _quote(key)
    ranges = " UNION ALL ".join(f"(SELECT {k} AS canon_key, {listed} FROM {table} WHERE {k} >= {int(start)} ORDER BY {k} LIMIT {int(per)})"
                                for start in starts)
    return f"SELECT * FROM ({ranges}) AS canon_sample"


def sample_profiles(connector: MySQLConnector, tables: list[tuple[str, str, list[tuple[str, str]]]], *,
                    percent: float, budget_s: float, rng=None) -> tuple[dict, dict, bool]:
    """Profiles of these tables ((schema, name, [(column, type family)])) from key-range samples, in order,
    until the budget is spent (see sampling.sample_profiles' contract). Counts are of the sample."""
    rng = rng or random.Random()
    budget = Budget(budget_s)
    profiles, problems = {}, {}
    conn = connector.connect()
    mariadb = "mariadb" in conn.canon_server_version.lower()
    try:
        for schema, name, columns in budget.tables(tables):
            try:
                with conn.cursor() as cur:
                    cur.execute(limited(_KEY_SQL.strip(), budget.left(), mariadb), (schema, name))
                    found = cur.fetchall()
                    keys = [(_text(column), _text(data_type).lower()) for _, column, data_type in found if column is not None]
                    estimate = int(found[0][0] or 0) if found else 0
                    key = keys[0][0] if len(keys) == 1 and keys[0][1] in _INTEGER_KEYS else None
                    names = [c for c, _ in columns]
                    starts, per, whole = [], sample_size(estimate, percent) if estimate else SAMPLE_MAX_ROWS, False
                    if key is not None:
                        table = f"{_quote(schema)}.{_quote(name)}"
                        cur.execute(limited(f"SELECT MIN({_quote(key)}), MAX({_quote(key)}) FROM {table}",
                                            budget.left(), mariadb))
                        low, high = cur.fetchone()
                        low, high = (0, 0) if low is None else (int(low), int(high))  # None: an empty table
                        wanted = sample_size(high - low + 1, percent)
                        whole = high - low + 1 <= wanted
                        starts, per = range_starts(low, high, wanted, rng=rng)
                    cur.execute(limited(sample_query(schema, name, names, key, starts, per), budget.left(), mariadb))
                    rows = cur.fetchall()
            except pymysql.Error as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
                if code in _TIMED_OUT:
                    problems[(schema, name)] = budget.overrun("stopped")
                    return profiles, problems, False
                problems[(schema, name)] = f"no sampled profile: {connector.clean_message(describe_error(exc, connector.url))}"
                continue
            if key is not None:
                seen, unique = set(), []
                for row in rows:  # ranges may overlap: each row once
                    if row[0] not in seen:
                        seen.add(row[0])
                        unique.append(row[1:])
                rows = unique
                basis = (f"sample of all {len(rows):,} rows (a small table, read by its key)" if whole
                         else f"sample of {len(rows):,} rows from {len(starts)} random key ranges")
            else:
                basis = f"sample of the first {len(rows):,} rows, not random (no single integer key)"
            profiles[(schema, name)] = profile_rows(columns, rows, basis)
    finally:
        conn.close()
    return profiles, problems, budget.complete
