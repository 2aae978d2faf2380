"""The MySQL/MariaDB connector against a real MariaDB server started by the harness."""

import re
import time

import pymysql
import pytest

from catalog.connectors import ConnectorError, ExtractRequest, connector_for
from catalog.connectors.mysql import column_default, column_generation
from tests.connectors.mysql_shop import build_mysql_shop


@pytest.fixture
def shop(mariadb, mariadb_database):
    build_mysql_shop(mariadb, mariadb_database)
    return mariadb_database


def _by_name(extraction):
    return {d.name: d for d in extraction.datasets}


def test_extracts_tables_views_columns_comments_keys_and_sizes(mariadb, shop):
    extraction = connector_for(mariadb.url(shop)).extract()
    assert extraction.schemas == [shop], "the URL's database is the default scope"
    datasets = _by_name(extraction)
    assert set(datasets) == {"customers", "Order Lines", "orders", "scratch_log", "big_orders", "Customer Orders", "broken"}
    assert {d.schema for d in datasets.values()} == {shop}

    customers = datasets["customers"]
    assert customers.kind == "table"
    assert customers.comment == "One row per customer who ever signed up"
    assert customers.properties["engine"] == "InnoDB"
    assert customers.row_estimate is not None and customers.size_bytes > 0
    cols = {c.name: c for c in customers.columns}
    assert [c.name for c in customers.columns][:3] == ["customer_id", "email", "country"]
    assert [c.position for c in customers.columns] == list(range(1, 13))
    assert cols["customer_id"].data_type == "bigint(20) unsigned"
    assert cols["customer_id"].is_primary_key and not cols["customer_id"].nullable
    assert cols["customer_id"].default == "AUTO_INCREMENT"
    assert cols["email"].comment == "Lower-cased at sign-up" and not cols["email"].nullable
    assert cols["country"].data_type == "char(2)" and cols["country"].default == "'GB'"
    assert cols["plan"].data_type == "enum('free','pro','team')"
    assert cols["flags"].data_type == "set('beta','staff')" and cols["flags"].default is None
    assert cols["signed_up_at"].data_type == "datetime(6)"
    assert "ON UPDATE" in cols["touched_at"].default
    assert cols["is_active"].data_type == "tinyint(1)"
    assert cols["born"].data_type == "year(4)"
    assert cols["home"].data_type == "point"
    assert cols["email_domain"].default.startswith("GENERATED ALWAYS AS (") and cols["email_domain"].default.endswith("VIRTUAL")
    assert cols["email_domain"].generated == "virtual" and cols["customer_id"].generated == "identity"
    assert cols["email"].generated == "" and cols["touched_at"].generated == "", "ON UPDATE is not generation"
    assert not any(c.is_primary_key for name, c in cols.items() if name != "customer_id")

    lines = datasets["Order Lines"]
    assert [c.name for c in lines.columns] == ["Order ID", "Line", "unitPrice", "Bits", "Raw"]
    assert {c.name for c in lines.columns if c.is_primary_key} == {"Order ID", "Line"}
    assert {c.name: c.data_type for c in lines.columns}["unitPrice"] == "decimal(12,2) unsigned"

    assert datasets["orders"].kind == "partitioned_table"
    assert datasets["scratch_log"].properties["engine"] == "MyISAM"
    assert datasets["scratch_log"].row_estimate == 2
    assert datasets["scratch_log"].last_modified is not None and datasets["scratch_log"].last_modified.tzinfo is not None

    big = datasets["big_orders"]
    assert big.kind == "view" and big.comment == ""
    assert f"`{shop}`.`orders`" in big.definition
    assert [c.name for c in big.columns] == ["order_id", "amount"]
    assert big.properties["definer"] == "root@127.0.0.1"
    assert "recent" in datasets["Customer Orders"].definition
    broken = datasets["broken"]
    assert broken.kind == "view" and broken.columns == []
    assert "references invalid table" in broken.warnings[0]


def test_without_a_database_in_the_url_every_non_system_database_is_in_scope(mariadb, shop):
    extraction = connector_for(mariadb.url("")).extract()
    assert shop in extraction.schemas
    assert not {"mysql", "sys", "information_schema", "performance_schema"} & set(extraction.schemas)
    assert ("customers" in {d.name for d in extraction.datasets if d.schema == shop})


