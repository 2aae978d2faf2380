"""The Snowflake connector, run against fakesnow (a Snowflake emulator on DuckDB) in the emulator's own venv.

No Snowflake account can be reached from here. fakesnow answers the same SQL through the
real snowflake-connector-python API, so the connector's queries, cursors and parsing are
exercised for real; what fakesnow does not emulate is said next to the assertion
(it has no SHOW PRIMARY KEYS IN DATABASE, no column comments, and reports views only in
INFORMATION_SCHEMA.VIEWS). Error wording is checked against the driver's own error objects.

fakesnow pins its own DuckDB and sqlglot, older or newer than Canon's, so it is not installed
beside Canon: one run of the connector in the emulator's venv (snowflake_support.emulate) answers
every call below, and the extractions come back as the connector's own dataclasses.
"""

import base64
from urllib.parse import quote

import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog.connectors import ConnectorError, connector_for
from catalog.connectors.snowflake import column_from_row, describe_error, load_private_key, native_type
from catalog.core.sourceurl import parse_source_url
from tests.connectors.snowflake_support import emulate

URL = "snowflake://canon:sf-secret-pw@acme-xy12345/shop?warehouse=CRAWL_WH&role=CATALOG_READER"

SETUP = [
    "CREATE SCHEMA SHOP.ANALYTICS",
    'CREATE SCHEMA SHOP."Scratch"',
    """CREATE TABLE SALES.CUSTOMERS (CUSTOMER_ID NUMBER(38,0) PRIMARY KEY, EMAIL VARCHAR(320) NOT NULL,
           SIGNED_UP_AT TIMESTAMP_NTZ, PROFILE VARIANT, TAGS ARRAY, AMOUNT NUMBER(12,2), ACTIVE BOOLEAN, RATIO FLOAT)""",
    "COMMENT ON TABLE SALES.CUSTOMERS IS 'One row per customer'",
    "CREATE TABLE SALES.ORDERS (ORDER_ID INT PRIMARY KEY, CUSTOMER_ID INT, AMOUNT NUMBER(12,2))",
    'CREATE TABLE "Scratch"."tmp Import" (LINE TEXT)',
    "INSERT INTO SALES.ORDERS VALUES (1, 1, 10.5), (2, 1, 200)",
    """CREATE VIEW ANALYTICS.BIG_ORDERS AS
           WITH BIG AS (SELECT ORDER_ID, AMOUNT FROM SALES.ORDERS WHERE AMOUNT > 100) SELECT * FROM BIG""",
]

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_DER = KEY.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
KEY_URL = f"snowflake://canon@acme/SHOP?private_key={quote(base64.b64encode(KEY_DER).decode(), safe='')}"

# Every call the tests below make, answered in one emulator run (named so each test finds its own).
CALLS = {
    "everything": {"url": URL, "op": "extract"},
    "sales_not_analytics": {"url": URL, "op": "extract", "include": ["SALES", "ANALYTICS"], "exclude": ["ANALYTICS"]},
    "lower_case_pattern": {"url": URL, "op": "extract", "include": ["sales"]},
    "test": {"url": URL, "op": "test"},
    "key_pair": {"url": KEY_URL, "op": "extract"},
}


@pytest.fixture(scope="module")
def emulator():
    """{call name: its extraction, or what test() said} from one run of the connector against fakesnow."""
    answers = dict(zip(CALLS, emulate(SETUP, list(CALLS.values()), database="SHOP", schema="SALES")))
    for name, answer in answers.items():
        assert not answer.error, f"{name}: {answer.error}"
    return {name: answer.message or answer.extraction for name, answer in answers.items()}


def _by_name(extraction):
    return {f"{d.schema}.{d.name}": d for d in extraction.datasets}


def test_extracts_tables_views_columns_owner_and_keys(emulator):
    extraction = emulator["everything"]
    assert extraction.schemas == ["ANALYTICS", "SALES", "Scratch"]  # fakesnow makes no PUBLIC schema
    datasets = _by_name(extraction)
    assert set(datasets) == {"SALES.CUSTOMERS", "SALES.ORDERS", "Scratch.tmp Import", "ANALYTICS.BIG_ORDERS"}
    customers = datasets["SALES.CUSTOMERS"]
    assert customers.kind == "table" and customers.comment == "One row per customer"
    assert customers.owner == "SYSADMIN"  # fakesnow's owner role for everything
    assert customers.row_estimate == 0 and customers.size_bytes == 0 and customers.last_modified is not None
    cols = {c.name: c for c in customers.columns}
    assert [c.name for c in customers.columns][:3] == ["CUSTOMER_ID", "EMAIL", "SIGNED_UP_AT"]
    assert cols["CUSTOMER_ID"].data_type == "NUMBER(38,0)" and cols["CUSTOMER_ID"].is_primary_key
    assert not cols["CUSTOMER_ID"].nullable
    assert cols["EMAIL"].data_type == "VARCHAR(320)" and not cols["EMAIL"].nullable
    assert cols["AMOUNT"].data_type == "NUMBER(12,2)"
    assert cols["SIGNED_UP_AT"].data_type == "TIMESTAMP_NTZ"
    assert cols["PROFILE"].data_type == "VARIANT"
    assert cols["ACTIVE"].data_type == "BOOLEAN"
    assert {c.name for c in datasets["SALES.ORDERS"].columns if c.is_primary_key} == {"ORDER_ID"}
    big = datasets["ANALYTICS.BIG_ORDERS"]
    assert big.kind == "view"
    assert "WITH BIG AS" in big.definition.upper() and "SALES.ORDERS" in big.definition.upper()
    assert [c.name for c in big.columns] == ["ORDER_ID", "AMOUNT"]
    # fakesnow has no SHOW PRIMARY KEYS IN DATABASE: the per-schema fallback found the keys without a warning.
    assert extraction.warnings == []


