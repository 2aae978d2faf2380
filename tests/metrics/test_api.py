"""/api/metrics/: CRUD through the services, versions, the check, 409 on duplicates unless forced with a reason."""

import time

import pytest
from rest_framework.test import APIClient

from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status
from tests.metrics.conftest import WAU_REWRITTEN, WAU_SQL
from tests.metrics.test_views import NESTED_SQL

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def wau(shop_catalog, ana):
    definition = metric_register(user=ana, data={"name": "weekly_active_users", "sql": WAU_SQL, "tags": ["product"]})
    metric_set_status(definition, user=ana, status="certified")
    return definition


def test_create_read_update_delete(api, shop_catalog, bo):
    anonymous = api.post("/api/metrics/", {"name": "revenue", "sql": "SELECT 1"}, format="json")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token", "log in to write"
    api.force_authenticate(bo)
    created = api.post("/api/metrics/", {"name": "revenue", "title": "Revenue", "dialect": "postgres", "tags": ["finance"],
                                         "sql": "SELECT sum(o.amount) FROM sales.orders o WHERE o.status = 'paid'"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["owners"] == ["bo"] and body["version"] == 1
    assert body["datasets"] == [{"id": shop_catalog[1]["sales.orders"].pk, "name": "sales.orders", "source": "shop", "removed": False}]
    assert {c["column"] for c in body["columns"]} == {"amount", "status"}
    pk = body["id"]
    updated = api.patch(f"/api/metrics/{pk}/", {"unit": "EUR", "message": "unit"}, format="json")
    assert updated.status_code == 200 and updated.json()["unit"] == "EUR" and updated.json()["version"] == 2
    assert api.get(f"/api/metrics/{pk}/").json()["title"] == "Revenue"
    assert api.delete(f"/api/metrics/{pk}/").status_code == 204
    assert not MetricDefinition.objects.exists()


def test_bad_input_answers_400_with_field_messages(api, shop_catalog, bo):
    api.force_authenticate(bo)
    response = api.post("/api/metrics/", {"name": "revenue", "sql": "SELECT sum(amount FROM sales.orders"}, format="json")
    assert response.status_code == 400
    assert "does not parse as PostgreSQL" in response.json()["sql"][0] and "line 1, column" in response.json()["sql"][0]
    many = api.post("/api/metrics/", {"name": "revenue", "sql": "SELECT 1; SELECT 2"}, format="json")
    assert "holds 2 statements" in many.json()["sql"][0]
    huge = api.post("/api/metrics/", {"name": "revenue", "sql": "SELECT " + "1 + " * 300_000 + "1"}, format="json")
    assert huge.status_code == 400 and "at most 20,000" in huge.json()["sql"][0]


def test_a_duplicate_answers_409_with_candidates_unless_forced_with_a_reason(api, wau, bo):
    api.force_authenticate(bo)
    payload = {"name": "logins_per_week", "sql": WAU_REWRITTEN}
    conflict = api.post("/api/metrics/", payload, format="json")
    assert conflict.status_code == 409
    candidate = conflict.json()["candidates"][0]
    assert (candidate["name"], candidate["status"], candidate["owners"]) == ("weekly_active_users", "certified", ["Ana"])
    assert candidate["summary"] == "Looks like weekly_active_users, certified, owned by Ana"
    no_reason = api.post("/api/metrics/", {**payload, "force": True}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    forced = api.post("/api/metrics/", {**payload, "force": True, "reason": "app logins only"}, format="json")
    assert forced.status_code == 201
    versions = api.get(f"/api/metrics/{forced.json()['id']}/versions/").json()
    assert versions["results"][0]["override_reason"] == "app logins only"
    assert versions["results"][0]["override_candidates"][0]["name"] == "weekly_active_users"


def test_versions_list(api, wau, ana):
    api.force_authenticate(ana)
    api.patch(f"/api/metrics/{wau.pk}/", {"description": "Logins per week."}, format="json")
    versions = api.get(f"/api/metrics/{wau.pk}/versions/").json()["results"]
    assert [(v["number"], v["author"]) for v in versions] == [(2, "ana"), (1, "ana")]
    assert versions[0]["snapshot"]["description"] == "Logins per week."


def test_check_saves_nothing(api, wau, bo):
    api.force_authenticate(bo)
    result = api.post("/api/metrics/check/", {"name": "wau2", "sql": WAU_REWRITTEN}, format="json").json()
    assert result["ok"] is True and result["sql_error"] is None
    assert result["datasets"][0]["name"] == "sales.events"
    assert [c["name"] for c in result["candidates"]] == ["weekly_active_users"]
    bad = api.post("/api/metrics/check/", {"name": "x", "sql": "SELECT COUNT(*) FROM `p.sales.events`"}, format="json").json()
    assert bad["ok"] is False and bad["sql_error"]["line"] == 1 and "BigQuery" in bad["sql_error"]["hint"]
    unknown = api.post("/api/metrics/check/", {"name": "x", "sql": "SELECT count(*) FROM sales.nothing"}, format="json").json()
    assert unknown["ok"] is True and unknown["warnings"] == ["Table sales.nothing is not in the catalog."]
    assert MetricDefinition.objects.count() == 1


def test_check_needs_a_login(api, wau):
    response = api.post("/api/metrics/check/", {"name": "x", "sql": WAU_SQL}, format="json")
    assert response.status_code in (401, 403)


def test_nested_sql_is_answered_at_once_with_a_clear_error(api, shop_catalog, bo):
    api.force_authenticate(bo)
    started = time.monotonic()
    checked = api.post("/api/metrics/check/", {"name": "nested", "sql": NESTED_SQL}, format="json")
    created = api.post("/api/metrics/", {"name": "nested", "sql": NESTED_SQL}, format="json")
    assert time.monotonic() - started < 1.0, "both answered within a second (one took half a minute)"
    assert checked.status_code == 200 and checked.json()["ok"] is False
    assert "may nest at most 20" in checked.json()["sql_error"]["message"]
    assert created.status_code == 400 and "may nest at most 20" in created.json()["sql"][0]
    assert not MetricDefinition.objects.exists()


def test_status_synonyms_watch_and_permissions(api, wau, bo, ana):
    api.force_authenticate(bo)
    assert api.post(f"/api/metrics/{wau.pk}/status/", {"status": "deprecated"}, format="json").status_code == 403
    assert api.patch(f"/api/metrics/{wau.pk}/", {"title": "x"}, format="json").status_code == 403
    assert api.post(f"/api/metrics/{wau.pk}/synonyms/", {"synonym": "WAU"}, format="json").json()["synonyms"] == ["wau"]
    assert api.post(f"/api/metrics/{wau.pk}/watch/").status_code == 200 and list(wau.watchers.all()) == [bo]
    api.force_authenticate(ana)
    deprecated = api.post(f"/api/metrics/{wau.pk}/status/", {"status": "deprecated", "note": "old"}, format="json")
    assert deprecated.json()["status"] == "deprecated"


def test_list_filters_and_query_count(api, wau, bo, django_assert_max_num_queries):
    for i in range(12):
        metric_register(user=bo, data={"name": f"m_{i}", "sql": f"SELECT count(*) FROM sales.orders WHERE order_id > {i}"},
                        check_duplicates=False)
    with django_assert_max_num_queries(10):
        listing = api.get("/api/metrics/").json()
    assert listing["count"] == 13
    assert [m["name"] for m in api.get("/api/metrics/", {"status": "certified"}).json()["results"]] == ["weekly_active_users"]
    assert [m["name"] for m in api.get("/api/metrics/", {"tag": "product"}).json()["results"]] == ["weekly_active_users"]
    assert api.get("/api/metrics/", {"owner": "bo"}).json()["count"] == 12
    assert api.get("/api/metrics/", {"broken": "true"}).json()["count"] == 0
    events = wau.dataset_uses.get().dataset_id
    assert [m["name"] for m in api.get("/api/metrics/", {"dataset": events}).json()["results"]] == ["weekly_active_users"]