def test_include_exclude_patterns_and_a_pattern_that_matches_nothing(mariadb, shop, mariadb_database):
    other = f"{shop}_other"
    mariadb.execute(f"CREATE DATABASE `{other}`;\nCREATE TABLE `{other}`.t (id INT)")
    try:
        connector = connector_for(mariadb.url(""))
        extraction = connector.extract(ExtractRequest(include=[f"{shop}*"], exclude=[other]))
        assert extraction.schemas == [shop]
        assert extraction.warnings == []
        both = connector.extract(ExtractRequest(include=[f"{shop}*"]))
        assert both.schemas == [shop, other], "an empty database in scope is listed too"
        assert {d.schema for d in both.datasets} == {shop, other}
        nothing = connector.extract(ExtractRequest(include=["nope*"]))
        assert nothing.datasets == [] and nothing.schemas == []
        assert "Schema pattern 'nope*' matched no schema" in nothing.warnings[0]
        assert shop in nothing.warnings[0] and "mysql" not in nothing.warnings[0]
    finally:
        mariadb.execute(f"DROP DATABASE `{other}`")


def test_reads_in_a_read_only_session_with_a_statement_timeout(mariadb, shop):
    connector = connector_for(mariadb.url(shop), statement_timeout=7)
    conn = connector.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@session.max_statement_time, @@session.time_zone")
            assert cur.fetchone() == (7.0, "+00:00")
            with pytest.raises(pymysql.err.OperationalError, match="READ ONLY"):
                cur.execute("INSERT INTO scratch_log VALUES ('three')")
    finally:
        conn.close()


def test_uses_four_bulk_queries_whatever_the_number_of_tables(mariadb, mariadb_database, monkeypatch):
    mariadb.execute(";\n".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, v TEXT COMMENT 'c{i}')" for i in range(60)),
                    database=mariadb_database)
    sent = []
    original = pymysql.cursors.Cursor.execute

    def counting(self, query, args=None):
        sent.append(query.strip().split()[0].upper() + " " + " ".join(query.split()[1:4]))
        return original(self, query, args)

    monkeypatch.setattr(pymysql.cursors.Cursor, "execute", counting)
    extraction = connector_for(mariadb.url(mariadb_database)).extract()
    assert len(extraction.datasets) == 60
    assert all(len(d.columns) == 2 and d.columns[1].comment for d in extraction.datasets)
    catalog_queries = [q for q in sent if q.startswith("SELECT") and "VERSION()" not in q]
    assert len(catalog_queries) == 5, sent  # schemata, tables, views, columns (streamed), column statistics (profiles)


def test_mariadb_scheme_and_test_connection(mariadb, shop):
    assert re.fullmatch(rf"MariaDB 1\d\.\d+\.\d+, database {shop}", connector_for(mariadb.url(shop, scheme="mariadb")).test())
    assert connector_for(mariadb.url("")).test().endswith(", all databases")


@pytest.mark.parametrize("make_url, expected", [
    (lambda db, port: f"mysql://root:wrong-pw@127.0.0.1:{port}/{db}", 'access denied for user "root" at 127.0.0.1:'),
    (lambda db, port: f"mysql://root:{{pw}}@127.0.0.1:{port}/no_such_db", 'database "no_such_db" does not exist on 127.0.0.1:'),
    (lambda db, port: "mysql://root:pw@127.0.0.1:1/db", "could not connect to 127.0.0.1:1: connection refused"),
])
def test_connection_failures_are_one_clear_line_without_the_password(mariadb, shop, make_url, expected):
    url = make_url(shop, mariadb.port).replace("{pw}", mariadb.password)
    with pytest.raises(ConnectorError) as info:
        connector_for(url).extract()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert mariadb.password not in message and "wrong-pw" not in message


def test_a_database_the_user_cannot_read(mariadb, shop):
    """A user granted one database: the other is an error when named, a warning when patterned."""
    readable = f"{shop}_ok"
    mariadb.execute(f"CREATE DATABASE `{readable}`;\nCREATE TABLE `{readable}`.visible (id INT)")
    mariadb.execute(f"CREATE OR REPLACE USER 'reader'@'127.0.0.1' IDENTIFIED BY 'reader-secret';\n"
                    f"GRANT SELECT ON `{readable}`.* TO 'reader'@'127.0.0.1'")
    try:
        with pytest.raises(ConnectorError) as info:
            connector_for(mariadb.url(shop, user="reader", password="reader-secret")).extract()
        assert str(info.value).startswith(f'user "reader" has no privileges on database "{shop}" at 127.0.0.1:')
        assert "reader-secret" not in str(info.value)

        extraction = connector_for(mariadb.url("", user="reader", password="reader-secret")).extract(ExtractRequest(include=[shop, readable]))
        assert extraction.schemas == [readable]
        assert [d.name for d in extraction.datasets] == ["visible"]
        assert f"Schema pattern '{shop}' matched no schema (available: {readable})" in extraction.warnings[0]
    finally:
        mariadb.execute(f"DROP USER 'reader'@'127.0.0.1';\nDROP DATABASE `{readable}`")