def test_schema_patterns(emulator):
    extraction = emulator["sales_not_analytics"]
    assert extraction.schemas == ["SALES"] and {d.schema for d in extraction.datasets} == {"SALES"}
    nothing = emulator["lower_case_pattern"]
    assert nothing.datasets == []
    assert "Schema pattern 'sales' matched no schema (available: ANALYTICS, SALES, Scratch)" in nothing.warnings[0]


def test_test_connection(emulator):
    assert emulator["test"] == "Snowflake account acme-xy12345, database shop (3 schemas)"


def test_the_url_must_name_a_database():
    with pytest.raises(ConnectorError, match="the URL names no database"):
        connector_for("snowflake://canon:pw@acme").extract()


def test_key_pair_authentication_reads_pem_and_base64_der(emulator):
    pem = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b"phrase")).decode()
    assert load_private_key(pem, "phrase") == KEY_DER
    assert load_private_key(base64.b64encode(KEY_DER).decode(), None) == KEY_DER
    with pytest.raises(ConnectorError, match="cannot be read: wrong passphrase"):
        load_private_key(pem, "nope")
    with pytest.raises(ConnectorError, match="not a PEM or base64 DER private key"):
        load_private_key("bm90IGEga2V5", None)
    assert parse_source_url(KEY_URL).redacted() == "snowflake://canon@acme/SHOP?private_key=***"
    assert len(emulator["key_pair"].datasets) == 4, "the connector connected with the key and read the database"


@pytest.mark.parametrize("error, expected", [
    (snowflake.connector.errors.DatabaseError(msg="Incorrect username or password was specified.", errno=390100),
     'Snowflake account acme-xy12345 refused user "canon": incorrect user name or password'),
    (snowflake.connector.errors.OperationalError(msg="Failed to connect to DB: acme-xy12345.snowflakecomputing.com:443. "
                                                     "Connection timed out", errno=250001),
     "could not connect to Snowflake account acme-xy12345: no answer within the connect timeout"),
    (snowflake.connector.errors.ProgrammingError(msg="Database 'SHOP' does not exist or not authorized.", errno=2003),
     "Database 'SHOP' does not exist or not authorized. (account acme-xy12345)"),
])
def test_driver_errors_become_one_line(error, expected):
    message = describe_error(error, parse_source_url(URL))
    assert message == expected and "sf-secret-pw" not in message


@pytest.mark.parametrize("args, spelled", [
    (("NUMBER", None, 38, 0), "NUMBER(38,0)"), (("TEXT", 16777216, None, None), "VARCHAR(16777216)"),
    (("BINARY", 8388608, None, None), "BINARY(8388608)"), (("TIMESTAMP_LTZ", None, None, None), "TIMESTAMP_LTZ"),
    (("FLOAT", None, None, None), "FLOAT"),
])
def test_native_type_spelling(args, spelled):
    assert native_type(*args) == spelled


def _column_row(name, *, default=None, identity="NO"):
    # One INFORMATION_SCHEMA.COLUMNS row as COLUMNS_SQL selects it (IS_IDENTITY last).
    return ("SALES", "ORDERS", name, 1, "NUMBER", None, 38, 0, "NO", default, None, identity)


def test_identity_columns_are_marked_generated():
    # The row as Snowflake's INFORMATION_SCHEMA.COLUMNS sends it (IS_IDENTITY 'YES'), read without the emulator.
    identity = column_from_row(_column_row("ORDER_ID", identity="YES"))
    assert (identity.generated, identity.default, identity.nullable, identity.data_type) == ("identity", "IDENTITY", False, "NUMBER(38,0)")
    # Snowflake's own default text for an identity column is kept; the flag does not depend on it.
    sequenced = column_from_row(_column_row("LINE_ID", default="IDENTITY START 1 INCREMENT 1", identity="yes"))
    assert (sequenced.generated, sequenced.default) == ("identity", "IDENTITY START 1 INCREMENT 1")
    for plain in (column_from_row(_column_row("AMOUNT")), column_from_row(_column_row("AMOUNT", identity=None)),
                  column_from_row(_column_row("AMOUNT", default="0"))):
        assert plain.generated == "" and plain.default in (None, "0")
