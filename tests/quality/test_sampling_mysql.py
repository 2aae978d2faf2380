"""Sampled profiles on MySQL / MariaDB (the real MariaDB the harness starts): random ranges of a single integer key,
or the first rows in index order (said on the page), each statement stopped by the server past the budget; a table
refused or timed out is a warning on its page and the run goes on."""

import random
import time

import pymysql
import pytest

from catalog.connectors.mysql import limited, sample_query
from catalog.connectors.sampling import range_starts
from catalog.inventory.models import Dataset
from catalog.quality.models import SampleState
from catalog.quality.profiling import profiles_sample, sampling_set
from catalog.sources.services import source_create
from tests.quality.conftest import crawled, profile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(mariadb, mariadb_database):
    mariadb.execute(
        "CREATE TABLE small (id INT PRIMARY KEY, country VARCHAR(2), user_email VARCHAR(80)) ENGINE=InnoDB;\n"
        "INSERT INTO small SELECT seq, IF(seq % 5 = 0, NULL, IF(seq % 5 = 1, 'FR', 'DE')), CONCAT('p', seq, '@x.org') FROM seq_1_to_500;\n"
        "CREATE TABLE big (id BIGINT PRIMARY KEY, amount DECIMAL(10,2), day DATE) ENGINE=InnoDB;\n"
        "INSERT INTO big SELECT seq, seq / 100, '2026-01-01' + INTERVAL seq % 30 DAY FROM seq_1_to_20000;\n"
        "CREATE TABLE keyless (name VARCHAR(20), n INT) ENGINE=InnoDB;\n"
        "INSERT INTO keyless SELECT CONCAT('n', seq % 7), seq FROM seq_1_to_300;\n"
        "CREATE TABLE pair (a INT, b INT, PRIMARY KEY (a, b)) ENGINE=InnoDB;\n"
        "INSERT INTO pair SELECT seq, seq FROM seq_1_to_50", mariadb_database)
    source = source_create(name="shopdb", url=mariadb.url(mariadb_database))
    crawled(source)
    source.database = mariadb_database
    return source


def test_mariadb_tables_are_sampled_by_key_ranges_or_first_rows_and_say_which(shop):
    sampling_set(shop, enabled=True, budget_seconds=30, percent=10)
    summary = profiles_sample(shop)
    assert summary == ("Sampled 4 of 4 tables without engine statistics "
                       "(10% of each table's key range, at most 10,000 rows, 30 s budget).")
    # big: 10% of a 20,000-key range, 10 ranges of 200 keys at random starts (overlaps read once).
    amount = profile_of("amount", "big")
    basis = amount["basis"]
    assert basis.startswith("sample of ") and basis.endswith(" rows from 10 random key ranges")
    rows = int(basis.split()[2].replace(",", ""))
    assert 200 <= rows <= 2000
    assert 0 < float(amount["min"]) <= float(amount["max"]) <= 200 and amount["null_frac"] == 0
    assert profile_of("day", "big")["distinct"] <= 30

    # small: 10% of 500 keys = 50 rows from 10 ranges of 5
    assert profile_of("country", "small")["basis"].endswith(" rows from 10 random key ranges")

    keyless = profile_of("name", "keyless")
    assert keyless["basis"] == "sample of the first 30 rows, not random (no single integer key)"
    assert profile_of("a", "pair")["basis"].endswith("not random (no single integer key)")


def test_a_small_table_at_100_percent_is_read_whole_with_the_same_fields_as_postgres(shop, client):
    sampling_set(shop, enabled=True, budget_seconds=30, percent=100)
    profiles_sample(shop)
    country = profile_of("country", "small")
    assert country["basis"] == "sample of all 500 rows (a small table, read by its key)"
    assert (country["null_frac"], country["distinct"], country["min"], country["max"]) == (0.2, 2, "DE", "FR")
    assert (country["min_len"], country["max_len"]) == (2, 2)
    assert country["most_common"] == [["DE", 0.6], ["FR", 0.2]]
    email = profile_of("user_email", "small")
    assert email["hidden"] and "min" not in email and "most_common" not in email and email["distinct"] == 500
    assert profile_of("id", "small")["min"] == "1"
    page = client.get(Dataset.objects.get(source=shop, name="small").get_absolute_url()).content.decode()
    assert "Sampled by Canon, not the engine's statistics: sample of all 500 rows (a small table, read by its key)." in page
    page = client.get(Dataset.objects.get(source=shop, name="keyless").get_absolute_url()).content.decode()
    assert "Sampled by Canon, not the engine's statistics: sample of the first 300 rows, not random (no single integer key)." in page
    # sampled again later: a sampled profile does not count as the engine's statistics
    assert profiles_sample(shop).startswith("Sampled 4 of 4")


