"""Finding a copy, seeing what it costs and deciding about it, in a real browser (keyboard only, and at 375 px)."""

import pytest
from playwright.sync_api import expect

from catalog.duplicates.models import Decision
from catalog.inventory.models import Dataset
from catalog.sources.services import source_create
from tests.browser.test_catalog_pages import log_in, shot
from tests.duplicates.support import crawl, duck, make_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_a_copy_see_its_cost_and_keep_both_with_a_reason(live_server, page, warehouse, plain_user, django_user_model,
                                                             tmp_path):
    make_shop(warehouse, django_user_model)
    crawl(source_create(name="duck", url=f"duckdb://{duck(tmp_path)}"))
    Dataset.objects.filter(name__in=["customers", "customers_backup_2024"]).update(size_bytes=10 * 1024 ** 3)
    copy = Dataset.objects.get(name="customers_backup_2024")

    log_in(page, live_server, "bo", "pw-bo-123")
    page.get_by_role("navigation").get_by_role("link", name="Duplicates").click()
    expect(page.locator("h1")).to_have_text("Duplicates")
    expect(page.locator(".total")).to_contain_text("Copies cost $0.80 a month")
    group = page.get_by_role("region", name="Copies of sales.customers")
    expect(group).to_contain_text("main.customers_backup_2024")
    group.get_by_text("same 6 columns, 1 extra").click()
    expect(group).to_contain_text("1 extra: loaded_at")
    shot(page, "duplicates")

    page.get_by_label("Source").select_option("duck")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".duplicate-group")).to_have_count(1)

    # From the copy's own page, with the keyboard only.
    page.get_by_role("link", name="main.customers_backup_2024").first.click()
    panel = page.locator("#duplicates")
    expect(panel).to_contain_text("Looks like a copy of sales.customers")
    summary = panel.locator("summary", has_text="Decide about")
    summary.focus()
    page.keyboard.press("Enter")
    panel.get_by_label("Keep both, because…").focus()
    page.keyboard.press("Space")
    panel.get_by_label("Reason (needed to keep both)").fill("the notebook reads the DuckDB file offline")
    panel.get_by_role("button", name="Record decision").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".message")).to_contain_text("Recorded for main.customers_backup_2024 and sales.customers")
    expect(page.locator("#duplicates")).to_contain_text("Kept both: “the notebook reads the DuckDB file offline”")
    decision = Decision.objects.get()
    assert (decision.verdict, decision.decided_by) == ("keep", plain_user)
    assert page.url.endswith(f"/datasets/{copy.pk}/")
    shot(page, "duplicate-panel")

    # At 375 px.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/duplicates/")
    expect(page.locator(".total")).to_contain_text("besides $0.80 for copies kept on purpose")
    # The group tables scroll in their own box; the page is no wider than any other page (the top navigation, the
    # same on every page, is what sets that width at 375 px).
    widths = page.evaluate("""[...document.querySelectorAll('main .scroll, main .filters, main .total, main h2')]
                              .map(e => e.getBoundingClientRect().right)""")
    assert widths and max(widths) <= 375, widths
    navigation = page.evaluate("document.querySelector('.topbar nav').getBoundingClientRect().right")
    assert page.evaluate("document.documentElement.scrollWidth") <= max(375, navigation + 30)
    shot(page, "duplicates-375")
