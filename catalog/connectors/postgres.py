"""PostgreSQL: the whole database's metadata in a few bulk catalog queries.

Names, kinds, owners, comments and columns are read in one REPEATABLE READ,
READ ONLY transaction, so the answer is one consistent snapshot of the
catalog; a relation dropped while we read makes the server raise, and the
extraction is retried from scratch.

Each dataset gets a schema signature: a digest of its kind, comment,
definition and columns (a 64-bit hash of each column's values, summed). On a
recrawl the server works out the column digests, and the columns of a
relation are read again only when its name or signature differs from what
the catalog holds (ExtractRequest.known); an unchanged warehouse sends no columns.

Sizes on disk are not transactional (the server reads them from the files),
and reading them opens every table, index and TOAST table, about 50 µs each:
as much server time as everything else together. They are read in a few
batches by a second read-only connection while the first reads the columns;
the first takes the batches still left when it is done. When every size is to
be read (a first crawl, the daily refresh), the second connection lists the
relations itself and starts at once, before the relations query.

A table's size is read again only when it may have moved: when its files
(relfilenodes of table, TOAST and indexes) or its write and vacuum counters
(the cumulative statistics) differ from the last crawl's, kept in the crawl
state. Writes reach the statistics when their transaction ends, so a size
lags by one crawl at most; every size is read again at least once a day, and
always when the server keeps no counters (track_counts off).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from operator import attrgetter

import psycopg
import psycopg.sql

from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.connectors.base import (
    FOREIGN_TABLE,
    MATERIALIZED_VIEW,
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
from catalog.connectors.sampling import Budget
from catalog.connectors.types import type_family
from catalog.core.gcpause import gc_paused

KINDS = {"r": TABLE, "v": VIEW, "m": MATERIALIZED_VIEW, "p": PARTITIONED_TABLE, "f": FOREIGN_TABLE}

SCHEMAS_SQL = """
SELECT nspname FROM pg_catalog.pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema')
  AND nspname NOT LIKE 'pg\\_toast%%' AND nspname NOT LIKE 'pg\\_temp\\_%%'
ORDER BY nspname
"""

# pg_get_viewdef prints a name unqualified when the session's search path finds it, and lineage cannot know
# which path that was. The relations are read under an empty search path (pg_catalog only, which is always
# searched), so every other name comes out schema-qualified and quoted where needed; the columns are read
# under the session's own path again, so their types are spelled as they always were.
QUALIFIED_NAMES_SQL = """
SELECT o.path, pg_catalog.set_config('search_path', '', true)
FROM (SELECT pg_catalog.current_setting('search_path') AS path OFFSET 0) o
"""
SEARCH_PATH_SQL = "SELECT pg_catalog.set_config('search_path', %s, true)"

# Partitions are folded into their partitioned parent: one dataset, summed size and rows.
# A table's signature is what changes when its files may have grown or shrunk: the files of the
# table, its TOAST table and their indexes, and its write and vacuum counters (NULL without counters).
RELATIONS_SQL = """
WITH index_files AS (
    SELECT x.indrelid, pg_catalog.string_agg(i.relfilenode::text, ',' ORDER BY i.oid) AS files
    FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
    GROUP BY x.indrelid
)
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_catalog.pg_get_userbyid(c.relowner),
       d.description,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(GREATEST(p.reltuples, 0))::bigint FROM pg_catalog.pg_partition_tree(c.oid) t
             JOIN pg_catalog.pg_class p ON p.oid = t.relid WHERE t.isleaf)
            WHEN c.reltuples >= 0 THEN c.reltuples::bigint END,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END,
       CASE WHEN c.relkind IN ('r', 'm') AND pg_catalog.current_setting('track_counts')::bool THEN
            pg_catalog.left(pg_catalog.md5(pg_catalog.concat_ws(':', c.relfilenode, c.reltablespace,
                pg_catalog.pg_stat_get_tuples_inserted(c.oid), pg_catalog.pg_stat_get_tuples_updated(c.oid),
                pg_catalog.pg_stat_get_vacuum_count(c.oid), pg_catalog.pg_stat_get_autovacuum_count(c.oid),
                toast.relfilenode, pg_catalog.pg_stat_get_vacuum_count(toast.oid),
                pg_catalog.pg_stat_get_autovacuum_count(toast.oid), indexes.files, toast_indexes.files)), 16) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_class toast ON toast.oid = c.reltoastrelid
LEFT JOIN index_files indexes ON indexes.indrelid = c.oid
LEFT JOIN index_files toast_indexes ON toast_indexes.indrelid = c.reltoastrelid
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT c.relispartition AND n.nspname = ANY(%s)
"""

# Size on disk (table + indexes + TOAST) of some tables; views and foreign tables have none.
SIZES_SQL = """
SELECT c.oid,
       CASE WHEN c.relkind IN ('r', 'm') THEN pg_catalog.pg_total_relation_size(c.oid)
            ELSE (SELECT sum(pg_catalog.pg_total_relation_size(t.relid))::bigint
                  FROM pg_catalog.pg_partition_tree(c.oid) t WHERE t.isleaf) END
