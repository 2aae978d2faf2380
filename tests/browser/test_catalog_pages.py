"""The catalog in a real browser: Chromium driven by Playwright against a live server,
over a catalog crawled from a real PostgreSQL warehouse. Each page is photographed to
/tmp/canon-shot-*.png for a person to look at."""

import re

import pytest
from playwright.sync_api import expect

from catalog.inventory.models import Column, Dataset
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from catalog.crawls.tasks import crawl_source_task
from tests.shop import build_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    page.screenshot(path=f"/tmp/canon-shot-{name}.png", full_page=True)


def log_in(page, live_server, username, password):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    shot(page, "login")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".account")).to_contain_text(username)


def test_browse_to_a_dataset_and_describe_it(live_server, page, warehouse, plain_user):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    log_in(page, live_server, "bo", "pw-bo-123")
    expect(page.locator(".stats")).to_contain_text("7")
    shot(page, "home")

    page.get_by_role("navigation").get_by_role("link", name="Sources").click()
    shot(page, "sources")
    page.get_by_role("link", name="shop", exact=True).click()
    expect(page.locator("h1")).to_have_text("shop")
    expect(page.locator("table.crawls tbody tr")).to_have_count(1)
    expect(page.locator("table.crawls tbody tr").first).to_contain_text("succeeded")
    shot(page, "source")

    page.get_by_role("link", name="sales", exact=True).click()
    rows = page.locator("table.datasets tbody tr")
    expect(rows).to_have_count(4)  # customers, events (partitions folded in), orders, "Order Lines"
    shot(page, "datasets")

    page.get_by_role("link", name="customers", exact=True).click()
    expect(page.locator("h1")).to_contain_text("customers")
    expect(page.locator("section.comment")).to_contain_text("One row per customer who ever signed up")
    columns = page.locator("table.columns tbody tr")
    expect(columns).to_have_count(6)
    expect(columns.nth(0)).to_contain_text("customer_id")
    expect(columns.nth(0)).to_contain_text("PK")
    expect(columns.nth(0)).to_contain_text("bigint")
    expect(columns.nth(1)).to_contain_text("Lower-cased at sign-up")
    expect(columns.nth(2)).to_contain_text("'GB'::bpchar")
    expect(columns.nth(2)).to_contain_text("character(2)")
    shot(page, "dataset")

    page.get_by_role("link", name="Edit description", exact=True).click()
    page.get_by_label("Description (Markdown)").fill(
        "Customers **who signed up**, one row each.\n\n"
        "- kept for seven years\n\n"
        "<script>window.canonPwned = true; alert('xss')</script>\n\n"
        '<img src="/nope" onerror="window.canonPwned = true">\n\n'
        "[a link](javascript:window.canonPwned=true)"
    )
    shot(page, "dataset-editing")
    page.get_by_role("button", name="Save description").click()
    expect(page.locator(".message.success")).to_have_text("Description saved.")
    description = page.locator("#description .markdown")
    expect(description.locator("strong")).to_have_text("who signed up")
    expect(description.locator("li")).to_have_text("kept for seven years")
    expect(description.locator("script")).to_have_count(0)
    expect(description.locator("img")).to_have_count(0)
    assert description.locator("a").get_attribute("href") is None  # javascript: URL dropped, text kept
    assert "canonPwned" not in description.inner_html()
    assert page.evaluate("window.canonPwned") is None
    expect(page.locator("#description")).to_contain_text("Edited")
    expect(page.locator("#description")).to_contain_text("by bo")

    page.get_by_label("Edit description of email").click()
    page.get_by_label("Description of email (Markdown)").fill("Must be *unique*, see <script>alert('col')</script>the sign-up form.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".message.success")).to_have_text("Description of email saved.")
    email_row = page.locator("table.columns tbody tr").nth(1)
    expect(email_row.locator(".markdown em")).to_have_text("unique")
    expect(email_row.locator("script")).to_have_count(0)
    expect(email_row).to_contain_text("the sign-up form")
    shot(page, "dataset-described")
    assert page.evaluate("window.canonPwned") is None
    assert dialogs == []

    # What was typed is stored as written; only the rendering is sanitised.
    customers = Dataset.objects.get(schema_name="sales", name="customers")
    assert "<script>" in customers.description and customers.description_updated_by == plain_user
    assert Column.objects.get(dataset=customers, name="email").description.startswith("Must be *unique*")

    # Problems a crawl recorded about a dataset, and source-specific facts, are on its page.
    orders = Dataset.objects.get(schema_name="sales", name="orders")
    Dataset.objects.filter(pk=orders.pk).update(
        warnings=["statistics are stale: run ANALYZE"], properties={"file_format": "parquet", "partitions": ["dt"]}
    )
    page.goto(f"{live_server.url}/datasets/{orders.pk}/")
    expect(page.get_by_role("region", name="Warnings")).to_contain_text("statistics are stale: run ANALYZE")
    expect(page.locator("section.properties")).to_contain_text("File format")
    shot(page, "dataset-warnings")

    # Not staff: the source form is refused with a page that says why.
    page.goto(f"{live_server.url}/sources/new/")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("logged in as bo")
    shot(page, "forbidden")
    page.goto(f"{live_server.url}/datasets/999999/")
    expect(page.locator("h1")).to_have_text("Not found")
    shot(page, "not-found")


def test_staff_adds_a_source_after_testing_the_connection(live_server, page, pg, warehouse, staff_user):
    build_shop(warehouse)
    wrong_password = "Wr0ng-pa55word-xyz"
    wrong_url = warehouse.url.replace(f":{pg.password}@", f":{wrong_password}@")
    assert wrong_url != warehouse.url

    log_in(page, live_server, "ana", "pw-ana-123")
    page.get_by_role("navigation").get_by_role("link", name="Sources").click()
    page.get_by_role("link", name="Add a source").click()
    expect(page).to_have_url(re.compile(r"/sources/new/$"))
    page.get_by_label("Name", exact=True).fill("shop")
    page.get_by_label("URL", exact=True).fill(wrong_url)
    page.get_by_label("Include schemas").fill("sales, analytics")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".message.error")).to_contain_text("Connection failed")
    expect(page.locator(".message.error")).to_contain_text("password")
    assert wrong_password not in page.content()
    expect(page.get_by_label("URL", exact=True)).to_have_value("")
    expect(page.get_by_label("Name", exact=True)).to_have_value("shop")
    expect(page.get_by_label("Include schemas")).to_have_value("sales, analytics")
    shot(page, "source-form-failed")

    page.get_by_label("URL", exact=True).fill(warehouse.url)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator(".message.success")).to_contain_text("Connection ok: PostgreSQL")
    assert pg.password not in page.content()
    expect(page.get_by_label("URL", exact=True)).to_have_value("")
    expect(page.locator("main form.stacked")).to_contain_text(f"Leave empty to use postgresql://postgres:***@127.0.0.1:{pg.port}/{warehouse.name}")
    shot(page, "source-form-ok")

    # The box is empty: the URL just tested (kept server-side) is the one saved.
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message.success")).to_contain_text("Source shop added")
    expect(page.locator("h1")).to_have_text("shop")
    expect(page.locator("dl.facts")).to_contain_text(f"postgresql://postgres:***@127.0.0.1:{pg.port}/{warehouse.name}")
    assert pg.password not in page.content()

    # "Crawl now" queues a crawl; a worker (here: the task run in this process) does it, and
    # the source page, which refreshes by itself while a crawl is queued, shows the result.
    page.get_by_role("button", name="Crawl now").click()
    expect(page.locator(".message")).to_contain_text("of shop is queued")
    expect(page.locator("p.progress")).to_contain_text("This page refreshes by itself.")
    shot(page, "source-crawl-queued")
    crawl = Crawl.objects.get(source__name="shop")
    crawl_source_task.apply(args=[crawl.source_id], kwargs={"crawl_id": crawl.pk})
    crawls = page.locator("table.crawls tbody tr")
    expect(crawls.first).to_contain_text("succeeded", timeout=15_000)
    expect(page.locator("p.progress")).to_have_count(0)
    numbers = crawls.first.locator("td.num").all_inner_texts()
    assert numbers[:5] == ["6", "6", "0", "0", "21"]  # seen, added, changed, removed, columns
    schemas = page.locator("main table.list").first.locator("tbody tr")
    expect(schemas).to_have_count(2)
    expect(schemas.nth(0)).to_contain_text("analytics")
    expect(schemas.nth(1)).to_contain_text("sales")
    assert pg.password not in page.content()
    shot(page, "source-crawled")

    source = Source.objects.get(name="shop")
    assert source.url == warehouse.url and source.include_schemas == ["sales", "analytics"]
    assert source.created_by == staff_user

    # Staff map the warehouse's owner roles to people.
    page.get_by_role("navigation").get_by_role("link", name="Owners").click()
    row = page.locator("table.owners tbody tr", has_text="sales_team")
    row.get_by_label("Person for sales_team").fill("ana")
    row.get_by_label("Email for sales_team").fill("sales@example.com")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".message.success")).to_have_text("Owner sales_team mapped to ana and sales@example.com.")
    expect(page.locator("table.owners tbody tr", has_text="sales_team").get_by_label("Email for sales_team")).to_have_value("sales@example.com")
    shot(page, "owners")
    page.locator("table.owners tbody tr", has_text="sales_team").get_by_role("link", name="sales_team").click()
    expect(page.locator("table.datasets tbody tr")).to_have_count(1)
    page.get_by_role("link", name="customers", exact=True).click()
    expect(page.locator("dl.facts").first).to_contain_text("sales@example.com")


def test_unreachable_source_gives_a_clear_failure(live_server, page, staff_user):
    log_in(page, live_server, "ana", "pw-ana-123")
    page.goto(live_server.url + "/sources/new/")
    page.get_by_label("Name", exact=True).fill("gone")
    page.get_by_label("URL", exact=True).fill("postgresql://reader:S3cret-gone@127.0.0.1:1/nowhere")
    page.get_by_role("button", name="Test connection").click()
    failure = page.locator(".message.error")
    expect(failure).to_contain_text("Connection failed")
    expect(failure).to_contain_text("127.0.0.1")
    assert "S3cret-gone" not in page.content()
    shot(page, "source-form-unreachable")
