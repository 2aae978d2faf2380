"""The index stays fresh without rebuilds: a crawl, a description edit, an owner mapping, a definition saved or deleted
updates only the documents of what changed. `reindex` rebuilds everything. On both catalog backends; the warehouse
crawled is a real PostgreSQL database."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.connectors.base import ColumnMeta, DatasetMeta, Extraction
from catalog.core.searchindex import dotted

from catalog.inventory.models import Column, Dataset, OwnerIdentity
from catalog.inventory.services import column_describe, dataset_describe, owner_identity_map
from catalog.inventory.services.apply import inventory_apply_extraction
from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_delete, metric_set_status, metric_update
from catalog.search import index
from catalog.search.index import search_index_source
from catalog.search.models import SearchAlias, SearchDocument, SearchName
from catalog.search.rebuild import search_counts, search_rebuild
from catalog.crawls.services import source_crawl
from catalog.sources.models import Crawl
from catalog.sources.services import source_create
from tests.search.support import add_dataset, add_metric, hits, titles
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    crawl = source_crawl(source)
    assert crawl.status == "succeeded", crawl.error
    return source


def documents(kind):
    return SearchDocument.objects.filter(kind=kind)


def test_a_first_crawl_indexes_every_dataset_column_and_owner(shop):
    assert documents("dataset").count() == Dataset.objects.count() == 7
    assert documents("column").count() == Column.objects.count()
    assert documents("owner").count() == OwnerIdentity.objects.count() == 2
    assert titles("customers")[0] == "sales.customers"
    assert titles("order lines")[0] == "sales.Order Lines"  # a quoted, spaced name
    assert titles("unit price")[0] == "Order Lines.unitPrice"
    assert hits("lower cased")[0].title == "customers.email"  # its comment: "Lower-cased at sign-up"
    assert titles("sales_team", kind="owner") == ["sales_team"]
    assert titles("customers", owner="sales_team", kind="dataset") == ["sales.customers"]


def test_a_crawl_that_adds_and_removes_columns_and_datasets_updates_just_those(shop, warehouse):
    orders_docs = set(documents("column").filter(dataset__name="orders").values_list("id", flat=True))
    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN loyalty_tier text")
    warehouse.execute("COMMENT ON COLUMN sales.customers.loyalty_tier IS 'Bronze, silver or gold, from the rewards programme'")
    warehouse.execute("ALTER TABLE sales.customers DROP COLUMN profile")
    warehouse.execute("CREATE TABLE sales.refunds (refund_id bigint, order_id bigint)")
    warehouse.execute("DROP TABLE scratch.tmp_import")
    assert source_crawl(shop).status == "succeeded"

    assert titles("loyalty_tier")[0] == "customers.loyalty_tier"
    assert hits("rewards programme")[0].title == "customers.loyalty_tier"
    assert SearchName.objects.filter(key="loyaltytier").exists()
    assert "customers.profile" not in titles("profile")
    assert not SearchName.objects.filter(key="profile").exists()  # no document has that name any more
    assert titles("refunds")[0] == "sales.refunds"
    removed = hits("tmp_import")
    assert removed[0].title == "scratch.tmp_import" and removed[0].label == "removed"
    # Datasets the crawl did not change kept their documents.
    assert set(documents("column").filter(dataset__name="orders").values_list("id", flat=True)) == orders_docs


def test_an_unchanged_recrawl_leaves_the_index_alone(shop):
    before = list(SearchDocument.objects.order_by("id").values_list("id", "weight"))
    assert index.search_index_crawl(shop) == 0
    assert source_crawl(shop).status == "succeeded"
    assert list(SearchDocument.objects.order_by("id").values_list("id", "weight")) == before


def test_columns_refiled_without_a_schema_change_are_indexed_again():
    """A crawl that corrects a column's family (the connector now files a domain "year" by its base type,
    the schema unchanged) counts the dataset as changed for search: its documents are made again once."""
    source = source_create(name="domains", url="postgresql://reader:unused@127.0.0.1:1/domains")

    def crawl(paid_in_family):
        columns = [ColumnMeta("id", "integer", 1, native_id="1"), ColumnMeta("paid_in", "year", 2, native_id="2", type_family=paid_in_family)]
        extraction = Extraction(datasets=[DatasetMeta(schema="public", name="payment", columns=columns)], schemas=["public"])
        result = inventory_apply_extraction(source, Crawl.objects.create(source=source, started_at=timezone.now()), extraction,
                                            now=timezone.now())
        return index.search_index_crawl(source, result)

    assert crawl("") == 3  # the dataset and its two columns
    assert crawl("integer") == 3  # refiled: made again, though its fingerprint (the search stamp) did not move
    assert crawl("integer") == 0  # filed already: nothing to do


def test_an_index_that_lost_documents_heals_on_the_next_crawl(shop):
    SearchDocument.objects.filter(kind__in=["dataset", "column"], dataset__name="orders").delete()
    assert "sales.orders" not in titles("orders")
    assert source_crawl(shop).status == "succeeded"
    assert titles("orders", kind="dataset")[0] == "sales.orders"
    assert documents("column").filter(dataset__name="orders").count() == 5


def test_description_edits_are_searchable_at_once(shop, plain_user):
    orders = Dataset.objects.get(name="orders")
    dataset_describe(orders, description="Every **purchase** ever placed, including ones later cancelled.", user=plain_user)
    found = hits("cancelled purchase")
    assert found[0].title == "sales.orders"
    assert "<mark>purchase</mark>" in found[0].snippet_html and "**" not in found[0].snippet
    column = orders.columns.get(name="amount")
    column_describe(column, description="Gross, in the shop's currency, before any refund", user=plain_user)
    assert hits("gross currency")[0].title == "orders.amount"


def test_owner_mapping_updates_the_owner_document(shop, plain_user):
    identity = OwnerIdentity.objects.get(name="sales_team")
    owner_identity_map(identity, user=plain_user, email="sales-desk@example.com")
    found = hits("sales desk", kind="owner")
    assert [h.title for h in found] == ["sales_team"]
    assert hits("sales_team", kind="owner")[0].subtitle == "owner in shop · 1 dataset · bo"


def test_definitions_follow_their_edits_status_and_deletion(source, author):
    add_dataset(source, "sales", "orders", [("order_id", "bigint"), ("amount", "numeric")])
    unused_weight = SearchDocument.objects.get(kind="dataset", name="orders").weight
    definition = add_metric(author, source, "gross_sales", title="Gross sales", sql="SELECT sum(amount) FROM sales.orders",
                            tags=["finance"], synonyms=["turnover"])
    assert SearchDocument.objects.get(kind="dataset", name="orders").weight > unused_weight  # a definition uses it now
    assert titles("turnover")[0] == "Gross sales"
    assert hits("finance", kind="tag")[0].subtitle == "tag · 1 definition"

    metric_update(definition, user=author, data={"description": "Money taken at the till, refunds not deducted",
                                                 "synonyms": ["takings"], "tags": ["sales"]})
    assert titles("till refunds")[0] == "Gross sales"
    assert titles("takings")[0] == "Gross sales"
    assert "Gross sales" not in titles("turnover")
    assert not SearchName.objects.filter(key="turnover").exists()
    assert hits("finance", kind="tag")[0].subtitle == "tag · 0 definitions"

    metric_set_status(definition, user=author, status=MetricDefinition.CERTIFIED)
    found = hits("gross sales")[0]
    assert (found.title, found.label) == ("Gross sales", "certified")

    metric_delete(definition, user=author)
    assert "Gross sales" not in titles("gross sales")
    assert not SearchAlias.objects.exists()
    assert SearchDocument.objects.get(kind="dataset", name="orders").weight == unused_weight
    assert hits("sales", kind="tag")[0].subtitle == "tag · 0 definitions"


def test_a_crawl_too_big_for_its_transaction_hands_indexing_to_a_task(shop, warehouse, settings, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    from catalog.search.tasks import search_index_source_task

    queued = []
    monkeypatch.setattr(search_index_source_task, "apply_async", lambda args=(), kwargs=None, **kw: queued.append(list(args)))
    settings.CANON_SEARCH_SYNC_DOCUMENTS = 3
    warehouse.execute("CREATE TABLE sales.returns (return_id bigint, order_id bigint, reason text)")
    with django_capture_on_commit_callbacks(execute=True):
        assert source_crawl(shop).status == "succeeded"
    assert queued == [[shop.pk]]
    assert titles("returns", kind="dataset") == []  # not yet
    assert search_index_source(shop.pk) == 4  # the dataset and its three columns: only what was stale
    assert titles("returns", kind="dataset") == ["sales.returns"]
    assert search_index_source(shop.pk) == 0  # a redelivered task finds nothing stale


def test_a_big_crawl_whose_task_cannot_be_queued_is_indexed_by_the_crawl_itself(shop, warehouse, settings, monkeypatch,
                                                                                django_capture_on_commit_callbacks):
    """Search must not wait for a later crawl because the broker was down at this one's commit."""
    from catalog.search.tasks import search_index_source_task

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(search_index_source_task, "apply_async", broker_down)
    settings.CANON_SEARCH_SYNC_DOCUMENTS = 3
    warehouse.execute("CREATE TABLE sales.returns (return_id bigint, order_id bigint, reason text)")
    with django_capture_on_commit_callbacks(execute=True):
        assert source_crawl(shop).status == "succeeded"
    assert titles("returns", kind="dataset") == ["sales.returns"]