def test_a_view_whose_sql_is_hidden_gets_a_warning(mariadb, shop):
    """SELECT without SHOW VIEW: the view is listed with its columns, its SQL is not readable."""
    mariadb.execute(f"CREATE OR REPLACE USER 'peeker'@'127.0.0.1' IDENTIFIED BY 'peek-pw';\n"
                    f"GRANT SELECT ON `{shop}`.* TO 'peeker'@'127.0.0.1'")
    try:
        extraction = connector_for(mariadb.url(shop, user="peeker", password="peek-pw")).extract()
        big = _by_name(extraction)["big_orders"]
        assert big.definition == ""
        assert "SHOW VIEW" in big.warnings[0]
        assert [c.name for c in big.columns] == ["order_id", "amount"]
    finally:
        mariadb.execute("DROP USER 'peeker'@'127.0.0.1'")


@pytest.mark.parametrize("default, extra, generation, nullable, expected", [
    (None, "", "", True, None),
    ("NULL", "", "", True, None),
    ("'x'", "", "", False, "'x'"),
    ("current_timestamp()", "on update current_timestamp()", "", False, "current_timestamp() ON UPDATE CURRENT_TIMESTAMP()"),
    (None, "auto_increment", "", False, "AUTO_INCREMENT"),
    (None, "STORED GENERATED", "`a` * 2", True, "GENERATED ALWAYS AS (`a` * 2) STORED"),
])
def test_column_default_spelling(default, extra, generation, nullable, expected):
    assert column_default(default, extra, generation, nullable) == expected


@pytest.mark.parametrize("extra, generation, expected", [
    ("", "", ""),
    ("on update current_timestamp()", "", ""),
    ("auto_increment", "", "identity"),
    ("VIRTUAL GENERATED", "`a` * 2", "virtual"),
    ("STORED GENERATED", "`a` * 2", "stored"),
    ("PERSISTENT GENERATED", "`a` * 2", "stored"),  # MariaDB's older word for STORED
    ("DEFAULT_GENERATED", "", ""),  # MySQL 8: a default that is an expression, not a generated column
])
def test_column_generation(extra, generation, expected):
    assert column_generation(extra, generation) == expected


def _until_disconnected(mariadb, user: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    admin = mariadb.connect()
    try:
        with admin.cursor() as cur:
            while True:
                cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s", [user])
                if cur.fetchone()[0] == 0:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{user} still connected after {timeout} s")
                time.sleep(0.05)
    finally:
        admin.close()


def test_a_user_allowed_one_connection_is_read_on_that_one(mariadb, shop):
    """Tables are normally read on a second connection; a user limited to one still gets everything."""
    mariadb.execute(f"CREATE OR REPLACE USER 'single'@'127.0.0.1' IDENTIFIED BY 'one-pw' WITH MAX_USER_CONNECTIONS 1;\n"
                    f"GRANT SELECT, SHOW VIEW ON `{shop}`.* TO 'single'@'127.0.0.1'")
    try:
        first = pymysql.connect(host=mariadb.host, port=mariadb.port, user="single", password="one-pw")
        with pytest.raises(pymysql.err.OperationalError, match="max_user_connections"):
            pymysql.connect(host=mariadb.host, port=mariadb.port, user="single", password="one-pw")
        first.close()
        _until_disconnected(mariadb, "single")  # the server counts a closed connection a moment longer
        extraction = connector_for(mariadb.url(shop, user="single", password="one-pw")).extract()
        datasets = _by_name(extraction)
        assert len(datasets) == 7 and len(datasets["customers"].columns) == 12
        assert f"`{shop}`.`orders`" in datasets["big_orders"].definition
    finally:
        mariadb.execute("DROP USER 'single'@'127.0.0.1'")
