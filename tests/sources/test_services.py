import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.connectors import connector_for
from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaVersion
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import source_crawl
from catalog.sources.services import SourceError, source_create, source_test_connection
from tests.harness import PostgresServer, _pg_bin
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    return warehouse


@pytest.fixture
def source(shop):
    return source_create(name="shop", url=shop.url)


def _dataset(name, schema="sales"):
    return Dataset.objects.get(schema_name=schema, name=name)


def test_secret_is_encrypted_at_rest_and_masked_for_display(pg, shop):
    source = source_create(name="shop", url=shop.url)
    raw = Source.objects.filter(pk=source.pk).values_list("url_encrypted", "url_display").get()
    assert pg.password not in raw[0] and pg.password not in raw[1]
    assert raw[1] == f"postgresql://postgres:***@127.0.0.1:{pg.port}/{shop.name}"
    assert source.url == shop.url


@pytest.mark.parametrize("url, message", [
    ("mongodb://x:y@h/db", "Unknown URL scheme 'mongodb'"),
    ("not a url", "no scheme"),
    ("postgresql://u:p@h:99999999/db", "port"),
])
def test_unusable_urls_are_refused_with_a_clear_message(url, message):
    with pytest.raises(SourceError, match=message):
        source_create(name="bad", url=url)
    assert not Source.objects.exists()


def test_first_crawl_fills_the_catalog(source):
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert (crawl.datasets_seen, crawl.datasets_added, crawl.datasets_changed, crawl.datasets_removed) == (7, 7, 0, 0)
    assert crawl.columns_seen == Column.objects.count() == 22
    customers = _dataset("customers")
    assert customers.owner.name == "sales_team"
    assert customers.comment == "One row per customer who ever signed up"
    assert customers.column_count == 6
    assert customers.columns.get(name="email").comment == "Lower-cased at sign-up"
    assert _dataset("Order Lines").columns.filter(is_primary_key=True).count() == 2
    assert SchemaVersion.objects.filter(number=1).count() == 7
    source.refresh_from_db()
    assert source.last_success_at == crawl.finished_at
    assert "7 datasets seen, 7 added, 0 changed, 0 removed; 22 columns" in crawl.summary()


def test_crawls_store_every_table_size_and_follow_growth(source, shop):
    """Sizes are read on a second connection and only again for tables that may have moved: stored ones stay true."""
    def real():
        return dict(shop.execute("SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                                 "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND NOT c.relispartition "
                                 "AND n.nspname IN ('sales', 'scratch')").fetchall())

    def stored():
        return {f"{d.schema_name}.{d.name}": d.size_bytes for d in Dataset.objects.filter(kind="table")}

    assert source_crawl(source).status == Crawl.SUCCEEDED
    assert stored() == real() and all(size > 0 for size in stored().values())
    shop.execute("INSERT INTO sales.customers (email) SELECT 'grown' || g FROM generate_series(1, 3000) g")
    shop.execute("SELECT pg_stat_force_next_flush()")
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED and crawl.datasets_changed == 0
    assert stored() == real() and stored()["sales.customers"] > 100_000


def test_unchanged_recrawl_writes_almost_nothing(source):
    source_crawl(source)
    with CaptureQueriesContext(connection) as queries:
        crawl = source_crawl(source)
    assert (crawl.datasets_added, crawl.datasets_changed, crawl.datasets_removed) == (0, 0, 0)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE", "COPY")]
    touched = {w.split()[2 if w.startswith("INSERT") or w.startswith("DELETE") else 1].strip('"') for w in writes}
    assert touched <= {"sources_crawl", "sources_source"}, writes
    assert SchemaVersion.objects.count() == 7


