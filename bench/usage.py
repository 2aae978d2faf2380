"""Usage: reading and parsing a large query history, and reading it again with every digest cached.

    .venv/bin/python bench/usage.py --statements 100000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer, pg_stat_statements preloaded and sized
for the run) holding the warehouse (tables of ten columns over four schemas) and the catalog. It runs N
distinct statements in the warehouse (selects of different columns and predicates, joins, updates, and one
in a hundred that sqlglot cannot read), crawls the warehouse once (usage off), then times, as a crawl does:
reading pg_stat_statements through the PostgreSQL connector, parsing every new digest and recording the
usage per dataset, column, day and role. A second read of the same history (every digest cached, so
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
SHAPES_PER_TABLE = 200


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def statements(count: int, tables: int):
    """count distinct statements (distinct after pg_stat_statements takes the constants out), over the tables."""
    for n in range(count):
        table, shape = n % tables, n // tables
        schema, name = f"bench_{table % SCHEMAS}", f"t_{table}"
        a, b, c = shape % COLUMNS, (shape // COLUMNS) % COLUMNS, (shape // (COLUMNS * COLUMNS)) % COLUMNS
        # pg_stat_statements keys a statement by its shape: constants and aliases are taken out, so the
        # statements differ by the columns they name.
        if n % 100 == 99:  # sqlglot cannot read this one: counted as unparsed
            yield (f"SELECT t.c{a}, t.c{b} FROM {schema}.{name} t, LATERAL ROWS FROM (generate_series(1, 2)) g "
                   f"WHERE t.c{c} = %s"), (0,)
        elif shape % 10 == 7:
            yield f"UPDATE {schema}.{name} SET c{a} = %s WHERE c{b} = %s AND c{c} > %s", (1, 2, 3)
        elif shape % 10 == 3:
            o = (table + 1) % tables
            other = f"bench_{o % SCHEMAS}.t_{o}"
            yield f"SELECT x.c{a}, y.c{b} FROM {schema}.{name} x JOIN {other} y ON y.id = x.id WHERE x.c{c} > %s", (0,)
        else:
            yield f"SELECT c{a}, c{b} FROM {schema}.{name} WHERE c{c} = %s ORDER BY id", (0,)


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
    tables = max(SCHEMAS, -(-count // SHAPES_PER_TABLE))
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

        source = source_create(name="bench", url=server.url("warehouse"))
        crawl = source_crawl(source, trigger="bench")
        log(f"crawl: {crawl.summary()}")

        def read_and_record(label):
            started = time.perf_counter()
            history = query_history(source_connector(source.url), limit=count + 20_000)
            read_s = time.perf_counter() - started
            before = QueryDigest.objects.count()
            with transaction.atomic():
                usage = usage_record(source, history, now=timezone.now(), budget_seconds=0)
            elapsed = time.perf_counter() - started
            log(f"{label}: read {len(history.statements)} statements in {read_s:.1f}s, parsed {QueryDigest.objects.count() - before} "
                f"new digests, recorded in {elapsed:.1f}s in all ({usage.unparsed} unparsed)")
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
