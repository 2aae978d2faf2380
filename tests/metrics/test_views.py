"""The metric pages, as a browser without JavaScript sees them, and the htmx check partial."""

import time

import pytest
from django.urls import reverse

from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status, metric_update, metric_watch
from tests.metrics.conftest import WAU_REWRITTEN, WAU_SQL

pytestmark = pytest.mark.django_db


@pytest.fixture
def wau(shop_catalog, ana):
    definition = metric_register(user=ana, data={
        "name": "weekly_active_users", "title": "Weekly active users", "sql": WAU_SQL, "tags": "product",
        "description": "Logged in at least once in the week. <script>alert(1)</script>", "synonyms": "wau",
    })
    metric_set_status(definition, user=ana, status="certified", note="agreed")
    return definition


def test_list_filters_and_badges(client, wau, bo, django_assert_max_num_queries):
    other = metric_register(user=bo, data={"name": "order_total", "sql": "SELECT sum(amount) FROM sales.orders"})
    MetricDefinition.objects.filter(pk=other.pk).update(broken=True, broken_reasons=["column sales.orders.amount was removed"])
    for i in range(12):
        metric_register(user=bo, data={"name": f"filler_{i}", "sql": f"SELECT count(*) FROM sales.orders WHERE order_id > {i}"},
                        check_duplicates=False)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("metric-list")).content.decode()
    assert "weekly_active_users" in page and 'class="badge metric-certified"' in page
    assert "1 definition broken" in page
    assert "filler_11" in page
    certified = client.get(reverse("metric-list"), {"status": "certified"}).content.decode()
    assert "weekly_active_users" in certified and "order_total" not in certified
    broken = client.get(reverse("metric-list"), {"broken": "1"}).content.decode()
    assert "order_total" in broken and "weekly_active_users" not in broken and 'class="badge broken"' in broken
    assert "weekly_active_users" in client.get(reverse("metric-list"), {"owner": "ana"}).content.decode()
    assert "order_total" not in client.get(reverse("metric-list"), {"tag": "product"}).content.decode()
    assert "weekly_active_users" in client.get(reverse("metric-list"), {"q": "wau"}).content.decode(), "found by synonym"


