"""Snowflake's QUERY_HISTORY and BigQuery's INFORMATION_SCHEMA.JOBS cannot run here: their readers are tested on
answers shaped as those views document them (tests/usage/recorded/), through the connectors' own query paths."""

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from catalog.connectors import bigquery, snowflake
from catalog.connectors.registry import connector_for
from catalog.inventory.models import Column
from catalog.sources.services import source_create
from catalog.usage.models import ColumnUsage, DatasetUsage, SourceUsage
from catalog.connectors.history import LoggedStatement, QueryHistory
from catalog.usage.services import usage_record
from tests.metrics.conftest import add_dataset

RECORDED = Path(__file__).parent / "recorded"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def recorded(name):
    return json.loads((RECORDED / name).read_text())


class FakeCursor:
    """Snowflake's DB-API cursor, answering the recorded rows."""

    def __init__(self, rows, sent):
        self.rows, self.sent = rows, sent
        self.description = [(k,) for k in rows[0]]

    def execute(self, sql, params):
        self.sent.append((sql, params))

    def fetchall(self):
        return [tuple(r.values()) for r in self.rows]


@pytest.mark.django_db
def test_snowflake_history_per_dataset_user_and_day():
    source = source_create(name="sf", url="snowflake://canon:sf-secret-pw@acme-xy12345/SHOP?warehouse=WH")
    orders = add_dataset(source, "SALES", "ORDERS", [("AMOUNT", "NUMBER"), ("STATUS", "TEXT"), ("ORDERED_AT", "DATE")])
    add_dataset(source, "SALES", "ORDERS_ARCHIVE", [("AMOUNT", "NUMBER")])
    connector, sent = connector_for(source.url), []
    rows = recorded("snowflake_query_history.json")

    class Conn:
        def cursor(self):
            return FakeCursor(rows, sent)

        def close(self):
            pass

    connector.connect = lambda: Conn()
    history = snowflake.query_history(connector, limit=500, since=datetime(2026, 12, 6, tzinfo=timezone.utc))
    assert "snowflake.account_usage.query_history" in sent[0][0] and sent[0][1]["database"] == "SHOP"
    assert history.available and not history.cumulative and len(history.statements) == 4
    usage = usage_record(source, history, now=NOW)
    assert (usage.statements, usage.parsed, usage.unparsed) == (3, 2, 1)
    figures = DatasetUsage.objects.get(dataset=orders)
    assert (figures.queries_30, figures.users_30, figures.last_used_on) == (16, 3, date(2026, 12, 6))
    status = Column.objects.get(dataset=orders, name="STATUS")
    assert ColumnUsage.objects.get(column_id=status.pk).queries_30 == 15
    assert DatasetUsage.objects.get(dataset__name="ORDERS_ARCHIVE").writes_30 == 1


def test_snowflake_without_account_usage_is_a_note_without_the_password():
    connector = connector_for("snowflake://canon:sf-secret-pw@acme-xy12345/SHOP")

    def refuse():
        raise RuntimeError("002003 (02000): SQL compilation error: Database 'SNOWFLAKE' does not exist or not authorized. "
                           "user canon:sf-secret-pw")

    connector.connect = refuse
    history = snowflake.query_history(connector, limit=10)
    assert not history.available and "IMPORTED PRIVILEGES" in history.note and "sf-secret-pw" not in history.note


@pytest.mark.django_db
def test_bigquery_jobs_per_dataset_and_column():
    source = source_create(name="bq", url="bigquery://acme-analytics?location=EU")
    orders = add_dataset(source, "sales", "orders", [("order_id", "INT64"), ("customer_id", "INT64")])
    customers = add_dataset(source, "sales", "customers", [("customer_id", "INT64"), ("email", "STRING")])
    connector, sent = connector_for(source.url), []
    connector._client = lambda: object()
    connector._run = lambda client, sql: sent.append(sql) or recorded("bigquery_jobs.json")
    history = bigquery.query_history(connector, limit=100, since=datetime(2026, 12, 5, tzinfo=timezone.utc))
    assert "`acme-analytics`.`region-eu`.INFORMATION_SCHEMA.JOBS" in sent[0] and "TIMESTAMP('2026-12-05 00:00:00+00')" in sent[0]
    usage = usage_record(source, history, now=NOW)
    assert (usage.statements, usage.unparsed) == (3, 1)
    assert DatasetUsage.objects.get(dataset=orders).queries_30 == 9
    assert (DatasetUsage.objects.get(dataset=customers).queries_30, DatasetUsage.objects.get(dataset=customers).users_30) == (7, 1)
    email = Column.objects.get(dataset=customers, name="email")
    assert ColumnUsage.objects.get(column_id=email.pk).queries_30 == 7
    assert SourceUsage.objects.get(source=source).unparsed_share == pytest.approx(1 / 3)


@pytest.mark.django_db
def test_parsing_is_bounded_per_crawl_and_the_rest_is_counted_by_the_next():
    source = source_create(name="pg", url="postgresql://reader:pw@127.0.0.1:1/shop")
    orders = add_dataset(source, "sales", "orders", [("amount", "numeric")])
    statements = [LoggedStatement(f"d{i}", f"SELECT amount FROM sales.orders WHERE amount > {i} AND {i} = {i}", 2, "ana")
                  for i in range(300)]
    first = usage_record(source, QueryHistory(True, statements=statements), now=NOW, budget_seconds=1e-9)
    assert first.statements == 1 and "299 new statements are left for the next crawl" in first.note
    counted = DatasetUsage.objects.get(dataset=orders).queries_30
    assert counted == 2 * first.statements
    second = usage_record(source, QueryHistory(True, statements=statements), now=NOW, budget_seconds=0)
    assert second.statements == 300 and "left for" not in second.note
    assert DatasetUsage.objects.get(dataset=orders).queries_30 == 600, "every run counted once, none twice"
