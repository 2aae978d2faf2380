"""The DuckDB connector against real DuckDB files."""

import duckdb
import pytest

from catalog.connectors import ConnectorError, ExtractRequest, connector_for

SHOP = """
CREATE SCHEMA sales;
CREATE SCHEMA "Analytics";
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE sales.customers (
    customer_id BIGINT PRIMARY KEY,
    email VARCHAR NOT NULL,
    country VARCHAR DEFAULT 'GB',
    tags VARCHAR[],
    address STRUCT(street VARCHAR, city VARCHAR),
    scores MAP(VARCHAR, DOUBLE),
    feeling mood,
    id UUID,
    signed_up_at TIMESTAMP WITH TIME ZONE
);
COMMENT ON TABLE sales.customers IS 'One row per customer';
COMMENT ON COLUMN sales.customers.email IS 'Lower-cased at sign-up';
CREATE TABLE sales."Order Lines" ("Order ID" BIGINT, "Line" INTEGER, "unitPrice" DECIMAL(12,2), PRIMARY KEY ("Order ID", "Line"));
INSERT INTO sales.customers (customer_id, email) SELECT range, 'c' || range || '@example.com' FROM range(250);
CREATE VIEW "Analytics".emails AS
    WITH recent AS (SELECT customer_id, email FROM sales.customers WHERE customer_id > 10)
    SELECT r.email, l."Line" FROM recent r JOIN sales."Order Lines" l ON l."Order ID" = r.customer_id;
COMMENT ON VIEW "Analytics".emails IS 'Who bought what';
"""


@pytest.fixture
def shop_file(tmp_path):
    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(SHOP)
    conn.close()
    return path


def test_extracts_tables_views_columns_comments_and_keys(shop_file):
    extraction = connector_for(f"duckdb://{shop_file}").extract()
    assert extraction.schemas == ["Analytics", "main", "sales"]
    datasets = {f"{d.schema}.{d.name}": d for d in extraction.datasets}
    assert set(datasets) == {"sales.customers", "sales.Order Lines", "Analytics.emails"}
    customers = datasets["sales.customers"]
    assert customers.kind == "table" and customers.comment == "One row per customer"
    assert customers.row_estimate == 250
    cols = {c.name: c for c in customers.columns}
    assert [c.position for c in customers.columns] == list(range(1, 10))
    assert cols["customer_id"].is_primary_key and not cols["customer_id"].nullable
    assert cols["email"].comment == "Lower-cased at sign-up" and not cols["email"].nullable
    assert cols["country"].default == "'GB'"
    assert cols["tags"].data_type == "VARCHAR[]"
    assert cols["address"].data_type == "STRUCT(street VARCHAR, city VARCHAR)"
    assert cols["scores"].data_type == "MAP(VARCHAR, DOUBLE)"
    assert cols["feeling"].data_type in ("mood", "ENUM('happy', 'sad')")
    assert cols["signed_up_at"].data_type == "TIMESTAMP WITH TIME ZONE"
    lines = datasets["sales.Order Lines"]
    assert {c.name for c in lines.columns if c.is_primary_key} == {"Order ID", "Line"}
    emails = datasets["Analytics.emails"]
    assert emails.kind == "view" and emails.comment == "Who bought what"
    assert "WITH recent AS" in emails.definition
    assert [c.name for c in emails.columns] == ["email", "Line"]


def test_opens_read_only(shop_file):
    connector = connector_for(f"duckdb://{shop_file}")
    conn = connector.connect()
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("CREATE TABLE sales.nope (id INT)")
    finally:
        conn.close()


def test_schema_patterns(shop_file):
    connector = connector_for(f"duckdb://{shop_file}")
    extraction = connector.extract(ExtractRequest(include=["sales", "Analytics"], exclude=["Analytics"]))
    assert extraction.schemas == ["sales"] and {d.schema for d in extraction.datasets} == {"sales"}
    nothing = connector.extract(ExtractRequest(include=["nope"]))
    assert nothing.datasets == [] and "Schema pattern 'nope' matched no schema (available: Analytics, main, sales)" in nothing.warnings[0]


def test_a_file_that_is_not_duckdb_and_a_missing_file(tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConnectorError, match=f"^{junk} is not a DuckDB database file$"):
        connector_for(f"duckdb://{junk}").extract()
    with pytest.raises(ConnectorError, match="does not exist"):
        connector_for(f"duckdb://{tmp_path}/missing.duckdb").test()


def test_test_connection_names_the_engine(shop_file):
    assert connector_for(f"duckdb://{shop_file}").test() == f"DuckDB {duckdb.__version__ if duckdb.__version__.startswith('v') else 'v' + duckdb.__version__}, file {shop_file}"


def test_a_generated_column_is_marked_with_its_expression(tmp_path):
    path = tmp_path / "gen.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE t (price DECIMAL(10,2), qty INTEGER, total DECIMAL(12,2) GENERATED ALWAYS AS (price * qty) VIRTUAL, "
                 "note VARCHAR DEFAULT 'x')")
    conn.close()
    [table] = connector_for(f"duckdb://{path}").extract().datasets
    cols = {c.name: c for c in table.columns}
    assert cols["total"].generated == "virtual"
    assert cols["total"].default.startswith("GENERATED ALWAYS AS (") and "price" in cols["total"].default
    assert cols["note"].generated == "" and cols["note"].default == "'x'"
    assert cols["price"].generated == "" and cols["price"].default is None
