"""Sampled profiles on BigQuery: TABLESAMPLE SYSTEM (p PERCENT), a share of storage blocks, aggregated in SQL, each
job allowed only the time left in the budget.

No BigQuery project can be reached here (nor is google-cloud-bigquery installed): as in
tests/connectors/test_bigquery.py, the connector's client and query runner are replaced by recorded answers,
hand-written from BigQuery's documented layouts (a query's row as named fields; a 403 Forbidden with its message; the
TimeoutError the client raises when a job's result is not there in time). The SQL sent, the time limits asked for
and the parsing of rows run for real.
"""

import pytest

from catalog.connectors import connector_for
from catalog.connectors.bigquery import sample_profiles, sample_query
from catalog.connectors.sampling import sampler

URL = "bigquery://acme-analytics/sales?location=EU"


class Forbidden(Exception):
    """What google.api_core.exceptions.Forbidden carries: an HTTP code and BigQuery's message."""

    code = 403

    def __init__(self, message):
        super().__init__(message)
        self.message = message


RECORDED = {
    "orders": [{"v0": 5120, "v1": 5120, "v2": 5087, "v3": "1", "v4": "99871", "v5": None, "v6": None,
                "v7": 4608, "v8": 3, "v9": "DE", "v10": "IT", "v11": 2, "v12": 2,
                "v13": 5120, "v14": None, "v15": None, "v16": None, "v17": None, "v18": None}],
    "secret_orders": Forbidden("Access Denied: Table acme-analytics:sales.secret_orders: User does not have permission "
                               "to query table acme-analytics:sales.secret_orders."),
    "events": TimeoutError(),
    "customers": [{"v0": 10, "v1": 10, "v2": 10, "v3": "1", "v4": "10", "v5": None, "v6": None}],
}
COLUMNS = [("order_id", "integer"), ("country", "text"), ("items", "array")]


@pytest.fixture
def recorded():
    connector = connector_for(URL)
    connector._client = lambda: object()
    sent = []

    def run(client, sql, timeout=None):
        sent.append((sql, timeout))
        answer = next(a for table, a in RECORDED.items() if f".`{table}` TABLESAMPLE" in sql)
        if isinstance(answer, Exception):
            raise answer
        return answer

    connector._run = run
    connector.sent = sent
    return connector


def test_bigquery_samples_storage_blocks_and_parses_the_row(recorded):
    profiles, problems, complete = sample_profiles(recorded, [("sales", "orders", COLUMNS)], percent=0.5, budget_s=30)
    assert complete and problems == {}
    ((sql, timeout),) = recorded.sent
    assert sql == sample_query("acme-analytics", "sales", "orders", COLUMNS, 0.5)
    assert sql.endswith("FROM `acme-analytics`.`sales`.`orders` TABLESAMPLE SYSTEM (0.5 PERCENT)")
    assert "APPROX_COUNT_DISTINCT(`country`) AS v8" in sql and "CAST(MIN(`order_id`) AS STRING) AS v3" in sql
    assert "COUNT(`items`) AS v13, NULL AS v14" in sql  # an array: counted, never compared
    assert 29 < timeout <= 30  # the job may run only the time left
    stats = profiles[("sales", "orders")]
    assert stats["order_id"] == {"basis": "sample 0.5% (TABLESAMPLE SYSTEM, 5,120 rows)", "null_frac": 0.0, "distinct": 5087,
                                 "min": "1", "max": "99871"}
    assert stats["country"]["null_frac"] == 0.1 and (stats["country"]["min"], stats["country"]["max_len"]) == ("DE", 2)
    assert stats["items"] == {"basis": "sample 0.5% (TABLESAMPLE SYSTEM, 5,120 rows)", "null_frac": 0.0}
    assert sampler("bigquery")[0] is sample_profiles


def test_a_refused_table_is_a_warning_and_a_timed_out_job_ends_the_run(recorded):
    tables = [("sales", "secret_orders", COLUMNS), ("sales", "events", COLUMNS), ("sales", "customers", [("id", "integer")])]
    profiles, problems, complete = sample_profiles(recorded, tables, percent=1, budget_s=5)
    assert not complete and profiles == {}
    assert problems[("sales", "secret_orders")].startswith("no sampled profile: BigQuery refused access to project acme-analytics: "
                                                           "Access Denied: Table acme-analytics:sales.secret_orders")
    assert problems[("sales", "events")] == "the sampled profile ran past the 5 s budget and was cancelled; tried again next crawl"
    assert len(recorded.sent) == 2  # customers is left for the next crawl