def test_detail_shows_formatted_sql_datasets_versions_watchers_and_history(client, wau, shop_catalog, bo):
    metric_watch(wau, user=bo)
    metric_update(wau, user=wau.owners.first(), data={"unit": "users"}, message="unit")
    page = client.get(wau.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page, "the description is sanitised Markdown"
    assert "SELECT date_trunc(&#x27;week&#x27;, e.occurred_at) AS week,\n       count(DISTINCT e.customer_id)" in page
    events = shop_catalog[1]["sales.events"]
    assert f'href="/datasets/{events.pk}/"' in page and "<code>event_type</code>" in page
    assert "version 2" in page and "unit" in page
    assert "draft → <strong>certified</strong> by ana" in page
    assert "Watchers <span class=\"muted\">(1)</span>" in page


def test_dataset_page_lists_the_definitions_that_read_it(client, wau, shop_catalog):
    events = shop_catalog[1]["sales.events"]
    page = client.get(reverse("dataset-detail", args=[events.pk])).content.decode()
    assert 'id="metrics"' in page and wau.get_absolute_url() in page and "reads customer_id, event_type, occurred_at" in page
    orders = shop_catalog[1]["sales.orders"]
    assert 'id="metrics"' not in client.get(reverse("dataset-detail", args=[orders.pk])).content.decode()


def test_register_form_without_javascript(client, shop_catalog, bo):
    client.force_login(bo)
    assert client.get(reverse("metric-create")).status_code == 200
    bad = client.post(reverse("metric-create"), {"name": "revenue", "sql": "SELECT sum(amount FROM sales.orders", "dialect": "postgres",
                                                  "format": "number"})
    assert bad.status_code == 200
    assert "line 1, column" in bad.content.decode() and not MetricDefinition.objects.exists()
    ok = client.post(reverse("metric-create"), {"name": "revenue", "sql": "SELECT sum(amount) FROM sales.orders", "dialect": "postgres",
                                                 "format": "number", "tags": "finance"})
    assert ok.status_code == 302 and ok["Location"] == "/metrics/revenue/"
    assert MetricDefinition.objects.get().owners.get() == bo


def test_register_form_shows_duplicates_then_saves_with_a_reason(client, wau, bo):
    client.force_login(bo)
    data = {"name": "logins_per_week", "sql": WAU_REWRITTEN, "dialect": "postgres", "format": "number"}
    page = client.post(reverse("metric-create"), data).content.decode()
    assert "Looks like <a href=\"/metrics/weekly_active_users/\"><code>weekly_active_users</code></a>, certified, owned by Ana" in page
    assert "Add “logins_per_week” as a synonym of weekly_active_users instead" in page
    assert "<details class=\"override\" open>" in page
    # Said at the top of the form, before anything else: nothing was saved, and why.
    top = page[page.index("<h1>"):page.index('<form method="post" id="metric-form"')]
    assert 'id="not-saved"' in top and "Nothing was saved: this computes what 1 definition already computes." in top
    assert '<a href="/metrics/weekly_active_users/">Weekly active users</a>' in top
    assert not MetricDefinition.objects.filter(name="logins_per_week").exists()
    invalid = client.post(reverse("metric-create"), {**data, "name": "", "sql": ""}).content.decode()
    assert "Nothing was saved:</strong> 2 fields need a change, marked below." in invalid
    saved = client.post(reverse("metric-create"), {**data, "force": "on", "reason": "Counts app logins, not web"})
    assert saved.status_code == 302
    assert MetricDefinition.objects.get(name="logins_per_week").versions.get().override_reason == "Counts app logins, not web"


def test_adding_the_name_as_a_synonym_instead(client, wau, bo):
    client.force_login(bo)
    response = client.post(reverse("metric-synonym", args=[wau.name]), {"synonym": "logins_per_week"})
    assert response.status_code == 302 and response["Location"] == wau.get_absolute_url()
    assert sorted(s.name for s in wau.synonyms.all()) == ["logins_per_week", "wau"]


def test_check_partial_for_htmx(client, wau, bo):
    client.force_login(bo)
    partial = client.post(reverse("metric-check"), {"name": "people", "sql": "SELECT count(*\nFROM sales.events", "dialect": "postgres"})
    html = partial.content.decode()
    assert "<html" not in html and "line 2, column" in html
    partial = client.post(reverse("metric-check"), {"name": "people", "sql": WAU_REWRITTEN, "dialect": "postgres"}).content.decode()
    assert "It reads:" in partial and "sales.events" in partial and "Looks like" in partial


# 2 KB nested a thousand deep: it held a web worker for 25-40 s (sqlparse laying out what sqlglot refused).
NESTED_SQL = "SELECT " + "(" * 1000 + "1" + ")" * 1000


def test_check_partial_needs_a_login(client, shop_catalog):
    response = client.post(reverse("metric-check"), {"name": "x", "sql": NESTED_SQL, "dialect": "postgres"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_nested_and_oversized_sql_are_answered_at_once_with_a_clear_message(client, shop_catalog, bo):
    client.force_login(bo)
    huge = "SELECT " + " + ".join(f"col_{i}" for i in range(100_000)) + " FROM sales.orders"  # 1.2 MB
    for url in (reverse("metric-check"), reverse("metric-create")):
        for sql, message in ((NESTED_SQL, "may nest at most 20."), (huge, "may be at most 20,000.")):
            started = time.monotonic()
            response = client.post(url, {"name": "nested", "sql": sql, "dialect": "postgres", "format": "number"})
            assert time.monotonic() - started < 1.0, "answered within a second (it was half a minute)"
            assert response.status_code == 200 and message in response.content.decode()
    assert not MetricDefinition.objects.exists()


def test_edit_is_for_owners_and_staff(client, wau, bo, ana):
    client.force_login(bo)
    assert client.get(reverse("metric-edit", args=[wau.name])).status_code == 403
    assert client.post(reverse("metric-status", args=[wau.name]), {"status": "deprecated"}).status_code == 403
    client.force_login(ana)
    page = client.get(reverse("metric-edit", args=[wau.name])).content.decode()
    assert 'value="weekly_active_users"' in page and "hx-post" in page and "htmx-2.0.11.min.js" in page
    response = client.post(reverse("metric-edit", args=[wau.name]), {
        "name": "weekly_active_users", "title": "Weekly active users", "sql": WAU_SQL, "dialect": "postgres", "format": "number",
        "owners": "ana", "tags": "product", "synonyms": "wau", "unit": "users", "message": "add unit",
        "description": wau.description,
    })
    assert response.status_code == 302
    wau.refresh_from_db()
    assert wau.version == 2 and wau.unit == "users" and wau.versions.get(number=2).message == "add unit"


def test_versions_compare_and_restore(client, wau, ana):
    metric_update(wau, user=ana, data={"sql": WAU_SQL.replace("'login'", "'purchase'")}, message="purchases")
    page = client.get(reverse("metric-versions", args=[wau.name])).content.decode()
    assert "version 1" in page and "version 2" in page and "diff-replace" in page and "purchase" in page
    client.force_login(ana)
    response = client.post(reverse("metric-restore", args=[wau.name, 1]))
    assert response.status_code == 302
    wau.refresh_from_db()
    assert wau.version == 3 and "'login'" in wau.sql


def test_compare_two_definitions(client, wau, bo):
    other = metric_register(user=bo, data={"name": "logins_per_week", "sql": WAU_REWRITTEN}, force=True, reason="app only")
    page = client.get(reverse("metric-compare"), {"a": wau.name, "b": other.name}).content.decode()
    assert "They look alike:" in page and "the same aggregate over the same columns with the same filters" in page
    assert "Both read sales.events" in page
    # Descriptions are Markdown, rendered (and sanitised) as on a definition's page.
    assert "<div class=\"markdown\"><p>Logged in at least once in the week." in page and "<script>alert(1)" not in page
    missing = client.get(reverse("metric-compare"), {"a": wau.name, "b": "nope"}, follow=True).content.decode()
    assert "There is no definition named nope." in missing


def test_compare_names_the_equivalences_of_the_same_sql(client, bo, shop_catalog):
    first = metric_register(user=bo, data={"name": "big_orders", "sql": "SELECT count(*) FROM sales.orders WHERE amount >= 20"})
    second = metric_register(user=bo, data={"name": "large_orders", "sql": "SELECT count(1) FROM sales.orders WHERE 20 <= amount"},
                             force=True, reason="kept for the test")
    page = client.get(reverse("metric-compare"), {"a": first.name, "b": second.name}).content.decode()
    assert "the same SQL, up to formatting, case, comments, alias names, mirrored comparisons" in page
    assert "the order of IN lists and of AND/OR operands" in page


def test_watch_and_deprecate_with_a_replacement(client, wau, ana, bo):
    client.force_login(bo)
    client.post(reverse("metric-watch", args=[wau.name]), {"watch": "1"})
    assert list(wau.watchers.all()) == [bo]
    replacement = metric_register(user=bo, data={"name": "active_customers", "sql": "SELECT count(*) FROM sales.customers"})
    client.force_login(ana)
    client.post(reverse("metric-status", args=[wau.name]), {"status": "deprecated", "replaced_by": replacement.name, "note": "merged"})
    page = client.get(wau.get_absolute_url()).content.decode()
    assert "Deprecated. Use <a href=\"/metrics/active_customers/\">active_customers</a> instead." in page
