"""Usage from PostgreSQL's pg_stat_statements, end to end: a real server, real statements, real crawls."""

import psycopg
import pytest
from django.db import connection

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Column, Dataset
from catalog.sources.services import source_create
from catalog.usage import services as usage_services
from catalog.usage import steps as usage_steps
from catalog.usage.models import ColumnUsage, DatasetUsage, QueryDigest, SourceUsage
from catalog.usage.services import usage_keep_text
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


def run_as(warehouse, role, statements):
    """Run statements as a role of the warehouse (its own connection: pg_stat_statements keys by role)."""
    with psycopg.connect(host=warehouse.server.host, port=warehouse.server.port, user=role, password="pw-analyst",
                         dbname=warehouse.name, autocommit=True) as conn:
        for sql, params in statements:
            conn.execute(sql, params)


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    for role in ("analyst", "finance"):
        if not warehouse.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            warehouse.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-analyst'")
        warehouse.execute(f"GRANT USAGE ON SCHEMA sales TO {role}; GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA sales TO {role}")
    return source_create(name="shop", url=warehouse.url)


def test_without_the_extension_the_source_says_so_and_usage_stays_unknown(shop, client):
    crawl = source_crawl(shop)
    assert crawl.status == "succeeded"
    usage = SourceUsage.objects.get(source=shop)
    assert usage.available is False and "pg_stat_statements is not installed" in usage.note
    assert not DatasetUsage.objects.exists()


def test_reads_per_dataset_and_column_users_and_what_ran_since_the_last_crawl(shop, warehouse, monkeypatch):
    warehouse.execute("CREATE EXTENSION pg_stat_statements")
    warehouse.execute("SELECT pg_stat_statements_reset()")
    orders_by_status = ("SELECT o.amount FROM sales.orders o WHERE o.status = %s", ("paid",))
    run_as(warehouse, "analyst", [orders_by_status] * 3 + [
        ("SELECT c.email, o.amount FROM sales.customers c JOIN sales.orders o ON o.customer_id = c.customer_id", None),
        ("SELECT * FROM sales.orders o, LATERAL ROWS FROM (generate_series(%s::int, %s::int)) g", (1, 2)),  # sqlglot cannot read it
    ])
    run_as(warehouse, "finance", [orders_by_status] * 2 + [("UPDATE sales.orders SET status = %s WHERE order_id = %s", ("x", 0))])
    assert source_crawl(shop).status == "succeeded"

    orders, customers = Dataset.objects.get(name="orders"), Dataset.objects.get(name="customers")
    figures = DatasetUsage.objects.get(dataset=orders)
    # 3 + 2 reads by status, 1 join; the UPDATE writes; the unreadable one is only counted as unparsed.
    assert (figures.queries_30, figures.users_30, figures.writes_30) == (6, 2, 1)
    assert figures.last_used_on is not None
    assert DatasetUsage.objects.get(dataset=customers).queries_30 == 1
    amount = Column.objects.get(dataset=orders, name="amount")
    assert ColumnUsage.objects.get(column_id=amount.pk).queries_30 == 6
    email = Column.objects.get(dataset=customers, name="email")
    assert (ColumnUsage.objects.get(column_id=email.pk).queries_30, ColumnUsage.objects.get(column_id=email.pk).users_30) == (1, 1)
    usage = SourceUsage.objects.get(source=shop)
    assert usage.available and usage.unparsed >= 1 and usage.parsed >= 4
    assert not QueryDigest.objects.exclude(text="").exists(), "no query text is kept unless the source opts in"

    # The next crawl adds only what ran since, and parses no digest it has seen.
    parsed = []
    real = usage_services.statement_use
    monkeypatch.setattr(usage_services, "statement_use", lambda sql, *a: parsed.append(sql) or real(sql, *a))
    run_as(warehouse, "analyst", [orders_by_status] * 4)
    assert source_crawl(shop).status == "succeeded"
    assert DatasetUsage.objects.get(dataset=orders).queries_30 == 10
    assert DatasetUsage.objects.get(dataset=customers).queries_30 == 1
    assert not any("o.status" in sql for sql in parsed), "an unchanged digest is never parsed twice"

    usage_keep_text(shop, keep=True)
    source_crawl(shop)
    kept = QueryDigest.objects.filter(source=shop).exclude(text="").values_list("text", flat=True)
    assert any("FROM sales.orders o WHERE o.status = $1" in t for t in kept)
    usage_keep_text(shop, keep=False)
    assert not QueryDigest.objects.exclude(text="").exists()


def test_a_reader_without_pg_read_all_stats_is_told_what_it_cannot_see(shop, warehouse):
    warehouse.execute("CREATE EXTENSION pg_stat_statements")
    run_as(warehouse, "finance", [("SELECT o.amount FROM sales.orders o WHERE o.status = %s", ("paid",))])
    if not warehouse.execute("SELECT 1 FROM pg_roles WHERE rolname = 'catalog_reader'").fetchone():
        warehouse.execute("CREATE ROLE catalog_reader LOGIN PASSWORD 'pw-reader'")
    warehouse.execute("GRANT USAGE ON SCHEMA sales TO catalog_reader; GRANT SELECT ON ALL TABLES IN SCHEMA sales TO catalog_reader")
    reader = source_create(name="shop-reader", url=warehouse.server.url(warehouse.name, user="catalog_reader", password="pw-reader"))
    assert source_crawl(reader).status == "succeeded"
    usage = SourceUsage.objects.get(source=reader)
    assert usage.available and "hidden from this source's user: grant it pg_read_all_stats" in usage.note
    assert "pw-reader" not in usage.note


@pytest.mark.django_db(transaction=True)
def test_the_history_is_read_before_the_crawls_transaction_and_recorded_in_it(shop, warehouse, monkeypatch):
    warehouse.execute("CREATE EXTENSION pg_stat_statements")
    run_as(warehouse, "analyst", [("SELECT o.amount FROM sales.orders o WHERE o.status = %s", ("paid",))])
    real = usage_steps.history_reader
    seen = []

    def watched(engine):
        reader = real(engine)
        return lambda *a, **k: seen.append(connection.in_atomic_block) or reader(*a, **k)

    monkeypatch.setattr(usage_steps, "history_reader", watched)
    assert source_crawl(shop).status == "succeeded"
    assert seen == [False], "read with no transaction open"
    assert DatasetUsage.objects.get(dataset=Dataset.objects.get(schema_name="sales", name="orders")).queries_30 >= 1
