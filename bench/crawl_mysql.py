"""Crawl a MariaDB warehouse of N tables into a PostgreSQL catalog and compare with the floor.

    .venv/bin/python bench/crawl_mysql.py --tables 10000

The same shape as bench/crawl_postgres.py. One run starts a throwaway MariaDB
(tests.harness.MariaDBServer) holding the warehouse (N tables of 20 columns plus
an `id` primary key, each table and one column commented, spread over a few
databases) and a throwaway PostgreSQL holding the catalog Canon writes to.
It measures:

- the floor: one bulk information_schema.COLUMNS query through PyMySQL, fetching
  every column with its type, nullability, default, key and comment (best of a few runs);
- a first full crawl (source_create + source_crawl);
- an unchanged recrawl (best of a few runs);
- the process's peak resident memory.

The LAST line is, exactly:

    crawl tables=N full_s=.. recrawl_s=.. floor_s=.. full_ratio=.. recrawl_ratio=.. peak_rss_mb=..
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import MariaDBServer, PostgresServer  # noqa: E402

COLUMNS_PER_TABLE = 20  # besides the id primary key

# Every column of every user table, with what a catalog must read at least once, in one query.
FLOOR_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
       COLUMN_KEY, COLUMN_COMMENT
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys')
"""

# One table's columns: a realistic mix of MySQL types, defaults and NOT NULLs.
TABLE_BODY = (
    "id BIGINT NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL COMMENT 'Who the row belongs to', "
    "account_code VARCHAR(32) NOT NULL, status VARCHAR(20) DEFAULT 'new', amount DECIMAL(12,2), "
    "quantity INT NOT NULL DEFAULT 0, price DOUBLE, is_active TINYINT(1) NOT NULL DEFAULT 1, "
    "created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP NULL, event_date DATE, payload JSON, "
    "tags SET('a','b','c'), external_id BINARY(16), country CHAR(2), note VARCHAR(500), score FLOAT, "
    "flags SMALLINT UNSIGNED, ratio DECIMAL(10,4), source_ip VARBINARY(16), duration TIME"
)

SERVER_OPTIONS = ["--table-definition-cache=20000", "--table-open-cache=4000", "--innodb-file-per-table=0",
                  "--innodb-buffer-pool-size=512M", "--innodb-stats-on-metadata=0"]


def build_warehouse(server: MariaDBServer, tables: int, databases: int) -> list[str]:
    """Tables split over `databases` databases, built by two connections at once (two cores)."""
    names = [f"bench_{i}" for i in range(min(databases, max(tables, 1)))]
    counts = [tables // len(names) + (1 if i < tables % len(names) else 0) for i in range(len(names))]
    server.execute(";\n".join(f"CREATE DATABASE `{name}`" for name in names))
    pending = list(zip(names, counts))
    errors: list[BaseException] = []

    def build(database: str, count: int) -> None:
        conn = server.connect(database)
        try:
            with conn.cursor() as cur:
                for i in range(1, count + 1):
                    cur.execute(f"CREATE TABLE t_{i} ({TABLE_BODY}) COMMENT 'Table {i} of {database}, one row per event'")
        finally:
            conn.close()

    def worker():
        while True:
            try:
                database, count = pending.pop()
            except IndexError:
                return
            try:
                build(database, count)
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
    return names


def measure_floor(server: MariaDBServer) -> tuple[float, int]:
    import pymysql

    started = time.perf_counter()
    conn = pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute(FLOOR_SQL)
            rows = cur.fetchall()
    finally:
        conn.close()
    return time.perf_counter() - started, len(rows)


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=10000, help="tables in the warehouse (default 10000)")
    parser.add_argument("--databases", type=int, default=8, help="databases (MySQL's schemas) to spread them over (default 8)")
    parser.add_argument("--floor-runs", type=int, default=5, help="floor query runs, best kept (default 5)")
    parser.add_argument("--recrawls", type=int, default=3, help="unchanged recrawls, best kept (default 3)")
    parser.add_argument("--profile", choices=["full", "recrawl"], help="profile one crawl with cProfile, print the top")
    args = parser.parse_args(argv)
    tables = args.tables

    warehouse = MariaDBServer(options=SERVER_OPTIONS)
    catalog = PostgresServer()
    log(f"starting MariaDB on 127.0.0.1:{warehouse.port} and PostgreSQL (catalog) on 127.0.0.1:{catalog.port}")
    warehouse.start()
    try:
        catalog.start()
        catalog_url = catalog.create_database("canon")
        started = time.perf_counter()
        build_warehouse(warehouse, tables, args.databases)
        log(f"warehouse: {tables} tables x {COLUMNS_PER_TABLE + 1} columns in {time.perf_counter() - started:.1f}s")

        floors = []
        for _ in range(max(args.floor_runs, 1)):
            elapsed, count = measure_floor(warehouse)
            floors.append(elapsed)
            log(f"floor: {count} columns in {elapsed:.3f}s")
        expected_columns = tables * (COLUMNS_PER_TABLE + 1)
        if count != expected_columns:
            raise SystemExit(f"floor query saw {count} columns, expected {expected_columns}")
        floor_s = min(floors)

        setup_django(catalog_url)
        from catalog.sources.models import Crawl
        from catalog.crawls.services import source_crawl
        from catalog.sources.services import source_create

        source = source_create(name="bench", url=warehouse.url(""))

        def crawl(label: str, profile: bool):
            started = time.perf_counter()
            if profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
                result = source_crawl(source)
                profiler.disable()
                elapsed = time.perf_counter() - started
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            else:
                result = source_crawl(source)
                elapsed = time.perf_counter() - started
            if result.status != Crawl.SUCCEEDED:
                raise SystemExit(f"{label} crawl failed: {result.error}")
            log(f"{label}: {elapsed:.3f}s ({result.summary()}), peak RSS {peak_rss_mb():.0f} MB")
            return result, elapsed

        result, full_s = crawl("full crawl", args.profile == "full")
        if (result.datasets_added, result.columns_seen) != (tables, expected_columns):
            raise SystemExit(f"full crawl added {result.datasets_added} datasets, {result.columns_seen} columns")

        recrawls = []
        for i in range(max(args.recrawls, 1)):
            result, elapsed = crawl("unchanged recrawl", args.profile == "recrawl" and i == 0)
            if (result.datasets_added, result.datasets_changed, result.datasets_removed) != (0, 0, 0):
                raise SystemExit(f"an unchanged recrawl changed something: {result.summary()}")
            recrawls.append(elapsed)
        recrawl_s = min(recrawls)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        catalog.stop()
        warehouse.stop()

    print(
        f"crawl tables={tables} full_s={full_s:.3f} recrawl_s={recrawl_s:.3f} floor_s={floor_s:.3f} "
        f"full_ratio={full_s / floor_s:.2f} recrawl_ratio={recrawl_s / floor_s:.2f} peak_rss_mb={peak_rss_mb():.0f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
