"""The Duplicates page, the panel on a dataset's page, and /api/duplicates/, over real crawls."""

from decimal import Decimal

import duckdb
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.duplicates.models import Decision, DuplicateGroup, DuplicateMember, StoragePrice
from catalog.inventory.models import Dataset
from catalog.sources.services import source_create
from tests.duplicates.support import crawl, ds, duck
from tests.search.support import add_metric

pytestmark = pytest.mark.django_db


@pytest.fixture
def copies(shop, tmp_path):
    source = source_create(name="duck", url=f"duckdb://{duck(tmp_path)}")
    crawl(source)
    # Sizes as a warehouse would report them, for the cost (the copy is in DuckDB, the original in PostgreSQL).
    Dataset.objects.filter(name="customers").update(size_bytes=10 * 1024 ** 3)
    Dataset.objects.filter(name="customers_backup_2024").update(size_bytes=10 * 1024 ** 3)
    return source


def test_the_page_lists_groups_with_cost_readers_and_evidence(client, copies, tmp_path):
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/duplicates/")
    assert answer.status_code == 200
    html = answer.content.decode()
    # 10 GB in DuckDB at the default 0.08 USD per GB-month; views cost nothing known (no size).
    assert "Copies cost <strong>$0.80</strong> a month" in html
    assert "main.customers_backup_2024" in html and "1 extra: loaded_at" in html
    assert "analytics.orders_all" in html and "one reads only the other" in html
    assert "analytics.big_orders_again" in html and "the same SQL" in html
    # Who reads the original orders: the views over it.
    assert "analytics.big_orders" in html
    # More groups and members, the same number of queries.
    path = tmp_path / "more.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE main.weather_copy (station VARCHAR, reading_at TIMESTAMP, celsius DOUBLE, humidity DOUBLE)")
    conn.execute("CREATE TABLE main.orders_export (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12,2), status VARCHAR, "
                 "ordered_at TIMESTAMP)")
    conn.close()
    crawl(source_create(name="more", url=f"duckdb://{path}"))
    with CaptureQueriesContext(connection) as more_queries:
        html = client.get("/duplicates/").content.decode()
    assert "main.weather_copy" in html and "main.orders_export" in html
    assert len(more_queries) == len(queries), [q["sql"] for q in more_queries.captured_queries]


def test_the_setting_prices_each_engine(client, copies, settings):
    settings.CANON_STORAGE_PRICES = {"duckdb": 0.5, "default": 0.05}
    assert "Copies cost <strong>$5.00</strong> a month" in client.get("/duplicates/").content.decode()


def test_a_price_set_in_the_admin_replaces_the_default(client, copies):
    StoragePrice.objects.create(engine="duckdb", usd_per_gb_month=Decimal("1.5"))
    assert "Copies cost <strong>$15.00</strong> a month" in client.get("/duplicates/").content.decode()


def test_filters(client, copies):
    html = client.get("/duplicates/", {"kind": "pipeline"}).content.decode()
    assert "big_orders_again" in html and "customers_backup_2024" not in html
    html = client.get("/duplicates/", {"source": "duck"}).content.decode()
    assert "customers_backup_2024" in html and "orders_all" not in html
    assert client.get("/duplicates/", {"min_score": "banana", "kind": "nonsense"}).status_code == 200


def test_the_dataset_page_says_whose_copy_it_is(client, copies):
    copy = ds(copies, "main", "customers_backup_2024")
    html = client.get(f"/datasets/{copy.pk}/").content.decode()
    member = DuplicateMember.objects.get(dataset=copy)
    assert f"Looks like a copy of" in html and "sales.customers" in html and f"({member.summary})" in html
    original = Dataset.objects.get(name="customers", schema_name="sales")
    html = client.get(f"/datasets/{original.pk}/").content.decode()
    assert "this one the original" in html and "main.customers_backup_2024" in html
    plain = Dataset.objects.get(name="tmp_import")
    assert 'id="duplicates"' not in client.get(f"/datasets/{plain.pk}/").content.decode()


