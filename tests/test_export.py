"""Every list exports as CSV with the page's own filters: datasets, a dataset's columns, changes, definitions."""

import csv
import io

import pytest

from catalog.crawls.services import source_crawl
from catalog.metrics.services import metric_register
from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def shop(warehouse, staff_user):
    build_shop(warehouse)
    warehouse.execute("CREATE TABLE sales.\"=HYPERLINK('http://evil')\" (id int)")
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    metric_register(user=staff_user, data={"name": "orders_count", "title": "Orders", "sql": "SELECT count(*) FROM sales.orders",
                                           "source": "shop", "tags": ["sales"]})
    return source


def test_lists_export_what_they_show_with_their_filters(client, shop, warehouse):
    page = client.get("/datasets/", {"schema": "sales"}).content.decode()
    assert 'href="/datasets/?schema=sales&amp;format=csv" download>Export CSV</a>' in page
    rows = _rows(client.get("/datasets/", {"schema": "sales", "format": "csv"}))
    names = {r["name"] for r in rows}
    assert {"customers", "orders", "Order Lines"} <= names and "big_orders" not in names, "the page's filter applies"
    assert "'=HYPERLINK('http://evil')" in names, "a formula is written as text"
    customers = next(r for r in rows if r["name"] == "customers")
    assert customers["source"] == "shop" and customers["owner"] == "sales_team"
    assert customers["columns"] == "6" and customers["url"].startswith("http://testserver/datasets/")

    columns = _rows(client.get(customers["url"].replace("http://testserver", ""), {"format": "csv"}))
    assert [c["name"] for c in columns][:2] == ["customer_id", "email"]
    assert columns[1]["comment"] == "Lower-cased at sign-up" and columns[0]["primary_key"] == "True"

    warehouse.execute("ALTER TABLE sales.orders DROP COLUMN status")
    assert source_crawl(shop).status == "succeeded"
    changes = _rows(client.get("/changes/", {"severity": "breaking", "format": "csv"}))
    assert [(c["dataset"], c["kind"], c["column"]) for c in changes] == [("sales.orders", "column_removed", "status")]

    definitions = _rows(client.get("/metrics/", {"tag": "sales", "format": "csv"}))
    assert [(d["name"], d["title"], d["tags"], d["source"]) for d in definitions] == [("orders_count", "Orders", "sales", "shop")]
    assert _rows(client.get("/metrics/", {"tag": "nothing", "format": "csv"})) == []