FROM pg_catalog.pg_class c
WHERE c.oid = ANY(%s::pg_catalog.oid[]) AND c.relkind IN ('r', 'm', 'p')
"""
SIZED_KINDS = (TABLE, MATERIALIZED_VIEW, PARTITIONED_TABLE)

# The relations SIZES_SQL is for, found without the relations query: when every size is to be read
# (a first crawl, the daily refresh), the second connection starts on them at once.
SIZED_SQL = """
SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'p') AND NOT c.relispartition AND n.nspname = ANY(%s)
"""

# Every column of the relations in scope, as the crawl shows it. A default cannot refer to a column, so
# it is deparsed without its relation (pg_get_expr with a relation opens it, which costs as much as the
# rest of the row); generated columns can, and keep it.
_COLUMN_ROWS = """
SELECT a.attrelid AS relid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
       NOT a.attnotnull AS nullable,
       CASE WHEN a.attidentity = 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
            WHEN a.attidentity = 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY'
            WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) || ') STORED'
            WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, 0)
            ELSE pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS dflt,
       COALESCE(d.description, '') AS comment,
       COALESCE(a.attnum = ANY(pk.conkey), false) AS pk,
       a.attidentity, a.attgenerated, ad.adbin::text AS dflt_tree
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
LEFT JOIN pg_catalog.pg_constraint pk ON pk.conrelid = a.attrelid AND pk.contype = 'p'
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT c.relispartition AND n.nspname = ANY(%s) {only}
"""
# One 64-bit hash per column of what the crawl reads of it; a relation's column digest is their count
# and sum (order-free, so the sum over the stream and the sum on the server agree). A default is
# hashed as its stored expression tree, not as the text shown: deparsing 40,000 defaults is half the
# cost of the digests. The tree holds the oids of what it refers to, not their names, so renaming a
# sequence a default calls goes unseen until every column is read again, at least once a day.
_COLUMN_HASH = ("pg_catalog.hashtextextended(pg_catalog.concat_ws(E'\\x1f', v.attname, v.data_type, v.nullable, "
                "v.attidentity, v.attgenerated, v.dflt_tree IS NULL, v.dflt_tree, v.comment, v.pk), v.attnum)")

# Unordered: the rows stream as the server finds them, and each dataset's columns are put in
# attnum order afterwards. `only` narrows the read to some relations (their oids, the second parameter).
# OFFSET 0 keeps the subquery whole, so a value both returned and hashed is computed once.
COLUMNS_SQL = f"""
SELECT v.relid, v.attnum, v.attname, v.data_type, v.nullable, v.dflt, v.comment, v.pk, v.attnum::text, {_COLUMN_HASH},
       v.attidentity::text || v.attgenerated::text
FROM ({_COLUMN_ROWS} OFFSET 0) v
"""

# The column digest of every relation in scope, without sending the columns: how a recrawl finds
# the relations whose columns it need not read again. Flattened, the subquery computes only what is hashed.
COLUMN_DIGESTS_SQL = f"""
SELECT v.relid, count(*), sum({_COLUMN_HASH}) FROM ({_COLUMN_ROWS}) v GROUP BY v.relid
"""
_ONLY = "AND a.attrelid = ANY(%s::pg_catalog.oid[])"

# Domains, enums and standalone composite types, spelled as a column's type is, with what a domain stands
# for in the end (domains over domains followed down to a type that is not one). Each catalog is scanned
# once with a selective filter (a few milliseconds for 10,000 tables): a table's own row type is not listed. A column of such a type
# shows the type's own name, but takes its family from what the type is: a domain named "year" over integer
# is an integer, an enum is text. Arrays of them are arrays by their spelling ("year[]").
USER_TYPES_SQL = """
WITH RECURSIVE named AS MATERIALIZED (
    SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod FROM pg_catalog.pg_type t WHERE t.typtype IN ('d', 'e')
), base AS (
    SELECT n.oid AS type_oid, n.typbasetype AS base_oid, n.typtypmod AS base_typmod FROM named n WHERE n.typtype = 'd'
  UNION ALL
    SELECT b.type_oid, n.typbasetype, n.typtypmod FROM base b JOIN named n ON n.oid = b.base_oid WHERE n.typtype = 'd'
)
SELECT pg_catalog.format_type(b.type_oid, -1), 'd', pg_catalog.format_type(b.base_oid, b.base_typmod),
       (SELECT bt.typtype FROM pg_catalog.pg_type bt WHERE bt.oid = b.base_oid)
