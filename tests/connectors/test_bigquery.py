"""The BigQuery connector, tested on recorded answers: no BigQuery project can be reached here.

tests/connectors/recorded/bigquery_region_eu.json holds one answer per catalog query, written by
hand from BigQuery's documented INFORMATION_SCHEMA layouts (not captured from a live project).
The connector's client and query runner are replaced by that file; the SQL it would send, the
parsing of rows into datasets, and the credential checks run for real.
"""

import base64
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from catalog.connectors import ConnectorError, ExtractRequest, connector_for
from catalog.connectors.bigquery import QUERIES, parse_credentials, parse_labels
from catalog.lineage.sql import view_upstreams

RECORDED = json.loads((Path(__file__).parent / "recorded" / "bigquery_region_eu.json").read_text())
KEY = {"type": "service_account", "project_id": "acme-analytics", "private_key_id": "k1",
       "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n",
       "client_email": "canon@acme-analytics.iam.gserviceaccount.com"}


def _recorded_connector(url, sent):
    connector = connector_for(url)
    connector._client = lambda: object()

    def run(client, sql):
        name = next(n for n, q in QUERIES.items() if q.format(region=connector.region) == sql)
        sent.append(sql)
        return RECORDED[name]

    connector._run = run
    return connector


def test_region_queries_in_bulk_parse_into_datasets():
    sent = []
    extraction = _recorded_connector("bigquery://acme-analytics?location=EU", sent).extract()
    assert len(sent) == len(QUERIES) == 7, "one query per catalog view, for the whole region"
    assert all("`acme-analytics`.`region-eu`.INFORMATION_SCHEMA." in sql for sql in sent)
    assert extraction.schemas == ["marketing", "sales", "scratch"]
    datasets = {f"{d.schema}.{d.name}": d for d in extraction.datasets}
    orders = datasets["sales.orders"]
    assert orders.kind == "table" and orders.comment == 'One row per order, "final" amounts'
    assert orders.row_estimate == 1250000 and orders.size_bytes == 98765432
    assert orders.last_modified == datetime(2025, 6, 1, 8, 30, tzinfo=timezone.utc)
    assert orders.properties["labels"] == {"team": "growth", "owner": "ana"}
    assert orders.owner == "ana", "the 'owner' label wins over 'team'"
    assert orders.properties["partitioned_by"] == ["ordered_at"] and orders.properties["clustered_by"] == ["order_id"]
    assert [(c.name, c.data_type, c.nullable, c.default) for c in orders.columns] == [
        ("order_id", "INT64", False, None), ("amount", "NUMERIC(12, 2)", True, None),
        ("ordered_at", "TIMESTAMP", False, "CURRENT_TIMESTAMP()"), ("items", "ARRAY<STRUCT<sku STRING, qty INT64>>", False, None),
    ]
    assert {c.name: c.comment for c in orders.columns}["amount"] == "Gross, in EUR"
    assert datasets["sales.customers"].owner == "crm"
    big = datasets["sales.big_orders"]
    assert big.kind == "view" and big.comment == "Orders over 100 EUR" and big.row_estimate is None
    assert big.definition.startswith("WITH big AS")
    daily = datasets["sales.daily_revenue"]
    assert daily.kind == "materialized_view" and daily.definition.startswith("CREATE MATERIALIZED VIEW")
    assert datasets["marketing.events_ext"].kind == "external_table"
    # The views' SQL resolves against the source's own project.
    assert [r.qualified_name for r in view_upstreams(big.definition, "bigquery", "sales", "acme-analytics")] == [
        "sales.customers", "sales.orders"]
    assert [r.qualified_name for r in view_upstreams(daily.definition, "bigquery", "sales", "acme-analytics")] == ["sales.orders"]


def test_the_urls_dataset_is_the_default_scope_and_patterns_warn():
    extraction = _recorded_connector("bigquery://acme-analytics/sales?location=EU", []).extract()
    assert extraction.schemas == ["sales"] and {d.schema for d in extraction.datasets} == {"sales"}
    other = _recorded_connector("bigquery://acme-analytics?location=EU", []).extract(ExtractRequest(include=["finance"]))
    assert other.datasets == [] and "Schema pattern 'finance' matched no schema (available: marketing, sales, scratch)" in other.warnings[0]


@pytest.mark.parametrize("encode", [lambda t: t, lambda t: base64.b64encode(t.encode()).decode(),
                                    lambda t: base64.urlsafe_b64encode(t.encode()).decode().rstrip("=")])
def test_credentials_as_json_or_base64(encode):
    assert parse_credentials(encode(json.dumps(KEY)))["client_email"] == KEY["client_email"]


@pytest.mark.parametrize("value, message", [
    ("not json at all", "not a service-account key: expected its JSON, or base64 of that JSON"),
    (base64.b64encode(b"\x00\xff binary").decode(), "expected its JSON"),
    ('{"type": "authorized_user", "client_email": "x", "private_key": "y"}', "its type is 'authorized_user'"),
    ('{"type": "service_account"}', "missing client_email, private_key"),
])
def test_a_key_that_is_not_a_service_account_json_is_a_clear_error(value, message):
    with pytest.raises(ConnectorError, match=message) as info:
        parse_credentials(value)
    assert "\n" not in str(info.value)


def test_missing_client_library_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery", None)  # as if google-cloud-bigquery were not installed
    url = f"bigquery://acme-analytics/sales?credentials={quote(json.dumps(KEY), safe='')}"
    with pytest.raises(ConnectorError, match=r"needs the google-cloud-bigquery package"):
        connector_for(url).extract()


def test_labels_literal():
    assert parse_labels('[STRUCT("a", "1"), STRUCT("b-c", "x\\"y")]') == {"a": "1", "b-c": 'x"y'}
    assert parse_labels(None) == {}
