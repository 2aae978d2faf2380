"""Lineage edges refreshed by each crawl, shown on the dataset page and in the API.

PostgreSQL, MariaDB and DuckDB are real; the parse-failure case feeds the crawl a
hand-made extraction, because every real engine refuses to store SQL it cannot parse.
"""

import sqlite3

import duckdb
import pytest

from catalog.connectors import Connector, DatasetMeta, Extraction
from catalog.connectors.base import ColumnMeta
from catalog.connectors.snowflake import SnowflakeConnector
from catalog.core.sourceurl import parse_source_url
from catalog.inventory.models import Dataset
from catalog.lineage.models import LineageEdge
from catalog.history.models import SchemaChange
from catalog.lineage.selectors import lineage_downstream, lineage_impacts, lineage_upstream
from catalog.sources.models import Crawl
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.connectors.mysql_shop import build_mysql_shop
from tests.connectors.snowflake_support import emulate
from tests.shop import build_real_warehouse, build_shop

pytestmark = pytest.mark.django_db


def _edges(source):
    return sorted(
        (f"{e.downstream.schema_name}.{e.downstream.name}", e.upstream_name, e.upstream_id is not None)
        for e in LineageEdge.objects.filter(source=source).select_related("downstream")
    )


def _ds(source, schema, name):
    return Dataset.objects.get(source=source, schema_name=schema, name=name)


@pytest.fixture
def pg_source(warehouse):
    build_shop(warehouse)
    warehouse.execute("CREATE VIEW analytics.top_big_orders AS SELECT order_id FROM analytics.big_orders ORDER BY amount DESC LIMIT 10")
    return source_create(name="shop", url=warehouse.url)


