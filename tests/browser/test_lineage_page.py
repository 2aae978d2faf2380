"""The dataset page's lineage in a real browser: the picture of the neighbourhood, its columns on demand,
a big hop folded and opened from the keyboard, and per column where it comes from and what reads it.
Chromium driven by Playwright against a live server, over a catalog crawled from a real PostgreSQL."""

import re

import pytest
from playwright.sync_api import expect

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Dataset
from catalog.sources.services import source_create
from tests.lineage.test_column_services import COLUMN_SHOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    page.screenshot(path=f"/tmp/canon-shot-{name}.png", full_page=True)


@pytest.fixture
def crawled(warehouse):
    warehouse.execute(COLUMN_SHOP)
    for i in range(8):  # a big neighbourhood: eight more views read shop.orders
        warehouse.execute(f"CREATE VIEW shop.orders_{i} AS SELECT order_id, amount * {i} AS amount_{i} FROM shop.orders")
    source = source_create(name="columns", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    return source


def test_the_lineage_picture_its_columns_and_a_folded_hop_by_keyboard(live_server, page, crawled):
    view = Dataset.objects.get(schema_name="shop", name="account_orders")
    page.goto(f"{live_server.url}/datasets/{view.pk}/")
    section = page.get_by_role("region", name="Lineage")
    picture = section.get_by_role("list", name="Lineage picture, from upstream to downstream")
    expect(picture.get_by_role("link", name="CRM.Accounts")).to_be_visible()
    expect(picture.get_by_role("link", name="shop.orders")).to_be_visible()
    expect(picture.get_by_role("link", name="shop.emails")).to_be_visible()
    expect(picture).to_contain_text("this dataset")

    # By column: where each comes from and what reads it.
    by_column = section.locator("table.column-lineage")
    email_row = by_column.locator("tr", has=page.locator("code.name", has_text="email"))
    expect(email_row).to_contain_text("CRM.Accounts.email")
    expect(email_row).to_contain_text("shop.emails.email_upper")
    shot(page, "lineage-view")

    # Columns on demand, from the keyboard.
    page.get_by_role("link", name="Show columns").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"lineage_columns=1"), wait_until="domcontentloaded")
    pairs = page.locator("ol.lineage-hops ul.pairs")
    expect(pairs.first).to_be_visible()
    expect(page.locator("ol.lineage-hops")).to_contain_text("email → email_upper")
    expect(page.locator("ol.lineage-hops")).to_contain_text("Id → Id")
    shot(page, "lineage-columns")

    # A big hop is folded: six shown, the rest behind "n more", opened with the keyboard.
    orders = Dataset.objects.get(schema_name="shop", name="orders")
    page.goto(f"{live_server.url}/datasets/{orders.pk}/")
    read_by = page.locator("li.hop[aria-label='read by']")
    expect(read_by.locator(":scope > ul > li.node")).to_have_count(6)
    folded = read_by.locator("details.folded")
    hidden = folded.locator("li.node").first
    expect(hidden).to_be_hidden()
    summary = folded.locator("summary")
    expect(summary).to_have_text("5 more")
    summary.focus()
    page.keyboard.press("Enter")
    expect(hidden).to_be_visible()
    hidden.get_by_role("link").focus()
    expect(hidden.get_by_role("link")).to_be_focused()
    shot(page, "lineage-folded")

    # At 375 px the picture wraps inside the page.
    page.set_viewport_size({"width": 375, "height": 800})
    box = page.locator("#lineage-map").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375 + 1, box
    shot(page, "lineage-375")