FROM base b WHERE NOT EXISTS (SELECT 1 FROM named n WHERE n.oid = b.base_oid AND n.typtype = 'd')
UNION ALL
SELECT pg_catalog.format_type(n.oid, -1), 'e', NULL, NULL FROM named n WHERE n.typtype = 'e'
UNION ALL
SELECT pg_catalog.format_type(r.reltype, -1), 'c', NULL, NULL FROM pg_catalog.pg_class r WHERE r.relkind = 'c'
"""
_FAMILY_OF_KIND = {"e": "text", "c": "struct"}  # pg_type.typtype: enum, composite


def user_type_families(rows) -> dict[str, str]:
    """USER_TYPES_SQL's rows as {type as a column spells it: family}."""
    families = {}
    for shown, kind, base, base_kind in rows:
        if kind == "d":
            families[shown] = _FAMILY_OF_KIND.get(base_kind) or type_family(base)
        else:
            families[shown] = _FAMILY_OF_KIND[kind]
    return families


# pg_attribute.attidentity / attgenerated -> ColumnMeta.generated
_GENERATED = {"a": "identity", "d": "identity", "s": "stored", "v": "virtual"}
COLUMNS_STATE_KEY = "postgres_columns_read_at"  # in the crawl state: when every column was last read
COLUMNS_REFRESH_EVERY_S = 24 * 3600

_position = attrgetter("position")


# SQLSTATEs meaning "an object vanished under us": retry the snapshot.
_VANISHED = {"42P01", "42704", "XX000"}


def describe_error(exc: Exception, url) -> str:
    """psycopg's multi-line messages, as one line a person can act on.

    A message not recognised here is kept whole, its lines joined: the last line alone of a server that
    died mid-crawl is "before or while processing the request.", which says nothing."""
    text = str(exc).strip()
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    low = text.lower()
    if "connection refused" in low:
        return f"could not connect to {host}: connection refused"
    if "timeout expired" in low or "timed out" in low:
        return f"could not connect to {host}: no answer within the connect timeout"
    if "could not translate host name" in low or "name or service not known" in low or "nodename nor servname" in low:
        return f"could not connect to {host}: unknown host name"
    if "password authentication failed" in low:
        return f'password authentication failed for user "{url.username}" at {host}'
    if "no password supplied" in low:
        return f"{host} asks for a password and the URL has none"
    match = re.search(r'database "([^"]*)" does not exist', text)
    if match:
        return f'database "{match.group(1)}" does not exist on {host}'
    if "canceling statement due to statement timeout" in low:
        return "a catalog query ran past the statement timeout"
    if "permission denied" in low:
        first = text.splitlines()[0]
        return first.split("FATAL:", 1)[-1].strip()
    message = " ".join(text.split())
    for prefix in ("FATAL:", "ERROR:", "connection failed:"):
        message = message.replace(prefix, "").strip()
    return " ".join(message.split()) or exc.__class__.__name__