def test_postgres_views_and_materialized_views_get_their_upstreams(pg_source):
    crawl = source_crawl(pg_source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert _edges(pg_source) == [
        ("analytics.big_orders", "sales.orders", True),
        ("analytics.revenue_by_day", "sales.orders", True),
        ("analytics.top_big_orders", "analytics.big_orders", True),
    ]
    orders = _ds(pg_source, "sales", "orders")
    down = [(n.depth, n.name) for n in lineage_downstream(orders)]
    assert down == [(1, "analytics.big_orders"), (1, "analytics.revenue_by_day"), (2, "analytics.top_big_orders")]
    top = _ds(pg_source, "analytics", "top_big_orders")
    assert [(n.depth, n.name) for n in lineage_upstream(top)] == [(1, "analytics.big_orders"), (2, "sales.orders")]
    assert lineage_upstream(orders) == []


def test_an_unchanged_recrawl_keeps_the_same_edges_and_a_dropped_view_loses_them(pg_source, warehouse):
    source_crawl(pg_source)
    before = set(LineageEdge.objects.values_list("id", flat=True))
    source_crawl(pg_source)
    assert set(LineageEdge.objects.values_list("id", flat=True)) == before
    warehouse.execute("DROP VIEW analytics.top_big_orders")
    warehouse.execute("DROP MATERIALIZED VIEW analytics.revenue_by_day")
    assert source_crawl(pg_source).status == Crawl.SUCCEEDED
    assert _edges(pg_source) == [("analytics.big_orders", "sales.orders", True)]


def test_a_table_the_catalog_does_not_hold_stays_a_name(pg_source, warehouse):
    pg_source.exclude_schemas = ["sales"]
    pg_source.save()
    source_crawl(pg_source)
    assert ("analytics.big_orders", "sales.orders", False) in _edges(pg_source)
    big = _ds(pg_source, "analytics", "big_orders")
    assert [(n.name, n.dataset) for n in lineage_upstream(big)] == [("sales.orders", None)]


def test_dataset_page_and_api_show_upstream_and_downstream(client, pg_source):
    source_crawl(pg_source)
    orders, big = _ds(pg_source, "sales", "orders"), _ds(pg_source, "analytics", "big_orders")
    page = client.get(orders.get_absolute_url()).content.decode()
    assert "<h2>Lineage</h2>" in page
    assert f'<a href="{big.get_absolute_url()}">analytics.big_orders</a>' in page
    assert "read by, 2 hops away" in page  # top_big_orders, through big_orders
    page = client.get(big.get_absolute_url()).content.decode()
    assert f'<a href="{orders.get_absolute_url()}">sales.orders</a>' in page

    body = client.get(f"/api/datasets/{big.pk}/").json()
    assert [(n["depth"], n["name"], n["id"]) for n in body["lineage"]["upstream"]] == [(1, "sales.orders", orders.pk)]
    assert [n["name"] for n in body["lineage"]["downstream"]] == ["analytics.top_big_orders"]
    assert body["lineage"]["upstream"][0]["url"].endswith(f"/api/datasets/{orders.pk}/")
    assert body["lineage"]["derived_from"] == {"origin": "warehouse", "id": "", "compiled_sql": True}
    assert client.get(f"/api/datasets/{orders.pk}/").json()["lineage"]["derived_from"] is None, "a table reads nothing"
    plain = client.get(_ds(pg_source, "scratch", "tmp_import").get_absolute_url()).content.decode()
    assert "<h2>Lineage</h2>" not in plain, "no section for a dataset without lineage"


def test_views_in_any_schema_read_tables_in_any_schema_quoted_or_not(warehouse):
    """The views of a warehouse laid out as public sample databases are: a view in "Reporting" reads public.payment
    (never reporting.payment, a table of a lower-case schema of the same letters), and a change to public.payment
    names the views it breaks."""
    build_real_warehouse(warehouse)
    source = source_create(name="real", url=warehouse.url)
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert _edges(source) == [
        ("Reporting.Monthly Revenue", "public.payment", True),
        ("Reporting.ledger_totals", "billing.ledger", True),
        ("Reporting.payments_by_invoice", "billing.Invoice", True),
        ("Reporting.payments_by_invoice", "public.payment", True),
        ("billing.open_invoices", "billing.Invoice", True),
        ("billing.open_invoices", "billing.rates", True),
        ("billing.paid", "public.payment", True),
        ("public.revenue_summary", "Reporting.Monthly Revenue", True),
    ]
    payment = _ds(source, "public", "payment")
    assert [(n.depth, n.name) for n in lineage_downstream(payment)] == [
        (1, "Reporting.Monthly Revenue"), (1, "Reporting.payments_by_invoice"), (1, "billing.paid"), (2, "public.revenue_summary"),
    ]
    assert lineage_downstream(_ds(source, "reporting", "payment")) == []
    assert all(not d.warnings for d in Dataset.objects.filter(source=source)), "every view parsed"

    warehouse.execute("ALTER TABLE public.payment ADD COLUMN note text")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    change = SchemaChange.objects.get(dataset=payment)
    assert change.describe() == "column added note (text)"
    assert [name for _, name in lineage_impacts([payment.pk])[payment.pk]] == [
        "Reporting.Monthly Revenue", "Reporting.payments_by_invoice", "billing.paid", "public.revenue_summary",
    ]


def test_mariadb_views_with_a_cte_and_quoted_names(mariadb, mariadb_database):
    build_mysql_shop(mariadb, mariadb_database)
    source = source_create(name="mshop", url=mariadb.url(mariadb_database))
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    db = mariadb_database
    assert _edges(source) == [
        (f"{db}.Customer Orders", f"{db}.customers", True),
        (f"{db}.Customer Orders", f"{db}.orders", True),
        (f"{db}.big_orders", f"{db}.orders", True),
        (f"{db}.broken", f"{db}.doomed", False),  # its SQL is still readable; the table it reads is gone
    ]
    assert any("references invalid table" in w for w in crawl.warnings), "the broken view is reported, the crawl goes on"


def test_mariadb_views_reading_another_database(mariadb, mariadb_database):
    """MariaDB prints every table of a view's SQL with its database: a view reads the other database's table,
    not the same-named one beside it."""
    db, crm = mariadb_database, f"{mariadb_database}_crm"
    mariadb.execute(f"CREATE DATABASE `{crm}`")
    try:
        mariadb.execute(f"""
            CREATE TABLE `{crm}`.`Customers` (id INT PRIMARY KEY, email VARCHAR(100));
            CREATE TABLE `{db}`.`Customers` (id INT PRIMARY KEY);
            CREATE VIEW `{db}`.`emails` AS SELECT email FROM `{crm}`.`Customers`;
            CREATE VIEW `{crm}`.`ids` AS SELECT c.id FROM `{db}`.`Customers` c
        """)
        source = source_create(name="mcross", url=mariadb.url(db), include=[db, crm])
        crawl = source_crawl(source)
    finally:
        mariadb.execute(f"DROP DATABASE IF EXISTS `{crm}`")
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert _edges(source) == [(f"{db}.emails", f"{crm}.Customers", True), (f"{crm}.ids", f"{db}.Customers", True)]


def test_duckdb_unqualified_names_are_looked_up_in_the_views_schema_then_main(tmp_path):
    path = tmp_path / "schemas.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("""
        CREATE SCHEMA "Analytics";
        CREATE TABLE main.customers (id INT);
        CREATE TABLE main.orders (id INT);
        CREATE TABLE "Analytics".orders (id INT, total INT);
        CREATE VIEW "Analytics".joined AS SELECT o.total FROM orders o JOIN customers c ON c.id = o.id;
    """)
    # What DuckDB itself binds: Analytics.orders (the view's schema holds one), main.customers (it does not).
    assert [d[0] for d in conn.execute('SELECT * FROM "Analytics".joined').description] == ["total"]
    conn.close()
    source = source_create(name="duckschemas", url=f"duckdb://{path}")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    assert _edges(source) == [("Analytics.joined", "Analytics.orders", True), ("Analytics.joined", "main.customers", True)]


def test_sqlite_views_read_their_own_file_in_any_case(tmp_path):
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE "Customers" (id INTEGER PRIMARY KEY, email TEXT);
        CREATE TABLE orders (id INTEGER, customer_id INTEGER);
        CREATE VIEW emails AS SELECT c.email FROM customers c JOIN main.ORDERS o ON o.customer_id = c.id;
    """)
    conn.close()
    source = source_create(name="lite", url=f"sqlite:///{path}")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    assert _edges(source) == [("main.emails", "main.Customers", True), ("main.emails", "main.orders", True)], \
        "named as the catalog spells them"


