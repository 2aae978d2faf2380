"""Crawl a warehouse of N tables into a PostgreSQL catalog and compare with the floor.

    .venv/bin/python bench/crawl_postgres.py --tables 10000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer) holding two
databases: the warehouse (N tables of 20 columns plus an `id` primary key, each
table commented, spread over a few schemas) and the catalog Canon writes to.
It measures:

- the floor: one bulk pg_catalog query, through psycopg, fetching every column
  with its type, nullability and comments (best of a few runs);
- a first full crawl (source_create + source_crawl), best of a few, each into a fresh catalog;
- an unchanged recrawl (best of a few runs);
- the process's peak resident memory;
- the same crawls as `manage.py crawl` runs them, process and all (interpreter, Django, imports, the
  crawl; best of a few, a fresh catalog for the first), and how long `manage.py crawl --help` takes
  to start: the figures a cron job or a CI step sees.
- each crawl with and without freshness and column profiles (catalog/quality: the connector's reads of
  write counters and pg_stats, and the quality steps), first crawls alternating, recrawls in two blocks
  (with, then without, so each block starts from its own last crawl's state). A crawl reads pg_stats for
  at most 1,000 tables, so before the timed recrawls, untimed catch-up recrawls read the rest (each logged). `--rows N` writes N rows
  to every table and ANALYZEs them, so pg_stats has profiles to read.

Each crawl runs as a worker runs it: after a warm-up crawl of a one-table
database (imports, first-use setup), on the source as stored (with what the
last crawl kept for the next), and, after the first crawl, with the search
index caught up as the `index` worker would and the catalog's planner
statistics up to date as autovacuum would leave them (both untimed).

Progress lines go to stdout; the line before the last is, exactly (unless --process-runs 0):

    process start_s=.. full_s=.. recrawl_s=.. full_ratio=.. recrawl_ratio=..

and the LAST line is, exactly:

    crawl tables=N full_s=.. recrawl_s=.. floor_s=.. full_ratio=.. recrawl_ratio=.. peak_rss_mb=.. \
        plain_full_ratio=.. plain_recrawl_ratio=.. quality_full_cost=.. quality_recrawl_cost=..

full_s and recrawl_s are with freshness and profiles (the default); plain_* without them; quality_*_cost is
with / without (1.20 = 20% more).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import PostgresServer  # noqa: E402

COLUMNS_PER_TABLE = 20  # besides the id primary key

# Every column of every user relation, with type, nullability, its comment and its table's comment:
# what any catalog has to read at least once, in one query, in whatever order the server finds them.
FLOOR_SQL = """
SELECT n.nspname, c.relname, td.description, a.attnum, a.attname,
       pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, cd.description
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description td
       ON td.objoid = c.oid AND td.classoid = 'pg_catalog.pg_class'::regclass AND td.objsubid = 0
LEFT JOIN pg_catalog.pg_description cd
       ON cd.objoid = c.oid AND cd.classoid = 'pg_catalog.pg_class'::regclass AND cd.objsubid = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
"""

# One table's columns, as a format() template: a realistic mix of types, defaults and NOT NULLs.
TABLE_BODY = (
    "id bigint PRIMARY KEY, customer_id bigint NOT NULL, account_code varchar(32) NOT NULL, "
    "status text DEFAULT ''new'', amount numeric(12,2), quantity integer NOT NULL DEFAULT 0, "
    "price double precision, is_active boolean NOT NULL DEFAULT true, created_at timestamptz NOT NULL DEFAULT now(), "
    "updated_at timestamp, event_date date, payload jsonb, tags text[], external_id uuid, country char(2), "
    "note varchar(500), score real, flags smallint, ratio numeric, source_ip inet, duration interval"
)


def build_warehouse(server: PostgresServer, database: str, tables: int, schemas: int, rows: int = 0) -> None:
    """Tables split over `schemas` schemas, one DO block per schema, two at a time (two cores)."""
    names = [f"bench_{i}" for i in range(min(schemas, max(tables, 1)))]
    counts = [tables // len(names) + (1 if i < tables % len(names) else 0) for i in range(len(names))]
    with server.connect(database) as conn:
        for name in names:
            conn.execute(f"CREATE SCHEMA {name}")

    def build(schema: str, count: int) -> None:
        with server.connect(database) as conn:
            conn.execute(f"""