def test_deciding_from_the_page_records_who_and_when(client, copies, staff_user):
    copy = ds(copies, "main", "customers_backup_2024")
    original = Dataset.objects.get(name="customers", schema_name="sales")
    form = {"dataset": copy.pk, "other": original.pk, "original": original.pk, "verdict": "keep", "reason": "",
            "next": f"/datasets/{copy.pk}/"}
    assert client.post("/duplicates/decide/", form).status_code == 302  # to the login page
    assert not Decision.objects.exists()
    client.force_login(staff_user)
    answer = client.post("/duplicates/decide/", form, follow=True)
    assert "Say why both are kept" in answer.content.decode()
    answer = client.post("/duplicates/decide/", {**form, "reason": "the DuckDB file feeds the notebook"}, follow=True)
    assert answer.redirect_chain[-1][0] == f"/datasets/{copy.pk}/"
    decision = Decision.objects.get()
    assert (decision.verdict, decision.decided_by) == ("keep", staff_user)
    html = answer.content.decode()
    assert "Kept both: “the DuckDB file feeds the notebook”" in html and "ana" in html
    # Kept copies are counted apart from the total.
    assert "besides $0.80 for copies kept on purpose" in client.get("/duplicates/").content.decode()
    answer = client.post("/duplicates/decide/", {**form, "verdict": "not", "next": "https://evil.example/"})
    assert answer.url == "/duplicates/"
    assert not DuplicateMember.objects.filter(dataset=copy).exists()


def test_api_lists_groups_with_filters_and_decides(client, copies, staff_user, shop):
    add_metric(staff_user, shop, "customer_count", sql="SELECT count(*) FROM sales.customers")
    answer = client.get("/api/duplicates/", {"source": "duck"})
    assert answer.status_code == 200
    [group] = answer.json()["results"]
    original, copy = group["members"]
    assert original["is_original"] and original["dataset"]["name"] == "sales.customers"
    assert original["dataset"]["engine"] == "postgresql"
    assert original["definitions"] == ["customer_count"] and copy["definitions"] == []  # who reads each
    assert copy["dataset"]["name"] == "main.customers_backup_2024" and copy["summary"].startswith(f"{copy['score']}%")
    assert copy["cost_per_month"] == "0.80" and group["copies_cost_per_month"] == "0.80"
    assert "1 extra: loaded_at" in copy["evidence"]
    assert client.get("/api/duplicates/", {"kind": "pipeline"}).json()["count"] == 1
    assert client.get("/api/duplicates/", {"certain": "true"}).json()["count"] == 0
    assert client.get("/api/duplicates/", {"certain": "false"}).json()["count"] == 3
    assert client.get("/api/duplicates/", {"dataset": copy["dataset"]["id"]}).json()["count"] == 1
    assert client.get("/api/duplicates/", {"min_score": 101}).status_code == 400
    assert client.get("/api/duplicates/", {"dataset": "1e30"}).status_code == 400
    assert client.get(f"/api/duplicates/{group['id']}/").json()["members"][1]["dataset"]["id"] == copy["dataset"]["id"]

    # The dataset's own detail says so too.
    on_copy = client.get(f"/api/datasets/{copy['dataset']['id']}/").json()["duplicates"]
    assert on_copy["group"] == group["id"] and on_copy["copy_of"]["name"] == "sales.customers"
    assert on_copy["copy_of"]["summary"] == copy["summary"] and "1 extra: loaded_at" in on_copy["evidence"]
    on_original = client.get(f"/api/datasets/{original['dataset']['id']}/").json()["duplicates"]
    assert on_original["copy_of"] is None and [c["name"] for c in on_original["copies"]] == ["main.customers_backup_2024"]
    assert client.get(f"/api/datasets/{Dataset.objects.get(name='tmp_import').pk}/").json()["duplicates"] == {
        "group": None, "copy_of": None, "evidence": [], "copies": []}

    body = {"dataset": copy["dataset"]["id"], "other": original["dataset"]["id"], "verdict": "not"}
    assert client.post("/api/duplicates/decide/", body, content_type="application/json").status_code in (401, 403)
    client.force_login(staff_user)
    assert client.post("/api/duplicates/decide/", {**body, "verdict": "keep"}, content_type="application/json").status_code == 400
    answer = client.post("/api/duplicates/decide/", body, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["decided_by"] == "ana"
    assert client.get("/api/duplicates/", {"source": "duck"}).json()["count"] == 0
    assert DuplicateGroup.objects.filter(kind="pipeline").exists()


@pytest.mark.parametrize("path, statuses", [
    ("/duplicates/?q=%00&source=%00&min_score=1e30&page=abc", {200}),
    ("/api/duplicates/99999999999999999999999/", {404}),
    ("/api/duplicates/-1/", {404}),
    ("/api/duplicates/?q=%00", {400}),
    ("/api/duplicates/?source=%00", {400}),
    ("/api/duplicates/?certain=maybe", {400}),
    ("/api/duplicates/?kind=bogus", {400}),
    ("/api/duplicates/?min_score=1e30", {400}),
    ("/api/duplicates/?page=999", {404}),
])
def test_bad_input_never_gives_a_500(client, copies, path, statuses):
    assert client.get(path).status_code in statuses, path
