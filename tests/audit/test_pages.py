"""The audit log on pages: each object's history, the staff page with its filters, and /api/audit/."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalog.audit.context import audit_context
from catalog.inventory.services import column_describe, dataset_describe
from catalog.metrics.services import metric_register, metric_set_status
from catalog.sources.services import source_update
from tests.metrics.conftest import WAU_SQL

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(shop_catalog, ana, bo):
    source, datasets = shop_catalog
    orders = datasets["sales.orders"]
    with audit_context(origin="web", actor=ana):
        dataset_describe(orders, description="One row per order.", user=ana)
        column_describe(orders.columns.get(name="amount"), description="In EUR.", user=ana)
        wau = metric_register(user=ana, data={"name": "weekly_active_users", "sql": WAU_SQL})
        metric_set_status(wau, user=ana, status="certified")
    with audit_context(origin="api", actor=bo):
        source_update(source, url="postgresql://reader:s3cret-new@10.0.0.9:5432/shop", description="Shop.")
    return source, orders, wau


def test_each_objects_page_shows_its_history(client, edited, staff):
    source, orders, wau = edited
    client.force_login(staff)
    page = client.get(f"/datasets/{orders.pk}/").content.decode()
    assert "Edit history" in page and "described dataset sales.orders" in page and "described column sales.orders.amount" in page
    assert "One row per order." in page and f"/audit/?object=inventory.dataset:{orders.pk}" in page
    metric = client.get("/metrics/weekly_active_users/").content.decode()
    assert "certified it" in metric and "saved version 1" in metric and "created metric definition weekly_active_users" in metric
    source_page = client.get("/sources/shop/").content.decode()
    assert "changed the URL (secrets masked)" in source_page and "reader:***@10.0.0.9" in source_page
    assert "s3cret" not in source_page


def test_the_staff_page_filters_and_is_for_staff_only(client, edited, staff, bo, django_assert_max_num_queries):
    source, orders, wau = edited
    client.force_login(bo)
    assert client.get("/audit/").status_code == 403
    client.force_login(staff)
    with django_assert_max_num_queries(8):
        everything = client.get("/audit/").content.decode()
    assert "described dataset sales.orders" in everything and "certified it" in everything and "changed the URL" in everything
    by_bo = client.get("/audit/?actor=bo").content.decode()
    assert "changed the URL" in by_bo and "certified it" not in by_bo
    metrics_only = client.get("/audit/?kind=metricdefinition&origin=web").content.decode()
    assert "certified it" in metrics_only and "described dataset" not in metrics_only
    one = client.get(f"/audit/?object=inventory.dataset:{orders.pk}").content.decode()
    assert "described column sales.orders.amount" in one and "certified it" not in one
    bad = client.get("/audit/?since=soonish")
    assert bad.status_code == 200 and "Use a date" in bad.content.decode()
    assert "Use a date" not in client.get("/audit/?since=1d&page=99").content.decode()


def test_the_api_is_read_only_and_for_staff(edited, staff, bo):
    api = APIClient()
    api.force_authenticate(bo)
    assert api.get("/api/audit/").status_code == 403
    api.force_authenticate(staff)
    data = api.get("/api/audit/?kind=dataset").json()
    assert [(r["kind"], r["action"], r["actor"], r["changes"]["description"]) for r in data["results"]] == [
        ("dataset", "update", "ana", ["", "One row per order."])]
    one = data["results"][0]
    assert api.get(f"/api/audit/{one['id']}/").json()["summary"] == "described dataset sales.orders"
    assert api.delete(f"/api/audit/{one['id']}/").status_code == 405
    assert api.patch(f"/api/audit/{one['id']}/", {"object": "x"}, format="json").status_code == 405
    assert api.get("/api/audit/?object=bogus").status_code == 400
    assert api.get("/api/audit/?since=bogus").status_code == 400
