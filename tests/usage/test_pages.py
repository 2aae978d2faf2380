"""Usage on pages and in the API: a dataset's figures, the source's note and unparsed share, lists sorted by use,
search ranking well-used datasets higher, and the Unused page ("usage unknown" where there is no history)."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone as dj_timezone
from rest_framework.test import APIClient

from catalog.audit.models import AuditEntry
from catalog.duplicates.models import StoragePrice
from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.inventory.models import Dataset
from catalog.search.index import search_index_datasets
from catalog.search.models import SearchDocument
from catalog.sources.services import source_create
from catalog.usage.models import DatasetUsage, UsageDay
from catalog.usage.services import usage_record, usage_refresh
from tests.metrics.conftest import add_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def used(shop_catalog):
    source, datasets = shop_catalog
    Dataset.objects.filter(pk=datasets["sales.customers"].pk).update(size_bytes=10_000_000_000)
    Dataset.objects.filter(pk=datasets["analytics.orders"].pk).update(size_bytes=2_000_000_000)
    now = dj_timezone.now()
    history = QueryHistory(True, statements=[
        LoggedStatement("d1", "SELECT o.amount FROM sales.orders o WHERE o.status = $1", 40, "analyst"),
        LoggedStatement("d1", "SELECT o.amount FROM sales.orders o WHERE o.status = $1", 20, "finance"),
        LoggedStatement("d2", "SELECT e.event_type FROM sales.events e", 3, "analyst"),
        LoggedStatement("d3", "SELECT FROM WHERE ((", 5, "analyst"),
    ])
    usage_record(source, history, now=now)
    return source, datasets


def test_the_dataset_page_shows_queries_per_day_users_last_read_and_columns(client, used):
    source, datasets = used
    page = client.get(f"/datasets/{datasets['sales.orders'].pk}/").content.decode()
    assert "Queries per day" in page and "2.0 over 30 days" in page and "0.7 over 90 days" in page
    assert "2 in 30 days" in page and "amount" in page and "Columns most read" in page
    assert "Not read in the query history" in client.get(f"/datasets/{datasets['sales.customers'].pk}/").content.decode()


def test_the_source_page_shows_the_unparsed_share_and_a_staff_toggle_for_query_text(client, used, staff):
    source, _ = used
    client.force_login(staff)
    page = client.get("/sources/shop/").content.decode()
    assert "3 distinct statements" in page and "2 understood, 1 not" in page and "33%" in page
    assert "Query text is not kept" in page and "Keep query text" in page
    response = client.post("/usage/sources/shop/query-text/", {"keep": "1"})
    assert response.status_code == 302
    assert "Query text is kept" in client.get("/sources/shop/").content.decode()
    entry = AuditEntry.objects.get(content_type__model="sourceusage")
    assert entry.actor_name == "sam" and entry.parent_type == "sources.source"


def test_no_history_is_usage_unknown_never_unused(client, used):
    lake = source_create(name="lake", url="s3://bucket/data")
    add_dataset(lake, "data", "events", [("id", "bigint")])
    sf = source_create(name="sf", url="snowflake://canon:pw@acme/SHOP")
    add_dataset(sf, "SALES", "BIG", [("id", "NUMBER")])
    lake_dataset = Dataset.objects.get(source=lake)
    assert "Usage unknown" in client.get(f"/datasets/{lake_dataset.pk}/").content.decode()
    page = client.get("/usage/unused/").content.decode()
    assert "sales.customers" in page and "analytics.orders" in page and "sales.orders" not in page.split("Usage unknown")[0]
    assert page.index("sales.customers") < page.index("analytics.orders"), "biggest first"
    assert "1.07 USD" in page, "10 GB (9.31 GiB) in PostgreSQL at CANON_STORAGE_PRICES' 0.115 a GB-month"
    unknown = page.split("<h2>Usage unknown</h2>")[1]
    assert "lake" in unknown and "reads no query history" in unknown and "sf" in unknown and "not been read yet" in unknown
    assert "data.events" not in page.split("<h2>Usage unknown</h2>")[0]


def test_the_unused_page_prices_storage_as_the_duplicates_page_does(client, used, settings):
    settings.CANON_STORAGE_PRICES = {"postgresql": 0.5, "default": 0.01}
    page = client.get("/usage/unused/").content.decode()
    assert "4.66 USD" in page and "0.93 USD" in page, "10 GB and 2 GB at the setting's price for the engine"
    StoragePrice.objects.create(engine="postgresql", usd_per_gb_month=Decimal("2"))
    page = client.get("/usage/unused/").content.decode()
    assert "18.63 USD" in page and "3.73 USD" in page, "a price set in the admin wins, on this page too"


def test_unused_means_not_read_for_the_configured_days(client, used, settings):
    source, datasets = used
    old = dj_timezone.now().date() - timedelta(days=20)
    UsageDay.objects.filter(dataset=datasets["sales.events"]).update(day=old)
    usage_refresh(source, today=dj_timezone.now().date())
    settings.CANON_UNUSED_DAYS = 10
    assert "sales.events" in client.get("/usage/unused/").content.decode()
    settings.CANON_UNUSED_DAYS = 30
    assert "sales.events" not in client.get("/usage/unused/").content.decode()


def test_lists_sort_by_use_and_the_api_says_usage(client, used):
    source, datasets = used
    page = client.get("/datasets/?sort=-reads").content.decode()
    assert page.index("orders") < page.index("events") < page.index("customers")
    api = APIClient()
    ordered = api.get("/api/datasets/?ordering=-usage__queries_30&source=shop").json()["results"]
    assert ordered[0]["qualified_name"] == "sales.orders"
    detail = api.get(f"/api/datasets/{datasets['sales.orders'].pk}/").json()["usage"]
    assert detail["known"] and detail["queries_30"] == 60 and detail["users_30"] == 2 and detail["queries_per_day_30"] == 2.0
    assert [c["column"] for c in detail["columns"]] == ["amount", "status"]


def test_search_ranks_a_dataset_more_people_read_higher(client, used):
    source, datasets = used
    search_index_datasets([d.pk for d in datasets.values()])
    weights = dict(SearchDocument.objects.filter(kind="dataset").values_list("dataset_id", "weight"))
    assert weights[datasets["sales.orders"].pk] > weights[datasets["analytics.orders"].pk]
    results = client.get("/api/search/?q=orders").json()["results"]
    names = [r["title"] for r in results if r["kind"] == "dataset"]
    assert names.index("sales.orders") < names.index("analytics.orders")