def test_duckdb_views(tmp_path):
    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("""
        CREATE SCHEMA sales; CREATE SCHEMA "Analytics";
        CREATE TABLE sales.customers (id INT, email VARCHAR);
        CREATE TABLE sales."Order Lines" ("Order ID" INT, qty INT);
        CREATE VIEW "Analytics".emails AS WITH c AS (SELECT id, email FROM sales.customers)
            SELECT c.email, l.qty FROM c JOIN sales."Order Lines" l ON l."Order ID" = c.id;
        CREATE VIEW "Analytics".just_emails AS SELECT email FROM "Analytics".emails;
    """)
    conn.close()
    source = source_create(name="duck", url=f"duckdb://{path}")
    assert source_crawl(source).status == Crawl.SUCCEEDED
    emails = _ds(source, "Analytics", "emails")
    assert [(n.depth, n.name) for n in lineage_upstream(emails)] == [(1, "sales.Order Lines"), (1, "sales.customers")]
    customers = _ds(source, "sales", "customers")
    assert [(n.depth, n.name) for n in lineage_downstream(customers)] == [(1, "Analytics.emails"), (2, "Analytics.just_emails")]


class _HandMadeConnector(Connector):
    """Answers with a view whose SQL sqlglot cannot parse, next to a good one (qualified, as PostgreSQL's connector reads it)."""

    schemes = ()

    def extract(self, include=None, exclude=None):
        col = [ColumnMeta(name="id", data_type="integer", position=1)]
        return Extraction(schemas=["public"], datasets=[
            DatasetMeta(schema="public", name="base", columns=list(col)),
            DatasetMeta(schema="public", name="good", kind="view", columns=list(col), definition="SELECT id FROM public.base"),
            DatasetMeta(schema="public", name="bad", kind="view", columns=list(col), definition="SELECT id FROM WHERE ((("),
        ])


