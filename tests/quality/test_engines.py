"""Freshness from engines other than PostgreSQL: MySQL's update_time (the engine's own time of change), and
SQLite, which keeps none per table (said on the page, never stale)."""

import json
import sqlite3
import time

import duckdb
import pytest

from catalog.connectors.mysql import _histogram_stats
from catalog.inventory.models import Dataset
from catalog.quality.models import DataChange, DatasetProfile, Freshness
from catalog.quality.services import freshness_cadence_set, freshness_check
from catalog.sources.services import source_create
from tests.quality.conftest import crawled, profile_of

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


def test_mariadb_column_statistics_are_profiles(mariadb, mariadb_database):
    mariadb.execute("CREATE TABLE people (id INT PRIMARY KEY, country VARCHAR(2), score INT, user_email VARCHAR(80)) ENGINE=InnoDB;\n"
                    "INSERT INTO people SELECT seq, IF(seq % 4 = 0, NULL, 'DE'), 100 + seq % 50, CONCAT('p', seq, '@example.com') "
                    "FROM seq_1_to_400;\n"
                    "ANALYZE TABLE people PERSISTENT FOR ALL", mariadb_database)
    source = source_create(name="crm", url=mariadb.url(mariadb_database))
    crawl = crawled(source)
    assert not [w for w in crawl.warnings if "column profiles" in w]
    country, score, email = (profile_of(n) for n in ("country", "score", "user_email"))
    assert country["basis"] == "mysql.column_stats" and country["null_frac"] == 0.25
    assert (score["min"], score["max"]) == ("100", "149")
    assert email["hidden"] and "min" not in email and email["null_frac"] == 0
    crawled(source)  # the same statistics: nothing new kept
    assert DatasetProfile.objects.count() == 1


def test_mysql_8_histograms_read_as_profiles():
    """No MySQL 8 server here: histograms as information_schema.COLUMN_STATISTICS documents them."""
    singleton = {"buckets": [["DE", 0.5], ["FR", 0.8], ["IT", 0.9]], "null-values": 0.1, "histogram-type": "singleton"}
    stats = _histogram_stats(json.dumps(singleton))
    assert stats["null_frac"] == 0.1 and (stats["min"], stats["max"]) == ("DE", "IT") and stats["distinct"] == 3
    assert stats["most_common"][:2] == [["DE", 0.5], ["FR", 0.3]]
    equi = {"buckets": [[1, 10, 0.5, 10], [11, 99, 1.0, 80]], "null-values": 0.0, "histogram-type": "equi-height"}
    assert (_histogram_stats(json.dumps(equi))["min"], _histogram_stats(json.dumps(equi))["max"]) == ("1", "99")
    assert _histogram_stats("not json") == {}


def test_duckdb_summarize_profiles_small_tables(tmp_path, settings):
    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE orders AS SELECT range AS id, CASE WHEN range % 4 = 0 THEN NULL ELSE 'DE' END AS country, "
                 "'p' || range || '@example.com' AS email FROM range(100)")
    conn.close()
    settings.CANON_FILE_ROOTS = [str(tmp_path)]
    source = source_create(name="duck", url=f"duckdb:///{path}")
    crawled(source)
    country, ident, email = (profile_of(n) for n in ("country", "id", "email"))
    assert country["basis"] == "duckdb summarize" and country["null_frac"] == 0.25 and country["distinct"] == 1
    assert (ident["min"], ident["max"]) == ("0", "99")
    assert email["hidden"] and "min" not in email
    crawled(source)
    assert DatasetProfile.objects.count() == 1  # summarized again, the same: nothing new kept
