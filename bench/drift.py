"""Drift: what a recrawl that finds changes costs, next to one that finds none.

    .venv/bin/python bench/drift.py --tables 10000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer) holding the
warehouse (N tables of 20 columns plus an `id` primary key, over a few schemas) and
the catalog Canon writes to. It adds subscribers (source, schema, breaking-only and
digest watchers, and a person mapped to the tables' owner), crawls once as the
baseline, then for each round:

- alters 1% of the tables (at least 3), a mix of ADD COLUMN, ALTER COLUMN ... TYPE and
  DROP COLUMN, and recrawls: new schema versions, schema changes and outbox messages
  are written in the crawl's transaction;
- recrawls again with nothing changed.

A first, uncounted round warms the process up. Rounds alter different tables. The medians
are compared; the LAST line is, exactly:

    drift tables=N changed=C recrawl_s=.. unchanged_recrawl_s=.. ratio=..

(recrawl_s: the recrawl with changes; ratio = recrawl_s / unchanged_recrawl_s; target <= 1.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import PostgresServer  # noqa: E402

COLUMNS_PER_TABLE = 20  # besides the id primary key

# One table's columns (the same shape as bench/crawl_postgres.py): a realistic mix of types, defaults and NOT NULLs.
TABLE_BODY = (
    "id bigint PRIMARY KEY, customer_id bigint NOT NULL, account_code varchar(32) NOT NULL, "
    "status text DEFAULT ''new'', amount numeric(12,2), quantity integer NOT NULL DEFAULT 0, "
    "price double precision, is_active boolean NOT NULL DEFAULT true, created_at timestamptz NOT NULL DEFAULT now(), "
    "updated_at timestamp, event_date date, payload jsonb, tags text[], external_id uuid, country char(2), "
    "note varchar(500), score real, flags smallint, ratio numeric, source_ip inet, duration interval"
)
# How each altered table changes, in turn: (SQL template, expected change kind).
ALTERATIONS = [
    ("ALTER TABLE {table} ADD COLUMN drift_{round} text", "column_added"),
    ("ALTER TABLE {table} ALTER COLUMN amount TYPE numeric(14,2)", "type_changed"),
    ("ALTER TABLE {table} DROP COLUMN flags", "column_removed"),
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def table_names(tables: int, schemas: int) -> list[str]:
    """Every table's qualified name, in a fixed order that interleaves the schemas."""
    names = [f"bench_{i}" for i in range(min(schemas, max(tables, 1)))]
    counts = [tables // len(names) + (1 if i < tables % len(names) else 0) for i in range(len(names))]
    per_schema = [[f"{schema}.t_{i}" for i in range(1, count + 1)] for schema, count in zip(names, counts)]
    ordered = []
    for i in range(max(counts)):
        ordered += [tables_of[i] for tables_of in per_schema if i < len(tables_of)]
    return ordered


def build_warehouse(server: PostgresServer, database: str, tables: int, schemas: int) -> None:
    """Tables split over `schemas` schemas, one DO block per schema, two at a time (two cores)."""
    names = [f"bench_{i}" for i in range(min(schemas, max(tables, 1)))]
    counts = [tables // len(names) + (1 if i < tables % len(names) else 0) for i in range(len(names))]
    with server.connect(database) as conn:
        for name in names:
            conn.execute(f"CREATE SCHEMA {name}")
    pending = list(zip(names, counts))
    errors: list[BaseException] = []

    def worker():
        while pending:
            try:
                schema, count = pending.pop()
            except IndexError:
                return
            try:
                with server.connect(database) as conn:
                    conn.execute(f"""
DO $$
BEGIN
  FOR i IN 1..{count} LOOP
    EXECUTE format('CREATE TABLE {schema}.%I ({TABLE_BODY})', 't_' || i);
    EXECUTE format('COMMENT ON TABLE {schema}.%I IS %L', 't_' || i, 'Table ' || i || ' of {schema}, one row per event');
  END LOOP;
END $$""")
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


def add_subscribers(source) -> int:
    """Who hears about the changes: immediate watchers of the source and of a schema, a breaking-only
    watcher, a digest watcher (nothing immediate), and the person mapped to the tables' owner.
    Returns whether the owner is mapped (the tables' owner role was seen)."""
    from django.contrib.auth import get_user_model

    from catalog.alerts.models import Subscription
    from catalog.alerts.services import subscription_create
    from catalog.inventory.models import OwnerIdentity
    from catalog.inventory.services.edit import owner_identity_map

    users = get_user_model().objects
    make = lambda name: users.create_user(name, f"{name}@example.com", "pw-bench-123")  # noqa: E731
    subscription_create(user=make("source_watcher"), source=source)
    subscription_create(user=make("schema_watcher"), source=source, schema_name="bench_0")
    subscription_create(user=make("breaking_watcher"), source=source, breaking_only=True)
    subscription_create(user=make("digest_watcher"), source=source, mode=Subscription.DIGEST)
    owner = make("table_owner")
    for identity in OwnerIdentity.objects.filter(source=source):
        owner_identity_map(identity, user=owner)
    return OwnerIdentity.objects.filter(source=source, user=owner).exists()


def alter(server: PostgresServer, database: str, tables: list[str], round_number: int) -> dict[str, int]:
    kinds: dict[str, int] = {}
    statements = []
    for i, table in enumerate(tables):
        template, kind = ALTERATIONS[i % len(ALTERATIONS)]
        statements.append(template.format(table=table, round=round_number))
        kinds[kind] = kinds.get(kind, 0) + 1
    with server.connect(database) as conn:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement)
    return kinds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=10000, help="tables in the warehouse (default 10000)")
    parser.add_argument("--schemas", type=int, default=8, help="schemas to spread them over (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (changed recrawl, unchanged recrawl); medians kept (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile round 1's recrawl with changes (cProfile), print the top")
    args = parser.parse_args(argv)
    tables = args.tables
    changed = max(3, round(tables * 0.01))
    if changed * (args.rounds + 1) > tables:
        raise SystemExit(f"{args.rounds} rounds of {changed} altered tables need more than {tables} tables")

    server = PostgresServer()
    log(f"starting PostgreSQL on 127.0.0.1:{server.port}")
    server.start()
    try:
        server.create_database("warehouse")
        catalog_url = server.create_database("canon")
        started = time.perf_counter()
        build_warehouse(server, "warehouse", tables, args.schemas)
        log(f"warehouse: {tables} tables x {COLUMNS_PER_TABLE + 1} columns in {time.perf_counter() - started:.1f}s")

        setup_django(catalog_url)
        from catalog.alerts.models import OutboxMessage
        from catalog.history.models import SchemaChange
        from catalog.inventory.models import SchemaVersion
        from catalog.sources.models import Crawl
        from catalog.crawls.services import source_crawl
        from catalog.sources.services import source_create

        source = source_create(name="bench", url=server.url("warehouse"))

        def crawl(label: str, profile: bool = False):
            profiler = None
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            result = source_crawl(source, trigger="bench")
            elapsed = time.perf_counter() - started
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            if result.status != Crawl.SUCCEEDED:
                raise SystemExit(f"{label} failed: {result.error}")
            log(f"{label}: {elapsed:.3f}s ({result.summary()})")
            return result, elapsed

        result, _ = crawl("baseline crawl")
        if result.datasets_added != tables:
            raise SystemExit(f"the baseline crawl added {result.datasets_added} datasets, expected {tables}")
        owner_mapped = add_subscribers(source)

        # Round 0 warms the process up (imports, URL and template caches a long-lived worker already has)
        # and is not counted. Every round alters tables no other round touches.
        order = table_names(tables, args.schemas)
        rounds = args.rounds + 1
        stride = tables // (changed * rounds)
        changed_times, unchanged_times = [], []
        for round_number in range(rounds):
            picked = [order[(i * rounds + round_number) * stride] for i in range(changed)]
            kinds = alter(server, "warehouse", picked, round_number)
            # One message per immediate recipient: the source watcher, the breaking-only watcher (a type
            # change or a dropped column is breaking), the owner, and the schema watcher if bench_0 changed.
            expected_messages = 2 + owner_mapped + any(t.startswith("bench_0.") for t in picked)
            versions_before = SchemaVersion.objects.count()
            label = f"round {round_number}" if round_number else "warm-up round"
            result, elapsed = crawl(f"{label}: recrawl after altering {changed} tables {kinds}",
                                    profile=args.profile and round_number == 1)
            changes = SchemaChange.objects.filter(crawl=result).count()
            messages = OutboxMessage.objects.filter(crawl=result).count()
            new_versions = SchemaVersion.objects.count() - versions_before
            log(f"  wrote {new_versions} schema versions, {changes} schema changes, {messages} outbox messages")
            if (result.datasets_changed, new_versions) != (changed, changed) or changes < changed:
                raise SystemExit(f"expected {changed} changed datasets and versions, got {result.datasets_changed} and {new_versions}")
            if messages != expected_messages:
                raise SystemExit(f"expected {expected_messages} outbox messages, got {messages}")
            result, unchanged_elapsed = crawl(f"{label}: unchanged recrawl")
            if (result.datasets_added, result.datasets_changed, result.datasets_removed) != (0, 0, 0):
                raise SystemExit(f"an unchanged recrawl changed something: {result.summary()}")
            if round_number:
                changed_times.append(elapsed)
                unchanged_times.append(unchanged_elapsed)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        server.stop()

    recrawl_s, unchanged_s = statistics.median(changed_times), statistics.median(unchanged_times)
    print(f"drift tables={tables} changed={changed} recrawl_s={recrawl_s:.3f} unchanged_recrawl_s={unchanged_s:.3f} "
          f"ratio={recrawl_s / unchanged_s:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