def test_reindex_rebuilds_everything_with_a_progress_bar(shop, author):
    add_metric(author, shop, "order_count", title="Orders placed", sql="SELECT count(*) FROM sales.orders", synonyms=["orders_placed"])
    expected = {kind: SearchDocument.objects.filter(kind=kind).count() for kind in ("dataset", "column", "metric", "owner", "tag")}
    assert expected == search_counts()
    names = set(SearchName.objects.values_list("key", "words"))
    SearchDocument.objects.filter(kind="column").delete()

    out = io.StringIO()
    call_command("reindex", stdout=out)
    text = out.getvalue()
    total = sum(expected.values())
    assert f"] 100% {total:,}/{total:,} documents" in text and "[------------------------------]   0%" in text
    assert f"Indexed {total:,} documents" in text
    assert {kind: SearchDocument.objects.filter(kind=kind).count() for kind in expected} == expected
    assert set(SearchName.objects.values_list("key", "words")) == names
    assert titles("orders placed")[0] == "Orders placed"
    assert search_rebuild() == total  # again, from a full index: same result
    assert titles("email")[0] == "customers.email"


def test_a_rebuild_spells_paths_and_links_as_each_name_alone_would(source):
    """The rebuild splits a dataset's names once for all its columns and reverses its page's path once per batch:
    every document still carries the path dotted() gives its names and the link reverse() gives its page."""
    odd = add_dataset(source, "Sales Mart", "OrderLines2024", [("unitPrice", "numeric"), ("__", "text"), ("Ship Date", "date")],
                      description="Lines of orders")
    plain = add_dataset(source, "", "x", [("id", "integer")])
    search_rebuild()
    for dataset in (odd, plain):
        page = reverse("dataset-detail", args=[dataset.pk])
        document = SearchDocument.objects.get(kind="dataset", object_id=dataset.pk)
        assert (document.path, document.url) == (dotted(source.name, dataset.schema_name, dataset.name), page)
        for column in dataset.columns.all():
            document = SearchDocument.objects.get(kind="column", object_id=column.pk)
            assert document.path == dotted(source.name, dataset.schema_name, dataset.name, column.name)
            assert document.url == f"{page}#col-{column.pk}"
    assert SearchDocument.objects.get(kind="column", dataset_id=odd.pk, name="unitPrice").path == "shop.salesmart.orderlines2024.unitprice"
    assert titles("ship date")[0] == "OrderLines2024.Ship Date"
