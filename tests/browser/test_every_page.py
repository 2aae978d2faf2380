"""Every page a team opens, in Chromium at a phone's width (375 px) and a laptop's (1366 px), on the demo `make run`
shows, plus a source with a 100-character table name and 300 columns: nothing scrolls sideways, and the home page's
attention panels show what the demo planted.

`make screenshots` runs this with CANON_SCREENSHOTS set: every page at both widths is written there, for a person to
look at all at once."""

import os
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Dataset
from catalog.metrics.models import MetricDefinition
from catalog.sources.services import source_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": 375, "laptop": 1366}
LONG_NAME = "quarterly_customer_lifetime_value_by_acquisition_channel_and_region_including_refunds_v2_final_xyzwq"  # 100
assert len(LONG_NAME) == 100


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo", stdout=open(os.devnull, "w"))
    wide = tmp_path / "wide.sqlite"
    conn = sqlite3.connect(wide)
    conn.execute(f'CREATE TABLE "{LONG_NAME}" ({", ".join(f"measure_{i:03d}_with_a_rather_long_column_name REAL" for i in range(300))})')
    conn.close()
    source = source_create(name="wide", url=f"sqlite:///{wide}")
    assert source_crawl(source).status == "succeeded"
    return {"password": (tmp_path / "demo" / "password.txt").read_text().strip(), "shots": Path(os.environ.get("CANON_SCREENSHOTS") or tmp_path / "shots")}


# The elements that stick out on the right, innermost first, to name in a failure.
OFFENDERS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 || e.scrollWidth > document.documentElement.clientWidth + 1)
  .slice(-6).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/ /g, '.') : '')
                    + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


def _no_sideways_scroll(page, what: str):
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (f"{what} scrolls sideways at {widths[1]} px: the page is {widths[0]} px wide; "
                                    f"sticking out: {page.evaluate(OFFENDERS)}")


def test_every_page_fits_a_phone_and_a_laptop_and_home_says_what_needs_attention(live_server, browser, demo):
    shots = demo["shots"]
    shots.mkdir(parents=True, exist_ok=True)
    wide = Dataset.objects.get(name=LONG_NAME)
    customers = Dataset.objects.get(source__name="demo-shop", name="customers")
    churn = MetricDefinition.objects.get(name="churn_rate")
    pages = {
        "home": "/", "sources": "/sources/", "source": "/sources/demo-shop/", "source-delete": "/sources/wide/delete/",
        "schema": "/sources/demo-shop/schemas/main/", "datasets": "/datasets/", "dataset": customers.get_absolute_url(),
        "dataset-wide": wide.get_absolute_url(), "history": f"/datasets/{customers.pk}/history/", "changes": "/changes/",
        "metrics": "/metrics/", "metric": churn.get_absolute_url(), "owners": "/owners/", "search": "/search/?q=customer",
        "watching": "/watching/", "outbox": "/outbox/", "api-reference": "/api/docs/",
    }
    for label, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + "/login/")
        page.get_by_label("Username").fill("demo")
        page.get_by_label("Password").fill(demo["password"])
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".account")).to_contain_text("demo")
        for name, path in pages.items():
            page.goto(live_server.url + path)
            expect(page.locator("main, .swagger-ui").first).to_be_visible()
            if name == "api-reference":
                expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
            _no_sideways_scroll(page, f"{name} ({path})")
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        context.close()


def test_home_panels_lead_to_what_the_demo_planted(live_server, page, demo):
    page.goto(live_server.url + "/")
    breaking = page.locator("#attention-breaking-changes")
    expect(breaking.locator(".count strong")).to_have_text("2")
    expect(breaking).to_contain_text("main.customers")
    expect(breaking).to_contain_text("metric churn_rate")
    expect(page.locator("#attention-broken-definitions .count strong")).to_have_text("1")
    expect(page.locator("#attention-failing-sources .count strong")).to_have_text("0")
    expect(page.locator("#attention-failing-sources")).to_contain_text("Every source's last crawl worked.")
    expect(page.locator("#attention-stale-datasets .count strong")).to_have_text("1")
    expect(page.locator("#attention-stale-datasets")).to_contain_text("lake/finance.exchange_rates")
    expect(page.locator("#attention-duplicates .count strong")).to_have_text("1")
    expect(page.locator("#attention-duplicates")).to_contain_text("main.orders")

    breaking.get_by_role("link", name="Breaking changes this week").click()
    expect(page).to_have_url(live_server.url + "/changes/?severity=breaking&since=7d")
    expect(page.locator("table.changes tbody tr")).to_have_count(2)
    page.go_back()
    page.locator("#attention-broken-definitions").get_by_role("link", name="Broken definitions").click()
    expect(page.locator("table.metrics tbody tr")).to_have_count(1)
    expect(page.locator("table.metrics")).to_contain_text("Churn rate")


def test_the_long_name_wraps_and_its_copy_button_holds_it_whole(live_server, page, demo):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    wide = Dataset.objects.get(name=LONG_NAME)
    page.goto(live_server.url + wide.get_absolute_url())
    heading = page.locator("h1")
    assert heading.get_attribute("title") == f"main.{LONG_NAME}"
    button = page.get_by_role("button", name=f"Copy the name main.{LONG_NAME}")
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"main.{LONG_NAME}"
    expect(page.locator("table.columns tbody tr")).to_have_count(300)
    _no_sideways_scroll(page, "a 300-column dataset")


def test_staff_delete_a_source_from_its_page_after_reading_what_goes(live_server, page, demo):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(demo["password"])
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/sources/wide/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.locator("h1")).to_have_text("Delete wide?")
    expect(page.locator(".delete-list").first).to_contain_text("300 columns")
    expect(page.locator(".delete-list").first).to_contain_text("1 datasets")
    page.get_by_role("button", name="Delete wide and all of the above").click()
    expect(page.locator(".message.success")).to_contain_text("Source wide deleted, with the 1 dataset crawled from it.")
    expect(page.get_by_role("link", name="wide", exact=True)).to_have_count(0)


def test_dark_mode_follows_the_system(live_server, browser, demo):
    context = browser.new_context(color_scheme="dark", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    ink = page.evaluate("getComputedStyle(document.documentElement).color")
    context.close()
    context = browser.new_context(color_scheme="light", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") != background
    context.close()
    darkness = sum(int(v) for v in background[background.index("(") + 1:-1].split(",")[:3])
    lightness = sum(int(v) for v in ink[ink.index("(") + 1:-1].split(",")[:3])
    assert darkness < 150 < lightness, (background, ink)