class PostgresConnector(Connector):
    engine_label = "PostgreSQL"
    may_return_nul = False  # PostgreSQL text cannot hold NUL

    def connect(self):
        url = self.url
        params = {
            "host": url.host or "localhost",
            "port": url.port or 5432,
            "dbname": url.database or url.username or "postgres",
            "user": url.username or None,
            "password": url.password or None,
            "connect_timeout": self.connect_timeout,
            "application_name": "canon",
            # JIT compiling catalog queries costs more than it saves (about a second on 200,000 columns).
            "options": f"-c statement_timeout={int(self.statement_timeout * 1000)} -c default_transaction_read_only=on -c jit=off",
        }
        for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "target_session_attrs"):
            if key in url.query:
                params[key] = url.query[key]
        try:
            conn = psycopg.connect(**{k: v for k, v in params.items() if v is not None})
        except psycopg.Error as exc:
            raise ConnectorError(self.clean_message(describe_error(exc, url))) from None
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return conn

    def test(self) -> str:
        with self.connect() as conn:
            try:
                row = conn.execute("SELECT current_setting('server_version'), current_database()").fetchone()
            except psycopg.Error as exc:
                raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        return f"PostgreSQL {row[0]}, database {row[1]}"

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        include, exclude = list(request.include or ()), list(request.exclude or ())
        attempts = 3
        for attempt in range(attempts):
            try:
                with self.connect() as conn:
                    return self._extract(conn, include, exclude, request)
            except psycopg.Error as exc:
                if getattr(exc, "sqlstate", None) in _VANISHED and attempt < attempts - 1:
                    continue  # something was dropped mid-read: take a fresh snapshot
                raise ConnectorError(self.clean_message(describe_error(exc, self.url))) from None
        raise AssertionError("unreachable")

    def _extract(self, conn, include, exclude, request: ExtractRequest) -> Extraction:
        started = time.time()
        try:  # when this source's columns were last all read
            columns_read_at = float(request.previous_state.get(COLUMNS_STATE_KEY) or 0)
        except (TypeError, ValueError, AttributeError):
            columns_read_at = 0.0
        with conn.transaction():
            with conn.cursor() as cur:
                available = [r[0] for r in cur.execute(SCHEMAS_SQL)]
            schemas = [s for s in available if schema_in_scope(s, include, exclude)]
            warnings = self.scope_warnings(available, include)
            with gc_paused():
                sizes = _Sizes(self, request.previous_state)

                def start_helper(*args):
                    thread = threading.Thread(target=sizes.read_on_own_connection, args=args, name="canon-postgres-sizes", daemon=True)
                    thread.start()
                    return thread

                helper = None
                if not sizes.previous:  # every size is to be read: start now, on the relations the helper finds
                    helper = start_helper(schemas)
                digests = None
                if time.time() - columns_read_at <= COLUMNS_REFRESH_EVERY_S and request.known:
                    digests = _Digests(self, schemas)  # the server hashes columns while this connection reads relations
                try:
                    by_oid, signatures = self._relations(conn, schemas)
                    stats_state = None
                    if request.statistics:
                        read_activity(conn, schemas, by_oid)
                        stats_state = read_column_stats(conn, by_oid, request.previous_state)
                    sized = [oid for oid, d in by_oid.items() if d.kind in SIZED_KINDS]
                    sizes.signatures = signatures
                    if helper is None:
                        sizes.plan(sized)
                        helper = start_helper()
                    unchanged = self._unchanged(conn, schemas, by_oid, digests, request.known)
                    self._columns(conn, schemas, by_oid, unchanged)
                    if request.prepare is not None:  # while the helper reads sizes, the client is free
                        request.prepare(list(by_oid.values()))
                    sizes.read(conn)
                finally:
                    if helper is not None:
                        helper.join()
                    if digests is not None:  # no connection of this crawl outlives it
                        digests.thread.join()
                sizes.read(conn)  # a batch the helper could not read, if any
                sizes.read_missing(conn, sized)  # made while the helper listed them, or the helper could not list
        for oid, size in sizes.found.items():
            dataset = by_oid.get(oid)
            if dataset is not None:
                dataset.size_bytes = size
        datasets = sorted(by_oid.values(), key=lambda d: (d.schema, d.name))
        state = sizes.state()
        state[COLUMNS_STATE_KEY] = int(columns_read_at if unchanged else started)
        if stats_state is not None:
            state.update(stats_state)
        return Extraction(datasets=datasets, schemas=schemas, warnings=warnings, state=state)

    def _relations(self, conn, schemas) -> tuple[dict[int, DatasetMeta], dict[int, str]]:
        by_oid: dict[int, DatasetMeta] = {}
        signatures: dict[int, str] = {}
        with conn.cursor() as cur:
            search_path = cur.execute(QUALIFIED_NAMES_SQL).fetchone()[0]
            for oid, schema, name, relkind, owner, comment, rows, definition, signature in cur.execute(RELATIONS_SQL, (schemas,)):
                if signature is not None:
                    signatures[oid] = signature
                by_oid[oid] = DatasetMeta(
                    schema=schema,
                    name=name,
                    kind=KINDS[relkind],
                    comment=comment or "",
                    owner=owner or "",
                    row_estimate=rows,
                    native_id=str(oid),
                    definition=(definition or "").strip(),
                )
            cur.execute(SEARCH_PATH_SQL, (search_path,))
        return by_oid, signatures

    def _unchanged(self, conn, schemas, by_oid: dict[int, DatasetMeta], digests: _Digests | None,
                   known: Mapping[str, tuple[str, str, str]]) -> set[int]:
        """Relations the catalog holds under the same name and schema signature: their columns are not read.

        Their signatures come from the column digests the server works out (_Digests), which costs about a
        third of reading the columns; asked only when the catalog knows some relations, and when every column
        was read less than a day ago (what a digest cannot see is then at most a day old).
        """
        if digests is None:
            return set()
        digests = digests.result(conn, schemas)
        if not any(d.native_id in known for d in by_oid.values()):
            return set()
        unchanged = set()
        for oid, dataset in by_oid.items():
            dataset.schema_signature = _signature(dataset, *digests.get(oid, (0, 0)))
            if known.get(dataset.native_id) == (dataset.schema, dataset.name, dataset.schema_signature):
                dataset.columns_skipped = True
                unchanged.add(oid)
        return unchanged

    def _columns(self, conn, schemas, by_oid: dict[int, DatasetMeta], unchanged: set[int]) -> None:
        to_read = {oid: dataset.columns for oid, dataset in by_oid.items() if oid not in unchanged}
        if not to_read:
            return
        if len(to_read) == len(by_oid):
            sql, params = COLUMNS_SQL.format(only=""), (schemas,)
        else:
            sql, params = COLUMNS_SQL.format(only=_ONLY), (schemas, list(to_read))
        sums = dict.fromkeys(to_read, 0)
        with conn.cursor() as cur:
            families = user_type_families(cur.execute(USER_TYPES_SQL))
        # The largest answer streams in chunks (libpq 17), or through a server-side cursor, never held twice.
        if psycopg.pq.version() >= 170000:
            cur = conn.cursor()
            rows = cur.stream(sql, params, size=5000)
        else:
            cur = conn.cursor(name="canon_columns")
            cur.itersize = 5000
            rows = cur.execute(sql, params)
        with cur:
            get, family, generated = to_read.get, families.get, _GENERATED.get
            for relid, attnum, name, data_type, nullable, default, comment, primary, native_id, digest, how in rows:
                columns = get(relid)
                if columns is not None:
                    columns.append(ColumnMeta(name, data_type, attnum, nullable, default, primary, comment, native_id,
                                              family(data_type, ""), generated(how, "")))
                    sums[relid] += digest
        for oid, columns in to_read.items():
            columns.sort(key=_position)
            by_oid[oid].schema_signature = _signature(by_oid[oid], len(columns), sums[oid])


