"""An edit and its trace in the audit log, in a real browser: the dataset's history, then the staff page and its filters."""

import pytest
from playwright.sync_api import expect

from catalog.audit.context import audit_context
from catalog.inventory.services import dataset_describe
from tests.browser.test_catalog_pages import log_in, shot
from tests.metrics.conftest import add_dataset
from catalog.sources.services import source_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_describe_a_dataset_then_find_the_edit_in_its_history_and_the_audit_log(live_server, page, staff_user, plain_user):
    source = source_create(name="shop", url="postgresql://reader:pw-not-shown@127.0.0.1:1/shop")
    orders = add_dataset(source, "sales", "orders", [("order_id", "bigint"), ("amount", "numeric")])
    with audit_context(origin="api", actor=plain_user):
        dataset_describe(orders, description="Written by bo.", user=plain_user)

    log_in(page, live_server, "ana", "pw-ana-123")
    page.goto(f"{live_server.url}/datasets/{orders.pk}/")
    page.get_by_role("link", name="Edit description", exact=True).click()
    page.get_by_label("Description (Markdown)").fill("One row per **order**.")
    page.get_by_role("button", name="Save description").click()
    history = page.locator("#audit-history")
    expect(history).to_contain_text("ana described dataset sales.orders")
    expect(history).to_contain_text("bo described dataset sales.orders")
    history.locator("details").first.locator("summary").click()
    expect(history.locator("details").first).to_contain_text("One row per **order**.")
    shot(page, "audit-dataset-history")

    page.get_by_role("navigation").get_by_role("link", name="Audit").click()
    table = page.locator("table.audit")
    expect(table).to_contain_text("described dataset sales.orders")
    expect(table).to_contain_text("created source shop")
    page.get_by_label("Who").fill("bo")
    page.get_by_label("From").select_option("api")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit > tbody > tr")).to_have_count(1)
    expect(table).to_contain_text("bo")
    expect(table).not_to_contain_text("created source shop")
    table.get_by_role("link", name="described dataset sales.orders").click()
    expect(page).to_have_url(f"{live_server.url}/datasets/{orders.pk}/")
    assert "pw-not-shown" not in page.content()

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/audit/?since=7d")
    page.keyboard.press("Tab")
    expect(page.locator("table.audit")).to_contain_text("ana")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    shot(page, "audit-375")
    assert scroll <= 400, f"the audit page scrolls sideways at 375 px ({scroll})"