def test_changes_are_applied_in_place_and_descriptions_survive(source, shop):
    source_crawl(source)
    customers = _dataset("customers")
    customers.description = "Written by a person"
    customers.save()
    email = customers.columns.get(name="email")
    email.description = "Who to write to"
    email.save()

    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    shop.execute("ALTER TABLE sales.customers RENAME COLUMN email TO email_address")
    shop.execute("ALTER TABLE sales.customers DROP COLUMN tags")
    shop.execute("ALTER TABLE sales.orders RENAME TO purchases")
    shop.execute("DROP TABLE scratch.tmp_import")
    shop.execute("CREATE TABLE scratch.new_one (id int)")
    crawl = source_crawl(source)

    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    # customers, orders->purchases, and the two views whose SQL now reads sales.purchases
    assert (crawl.datasets_added, crawl.datasets_changed, crawl.datasets_removed) == (1, 4, 1)
    assert "sales.purchases" in Dataset.objects.get(name="big_orders").definition
    customers.refresh_from_db()
    assert customers.description == "Written by a person"
    assert [c.name for c in customers.columns.order_by("position")] == [
        "customer_id", "email_address", "country", "signed_up_at", "profile", "phone"
    ]
    renamed = customers.columns.get(name="email_address")
    assert renamed.pk == email.pk and renamed.description == "Who to write to"
    assert customers.versions.count() == 2
    purchases = Dataset.objects.get(name="purchases")
    assert not Dataset.objects.filter(name="orders").exists(), "a renamed table keeps its identity"
    assert purchases.versions.count() == 2
    assert _dataset("tmp_import", "scratch").removed_at is not None
    assert Dataset.objects.present().count() == 7


def test_dropped_table_that_comes_back_is_the_same_dataset(source, shop):
    source_crawl(source)
    original = _dataset("tmp_import", "scratch")
    shop.execute("DROP TABLE scratch.tmp_import")
    source_crawl(source)
    shop.execute("CREATE TABLE scratch.tmp_import (line text, extra int)")
    crawl = source_crawl(source)
    returned = _dataset("tmp_import", "scratch")
    assert returned.pk == original.pk and returned.removed_at is None
    assert crawl.datasets_added == 1
    assert list(returned.columns.values_list("name", flat=True).order_by("position")) == ["line", "extra"]


def test_statistics_move_without_a_new_version(source, shop):
    source_crawl(source)
    shop.execute("INSERT INTO sales.customers (email) SELECT 'c' || g FROM generate_series(1, 300) g")
    shop.execute("ANALYZE sales.customers")
    if not shop.execute("SELECT 1 FROM pg_roles WHERE rolname = 'finance_team'").fetchone():
        shop.execute("CREATE ROLE finance_team NOLOGIN")
    shop.execute("ALTER TABLE sales.orders OWNER TO finance_team")
    crawl = source_crawl(source)
    assert crawl.datasets_changed == 0
    assert _dataset("customers").row_estimate == 300
    assert _dataset("orders").owner.name == "finance_team"
    assert OwnerIdentity.objects.filter(source=source).count() == 3  # sales_team, postgres, finance_team
    assert SchemaVersion.objects.count() == 7


def test_unreachable_warehouse_fails_cleanly_and_loses_nothing(source, pg):
    source_crawl(source)
    before = list(Dataset.objects.values_list("id", "fingerprint", "removed_at"))
    source.url_encrypted = __import__("catalog.core.crypto", fromlist=["encrypt"]).encrypt(f"postgresql://postgres:{pg.password}@127.0.0.1:1/x")
    source.save()
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED
    assert crawl.error == "could not connect to 127.0.0.1:1: connection refused"
    assert (crawl.datasets_seen, crawl.datasets_removed) == (0, 0)
    assert list(Dataset.objects.values_list("id", "fingerprint", "removed_at")) == before
    source.refresh_from_db()
    assert source.last_crawl == crawl and source.last_success_at is not None


def test_a_failure_while_applying_rolls_everything_back(source, shop, monkeypatch):
    source_crawl(source)
    shop.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    shop.execute("DROP TABLE scratch.tmp_import")
    import catalog.inventory.services.apply as apply

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply, "insert_rows", explode)
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED and "disk full" in crawl.error
    assert Dataset.objects.present().count() == 7
    assert not _dataset("customers").columns.filter(name="phone").exists()
    assert _dataset("customers").versions.count() == 1


def test_narrowing_the_schema_patterns_does_not_remove_what_is_out_of_scope(source):
    source_crawl(source)
    source.include_schemas = ["sales"]
    source.save()
    crawl = source_crawl(source)
    assert crawl.datasets_removed == 0
    assert Dataset.objects.present().count() == 7


def test_test_connection_answers_without_secrets(shop, pg):
    ok, message = source_test_connection(shop.url)
    assert ok and message.startswith("PostgreSQL")
    ok, message = source_test_connection(shop.url.replace(pg.password, "wrong-password-123"))
    assert not ok and "password authentication failed" in message and "wrong-password-123" not in message


