"""Freshness from engines other than PostgreSQL: MySQL's update_time (the engine's own time of change), and
SQLite, which keeps none per table (said on the page, never stale)."""

import sqlite3
import time

import pytest

from catalog.inventory.models import Dataset
from catalog.quality.models import DataChange, Freshness
from catalog.quality.services import freshness_cadence_set, freshness_check
from catalog.sources.services import source_create
from tests.quality.conftest import crawled

pytestmark = pytest.mark.django_db


def test_mysql_update_time_is_the_change_time(mariadb, mariadb_database):
    mariadb.execute("CREATE TABLE orders (id INT PRIMARY KEY) ENGINE=InnoDB;\nINSERT INTO orders VALUES (1)", mariadb_database)
    source = source_create(name="shopdb", url=mariadb.url(mariadb_database))
    crawled(source)
    f = Freshness.objects.get(dataset__name="orders")
    if f.last_changed_at is None:
        pytest.skip("this MariaDB keeps no UPDATE_TIME for InnoDB tables")
    first = f.last_changed_at
    assert f.how == Freshness.ENGINE and DataChange.objects.filter(dataset=f.dataset).count() == 1

    crawled(source)  # unchanged: no new change
    assert DataChange.objects.filter(dataset=f.dataset).count() == 1
    time.sleep(1.1)  # UPDATE_TIME has whole seconds
    mariadb.execute("INSERT INTO orders VALUES (2)", mariadb_database)
    crawled(source)
    f.refresh_from_db()
    assert f.last_changed_at > first and DataChange.objects.filter(dataset=f.dataset).count() == 2


def test_sqlite_says_it_cannot_know_and_is_never_stale(tmp_path, settings, client):
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1);")
    conn.close()
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    source = source_create(name="local", url=f"sqlite:///{path}")
    crawled(source)
    dataset = Dataset.objects.get(source=source, name="orders")
    f = freshness_cadence_set(dataset, "hourly")
    assert f.unknown_reason.startswith("SQLite keeps no time of last change per table") and f.deadline is None
    assert freshness_check() == [] and not Freshness.objects.stale().exists()
    page = client.get(dataset.get_absolute_url()).content.decode()
    assert "SQLite keeps no time of last change per table" in page
