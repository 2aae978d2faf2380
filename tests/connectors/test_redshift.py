"""The Redshift connector, tested on recorded answers: no Redshift cluster can be reached here.

tests/connectors/recorded/redshift_dev.json holds one answer per catalog query, written by hand
from the documented layouts of Redshift's system views (not captured from a live cluster). The
parsing of rows into datasets runs for real on them; the connection failure runs for real too.
"""

import json
from pathlib import Path

import pytest

from catalog.connectors import ConnectorError, connector_for
from catalog.connectors.redshift import QUALIFIED_NAMES_SQL, QUERIES, available_schemas, build_extraction, native_type
from catalog.lineage.sql import view_upstreams

RECORDED = json.loads((Path(__file__).parent / "recorded" / "redshift_dev.json").read_text())


def _extraction(include=(), exclude=()):
    from catalog.connectors.base import schema_in_scope

    available = available_schemas(RECORDED["schemas"])
    schemas = [s for s in available if schema_in_scope(s, list(include), list(exclude))]
    connector = connector_for("redshift://canon:pw@cluster.example:5439/dev")
    return build_extraction({k: v for k, v in RECORDED.items() if k in QUERIES}, schemas, connector.scope_warnings(available, list(include)))


def test_catalog_views_parse_into_datasets():
    extraction = _extraction()
    assert extraction.schemas == ["public", "sales", "spectrum"], "system schemas are left out"
    datasets = {f"{d.schema}.{d.name}": d for d in extraction.datasets}
    orders = datasets["sales.orders"]
    assert orders.comment == "One row per order" and orders.owner == "etl_user" and orders.native_id == "108234"
    assert orders.row_estimate == 1200000 and orders.size_bytes == 152 * 1024 * 1024
    assert orders.properties == {"diststyle": "KEY(customer_id)", "sortkey1": "ordered_at"}
    cols = {c.name: c for c in orders.columns}
    assert cols["order_id"].is_primary_key and not cols["order_id"].nullable
    assert cols["order_id"].generated == "identity" and cols["customer_id"].generated == "", "IDENTITY columns say so"
    assert cols["amount"].data_type == "numeric(12,2)" and cols["amount"].comment == "Gross amount"
    assert cols["status"].data_type == "character varying(20)" and cols["status"].default == "'placed'::character varying"
    assert cols["payload"].data_type == "super"
    assert datasets["spectrum.events"].kind == "external_table"
    big = datasets["sales.big_orders"]
    assert big.kind == "view" and big.owner == "analyst" and [c.name for c in big.columns] == ["order_id", "amount"]
    late = datasets["sales.late_orders"]
    assert late.properties == {"late_binding": True}
    assert [(c.name, c.data_type) for c in late.columns] == [("order_id", "bigint"), ("event_id", "bigint")], \
        "late-binding view columns come from pg_get_late_binding_view_cols()"
    assert [r.qualified_name for r in view_upstreams(late.definition, "redshift", "sales")] == ["sales.orders", "spectrum.events"]
    assert [r.qualified_name for r in view_upstreams(big.definition, "redshift", "sales")] == ["sales.orders"]


def test_scope_patterns():
    extraction = _extraction(include=["sales"])
    assert extraction.schemas == ["sales"]
    assert "Schema pattern 'nope' matched no schema" in _extraction(include=["nope"]).warnings[0]


def test_queries_are_bulk_over_the_system_views():
    text = " ".join(QUERIES.values())
    for view in ("svv_all_schemas", "svv_tables", "svv_columns", "svv_table_info", "pg_views", "pg_get_late_binding_view_cols"):
        assert view in text
    assert all("%(schemas)s" in sql for name, sql in QUERIES.items() if name != "schemas"), "one query per view for all schemas"


class _RecordingConnection:
    """Stands in for a cluster (none can be reached here): answers each catalog query with its recorded rows."""

    def __init__(self):
        self.sent = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def transaction(self):
        return self

    def execute(self, sql, params=None):
        self.sent.append(sql)
        name = next((n for n, q in QUERIES.items() if q == sql), None)
        self.rows = RECORDED[name] if name else []
        return self

    def fetchall(self):
        return [tuple(r) for r in self.rows]


def test_view_sql_is_read_under_a_search_path_that_qualifies_every_name(monkeypatch):
    """pg_views prints names the search path finds without their schema: it is read under pg_catalog alone."""
    conn = _RecordingConnection()
    connector = connector_for("redshift://canon:pw@cluster.example:5439/dev")
    monkeypatch.setattr(connector, "connect", lambda: conn)
    extraction = connector.extract()
    assert conn.sent.index(QUALIFIED_NAMES_SQL) == conn.sent.index(QUERIES["views"]) - 1
    assert "set_config('search_path', 'pg_catalog', true)" in QUALIFIED_NAMES_SQL, "for this transaction only"
    assert {d.name for d in extraction.datasets if d.definition} == {"big_orders", "late_orders"}


def test_unreachable_cluster_is_one_clear_line():
    with pytest.raises(ConnectorError) as info:
        connector_for("redshift://canon:rs-secret@127.0.0.1:1/dev").extract()
    assert str(info.value) == "could not connect to 127.0.0.1:1: connection refused"


@pytest.mark.parametrize("args, spelled", [
    (("character varying", 256, None, None), "character varying(256)"), (("numeric", None, 18, 4), "numeric(18,4)"),
    (("integer", None, 32, 0), "integer"), (("timestamp with time zone", None, None, None), "timestamp with time zone"),
])
def test_native_type_spelling(args, spelled):
    assert native_type(*args) == spelled
