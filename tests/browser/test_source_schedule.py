"""A source's crawl schedule set, changed and cleared on its page, with the keyboard, on a phone-sized screen."""

import pytest
from playwright.sync_api import expect

from catalog.sources.models import CrawlSchedule
from catalog.sources.beat import beat_entries
from catalog.sources.services import source_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_schedule_a_source_on_its_page_with_the_keyboard(live_server, browser, warehouse, staff_user):
    source = source_create(name="shop", url=warehouse.url)
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + "/login/?next=/sources/shop/")
        page.get_by_label("Username").fill("ana")
        page.get_by_label("Password").fill("pw-ana-123")
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("shop")
        expect(page.locator("dl.facts")).to_contain_text("not scheduled")
        expect(page.get_by_role("button", name="No schedule")).to_have_count(0)

        minutes = page.get_by_label("Minutes between crawls")
        minutes.focus()
        page.keyboard.type("30")
        page.keyboard.press("Enter")
        expect(page.locator(".message.success")).to_have_text("Schedule: every 30 minutes.")
        expect(page.get_by_label("Minutes between crawls")).to_have_value("30")
        assert list(beat_entries()) == [f"canon-crawl-source-{source.pk}"]

        # A bad cron says which field is wrong and changes nothing.
        page.get_by_label("Minutes between crawls").fill("")
        page.get_by_label("Cron schedule").fill("0 25 * * *")
        page.get_by_label("Cron schedule").press("Enter")
        expect(page.locator(".message.error")).to_contain_text("Bad hour field '25'")
        assert CrawlSchedule.objects.get(source=source).every_seconds == 1800

        page.get_by_label("Minutes between crawls").fill("")
        page.get_by_label("Cron schedule").fill("15 3 * * 1-5")
        page.get_by_label("Cron schedule").press("Enter")
        expect(page.locator(".message.success")).to_have_text("Schedule: cron 15 3 * * 1-5 (UTC).")
        expect(page.get_by_label("Cron schedule")).to_have_value("15 3 * * 1-5")
        expect(page.get_by_label("Minutes between crawls")).to_have_value("")
        expect(page.locator("main")).to_contain_text("changed the crawl schedule to cron 15 3 * * 1-5")

        off = page.get_by_role("button", name="No schedule")
        off.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".message.success")).to_have_text("Schedule: not scheduled.")
        expect(page.locator("main")).to_contain_text("removed the crawl schedule")
        assert not CrawlSchedule.objects.filter(source=source).exists() and beat_entries() == {}
        # Nothing is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path="/tmp/canon-shot-source-schedule.png", full_page=True)
    finally:
        context.close()
