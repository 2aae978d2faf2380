"""Usage in a real browser: sort the datasets by use, open the most used one, then the Unused page, at 375 px too."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.inventory.models import Dataset
from catalog.sources.services import source_create
from catalog.usage.services import usage_record
from tests.browser.test_catalog_pages import log_in, shot
from tests.metrics.conftest import add_dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sort_by_use_read_a_datasets_usage_and_find_the_unused_ones(live_server, page, staff_user):
    source = source_create(name="shop", url="postgresql://reader:pw-never-shown@127.0.0.1:1/shop")
    add_dataset(source, "sales", "orders", [("order_id", "bigint"), ("amount", "numeric")])
    add_dataset(source, "sales", "old_export", [("line", "text")])
    Dataset.objects.filter(name="old_export").update(size_bytes=40_000_000_000)
    lake = source_create(name="lake", url="s3://bucket/data")
    add_dataset(lake, "data", "clicks", [("id", "bigint")])
    usage_record(source, QueryHistory(True, statements=[
        LoggedStatement("q1", "SELECT o.amount FROM sales.orders o WHERE o.order_id = $1", 90, "analyst"),
        LoggedStatement("q2", "SELECT sum(amount) FROM sales.orders", 30, "finance"),
    ]), now=timezone.now())

    log_in(page, live_server, "ana", "pw-ana-123")
    page.get_by_role("navigation").get_by_role("link", name="Datasets").click()
    page.get_by_role("link", name="Reads (30 d)").click()
    first = page.locator("table.list tbody tr").first
    expect(first).to_contain_text("orders")
    expect(first).to_contain_text("120")
    first.get_by_role("link", name="orders").click()
    usage = page.locator("#usage")
    expect(usage).to_contain_text("4.0 over 30 days")
    expect(usage).to_contain_text("2 in 30 days")
    expect(usage.locator("table")).to_contain_text("amount")
    shot(page, "usage-dataset")

    page.get_by_role("navigation").get_by_role("link", name="Unused").click()
    table = page.locator("table.unused")
    expect(table).to_contain_text("sales.old_export")
    expect(table).to_contain_text("4.28 USD")  # 40 GB (37.3 GiB) at PostgreSQL's price, as the Duplicates page prices it
    expect(table).not_to_contain_text("sales.orders")
    expect(page.locator(".usage-unknown")).to_contain_text("lake")
    expect(page.locator(".usage-unknown")).to_contain_text("reads no query history")
    page.locator(".usage-unknown").get_by_role("link", name="lake").click()
    expect(page.locator("#usage")).to_contain_text("usage is unknown")
    assert "pw-never-shown" not in page.content()

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/usage/unused/")
    page.keyboard.press("Tab")
    expect(page.locator("table.unused")).to_contain_text("old_export")
    shot(page, "usage-unused-375")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 400, f"the Unused page scrolls sideways at 375 px ({scroll})"
