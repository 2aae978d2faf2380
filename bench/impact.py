"""Column lineage against the table-level lineage it extends, and the impact check of a migration.

    .venv/bin/python bench/impact.py --tables 10000 --views 2000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer) for the catalog and crawls into it a
warehouse described by a hand-made connector (no warehouse server: lineage reads only the catalog, so what
is timed is the same): N tables of 12 columns over a few schemas (some quoted, mixed-case), and V views
as PostgreSQL prints them (every name qualified): plain selects with a filter, joins, CTEs with
aggregates, unions, expressions, `t.*`, and a fifth reading another view. Then, each best of a few runs,
each from no edges and with every parse cache cold, as after a first crawl:

Wall time swings with whatever else the machine runs; each run also logs the CPU time this process spent
(sqlglot's work, not the catalog PostgreSQL's), which does not, and the CPU ratio of the best runs.

- table_level_s: the lineage step as it was, table edges only (`lineage_refresh(source, columns=False)`);
- lineage_s: the lineage step now, table and column edges (`lineage_refresh(source)`);
- an unchanged refresh, which must derive no view's columns again (printed, and checked);
- check_p95_ms: `impact_check_ddl` of a 20-statement migration (drops, renames, retypes of columns views
  read, a dropped view), p95 of the runs.

Progress lines go to stdout; the LAST line is, exactly:

    impact views=V lineage_s=.. table_level_s=.. ratio=.. check_p95_ms=..
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import PostgresServer  # noqa: E402

COLUMNS = ["id", "customer_id", "account_code", "status", "amount", "quantity", "price", "is_active", "created_at",
           "updated_at", "Region", "note"]
TYPES = ["bigint", "bigint", "varchar(32)", "text", "numeric(12,2)", "integer", "double precision", "boolean",
         "timestamp with time zone", "timestamp without time zone", "text", "varchar(500)"]


def setup_django(catalog_url: str) -> None:
    from cryptography.fernet import Fernet

    os.environ["DATABASE_URL"] = catalog_url
    os.environ["CANON_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["CANON_VAR_DIR"] = tempfile.mkdtemp(prefix="canon-bench-var-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "catalog.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def table_name(i: int, schemas: int) -> tuple[str, str]:
    schema = f"bench_{i % schemas}" if i % 10 else "Sales Ops"  # one table in ten in a quoted, mixed-case schema
    return schema, (f"t_{i}" if i % 7 else f"Orders_{i}")


def quoted(name: str) -> str:
    return name if name.islower() and name.replace("_", "").isalnum() else '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quoted(schema)}.{quoted(name)}"


def view_sql(k: int, rng: random.Random, tables: list[tuple[str, str]], views: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """A view's SQL as pg_get_viewdef prints it, and its output columns."""
    a, b = rng.sample(tables, 2)
    ta, tb = qualified(*a), qualified(*b)
    shape = k % 6
    if shape == 5 and views:
        v = views[rng.randrange(len(views))]
        first = v[1][0]
        if "amount" in v[1]:
            return (f" SELECT v.{first},\n    v.amount * 2 AS doubled\n   FROM {qualified(*v[0])} v\n  WHERE v.{first} IS NOT NULL;",
                    [first, "doubled"])
        return f" SELECT v.{first}\n   FROM {qualified(*v[0])} v;", [first]
    if shape == 0:
        return (f" SELECT x.id,\n    x.customer_id,\n    x.amount,\n    x.status\n   FROM {ta} x\n  WHERE x.is_active AND x.\"Region\" = 'emea'::text;",
                ["id", "customer_id", "amount", "status"])
    if shape == 1:
        return (f" SELECT x.id,\n    y.note,\n    x.amount + y.price AS total\n   FROM {ta} x\n     JOIN {tb} y ON y.customer_id = x.customer_id;",
                ["id", "note", "total"])
    if shape == 2:
        return (f" WITH per AS (\n         SELECT x.customer_id,\n            sum(x.amount) AS amount\n           FROM {ta} x\n"
                f"          GROUP BY x.customer_id\n        )\n SELECT per.customer_id,\n    per.amount,\n    upper(c.account_code) AS code\n"
                f"   FROM per\n     LEFT JOIN {tb} c ON c.id = per.customer_id;", ["customer_id", "amount", "code"])
    if shape == 3:
        return (f" SELECT x.id,\n    x.amount\n   FROM {ta} x\nUNION ALL\n SELECT y.id,\n    y.price AS amount\n   FROM {tb} y;",
                ["id", "amount"])
    return (f" SELECT x.*\n   FROM {ta} x\n  WHERE x.created_at > (now() - '7 days'::interval);", list(COLUMNS))