class _Digests:
    """COLUMN_DIGESTS_SQL, read on a connection of its own, started before the relations are read: the server
    hashes every column (most of an unchanged recrawl's server time) while the extracting connection reads the
    relations, their activity and statistics.

    Its snapshot is taken after the extracting transaction's, so it can only be newer: a table altered in
    between has a digest that matches no signature the catalog knows, and its columns are read, in the
    extracting snapshot, as for any change. If this connection cannot be made or the query fails, the digests
    are read on the extracting connection, as they were before.
    """

    def __init__(self, connector: PostgresConnector, schemas: list[str]):
        self.connector, self.schemas, self.found = connector, schemas, None
        self.thread = threading.Thread(target=self._read, name="canon-postgres-digests", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            with self.connector.connect() as conn, conn.transaction(), conn.cursor() as cur:
                self.found = self._rows(cur, self.schemas)
        except BaseException:  # read again by the extracting connection
            self.found = None

    @staticmethod
    def _rows(cur, schemas) -> dict[int, tuple[int, int]]:
        return {relid: (count, total) for relid, count, total in cur.execute(COLUMN_DIGESTS_SQL.format(only=""), (schemas,))}

    def result(self, conn, schemas) -> dict[int, tuple[int, int]]:
        self.thread.join()
        if self.found is None:
            with conn.cursor() as cur:
                self.found = self._rows(cur, schemas)
        return self.found


# Freshness without reading data: each table's cumulative write counters and its last analyze and vacuum
# (manual or automatic), from the statistics the server keeps; a partitioned table sums its leaf partitions.
# Writes reach the counters when their transaction ends. Nothing without track_counts (no row is returned).
ACTIVITY_SQL = """
SELECT c.oid, sum(pg_catalog.pg_stat_get_tuples_inserted(l.relid))::bigint,
       sum(pg_catalog.pg_stat_get_tuples_updated(l.relid))::bigint,
       sum(pg_catalog.pg_stat_get_tuples_deleted(l.relid))::bigint,
       max(GREATEST(pg_catalog.pg_stat_get_last_analyze_time(l.relid), pg_catalog.pg_stat_get_last_autoanalyze_time(l.relid))),
       max(GREATEST(pg_catalog.pg_stat_get_last_vacuum_time(l.relid), pg_catalog.pg_stat_get_last_autovacuum_time(l.relid)))
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT c.oid AS relid WHERE c.relkind IN ('r', 'm')
                    UNION ALL
                    SELECT t.relid FROM pg_catalog.pg_partition_tree(c.oid) t WHERE c.relkind = 'p' AND t.isleaf) l
WHERE c.relkind IN ('r', 'm', 'p') AND NOT c.relispartition AND n.nspname = ANY(%s)
  AND pg_catalog.current_setting('track_counts')::bool
GROUP BY c.oid
"""


def read_activity(conn, schemas: list[str], by_oid: dict[int, DatasetMeta]) -> None:
    """Set DatasetMeta.activity of each table in scope from the server's cumulative statistics (one query)."""
    with conn.cursor() as cur:
        for oid, inserted, updated, deleted, analyzed_at, vacuumed_at in cur.execute(ACTIVITY_SQL, (schemas,)):
            dataset = by_oid.get(oid)
            if dataset is not None:
                dataset.activity = {"inserted": inserted or 0, "updated": updated or 0, "deleted": deleted or 0,
                                    "analyzed_at": analyzed_at, "vacuumed_at": vacuumed_at}


# Column profiles from what ANALYZE keeps (pg_stats: no scan), for some tables. A partitioned table's are its
# whole tree's (inherited). The view is asked table by table (LATERAL, by schema and name, so each lookup uses the
# catalogs' indexes: joined whole, the server builds the view for every column of the database first, seconds at
# 10,000 tables however few are asked). Of the histogram only its ends and the length range of its values are sent
# (cast to text[] by the server; not for array columns, whose values are arrays); the most common values come as
# their text literal, parsed here.
COLUMN_STATS_SQL = """
SELECT c.oid, s.attname, s.null_frac, s.n_distinct, s.most_common_vals::text, s.most_common_freqs,
       h.low, h.high, h.shortest, h.longest, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT * FROM pg_catalog.pg_stats v WHERE v.schemaname = n.nspname AND v.tablename = c.relname
                    AND v.inherited = (c.relkind = 'p') OFFSET 0) s
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN LATERAL (SELECT b[1] AS low, b[pg_catalog.array_upper(b, 1)] AS high,
                          (SELECT min(pg_catalog.length(x)) FROM pg_catalog.unnest(b) x) AS shortest,
                          (SELECT max(pg_catalog.length(x)) FROM pg_catalog.unnest(b) x) AS longest
                   FROM (SELECT s.histogram_bounds::text::text[] AS b) bounds) h ON t.typcategory <> 'A'
WHERE c.oid = ANY(%s::pg_catalog.oid[])
"""
STATS_STATE_KEY = "postgres_analyzed"  # in the crawl state: "oid epoch" of each table's last analyze whose statistics were read
# At most this many tables' statistics are read per crawl (about a millisecond each, server and client): a first
# crawl of a large warehouse stays within its cost, and the rest are read over the next crawls.
STATS_TABLES_PER_CRAWL = 1000
MOST_COMMON_KEPT = 5
_NUMERIC_FAMILIES = {"integer", "decimal", "float"}


def parse_array_literal(text: str | None) -> list[str | None] | None:
    """A one-dimensional PostgreSQL array literal ('{a,"b c",NULL}') as strings; None if it is not one (nested arrays)."""
    if not text or text[0] != "{" or text[-1] != "}":
        return None
    body, values, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == "{":
            return None
        if body[i] == '"':
            i += 1
            value = []
            while i < len(body) and body[i] != '"':
                if body[i] == "\\" and i + 1 < len(body):
                    i += 1
                value.append(body[i])
                i += 1
            values.append("".join(value))
            i += 2  # the closing quote and the comma
        else:
            end = body.find(",", i)
            end = len(body) if end < 0 else end
            word = body[i:end]
            values.append(None if word == "NULL" else word)
            i = end + 1
    return values


def _ordered(values: list[str], family: str):
    """min and max of values as the engine orders them, where Canon can compare them (numbers, dates, text)."""
    if family in _NUMERIC_FAMILIES:
        numbers = []
        for value in values:
            try:
                numbers.append((float(value), value))
            except ValueError:
                return None, None
        return (min(numbers)[1], max(numbers)[1]) if numbers else (None, None)
    if family in ("text", "date", "timestamp", "time", "boolean", "uuid", ""):
        return (min(values), max(values)) if values else (None, None)
    return None, None  # json, arrays, structs, binary: no order worth showing


def read_column_stats(conn, by_oid: dict[int, DatasetMeta], previous_state: Mapping) -> dict:
    """Set DatasetMeta.column_stats of each table analyzed since the last crawl that read its statistics (from
    DatasetMeta.activity, so read_activity first); returns the crawl-state entry that remembers what was read.

    min and max are those of the histogram bounds and most common values (the extremes ANALYZE's sample saw,
    an estimate); text lengths likewise. Tables never analyzed have no statistics and get none."""
    try:
        known = dict(line.split(" ") for line in (previous_state.get(STATS_STATE_KEY) or "").splitlines())
    except (ValueError, AttributeError):
        known = {}
    seen, to_read = {}, []
    for oid, dataset in by_oid.items():
        analyzed = (dataset.activity or {}).get("analyzed_at")
        if analyzed is None:
            continue
        stamp = str(int(analyzed.timestamp() * 1000))
        if known.get(str(oid)) == stamp:
            seen[str(oid)] = stamp
        elif len(to_read) < STATS_TABLES_PER_CRAWL:
            seen[str(oid)] = stamp
            to_read.append(oid)
        elif str(oid) in known:
            seen[str(oid)] = known[str(oid)]  # read again next crawl: its old stamp no longer matches
    if to_read:
        families: dict[str, str] = {}
        with conn.cursor() as cur:
            for (oid, column, null_frac, n_distinct, common_text, common_freqs, low_bound, high_bound, shortest, longest,
                 data_type) in cur.execute(COLUMN_STATS_SQL, (to_read,)):
                dataset = by_oid[oid]
                if dataset.column_stats is None:
                    dataset.column_stats = {}
                family = families.get(data_type)
                if family is None:
                    family = families[data_type] = type_family(data_type)
                stats = {"basis": "pg_stats", "null_frac": round(float(null_frac), 4)}
                if n_distinct is not None:
                    rows = dataset.row_estimate or 0
                    distinct = -n_distinct * rows * (1 - null_frac) if n_distinct < 0 else n_distinct
                    stats["distinct"] = max(round(distinct), 0) if n_distinct >= 0 or rows else None
                common = (parse_array_literal(common_text) or []) if family not in ("array", "json", "binary") else []
                if common and common_freqs:
                    stats["most_common"] = [[v, round(float(f), 4)] for v, f in zip(common, common_freqs)][:MOST_COMMON_KEPT]
                values = [v for v in (*common, low_bound, high_bound) if v is not None]
                low, high = _ordered(values, family)
                if low is not None:
                    stats["min"], stats["max"] = low, high
                if family == "text" and values:
                    lengths = [*map(len, common), *(n for n in (shortest, longest) if n is not None)]
                    stats["min_len"], stats["max_len"] = min(lengths), max(lengths)
                dataset.column_stats[column] = stats
    return {STATS_STATE_KEY: "\n".join(f"{oid} {stamp}" for oid, stamp in sorted(seen.items()))}


def _signature(dataset: DatasetMeta, column_count: int, column_sum) -> str:
    """The schema signature: the relation's kind, comment and definition, and its column digest."""
    text = "\x1f".join((dataset.kind, dataset.comment, dataset.definition, f"{column_count}:{int(column_sum)}"))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class _Sizes:
    """Sizes of the given relations, read in batches by whichever connection is free.

    A table whose signature is the one the last crawl kept keeps the size it had
    then, unless that was read more than a day ago. The helper thread reads on a
    connection of its own; if it cannot connect (a role's connection limit, say)
    or fails, the extracting connection reads what is left, and raises what a
    real problem raises.
    """

    BATCHES = 16
    STATE_KEY = "postgres_sizes"
    REFRESH_EVERY_S = 24 * 3600

    def __init__(self, connector: PostgresConnector, previous_state: Mapping | None):
        self.connector = connector
        self.signatures: dict[int, str] = {}
        self.previous, self.read_at = self._load(previous_state)
        if time.time() - self.read_at > self.REFRESH_EVERY_S:
            self.previous, self.read_at = {}, time.time()
        self.found: dict[int, int | None] = {}
        self.batches: deque[list[int]] = deque()

    def plan(self, oids: list[int]) -> None:
        """Keep what the last crawl read of tables whose signature did not move; batch the rest."""
        to_read = []
        for oid in oids:
            kept = self.previous.get(oid)
            if kept is not None and kept[0] == self.signatures.get(oid):
                self.found[oid] = kept[1]
            else:
                to_read.append(oid)
        size = max(500, -(-len(to_read) // self.BATCHES))
        self.batches.extend(to_read[i:i + size] for i in range(0, len(to_read), size))

    def read_missing(self, conn, oids: list[int]) -> None:
        missing = [oid for oid in oids if oid not in self.found]
        if missing:
            self.batches.append(missing)
            self.read(conn)

    def read(self, conn) -> None:
        with conn.cursor() as cur:
            while True:
                try:
                    batch = self.batches.popleft()
                except IndexError:
                    return
                try:
                    self.found.update(cur.execute(SIZES_SQL, (batch,)).fetchall())
                except BaseException:
                    self.batches.appendleft(batch)
                    raise

    def read_on_own_connection(self, schemas: list[str] | None = None) -> None:
        """Read batches until none is left; given schemas, first list every relation of theirs that has a size."""
        if schemas is None and not self.batches:
            return
        try:
            with self.connector.connect() as conn:
                if schemas is not None:
                    with conn.cursor() as cur:
                        self.plan([r[0] for r in cur.execute(SIZED_SQL, (schemas,))])
                self.read(conn)
        except BaseException:  # what is left is read by the extracting connection
            pass

    def state(self) -> dict:
        """For the next crawl: each table's signature and size, one line each ("oid signature size")."""
        lines = "\n".join(f"{oid} {self.signatures[oid]} {size}" for oid, size in sorted(self.found.items())
                          if size is not None and oid in self.signatures)
        return {self.STATE_KEY: {"read_at": int(self.read_at), "tables": lines}}

    @classmethod
    def _load(cls, state: dict | None) -> tuple[dict[int, tuple[str, int]], float]:
        try:
            mine = (state or {})[cls.STATE_KEY]
            previous = {}
            for line in mine["tables"].splitlines():
                oid, signature, size = line.split(" ")
                previous[int(oid)] = (signature, int(size))
            return previous, float(mine["read_at"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return {}, time.time()


# Sampled profiles, opt-in per source, for tables the engine keeps no statistics of: the engine's own block
# sampling (TABLESAMPLE SYSTEM), never a full scan, within a time budget. Each query may run at most the time
# left; one that runs past it is cancelled by the server and ends the run (the rest are sampled next time).
_SAMPLED_ORDERED = {"integer", "decimal", "float", "date", "timestamp", "text", "boolean", "uuid"}
_SAMPLED_DISTINCT = _SAMPLED_ORDERED


def _sample_query(schema: str, name: str, columns: list[tuple[str, str]], percent: float):
    parts = [psycopg.sql.SQL("count(*)")]
    for column, family in columns:
        ident = psycopg.sql.Identifier(column)
        parts.append(psycopg.sql.SQL("count({})").format(ident))
        distinct = psycopg.sql.SQL("count(DISTINCT {})").format(ident) if family in _SAMPLED_DISTINCT else psycopg.sql.SQL("NULL")
        ordered = family in _SAMPLED_ORDERED and family != "boolean"
        low = psycopg.sql.SQL("min({})::text").format(ident) if ordered else psycopg.sql.SQL("NULL")
        high = psycopg.sql.SQL("max({})::text").format(ident) if ordered else psycopg.sql.SQL("NULL")
        shortest = psycopg.sql.SQL("min(length({}))").format(ident) if family == "text" else psycopg.sql.SQL("NULL")
        longest = psycopg.sql.SQL("max(length({}))").format(ident) if family == "text" else psycopg.sql.SQL("NULL")
        parts += [distinct, low, high, shortest, longest]
    return psycopg.sql.SQL("SELECT {} FROM {}.{} TABLESAMPLE SYSTEM ({})").format(
        psycopg.sql.SQL(", ").join(parts), psycopg.sql.Identifier(schema), psycopg.sql.Identifier(name),
        psycopg.sql.Literal(float(percent)))


def sample_profiles(connector: "PostgresConnector", tables: list[tuple[str, str, list[tuple[str, str]]]], *,
                    percent: float, budget_s: float) -> tuple[dict, dict, bool]:
    """Profiles of these tables ((schema, name, [(column, type family)])) from a TABLESAMPLE SYSTEM sample,
    in order, until the budget is spent. Returns ({(schema, name): column_stats}, {(schema, name): problem},
    whether every table was sampled). A table refused (permissions) is a problem and the run goes on; one
    that runs past the time left is a problem and ends the run. Counts are of the sample, not the table."""
    budget = Budget(budget_s)
    profiles, problems = {}, {}
    with connector.connect() as conn:
        conn.autocommit = True
        for schema, name, columns in budget.tables(tables):
            try:
                with conn.transaction():
                    conn.execute(psycopg.sql.SQL("SET LOCAL statement_timeout = {}").format(
                        psycopg.sql.Literal(max(int(budget.left() * 1000), 1))))
                    row = conn.execute(_sample_query(schema, name, columns, percent)).fetchone()
            except psycopg.errors.QueryCanceled:
                problems[(schema, name)] = budget.overrun()
                return profiles, problems, False
            except psycopg.Error as exc:
                problems[(schema, name)] = f"no sampled profile: {connector.clean_message(describe_error(exc, connector.url))}"
                continue
            rows, stats, values = row[0], {}, row[1:]
            basis = f"sample {percent:g}% (TABLESAMPLE SYSTEM, {rows:,} rows)"
            for i, (column, _family) in enumerate(columns):
                present, distinct, low, high, shortest, longest = values[i * 6:(i + 1) * 6]
                entry = {"basis": basis}
                if rows:
                    entry["null_frac"] = round(1 - present / rows, 4)
                if distinct is not None and rows:
                    entry["distinct"] = distinct
                if low is not None:
                    entry["min"], entry["max"] = low, high
                if shortest is not None:
                    entry["min_len"], entry["max_len"] = shortest, longest
                stats[column] = entry
            profiles[(schema, name)] = stats
    return profiles, problems, budget.complete
# Query history (issue 19): pg_stat_statements, when the extension is installed in the source's database.

_HIDDEN_QUERY = "<insufficient privilege>"


def query_history(connector: PostgresConnector, *, limit: int, since=None) -> QueryHistory:
    """The most-run top-level statements of this database, per role: at most `limit`, read-only."""
    with connector.connect() as conn:
        try:
            row = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone()
            if row is None:
                return QueryHistory(False, note="pg_stat_statements is not installed in this database: add it to "
                                                "shared_preload_libraries, restart, then CREATE EXTENSION pg_stat_statements.")
            schema = psycopg.sql.Identifier(row[0])
            rows = conn.execute(psycopg.sql.SQL(
                "SELECT s.queryid::text, s.query, s.calls, coalesce(r.rolname, '') FROM {}.pg_stat_statements s "
                "LEFT JOIN pg_roles r ON r.oid = s.userid "
                "WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.toplevel "
                "ORDER BY s.calls DESC LIMIT %s").format(schema), (int(limit),)).fetchall()
        except psycopg.Error as exc:
            return QueryHistory(False, note=connector.clean_message(f"pg_stat_statements could not be read: {describe_error(exc, connector.url)}"))
    statements, hidden = [], 0
    for queryid, text, calls, role in rows:
        if queryid is None or text is None or text == _HIDDEN_QUERY:  # another role's, to a reader without pg_read_all_stats
            hidden += 1
            continue
        statements.append(LoggedStatement(digest=queryid, text=text, calls=int(calls), user=role))
    note = (f"{hidden} statement(s) of other roles are hidden from this source's user: grant it pg_read_all_stats to see them."
            if hidden else "")
    return QueryHistory(True, statements=statements, note=note)
