"""The index task outlasts SQLite's "database is locked": another connection really holds the write lock, and search
is right once it lets go. (PostgreSQL makes writers wait for locks instead: these tests are SQLite's.)"""

import logging
import sqlite3
import threading

import pytest
from celery.exceptions import Retry
from django.db import connection

from catalog.search import index
from catalog.search.tasks import search_index_source_task
from tests.search.support import add_dataset, titles

pytestmark = pytest.mark.django_db(transaction=True)  # the task's transactions are its own, as in a worker


@pytest.fixture(autouse=True)
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default's lock; run with CANON_TEST_DB=sqlite")


class WriteLock:
    """A second connection to the catalog's database: BEGIN IMMEDIATE and a write to the names table search indexing
    writes, held until released (by a timer, or at the end of the test)."""

    def __init__(self):
        self.other = sqlite3.connect(connection.settings_dict["NAME"], uri=True, isolation_level=None, check_same_thread=False)
        self.other.execute("BEGIN IMMEDIATE")
        self.other.execute("INSERT INTO search_searchname (key, words) VALUES ('held-by-another-connection', '')")
        self.lock = threading.Lock()
        self.timer = None

    def release_after(self, seconds: float) -> None:
        self.timer = threading.Timer(seconds, self.release)
        self.timer.start()

    def release(self) -> None:
        with self.lock:
            if self.other is not None:
                self.other.execute("ROLLBACK")
                self.other.close()
                self.other = None


@pytest.fixture
def write_lock():
    held = []
    yield lambda: held.append(WriteLock()) or held[-1]
    for lock in held:
        if lock.timer:
            lock.timer.cancel()
        lock.release()


@pytest.fixture
def stale(source):
    """A dataset the catalog has and search does not yet (what a big crawl hands to the task)."""
    add_dataset(source, "sales", "returns", [("return_id", "bigint"), ("reason", "text")], index=False)
    assert titles("returns", kind="dataset") == []
    return source


def test_the_index_task_waits_out_a_write_lock_held_by_another_connection(stale, write_lock, caplog):
    lock = write_lock()
    lock.release_after(1.0)
    with caplog.at_level(logging.INFO, logger="catalog.search.index"):
        search_index_source_task.apply(args=[stale.pk], throw=True)
    assert any("search indexing waits" in r.getMessage() and "is locked" in r.getMessage() for r in caplog.records)
    assert titles("returns", kind="dataset") == ["sales.returns"]
    assert titles("reason", kind="column") == ["returns.reason"]


def test_a_lock_that_outlasts_the_pauses_is_retried_by_the_broker_later_and_later(stale, write_lock, monkeypatch):
    monkeypatch.setattr(index, "LOCK_RETRY_DELAYS", (0.05,))
    write_lock()  # held for the whole test
    search_index_source_task.push_request(id="index-1", retries=2, is_eager=True, called_directly=False)
    try:
        with pytest.raises(Retry) as retry:
            search_index_source_task.run(stale.pk)
    finally:
        search_index_source_task.pop_request()
    assert retry.value.when == 120  # 30 s, 60 s, then 120 s for the third retry
    assert "is locked" in str(retry.value.exc)
