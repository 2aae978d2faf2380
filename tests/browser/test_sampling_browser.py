"""Sampled profiles in a real browser: staff turn them on for a SQLite source with the keyboard, the worker samples,
the source page says what the last run did and the dataset page what each profile was read from (also at 375 px)."""

import sqlite3

import pytest
from playwright.sync_api import expect

from catalog.inventory.models import Dataset
from catalog.quality.profiling import profiles_sample
from catalog.sources.services import source_create
from tests.browser.test_catalog_pages import log_in, shot
from tests.quality.conftest import crawled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_turn_sampling_on_and_read_the_basis_on_the_dataset_page(live_server, page, tmp_path, settings, staff_user):
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, country TEXT);"
                       "INSERT INTO orders VALUES (1, 'DE'), (2, 'DE'), (3, NULL), (4, 'FR');")
    conn.close()
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    source = source_create(name="local", url=f"sqlite:///{path}")
    crawled(source)

    log_in(page, live_server, "ana", "pw-ana-123")
    page.goto(f"{live_server.url}/sources/local/")
    section = page.locator("#sampling")
    expect(section).to_contain_text("random ranges of the rowid")
    section.get_by_label("Sample tables without statistics").focus()
    page.keyboard.press("Space")
    section.get_by_label("Budget").fill("5")
    field = section.get_by_role("spinbutton", name="Sample")
    field.fill("100")
    field.press("Enter")  # no mouse
    expect(page.locator(".message")).to_contain_text("Sampled profiles on for local.")
    expect(page.locator("#sampling")).to_contain_text("On: 100.0% of each table's rowid range, at most 10,000 rows, 5.0 s a crawl.")

    profiles_sample(source)  # what the worker runs after a crawl
    page.reload()
    expect(page.locator("#sampling")).to_contain_text("Last run: Sampled 1 of 1 tables without engine statistics")
    shot(page, "sampling-source")

    page.goto(f"{live_server.url}{Dataset.objects.get(name='orders').get_absolute_url()}")
    basis = page.locator("#profiles .basis")
    expect(basis).to_contain_text("Sampled by Canon, not the engine's statistics: sample of all 4 rows (a small table, read by rowid).")
    expect(page.locator("#profile-country")).to_contain_text("25%")
    page.set_viewport_size({"width": 375, "height": 800})
    expect(basis).to_be_visible()
    shot(page, "sampling-dataset-375")
