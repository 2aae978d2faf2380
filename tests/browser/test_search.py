"""The search box in a real browser: type, pick a suggestion with the keyboard, land on the dataset; and without
JavaScript, the same box submits to the results page."""

import re

import pytest
from playwright.sync_api import expect

from catalog.crawls.services import source_crawl

from catalog.sources.services import source_create
from tests.shop import build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    return source


def test_type_a_typo_pick_the_suggestion_with_the_keyboard_and_land_on_the_dataset(live_server, page, shop):
    page.goto(live_server.url + "/changes/")
    box = page.get_by_role("combobox", name="Search the catalog")
    box.click()
    box.press_sequentially("custmer", delay=40)
    suggestions = page.locator("#search-suggestions")
    expect(suggestions).to_be_visible()
    first = suggestions.get_by_role("option").first
    expect(first).to_contain_text("sales.customers")
    expect(first.locator("mark")).to_have_text("customers")
    page.screenshot(path="/tmp/canon-shot-search-suggestions.png")

    box.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "search-suggestion-0")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/datasets/\d+/$"))
    expect(page.locator("h1")).to_contain_text("customers")

    # Escape closes the list; Enter with nothing chosen submits the form to the results page.
    box = page.get_by_role("combobox", name="Search the catalog")
    box.fill("")
    box.press_sequentially("order", delay=40)
    expect(page.locator("#search-suggestions")).to_be_visible()
    box.press("Escape")
    expect(page.locator("#search-suggestions")).to_be_hidden()
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=order$"))
    expect(page.locator("ol.hits li").first).to_contain_text("sales.orders")
    page.screenshot(path="/tmp/canon-shot-search-results.png", full_page=True)


def test_without_javascript_the_box_still_searches(live_server, browser, shop):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        box = page.get_by_role("combobox", name="Search the catalog")
        box.fill("OrderLines")
        box.press("Enter")
        expect(page).to_have_url(re.compile(r"/search/\?q=OrderLines$"))
        expect(page.locator("ol.hits li").first).to_contain_text("sales.Order Lines")
        box = page.get_by_role("combobox", name="Search the catalog")
        expect(box).to_have_value("OrderLines")
        box.fill("order")
        box.press("Enter")
        page.locator("[data-facet=kind]").get_by_role("link", name="column", exact=True).click()
        expect(page).to_have_url(re.compile(r"/search/\?q=order&kind=column$"))
        expect(page.locator("ol.hits li").first).to_contain_text("order_id")
        expect(page.locator("p.summary")).to_contain_text("Kind: column")
    finally:
        context.close()