def test_a_lost_crawl_does_not_block_crawl_now_forever(source, settings):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.crawls.services import crawl_enqueue

    settings.CANON_CRAWL_TIME_LIMIT = 60
    lost = Crawl.objects.create(source=source, status=Crawl.QUEUED, started_at=timezone.now() - timedelta(hours=1))
    fresh = crawl_enqueue(source)
    assert fresh.pk != lost.pk and fresh.status == Crawl.QUEUED
    lost.refresh_from_db()
    assert lost.status == Crawl.FAILED and lost.error.startswith("lost:")
    assert crawl_enqueue(source).pk == fresh.pk, "a live queued crawl is still reused"


def _recording(url):
    """The source's connector, keeping what the crawl service told it and each answer it gave."""
    from catalog.connectors import connector_for

    connector = connector_for(url)
    connector.calls = []
    extract = connector.extract

    def recorded(request):
        known = dict(request.known)
        answer = extract(request)
        connector.calls.append((known, answer))
        return answer

    connector.extract = recorded
    return connector


def test_a_recrawl_reads_the_columns_of_changed_tables_only(source, shop):
    first = source_crawl(source)
    shop.execute("ALTER TABLE sales.customers ALTER COLUMN country TYPE varchar(3)")
    connector = _recording(shop.url)
    crawl = source_crawl(source, connector=connector)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    (known, answer), = connector.calls
    assert len(known) == 7
    assert [f"{d.schema}.{d.name}" for d in answer.datasets if not d.columns_skipped] == ["sales.customers"]
    assert (crawl.datasets_changed, crawl.columns_seen) == (1, first.columns_seen)
    customers = _dataset("customers")
    assert customers.columns.get(name="country").data_type == "character varying(3)"
    assert customers.versions.count() == 2
    assert all(d.schema_signature for d in Dataset.objects.all())
    assert Column.objects.count() == first.columns_seen


def test_when_the_catalog_moves_under_skipped_columns_everything_is_read_again(source, shop):
    source_crawl(source)
    connector = _recording(shop.url)
    extract = connector.extract

    def racing(request):
        answer = extract(request)
        if len(connector.calls) == 1:  # between reading and applying, the catalog loses a dataset
            _dataset("customers").delete()
        return answer

    connector.extract = racing
    crawl = source_crawl(source, connector=connector)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    assert [len(known) for known, _ in connector.calls] == [7, 0]
    assert not any(d.columns_skipped for d in connector.calls[1][1].datasets)
    customers = _dataset("customers")
    assert [c.name for c in customers.columns.order_by("position")][:2] == ["customer_id", "email"]
    assert crawl.datasets_added == 1


def test_the_connector_state_lives_beside_the_source_row_not_in_it(source):
    """A large warehouse's state is hundreds of kilobytes; pages and alerts load the source with every dataset."""
    from catalog.sources.models import SourceState

    source_crawl(source)
    stored = SourceState.objects.get(source=source).data
    assert stored["postgres_sizes"]["tables"] and stored["postgres_columns_read_at"] > 0
    assert "connector_state" not in {f.name for f in Source._meta.concrete_fields}
    assert source.connector_state == stored


def test_a_warehouse_that_dies_mid_crawl_is_recorded_with_its_whole_message(client):
    """psycopg's message is several lines; the last alone ("before or while processing the request.") says nothing."""
    dying = PostgresServer().start()
    try:
        with dying.connect() as conn:
            conn.execute("CREATE TABLE public.orders (id int)")
        source = source_create(name="dying", url=dying.url(password=dying.password))
        connector = connector_for(source.url, options=source.options)
        connect = connector.connect

        def connect_then_stop():  # the server goes down between connecting and the catalog queries
            conn = connect()
            dying._run([_pg_bin("pg_ctl"), "-D", str(dying.data), "-m", "immediate", "-w", "stop"])
            return conn

        connector.connect = connect_then_stop

        crawl = source_crawl(source, connector=connector)
    finally:
        dying.stop()

    assert crawl.status == Crawl.FAILED
    assert crawl.error == ("consuming input failed: server closed the connection unexpectedly This probably means the "
                           "server terminated abnormally before or while processing the request.")
    assert dying.password not in crawl.error
    page = client.get("/sources/dying/").content.decode()
    assert "server closed the connection unexpectedly This probably means the server terminated abnormally" in page
