"""The SQLite connector against real SQLite files."""

import os
import sqlite3

import pytest

from catalog.connectors import ConnectorError, connector_for
from catalog.connectors import sqlite as sqlite_connector


def _make(path, sql):
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()
    return path


@pytest.fixture
def shop_file(tmp_path):
    return _make(tmp_path / "shop.db", """
        CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT NOT NULL, country CHAR(2) DEFAULT 'GB',
                                total NUMERIC(10,2), upper_email TEXT GENERATED ALWAYS AS (upper(email)) VIRTUAL);
        CREATE TABLE "Order Lines" ("Order ID" INTEGER NOT NULL, "Line" INTEGER NOT NULL, note,
                                    "Line Key" TEXT GENERATED ALWAYS AS ("Order ID" || '-' || "Line") STORED, PRIMARY KEY ("Order ID", "Line"));
        CREATE VIEW emails AS WITH c AS (SELECT email FROM customers) SELECT email FROM c;
        INSERT INTO customers (email) VALUES ('a@x'), ('b@x'), ('c@x');
        ANALYZE;
    """)


def test_extracts_tables_views_columns_and_keys_in_one_query(shop_file, monkeypatch):
    extraction = connector_for(f"sqlite:///{shop_file}").extract()
    datasets = {d.name: d for d in extraction.datasets}
    assert set(datasets) == {"customers", "Order Lines", "emails"}
    assert extraction.schemas == ["main"]
    cols = {c.name: c for c in datasets["customers"].columns}
    assert [c.name for c in datasets["customers"].columns] == ["customer_id", "email", "country", "total", "upper_email"]
    assert cols["customer_id"].is_primary_key and not cols["customer_id"].nullable
    assert cols["country"].default == "'GB'" and cols["total"].data_type == "NUMERIC(10,2)"
    assert datasets["customers"].row_estimate == 3, "from sqlite_stat1"
    lines = datasets["Order Lines"]
    assert {c.name for c in lines.columns if c.is_primary_key} == {"Order ID", "Line"}
    assert {c.name: c.data_type for c in lines.columns}["note"] == ""
    assert {c.name: c.generated for c in lines.columns} == {"Order ID": "", "Line": "", "note": "", "Line Key": "stored"}
    assert cols["upper_email"].generated == "virtual" and cols["email"].generated == ""
    emails = datasets["emails"]
    assert emails.kind == "view" and "WITH c AS" in emails.definition and [c.name for c in emails.columns] == ["email"]


def test_reads_everything_in_one_catalog_query(shop_file):
    statements = []
    connector = connector_for(f"sqlite:///{shop_file}")
    original = connector.connect

    def traced():
        conn = original()
        conn.set_trace_callback(statements.append)
        return conn

    connector.connect = traced
    connector.extract()
    catalog = [s for s in statements if "pragma_table_xinfo" in s]
    assert len(catalog) == 1 and "sqlite_master" in catalog[0]


def test_a_broken_view_gets_a_warning_and_the_rest_is_read(tmp_path):
    path = _make(tmp_path / "broken.db", """
        CREATE TABLE kept (id INTEGER PRIMARY KEY);
        CREATE TABLE doomed (id INTEGER);
        CREATE VIEW broken AS SELECT id FROM doomed;
        DROP TABLE doomed;
    """)
    extraction = connector_for(f"sqlite:///{path}").extract()
    datasets = {d.name: d for d in extraction.datasets}
    assert [c.name for c in datasets["kept"].columns] == ["id"]
    assert datasets["broken"].columns == []
    assert "no such table: main.doomed" in datasets["broken"].warnings[0]


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"definitely not sqlite" * 200)
    with pytest.raises(ConnectorError, match=f"^{junk} is not a readable SQLite database: file is not a database$"):
        connector_for(f"sqlite:///{junk}").extract()
    with pytest.raises(ConnectorError, match="does not exist"):
        connector_for(f"sqlite:///{tmp_path}/missing.db").extract()


def test_opens_read_only_and_relative_paths(shop_file, monkeypatch):
    connector = connector_for(f"sqlite:///{shop_file}")
    conn = connector.connect()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("CREATE TABLE nope (id INTEGER)")
    conn.close()
    monkeypatch.chdir(shop_file.parent)
    assert connector_for("sqlite:///shop.db").path == "shop.db"
    assert connector_for("sqlite:///shop.db").test().startswith("SQLite 3.")


def test_table_sizes_count_their_indexes_pages_and_big_files_say_why_they_have_none(tmp_path, monkeypatch):
    path = _make(tmp_path / "sized.db", """
        PRAGMA page_size = 4096;
        CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT);
        CREATE INDEX big_body ON big (body);
        CREATE TABLE small (id INTEGER PRIMARY KEY);
        CREATE VIEW v AS SELECT id FROM small;
    """)
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO big VALUES (?, ?)", [(i, "x" * 400 + str(i)) for i in range(2000)])
    conn.commit()
    conn.close()
    extraction = connector_for(f"sqlite:///{path}").extract()
    datasets = {d.name: d for d in extraction.datasets}
    # 2,000 rows of ~400 bytes, twice (the table and its index on body): about 1.6 MB in 4 KB pages.
    assert 1_600_000 < datasets["big"].size_bytes < 2_400_000 and datasets["big"].size_bytes % 4096 == 0
    assert datasets["small"].size_bytes == 4096, "one page, empty"
    assert datasets["v"].size_bytes is None, "a view has no pages"
    assert extraction.warnings == []

    monkeypatch.setattr(sqlite_connector, "SIZE_WALK_MAX_BYTES", 1024 * 1024)
    extraction = connector_for(f"sqlite:///{path}").extract()
    assert all(d.size_bytes is None for d in extraction.datasets)
    megabytes = os.path.getsize(path) // (1024 * 1024)
    assert extraction.warnings == [f"table sizes not read: the file is {megabytes} MB, and reading them walks every page (SQLite's dbstat), done for files up to 1 MB"]
    assert datasets["big"].columns and extraction.datasets, "the rest is read as before"
