"""Freshness in a real browser: set a cadence with the keyboard, see the dataset go stale, find it on the Stale page
(also at 375 px), and go back to it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.inventory.models import Dataset
from catalog.quality.models import Freshness
from catalog.quality.services import freshness_check
from tests.browser.test_catalog_pages import log_in, shot
from tests.quality.conftest import crawled, write
from catalog.sources.services import source_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_a_cadence_see_it_stale_and_find_it_on_the_stale_page(live_server, page, warehouse, staff_user):
    write(warehouse, "CREATE TABLE public.orders (id int); INSERT INTO public.orders VALUES (1);"
                     "CREATE VIEW public.order_ids AS SELECT id FROM public.orders")
    source = source_create(name="shop", url=warehouse.url)
    crawled(source)
    write(warehouse, "INSERT INTO public.orders VALUES (2)")
    crawled(source)
    orders = Dataset.objects.get(name="orders")

    log_in(page, live_server, "ana", "pw-ana-123")
    page.goto(f"{live_server.url}/datasets/{orders.pk}/")
    section = page.locator("#freshness")
    expect(section).to_contain_text("write counters moved between these crawls")
    field = section.get_by_label("Expected cadence")
    field.fill("hourly")
    field.press("Enter")  # no mouse
    expect(page.locator(".message")).to_contain_text("Cadence set: hourly.")
    expect(page.locator("#freshness")).to_contain_text("every hour")
    expect(page.locator("#freshness .badge.fresh")).to_be_visible()
    shot(page, "freshness-fresh")

    Freshness.objects.filter(dataset=orders).update(deadline=timezone.now() - timedelta(minutes=90))
    freshness_check()
    page.get_by_role("navigation").get_by_role("link", name="Stale").click()
    table = page.locator("table.stale")
    expect(table).to_contain_text("public.orders")
    expect(table).to_contain_text("view public.order_ids")
    expect(table).to_contain_text("1\xa0hour, 30\xa0minutes")
    shot(page, "stale-page")
    page.set_viewport_size({"width": 375, "height": 800})
    expect(table.get_by_role("link", name="public.orders")).to_be_visible()
    shot(page, "stale-page-375")
    table.get_by_role("link", name="public.orders").click()
    expect(page.locator("h1 .badge.stale")).to_be_visible()
    expect(page.locator("#freshness")).to_contain_text("late")
