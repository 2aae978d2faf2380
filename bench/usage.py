"""Usage: reading and parsing a large query history, and reading it again with every digest cached.

    .venv/bin/python bench/usage.py --statements 100000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer, pg_stat_statements preloaded and sized
for the run) holding the warehouse (tables of ten columns over four schemas) and the catalog. It runs N
distinct statements in the warehouse (ten templates, as an application's history is: reads by key, filtered
lists, joins, reports, upserts, updates, deletes, a CTE, a subquery, ranges; each over every table with other
columns and in a few forms, so there are many shapes; one in a hundred sqlglot cannot read), crawls the warehouse once (usage off), then times, as a crawl does:
reading pg_stat_statements through the PostgreSQL connector, parsing every new digest and recording the
usage per dataset, column, day and role; it logs how many shapes the statements had and how many sqlglot parses
they took (catalog/usage/sql.py parses a shape once). A second read of the same history (every digest cached, so
nothing is parsed) is timed too. The LAST line is, exactly:

    usage statements=N parsed=P unparsed=U seconds=S

(statements: distinct ones read, the benchmark's own and the crawl's included; seconds: the first read and
record; target for 100,000: within 60 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import PostgresServer  # noqa: E402

SCHEMAS = 4
COLUMNS = 10
STATEMENTS_PER_TABLE = 200


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def statements(count: int, tables: int):
    """count distinct statements (distinct after pg_stat_statements takes the constants out), over the tables.

    As an application's history is: ten templates (an ORM's reads by key, filtered lists, joins, reports, upserts,
    updates, deletes, a CTE, a subquery, ranges), each over every table and different columns, in a few forms
    (how many columns, LEFT or inner join, with or without HAVING...); one in a hundred sqlglot cannot read."""
    for n in range(count):
        table, k = n % tables, n // tables
        template, v = k % 10, k // 10
        s, t = f"bench_{table % SCHEMAS}", f"t_{table}"
        o = (table + 1) % tables
        other = f"bench_{o % SCHEMAS}.t_{o}"
        a = v % COLUMNS
        b, c = f"c{(a + 1 + v // COLUMNS) % COLUMNS}", f"c{(a + 3 + v // COLUMNS) % COLUMNS}"
        a = f"c{a}"
        if n % 100 == 99:  # sqlglot cannot read this one: counted as unparsed
            yield (f"SELECT x.{a}, x.{b} FROM {s}.{t} x, LATERAL ROWS FROM (generate_series(1, 2)) g "
                   f"WHERE x.c{template} = %s"), (0,)
        elif template == 0:
            columns = ", ".join(f"c{(int(a[1:]) + i) % COLUMNS}" for i in range(1 + v % 6))
            yield f"SELECT id, {columns} FROM {s}.{t} WHERE id = %s", (1,)
        elif template == 1:
            more = f" AND {b} > %s" if v % 2 else ""
            yield f"SELECT {a}, {b} FROM {s}.{t} WHERE {c} = %s{more} ORDER BY id LIMIT %s", (0, 10) + ((1,) if v % 2 else ())
        elif template == 2:
            join = "LEFT JOIN" if v % 2 else "JOIN"
            yield f"SELECT x.{a}, y.{b} FROM {s}.{t} x {join} {other} y ON y.id = x.id WHERE x.{c} > %s", (0,)
        elif template == 3:
            tail = [" HAVING count(*) > %s", " ORDER BY 2 DESC", ""][v % 3]
            yield f"SELECT {a}, count(*), sum({b}) FROM {s}.{t} GROUP BY {a}{tail}", (1,) if v % 3 == 0 else ()
        elif template == 4:
            yield (f"INSERT INTO {s}.{t} (id, {a}, {b}) VALUES (%s, %s, %s) ON CONFLICT (id) DO UPDATE SET {a} = EXCLUDED.{a}",
                   (-1, 0, 0))
        elif template == 5:
            also = f", {b} = %s" if v % 2 else ""
            yield f"UPDATE {s}.{t} SET {a} = %s{also} WHERE {c} = %s", (1, 2) + ((3,) if v % 2 else ())
        elif template == 6:
            yield f"DELETE FROM {s}.{t} WHERE {a} < %s AND {b} IS NULL", (-5,)
        elif template == 7:
            yield (f"WITH recent AS (SELECT id, {a} FROM {s}.{t} WHERE {b} > %s) "
                   f"SELECT r.{a}, y.{c} FROM recent r JOIN {other} y ON y.id = r.id"), (0,)
        elif template == 8:
            yield f"SELECT {a} FROM {s}.{t} WHERE id IN (SELECT id FROM {other} WHERE {b} = %s)", (0,)
        else:
            order = "DESC NULLS LAST" if v % 2 else "ASC"
            yield f"SELECT {a}, {b} FROM {s}.{t} WHERE {c} BETWEEN %s AND %s ORDER BY {a} {order}", (0, 9)


def build_warehouse(server: PostgresServer, tables: int) -> None:
    columns = ", ".join(f"c{i} integer" for i in range(COLUMNS))
    with server.connect("warehouse") as conn:
        for s in range(SCHEMAS):
            conn.execute(f"CREATE SCHEMA bench_{s}")
        conn.execute(f"""DO $$ BEGIN FOR i IN 0..{tables - 1} LOOP
            EXECUTE format('CREATE TABLE bench_%s.t_%s (id bigint PRIMARY KEY, {columns})', i % {SCHEMAS}, i);
        END LOOP; END $$""")
        conn.execute("CREATE EXTENSION pg_stat_statements")


def run_statements(server: PostgresServer, count: int, tables: int) -> None:
    with server.connect("warehouse") as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        with conn.pipeline():
            for sql, params in statements(count, tables):
                conn.execute(sql, params, prepare=False)


def setup_django(catalog_url: str) -> None:
    from cryptography.fernet import Fernet

    os.environ["DATABASE_URL"] = catalog_url
    os.environ["CANON_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["CANON_VAR_DIR"] = tempfile.mkdtemp(prefix="canon-bench-var-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "catalog.settings"
    os.environ["CANON_USAGE_ENABLED"] = "false"  # the crawl builds the inventory; the history is read below, timed
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=100_000, help="distinct statements to run and read (default 100000)")
    args = parser.parse_args(argv)
    count = args.statements
    tables = max(SCHEMAS, -(-count // STATEMENTS_PER_TABLE))
    server = PostgresServer(options=[f"-c pg_stat_statements.max={count + 20_000}", "-c pg_stat_statements.track_utility=off"])
    log(f"starting PostgreSQL on 127.0.0.1:{server.port}")
    server.start()
    try:
        server.create_database("warehouse")
        catalog_url = server.create_database("canon")
        build_warehouse(server, tables)
        started = time.perf_counter()
        run_statements(server, count, tables)
        log(f"warehouse: {tables} tables; ran {count} distinct statements in {time.perf_counter() - started:.1f}s")

        setup_django(catalog_url)
        from django.db import transaction
        from django.utils import timezone

        from catalog.connectors.postgres import query_history
        from catalog.crawls.services import source_crawl
        from catalog.sources.services import source_connector, source_create
        from catalog.usage.models import DatasetUsage, QueryDigest
        from catalog.usage.services import usage_record
        from catalog.usage.sql import SHAPES

        source = source_create(name="bench", url=server.url("warehouse"))
        crawl = source_crawl(source, trigger="bench")
        log(f"crawl: {crawl.summary()}")

        def read_and_record(label):
            started, cpu, shapes = time.perf_counter(), time.process_time(), SHAPES.counts()
            history = query_history(source_connector(source.url), limit=count + 20_000)
            read_s = time.perf_counter() - started
            before = QueryDigest.objects.count()
            with transaction.atomic():
                usage = usage_record(source, history, now=timezone.now(), budget_seconds=0)
            elapsed = time.perf_counter() - started
            log(f"{label}: read {len(history.statements)} statements in {read_s:.1f}s, parsed {QueryDigest.objects.count() - before} "
                f"new digests, recorded in {elapsed:.1f}s in all ({usage.unparsed} unparsed; {time.process_time() - cpu:.1f}s CPU here)")
            now = SHAPES.counts()
            if now["statements"] > shapes["statements"]:
                log(f"{label}: {now['statements'] - shapes['statements']} statements parsed as {now['shapes'] - shapes['shapes']} "
                    f"shapes: {now['parses'] - shapes['parses']} sqlglot parses, {now['hits'] - shapes['hits']} answered from "
                    f"their shape without one")
            return usage, elapsed

        usage, seconds = read_and_record("first read")
        _, cached = read_and_record("second read (every digest cached)")
        used = DatasetUsage.objects.filter(queries_30__gt=0).count()
        log(f"{used} of {tables} datasets read; second read {cached:.1f}s")
        if used < tables * 0.9:
            raise SystemExit(f"only {used} datasets were found read")
        print(f"usage statements={usage.statements} parsed={usage.parsed} unparsed={usage.unparsed} seconds={seconds:.1f}", flush=True)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