def test_the_sample_reads_key_ranges_through_the_primary_key(mariadb, shop):
    """EXPLAIN on the server: every range is a range read of the primary key, never a scan of the table."""
    sql = sample_query(shop.database, "big", ["amount"], "id", [10, 5000, 19900], 200)
    conn = mariadb.connect(shop.database)
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("EXPLAIN " + sql)
            plan = [row for row in cur.fetchall() if row["table"] == "big"]
            cur.execute(limited(sql, 5, mariadb=True))
            keys = [row["canon_key"] for row in cur.fetchall()]
    finally:
        conn.close()
    assert len(plan) == 3 and {(row["type"], row["key"]) for row in plan} == {("range", "PRIMARY")}
    assert len(keys) == 200 + 200 + 101 and keys[0] == 10 and keys[-1] == 20000


def test_mysql_spells_the_time_limit_as_a_hint():
    assert limited("SELECT 1", 2.5, mariadb=False) == "SELECT /*+ MAX_EXECUTION_TIME(2500) */ 1"
    assert limited("SELECT 1", 2.5, mariadb=True) == "SET STATEMENT max_statement_time=2.500 FOR SELECT 1"


def test_a_refused_table_and_a_timed_out_one_are_warnings_and_the_rest_goes_on(mariadb, shop, client):
    db = shop.database
    mariadb.execute("CREATE OR REPLACE USER 'sampler'@'127.0.0.1' IDENTIFIED BY 'pw-sampler';\n"
                    f"GRANT SELECT ON `{db}`.big TO 'sampler'@'127.0.0.1';\n"
                    f"GRANT SELECT ON `{db}`.keyless TO 'sampler'@'127.0.0.1';\n"
                    f"GRANT INSERT ON `{db}`.small TO 'sampler'@'127.0.0.1'")
    try:
        source = source_create(name="limited", url=mariadb.url(db, user="sampler", password="pw-sampler"))
        crawled(source)
        sampling_set(source, enabled=True, budget_seconds=2, percent=100)
        summary = profiles_sample(source)
        assert "Sampled 2 of 3 tables" in summary and "1 refused or timed out" in summary
        small = Dataset.objects.get(source=source, name="small")
        warning = SampleState.objects.get(dataset=small).warning
        assert warning.startswith("no sampled profile: ") and "denied" in warning and "pw-sampler" not in warning
        assert "denied" in client.get(small.get_absolute_url()).content.decode()

        # big is locked by another session: the sample waits, the server stops it when the budget is spent.
        holder = mariadb.connect(db)
        with holder.cursor() as cur:
            cur.execute("LOCK TABLES big WRITE")
        try:
            SampleState.objects.filter(dataset__source=source).delete()
            started = time.monotonic()
            summary = profiles_sample(source)
            took = time.monotonic() - started
        finally:
            with holder.cursor() as cur:
                cur.execute("UNLOCK TABLES")
            holder.close()
        big = Dataset.objects.get(source=source, name="big")
        assert "ran past the 2 s budget" in SampleState.objects.get(dataset=big).warning
        assert "out of budget" in summary and took < 10
    finally:
        mariadb.execute("DROP USER 'sampler'@'127.0.0.1'")


def test_random_ranges_stay_inside_the_key_range():
    starts, per = range_starts(1, 20000, 2000, rng=random.Random(7))
    assert per == 200 and len(starts) == 10 and all(1 <= s <= 19801 for s in starts)
    assert range_starts(1, 500, 500) == ([1], 500)



def test_the_source_page_says_how_mysql_is_sampled(shop, client, staff_user):
    client.force_login(staff_user)
    page = client.post(f"/sources/{shop.name}/sampling/", {"enabled": "1", "budget_seconds": "5", "percent": "2"},
                       follow=True).content.decode()
    assert "On: 2.0% of each table&#x27;s key range, at most 10,000 rows, 5.0 s a crawl." in page
    assert "random ranges of a single integer primary key" in page and "TABLESAMPLE" not in page