def test_a_view_whose_sql_does_not_parse_gets_a_warning_and_the_crawl_goes_on(warehouse):
    source = source_create(name="odd", url=warehouse.url)
    connector = _HandMadeConnector(parse_source_url(warehouse.url))
    crawl = source_crawl(source, connector=connector)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    bad = _ds(source, "public", "bad")
    assert len(bad.warnings) == 1 and bad.warnings[0].startswith("Lineage: the view's SQL could not be parsed: ")
    assert _edges(source) == [("public.good", "public.base", True)]
    # The warning is replaced, not repeated, by the next crawl.
    source_crawl(source, connector=connector)
    bad.refresh_from_db()
    assert len(bad.warnings) == 1


def test_an_unchanged_recrawl_parses_no_view_and_keeps_a_parse_warning_without_writing_it(warehouse, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import catalog.lineage.services as lineage
    from catalog.inventory.services.apply import DERIVED_WARNING_PREFIXES
    from catalog.lineage import keys
    from catalog.sources.models import SourceState

    assert lineage.PARSE_WARNING.startswith(DERIVED_WARNING_PREFIXES), "apply keeps lineage's warnings on views"
    parsed = []
    real = lineage.view_upstreams
    monkeypatch.setattr(lineage, "view_upstreams", lambda definition, *args: parsed.append(definition) or real(definition, *args))
    lineage.lineage_forget_parses()
    source = source_create(name="odd", url=warehouse.url)
    connector = _HandMadeConnector(parse_source_url(warehouse.url))
    assert source_crawl(source, connector=connector).status == Crawl.SUCCEEDED
    assert len(parsed) == 2 and SourceState.objects.get(source=source).lineage_key == keys.lineage_key(source)

    parsed.clear()
    with CaptureQueriesContext(connection) as queries:
        again = source_crawl(source, connector=connector)
    assert (again.datasets_added, again.datasets_changed, again.datasets_removed) == (0, 0, 0)
    assert parsed == [], "nothing a view depends on moved: no view is parsed again"
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "inventory_dataset" in q["sql"]]
    bad = _ds(source, "public", "bad")
    assert len(bad.warnings) == 1 and bad.warnings[0].startswith(lineage.PARSE_WARNING), "the parse warning stays"
    assert _edges(source) == [("public.good", "public.base", True)]

    # A new Canon (another parser, another way to derive edges) derives them again, once.
    monkeypatch.setattr(keys, "LINEAGE_VERSION", keys.LINEAGE_VERSION + 1)
    source_crawl(source, connector=connector)
    assert len(parsed) == 2
    source_crawl(source, connector=connector)
    assert len(parsed) == 2


def test_a_changed_crawl_parses_only_the_views_whose_sql_it_has_not_seen(pg_source, warehouse, monkeypatch):
    import catalog.lineage.services as lineage

    parsed = []
    real = lineage.view_upstreams
    monkeypatch.setattr(lineage, "view_upstreams", lambda definition, *args: parsed.append(definition) or real(definition, *args))
    lineage.lineage_forget_parses()
    source_crawl(pg_source)
    assert len(parsed) == 3  # big_orders, revenue_by_day, top_big_orders
    parsed.clear()
    warehouse.execute("ALTER TABLE sales.orders ADD COLUMN note text")
    warehouse.execute("CREATE VIEW analytics.notes AS SELECT note FROM sales.orders")
    crawl = source_crawl(pg_source)
    assert (crawl.datasets_added, crawl.datasets_changed) == (1, 1)
    assert len(parsed) == 1 and "FROM sales.orders" in parsed[0] and "note" in parsed[0], "only the new view is parsed"
    assert ("analytics.notes", "sales.orders", True) in _edges(pg_source)
    assert len(_edges(pg_source)) == 4