DO $$
BEGIN
  FOR i IN 1..{count} LOOP
    EXECUTE format('CREATE TABLE {schema}.%I ({TABLE_BODY})', 't_' || i);
    EXECUTE format('COMMENT ON TABLE {schema}.%I IS %L', 't_' || i, 'Table ' || i || ' of {schema}, one row per event');
    EXECUTE format('COMMENT ON COLUMN {schema}.%I.customer_id IS %L', 't_' || i, 'Who the row belongs to');
    IF {rows} > 0 THEN
      EXECUTE format('INSERT INTO {schema}.%I (id, customer_id, account_code, amount, note, country) '
                     'SELECT g, g %% 7, ''acct'' || g, g * 1.5, CASE WHEN g %% 3 = 0 THEN NULL ELSE ''n'' || g END, '
                     '''DE'' FROM generate_series(1, {rows}) g', 't_' || i);
    END IF;
  END LOOP;
END $$""")

    pending = list(zip(names, counts))
    errors: list[BaseException] = []

    def worker():
        while True:
            try:
                schema, count = pending.pop()
            except IndexError:
                return
            try:
                build(schema, count)
            except BaseException as exc:  # reported below, in the main thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    with server.connect(database) as conn:
        conn.execute("VACUUM ANALYZE pg_catalog.pg_class, pg_catalog.pg_attribute, pg_catalog.pg_description, "
                     "pg_catalog.pg_constraint, pg_catalog.pg_attrdef")
        if rows:
            conn.execute("ANALYZE")  # as autovacuum would after the load: column statistics for the profiles


def measure_floor(server: PostgresServer, database: str) -> tuple[float, int]:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password, dbname=database) as conn:
        rows = conn.execute(FLOOR_SQL).fetchall()
    elapsed = time.perf_counter() - started
    return elapsed, len(rows)


def setup_django(catalog_url: str) -> None:
    from cryptography.fernet import Fernet

    os.environ["DATABASE_URL"] = catalog_url
    os.environ["CANON_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["SECRET_KEY"] = Fernet.generate_key().decode()  # a PostgreSQL catalog with DEBUG off is a production start
    os.environ["CANON_VAR_DIR"] = tempfile.mkdtemp(prefix="canon-bench-var-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "catalog.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def manage_seconds(*args: str) -> float:
    """Wall time of one `manage.py` process, as a shell would see it; it must succeed. The child may write
    bytecode (PYTHONDONTWRITEBYTECODE is dropped), as an installed Canon has it after its first start, so each
    run does not compile the modules again; the first, untimed `help`, writes it."""
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {done.stderr[-2000:]}")
    return elapsed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=10000, help="tables in the warehouse (default 10000)")
    parser.add_argument("--schemas", type=int, default=8, help="schemas to spread them over (default 8)")
    parser.add_argument("--floor-runs", type=int, default=5, help="floor query runs, best kept (default 5)")
    parser.add_argument("--full-crawls", type=int, default=3, help="first crawls, each into a fresh catalog, best kept (default 3)")
    parser.add_argument("--recrawls", type=int, default=5, help="unchanged recrawls, best kept, as for the floor (default 5)")
    parser.add_argument("--process-runs", type=int, default=3,
                        help="`manage.py crawl` processes timed for the first crawl and for the unchanged recrawl, best kept (0 skips)")
    parser.add_argument("--profile", choices=["full", "recrawl"], help="profile one crawl with cProfile, print the top")
    parser.add_argument("--rows", type=int, default=0, help="rows written to each table, then ANALYZE (default 0: empty tables)")
    args = parser.parse_args(argv)
    tables = args.tables

    server = PostgresServer()
    log(f"starting PostgreSQL on 127.0.0.1:{server.port}")
    server.start()
    try:
        server.create_database("warehouse")
        catalog_url = server.create_database("canon")
        started = time.perf_counter()
        build_warehouse(server, "warehouse", tables, args.schemas, args.rows)
        log(f"warehouse: {tables} tables x {COLUMNS_PER_TABLE + 1} columns in {time.perf_counter() - started:.1f}s")

        floors = []
        for _ in range(max(args.floor_runs, 1)):
            elapsed, count = measure_floor(server, "warehouse")
            floors.append(elapsed)
            log(f"floor: {count} columns in {elapsed:.3f}s")
        expected_columns = tables * (COLUMNS_PER_TABLE + 1)
        if count != expected_columns:
            raise SystemExit(f"floor query saw {count} columns, expected {expected_columns}")
        floor_s = min(floors)

        setup_django(catalog_url)
        from catalog.sources.models import Crawl, Source
        from catalog.crawls.services import source_crawl
        from catalog.sources.services import source_create

        from django.conf import settings

        steps_with = list(settings.CANON_CRAWL_STEPS)
        steps_without = [s for s in steps_with if not s.startswith("catalog.quality.")]

        def quality(on: bool) -> str:
            """Freshness and profiles on (the default) or off: the connector's extra reads and the quality steps."""
            settings.CANON_ENGINE_STATISTICS = on
            settings.CANON_CRAWL_STEPS = steps_with if on else steps_without
            return "with quality" if on else "without quality"

        warmup_url = server.create_database("warmup")
        with server.connect("warmup") as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")

        def fresh_catalog(first: bool):
            if not first:  # an empty catalog again, as a new deployment has
                from django.contrib.contenttypes.models import ContentType
                from django.core.management import call_command
                from django.db import connections

                connections.close_all()
                server.drop_database("canon")
                server.create_database("canon")
                call_command("migrate", verbosity=0, interactive=False)
                ContentType.objects.clear_cache()
            # A worker's first crawl pays for imports and first-use setup; warm them up on a one-table database, untimed.
            warmup = source_crawl(source_create(name="warmup", url=warmup_url))
            if warmup.status != Crawl.SUCCEEDED:
                raise SystemExit(f"warm-up crawl failed: {warmup.error}")
            return source_create(name="bench", url=server.url("warehouse"))

        def crawl(label: str, profile: bool):
            # As a scheduled crawl does: the source as stored now, with what the last crawl kept for the next.
            source = Source.objects.get(pk=created.pk)
            if profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                result = source_crawl(source)
                profiler.disable()
                elapsed = time.perf_counter() - started
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            else:
                started = time.perf_counter()
                result = source_crawl(source)
                elapsed = time.perf_counter() - started
            if result.status != Crawl.SUCCEEDED:
                raise SystemExit(f"{label} crawl failed: {result.error}")
            log(f"{label}: {elapsed:.3f}s ({result.summary()}), peak RSS {peak_rss_mb():.0f} MB")
            return result, elapsed

        fulls = {False: [], True: []}
        for i in range(max(args.full_crawls, 1)):
            for on in (False, True):  # alternating, so both see the machine alike; the last one is with quality
                label = quality(on)
                created = fresh_catalog(first=i == 0 and not on)
                result, elapsed = crawl(f"full crawl {label}", args.profile == "full" and i == 0 and on)
                if (result.datasets_added, result.columns_seen) != (tables, expected_columns):
                    raise SystemExit(f"full crawl added {result.datasets_added} datasets, {result.columns_seen} columns")
                fulls[on].append(elapsed)
                if on:
                    from catalog.quality.models import DatasetProfile, Freshness

                    log(f"  kept: freshness of {Freshness.objects.count()} datasets, profiles of {DatasetProfile.objects.count()}")
        full_s, plain_full_s = min(fulls[True]), min(fulls[False])
        # A first crawl this large leaves its search documents to the `index` queue; no worker runs here, so do
        # what it would (untimed), and the recrawls below see the steady state a deployment sees.
        from catalog.search.index import search_index_source

        started = time.perf_counter()
        documents = search_index_source(created.pk)
        log(f"search index caught up, as the index worker would: {documents} documents in {time.perf_counter() - started:.1f}s (not timed)")
        # And the planner statistics, as autovacuum would before a scheduled recrawl: right after a bulk load they
        # are stale, and the search stale-document check alone then takes ~20 s at 10,000 tables.
        from django.db import connection, connections

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        # pg_stats is read for at most 1,000 tables a crawl: the next crawls read the rest (each logged, not timed
        # as unchanged), until a recrawl reads none, the steady state the timed recrawls measure.
        from catalog.quality.models import DatasetProfile

        for _ in range(30):
            before = DatasetProfile.objects.count()
            result, elapsed = crawl("catch-up recrawl with quality (profiles still to read; not timed)", False)
            if DatasetProfile.objects.count() == before:
                break
            log(f"  profiles of {DatasetProfile.objects.count()} datasets now")

        recrawls = {False: [], True: []}
        for on in (True, False):  # with first: the catalog and the connector's state are those of a crawl with quality
            label = quality(on)
            for i in range(max(args.recrawls, 1)):
                result, elapsed = crawl(f"unchanged recrawl {label}", args.profile == "recrawl" and i == 0 and on)
                if (result.datasets_added, result.datasets_changed, result.datasets_removed) != (0, 0, 0):
                    raise SystemExit(f"an unchanged recrawl changed something: {result.summary()}")
                recrawls[on].append(elapsed)
        quality(True)
        recrawl_s, plain_recrawl_s = min(recrawls[True]), min(recrawls[False])

        process_line = ""
        if args.process_runs > 0:
            # Process and all: what `manage.py crawl` costs a cron job. The child reads the catalog this process
            # migrated (DATABASE_URL and the keys are in the environment setup_django wrote).
            manage_seconds("help")  # writes the bytecode a first start writes
            start_s = min(manage_seconds("crawl", "--help") for _ in range(max(args.process_runs, 3)))
            log(f"manage.py crawl --help: {start_s:.3f}s (best of {max(args.process_runs, 3)})")
            process_fulls = []
            for _ in range(args.process_runs):
                created = fresh_catalog(first=False)
                connections.close_all()  # the child migrates nothing and must not wait on this process's transaction
                process_fulls.append(manage_seconds("crawl", "bench"))
                log(f"manage.py crawl bench, first crawl: {process_fulls[-1]:.3f}s")
            search_index_source(created.pk)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            connections.close_all()
            process_recrawls = []
            for _ in range(args.process_runs):
                process_recrawls.append(manage_seconds("crawl", "bench"))
                log(f"manage.py crawl bench, unchanged: {process_recrawls[-1]:.3f}s")
            if Source.objects.get(pk=created.pk).crawls.filter(status=Crawl.SUCCEEDED).count() != 1 + args.process_runs:
                raise SystemExit("manage.py crawl did not record its crawls")
            process_full, process_recrawl = min(process_fulls), min(process_recrawls)
            process_line = (f"process start_s={start_s:.3f} full_s={process_full:.3f} recrawl_s={process_recrawl:.3f} "
                            f"full_ratio={process_full / floor_s:.2f} recrawl_ratio={process_recrawl / floor_s:.2f}")
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        server.stop()

    if process_line:
        print(process_line, flush=True)
    print(
        f"crawl tables={tables} full_s={full_s:.3f} recrawl_s={recrawl_s:.3f} floor_s={floor_s:.3f} "
        f"full_ratio={full_s / floor_s:.2f} recrawl_ratio={recrawl_s / floor_s:.2f} peak_rss_mb={peak_rss_mb():.0f} "
        f"plain_full_ratio={plain_full_s / floor_s:.2f} plain_recrawl_ratio={plain_recrawl_s / floor_s:.2f} "
        f"quality_full_cost={full_s / plain_full_s:.2f} quality_recrawl_cost={recrawl_s / plain_recrawl_s:.2f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
