"""Watching a dataset and seeing its schema change, in a real browser."""

import pytest
from playwright.sync_api import expect

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.inventory.models import Dataset
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.browser.test_catalog_pages import log_in, shot
from tests.shop import build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_watch_a_dataset_alter_it_recrawl_and_see_the_change(live_server, page, warehouse, plain_user):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    customers = Dataset.objects.get(name="customers")

    log_in(page, live_server, "bo", "pw-bo-123")
    page.goto(f"{live_server.url}/datasets/{customers.pk}/")
    expect(page.locator("#history")).to_contain_text("No change since Canon first saw it")
    watch = page.locator(".watch")
    watch.get_by_label("How to hear about changes").select_option("immediate")
    watch.get_by_role("button", name="Watch").click()
    expect(page.locator(".message")).to_contain_text("Watching shop.sales.customers (immediately)")
    expect(page.locator(".watch")).to_contain_text("watching · immediately")
    assert Subscription.objects.get(user=plain_user).dataset_id == customers.pk

    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    warehouse.execute("ALTER TABLE sales.customers ALTER COLUMN country TYPE varchar(3)")
    assert source_crawl(source).datasets_changed == 1
    assert OutboxMessage.objects.get(user=plain_user).subject.startswith("[Canon] shop: 1 dataset changed, 1 breaking change")

    page.reload()
    history = page.locator("#history")
    expect(history).to_contain_text("column added phone (text)")
    expect(history).to_contain_text("country: type changed: character(2) → character varying(3)")
    shot(page, "dataset-with-history")
    history.get_by_role("link", name="Timeline (2 versions)").click()
    expect(page.locator("#v2")).to_contain_text("breaking")
    expect(page.locator("#v2")).to_contain_text("column added phone")
    shot(page, "timeline")
    page.locator("#v2").get_by_role("link", name="side by side").click()
    expect(page.locator("table.diff")).to_contain_text("character varying(3)")
    expect(page.locator("tr.diff-added")).to_contain_text("phone")
    shot(page, "diff")

    page.get_by_role("navigation").get_by_role("link", name="Changes").click()
    expect(page.locator("table.changes")).to_contain_text("sales.customers")
    page.get_by_label("Severity").select_option("breaking")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.changes")).to_contain_text("type changed")
    expect(page.locator("table.changes")).not_to_contain_text("column added phone")
    shot(page, "changes")

    page.get_by_role("navigation").get_by_role("link", name="Watching").click()
    expect(page.locator("table.list")).to_contain_text("shop.sales.customers")
    page.get_by_role("button", name="Stop watching").click()
    expect(page.locator(".message")).to_contain_text("Stopped watching shop.sales.customers")
    assert not Subscription.objects.filter(user=plain_user).exists()


def test_unsubscribe_from_an_email_link_asks_then_stops(live_server, page, warehouse, plain_user):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    source_crawl(source)
    customers = Dataset.objects.get(name="customers")
    Subscription.objects.create(user=plain_user, source=source, schema_name="sales", dataset=customers, mode=Subscription.IMMEDIATE)
    warehouse.execute("ALTER TABLE sales.customers ADD COLUMN phone text")
    crawl = source_crawl(source)
    body = OutboxMessage.objects.get(crawl=crawl, user=plain_user).body_text
    link = body.split("Stop alerts for this dataset: ")[1].split()[0]

    # Not logged in, as from a mail client: the link asks first.
    page.goto(live_server.url + link[link.index("/unsubscribe/"):])
    expect(page.get_by_role("heading", name="Stop these emails?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("shop.sales.customers")
    assert Subscription.objects.get(user=plain_user).mode == Subscription.IMMEDIATE
    shot(page, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    assert Subscription.objects.get(user=plain_user).mode == Subscription.OFF
