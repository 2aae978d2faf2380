"""Registering a metric definition in Chromium: the form checks the SQL as it is typed (htmx), warns that it
looks like a certified definition, and the user adds the new name as a synonym instead of a duplicate."""

import pytest
from playwright.sync_api import expect

from catalog.metrics.models import MetricDefinition, MetricSynonym
from catalog.metrics.services import metric_register, metric_set_status
from tests.metrics.conftest import WAU_REWRITTEN, WAU_SQL, add_dataset, SHOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_sees_the_duplicate_and_adds_a_synonym_instead(live_server, page, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from catalog.sources.services import source_create

    source = source_create(name="shop", url="postgresql://reader:unused@127.0.0.1:1/shop")
    for (schema, name), columns in SHOP.items():
        add_dataset(source, schema, name, columns)
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-123", first_name="Ana")
    django_user_model.objects.create_user("bo", "bo@example.com", "pw-bo-123")
    active = metric_register(user=ana, data={"name": "active_users", "title": "Active users", "sql": WAU_SQL})
    metric_set_status(active, user=ana, status="certified")

    page.goto(live_server.url + "/login/?next=/metrics/")
    page.get_by_label("Username").fill("bo")
    page.get_by_label("Password").fill("pw-bo-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("table.metrics")).to_contain_text("active_users")

    page.get_by_role("link", name="Register a definition").click()
    page.get_by_label("Name", exact=True).fill("logins_per_week")
    page.get_by_label("SQL").fill("SELECT count(*\nFROM sales.events")
    panel = page.locator("#metric-check")
    expect(panel.locator(".sql-error")).to_contain_text("line 2, column", timeout=10_000)

    page.get_by_label("SQL").fill(WAU_REWRITTEN)
    expect(panel).to_contain_text("It reads:", timeout=10_000)
    expect(panel).to_contain_text("sales.events")
    expect(panel.locator(".candidate .summary")).to_contain_text("Looks like active_users, certified, owned by Ana")
    page.screenshot(path="/tmp/canon-shot-metric-duplicate.png", full_page=True)

    panel.get_by_role("button", name="Add “logins_per_week” as a synonym of active_users instead").click()
    expect(page.locator("h1")).to_contain_text("active_users")
    expect(page.locator(".messages")).to_contain_text("Added logins_per_week as a synonym of active_users.")
    expect(page.locator("dl.facts")).to_contain_text("logins_per_week")
    assert not MetricDefinition.objects.filter(name="logins_per_week").exists()
    assert MetricSynonym.objects.get(name="logins_per_week").definition == active