def test_a_view_whose_table_appears_later_is_resolved_by_that_crawl(pg_source, warehouse):
    pg_source.exclude_schemas = ["sales"]
    pg_source.save()
    source_crawl(pg_source)
    assert ("analytics.big_orders", "sales.orders", False) in _edges(pg_source)
    pg_source.exclude_schemas = []
    pg_source.save()
    crawl = source_crawl(pg_source)
    assert crawl.datasets_added > 0
    assert ("analytics.big_orders", "sales.orders", True) in _edges(pg_source)


def test_snowflake_views_through_fakesnow(monkeypatch):
    """fakesnow (a Snowflake emulator, in its own venv: tests/connectors/snowflake_support.py) stands in for an
    account; the connector's extraction there is crawled here. Unquoted names fold to upper case."""
    url = "snowflake://canon:pw@acme/shop?warehouse=WH"
    [answer] = emulate([
        "CREATE SCHEMA SHOP.ANALYTICS",
        "CREATE TABLE SALES.ORDERS (ORDER_ID INT, AMOUNT NUMBER(12,2))",
        "CREATE VIEW ANALYTICS.BIG_ORDERS AS SELECT order_id FROM shop.sales.orders WHERE amount > 100",
    ], [{"url": url, "op": "extract"}], database="SHOP", schema="SALES")
    assert not answer.error, answer.error
    monkeypatch.setattr(SnowflakeConnector, "extract", lambda self, include=None, exclude=None: answer.extraction)
    source = source_create(name="snow", url=url)
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert _edges(source) == [("ANALYTICS.BIG_ORDERS", "SALES.ORDERS", True)]


def test_lineage_reads_a_fixed_number_of_queries_whatever_the_fan_out(client, warehouse):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    warehouse.execute("CREATE TABLE public.few (id int); CREATE TABLE public.many (id int);"
                      "CREATE VIEW public.few_v AS SELECT id FROM public.few;"
                      + "".join(f"CREATE VIEW public.many_v{i} AS SELECT id FROM public.many;" for i in range(25)))
    source = source_create(name="fan", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    counts = {}
    for name, expected in (("few", 1), ("many", 25)):
        dataset = _ds(source, "public", name)
        for path in (dataset.get_absolute_url(), f"/api/datasets/{dataset.pk}/"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200
            counts[(name, path.startswith("/api"))] = len(queries)
        assert len(client.get(f"/api/datasets/{dataset.pk}/").json()["lineage"]["downstream"]) == expected
    assert counts[("few", False)] == counts[("many", False)], counts
    assert counts[("few", True)] == counts[("many", True)], counts


def test_the_parser_is_asked_only_where_there_is_sql_to_read_or_lineage_to_take_back(warehouse, monkeypatch):
    import catalog.lineage.services as lineage

    refreshed = []
    real = lineage.lineage_refresh
    monkeypatch.setattr(lineage, "lineage_refresh", lambda source, **kw: refreshed.append(source.pk) or real(source, **kw))
    warehouse.execute("CREATE TABLE orders (id int PRIMARY KEY, amount numeric)")
    source = source_create(name="tables_only", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    assert refreshed == [], "tables only: no SQL to parse, no edge to take back"
    warehouse.execute("CREATE VIEW big AS SELECT id FROM orders WHERE amount > 100")
    source_crawl(source)
    assert refreshed == [source.pk] and _edges(source) == [("public.big", "public.orders", True)]
    warehouse.execute("DROP VIEW big")
    source_crawl(source)
    assert refreshed == [source.pk, source.pk], "the view is gone: its edges are taken back"
    assert _edges(source) == [] and not LineageEdge.objects.filter(source=source).exists()
    warehouse.execute("ALTER TABLE orders ADD COLUMN note text")
    source_crawl(source)
    assert len(refreshed) == 2, "nothing left to derive or take back"