def build_extraction(n_tables: int, n_views: int, schemas: int, seed: int = 7):
    from catalog.connectors import DatasetMeta, Extraction
    from catalog.connectors.base import ColumnMeta

    rng = random.Random(seed)
    tables = [table_name(i, schemas) for i in range(n_tables)]
    datasets = [DatasetMeta(schema=s, name=n, columns=[ColumnMeta(name=c, data_type=t, position=p)
                                                        for p, (c, t) in enumerate(zip(COLUMNS, TYPES), 1)]) for s, n in tables]
    views: list[tuple[tuple[str, str], list[str]]] = []
    for k in range(n_views):
        sql, outputs = view_sql(k, rng, tables, views)
        name = (f"bench_{k % schemas}", f"v_{k}")
        views.append((name, outputs))
        datasets.append(DatasetMeta(schema=name[0], name=name[1], kind="view", definition=sql,
                                    columns=[ColumnMeta(name=c, data_type="text", position=p) for p, c in enumerate(outputs, 1)]))
    schemas_seen = sorted({d.schema for d in datasets})
    return Extraction(schemas=schemas_seen, datasets=datasets), tables, views


def migration(rng: random.Random, tables, views, statements: int = 20) -> str:
    """Drops, renames and retypes of columns views read, and one dropped view: what a release might carry."""
    lines, used = [], set()
    while len(lines) < statements - 1:
        schema, name = rng.choice(tables[: max(len(tables) // 5, 2)])
        column = rng.choice(["amount", "status", "note", "customer_id", "price", "account_code"])
        if (schema, name, column) in used:
            continue
        used.add((schema, name, column))
        target = qualified(schema, name)
        kind = len(lines) % 3
        if kind == 0:
            lines.append(f"ALTER TABLE {target} DROP COLUMN {column};")
        elif kind == 1:
            lines.append(f"ALTER TABLE {target} RENAME COLUMN {column} TO {column}_v2;")
        else:
            lines.append(f"ALTER TABLE {target} ALTER COLUMN {column} TYPE text;")
    lines.append(f"DROP VIEW {qualified(*views[0][0])};")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=10000)
    parser.add_argument("--views", type=int, default=2000)
    parser.add_argument("--schemas", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="lineage runs of each kind, best kept (default 3)")
    parser.add_argument("--checks", type=int, default=40, help="impact checks of the migration (default 40)")
    parser.add_argument("--profile", action="store_true", help="profile one impact check with cProfile, print the top")
    parser.add_argument("--profile-lineage", action="store_true", help="profile one lineage run with columns, print the top")
    args = parser.parse_args(argv)

    server = PostgresServer()
    log(f"starting PostgreSQL on 127.0.0.1:{server.port}")
    server.start()
    try:
        warehouse_url = server.create_database("warehouse")  # named by the source; never read (the connector is hand-made)
        setup_django(server.create_database("canon"))
        from django.db import connection, transaction

        from catalog.connectors import Connector
        from catalog.core.sourceurl import parse_source_url
        from catalog.crawls.services import source_crawl
        from catalog.impact.services import impact_check_ddl
        from catalog.lineage import columns as column_lineage
        from catalog.lineage import sql as sql_lineage
        from catalog.lineage.models import ColumnLineageEdge, ColumnLineageState, LineageEdge
        from catalog.lineage.services import lineage_forget_parses, lineage_refresh
        from catalog.sources.services import source_create

        extraction, tables, views = build_extraction(args.tables, args.views, args.schemas)

        class HandMade(Connector):
            schemes = ()

            def extract(self, include=None, exclude=None):
                return extraction

        source = source_create(name="bench", url=warehouse_url)
        started = time.perf_counter()
        crawl = source_crawl(source, connector=HandMade(parse_source_url(warehouse_url)))
        assert crawl.status == "succeeded", crawl.error
        log(f"first crawl: {args.tables} tables, {args.views} views in {time.perf_counter() - started:.1f}s "
            f"({LineageEdge.objects.count()} table edges, {ColumnLineageEdge.objects.count()} column edges, "
            f"{ColumnLineageState.objects.exclude(table_level_reason='').count()} views at table level)")
        for reason in sorted(set(ColumnLineageState.objects.exclude(table_level_reason="").values_list("table_level_reason", flat=True)))[:5]:
            log(f"  table level only: {reason}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        def cold() -> None:
            """As after a first crawl: no edges, no parse remembered."""
            LineageEdge.objects.filter(source=source).delete()
            ColumnLineageEdge.objects.filter(source=source).delete()
            ColumnLineageState.objects.filter(source=source).delete()
            lineage_forget_parses()  # the parse memo and the parses remembered (parse_view)
            sql_lineage.view_upstreams.cache_clear()
            column_lineage._lineage.cache_clear()

        cpu_of: dict[bool, list[float]] = {False: [], True: []}

        def timed(columns: bool) -> float:
            with transaction.atomic():
                cold()
                begun, cpu = time.perf_counter(), time.process_time()
                if columns and args.profile_lineage:
                    profiler = cProfile.Profile()
                    result = profiler.runcall(lineage_refresh, source, columns=columns)
                    pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_TOP", "35")))
                else:
                    result = lineage_refresh(source, columns=columns)
                elapsed, cpu = time.perf_counter() - begun, time.process_time() - cpu
                transaction.set_rollback(True)
            cpu_of[columns].append(cpu)
            log(f"{'lineage with columns' if columns else 'table-level lineage'}: {elapsed:.3f}s, {cpu:.3f}s CPU in this process "
                f"({result.views} views, {result.edges} table edges, {result.columns_derived} derived, {result.table_level} table level)")
            return elapsed

        table_level, full = [], []
        for _ in range(max(args.runs, 1)):
            table_level.append(timed(False))
            full.append(timed(True))
        log(f"CPU in this process (the catalog's PostgreSQL not counted), best of each: with columns {min(cpu_of[True]):.3f}s, "
            f"table level {min(cpu_of[False]):.3f}s, ratio {min(cpu_of[True]) / min(cpu_of[False]):.2f}")
        again = lineage_refresh(source)
        log(f"unchanged refresh: {again.columns_derived} views derived again")
        assert again.columns_derived == 0, "an unchanged catalog derives no view again"

        text = migration(random.Random(11), tables, views)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(impact_check_ddl, source, text)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        times = []
        answer = None
        for _ in range(max(args.checks, 1)):
            begun = time.perf_counter()
            answer = impact_check_ddl(source, text)
            times.append((time.perf_counter() - begun) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        log(f"impact check of {text.count(';')} statements: median {statistics.median(times):.1f} ms, "
            f"{len(answer.changes)} changes, {len(answer.impacts)} objects would break")
        lineage_s, table_level_s = min(full), min(table_level)
        print(f"impact views={args.views} lineage_s={lineage_s:.3f} table_level_s={table_level_s:.3f} "
              f"ratio={lineage_s / table_level_s:.2f} check_p95_ms={p95:.1f}", flush=True)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
