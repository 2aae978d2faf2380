"""Sampled profiles of SQLite files (real files): random rowid ranges, or the first rows of a WITHOUT ROWID table
(said on the page); the budget enforced by a progress handler that aborts the statement past the deadline, and a
file locked by a writer waited for only until then."""

import sqlite3
import time

import pytest

from catalog.connectors import connector_for
from catalog.connectors.sqlite import run_until, sample_profiles
from catalog.quality.models import SampleState
from catalog.quality.profiling import profiles_sample, sampling_set
from catalog.sources.services import source_create
from tests.quality.conftest import crawled, profile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(tmp_path, settings):
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE small (id INTEGER PRIMARY KEY, country TEXT, user_email TEXT);
        WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500)
        INSERT INTO small SELECT i, CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN 'FR' ELSE 'DE' END, 'p' || i || '@x.org' FROM s;
        CREATE TABLE big (amount REAL, day DATE);
        WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
        INSERT INTO big SELECT i / 100.0, date('2026-01-01', '+' || (i % 30) || ' days') FROM s;
        CREATE TABLE pairs (a INTEGER, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
        WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 300)
        INSERT INTO pairs SELECT i, 'n' || (i % 7) FROM s;
        ANALYZE;
    """)
    conn.close()
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    source = source_create(name="local", url=f"sqlite:///{path}")
    crawled(source)
    source.path = path
    return source


def test_sqlite_tables_are_sampled_by_rowid_ranges_or_first_rows_and_say_which(local):
    sampling_set(local, enabled=True, budget_seconds=30, percent=10)
    assert profiles_sample(local) == ("Sampled 3 of 3 tables without engine statistics "
                                      "(10% of each table's rowid range, at most 10,000 rows, 30 s budget).")
    amount = profile_of("amount", "big")
    assert amount["basis"].startswith("sample of ") and amount["basis"].endswith(" rows from 10 random rowid ranges")
    rows = int(amount["basis"].split()[2].replace(",", ""))
    assert 200 <= rows <= 2000 and 0 < float(amount["min"]) <= float(amount["max"]) <= 200
    assert profile_of("day", "big")["distinct"] <= 30
    assert profile_of("b", "pairs")["basis"] == "sample of the first 30 rows, not random (a WITHOUT ROWID table)"


def test_a_small_table_at_100_percent_is_read_whole(local):
    sampling_set(local, enabled=True, budget_seconds=30, percent=100)
    profiles_sample(local)
    country = profile_of("country", "small")
    assert country["basis"] == "sample of all 500 rows (a small table, read by rowid)"
    assert (country["null_frac"], country["distinct"], country["min"], country["max"]) == (0.2, 2, "DE", "FR")
    assert country["most_common"] == [["DE", 0.6], ["FR", 0.2]] and (country["min_len"], country["max_len"]) == (2, 2)
    assert profile_of("user_email", "small")["hidden"]
    b = profile_of("b", "pairs")
    assert b["basis"] == "sample of the first 300 rows, not random (a WITHOUT ROWID table)" and b["distinct"] == 7


def test_the_progress_handler_aborts_a_statement_past_the_deadline(local):
    conn = sqlite3.connect(local.path)
    slow = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000000) SELECT count(*) FROM s"
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        run_until(conn, time.monotonic() + 0.2, slow)
    assert time.monotonic() - started < 2
    assert run_until(conn, time.monotonic() + 5, "SELECT count(*) FROM small") == [(500,)]  # the handler is gone after
    conn.close()


def test_a_locked_file_is_waited_for_only_within_the_budget(local):
    """A writer holding the file: the run waits for it no longer than the budget, says why on the source page."""
    sampling_set(local, enabled=True, budget_seconds=1, percent=100)
    writer = sqlite3.connect(local.path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        summary = profiles_sample(local)
        took = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert summary.startswith("Sampled profiles could not run: ") and summary.endswith("database is locked") and took < 5
    assert not SampleState.objects.exists()
    assert profiles_sample(local).startswith("Sampled 3 of 3")  # unlocked: all of them next time


def test_a_table_sqlite_cannot_read_is_a_warning_and_the_rest_goes_on(local):
    connector = connector_for(f"sqlite:///{local.path}")
    tables = [("main", "gone", [("x", "integer")]), ("main", "small", [("country", "text")])]
    profiles, problems, complete = sample_profiles(connector, tables, percent=100, budget_s=10)
    assert complete and list(profiles) == [("main", "small")]
    assert problems == {("main", "gone"): "no sampled profile: no such table: gone"}


def test_an_engine_that_cannot_be_sampled_says_so(tmp_path, settings, client, staff_user):
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    lake = source_create(name="lake", url=f"file://{tmp_path}")
    sampling_set(lake, enabled=True, budget_seconds=5, percent=1)
    assert profiles_sample(lake) == "Sampled profiles: file sources cannot be sampled."
    client.force_login(staff_user)
    page = client.get(f"/sources/{lake.name}/").content.decode()
    assert "file sources cannot be sampled: their profiles come only from what the source keeps" in page
    assert "Save sampling" not in page
