"""Sampled profiles on Snowflake: SAMPLE SYSTEM (p), a share of micro-partitions, aggregated in SQL.

The SQL and the parsing run against fakesnow (the Snowflake emulator the suite runs, through the real
snowflake-connector-python API): it accepts SAMPLE SYSTEM, not ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS, so
the timeout goes into the session's parameters at connect and the driver's per-statement timeout. A statement
timeout cannot be made to happen on the emulator: that part runs on recorded answers, hand-written from Snowflake's
documented error (000630, "Statement reached its statement or warehouse timeout ... and was canceled").
"""

import snowflake.connector

from catalog.connectors.sampling import sampler
from catalog.connectors.snowflake import SnowflakeConnector, sample_profiles, sample_query
from catalog.core.sourceurl import parse_source_url
from tests.connectors.snowflake_support import emulate

URL = "snowflake://canon:sf-pw@acme/SHOP?warehouse=WH"
SETUP = [
    "CREATE TABLE PUBLIC.EVENTS (ID INT, KIND VARCHAR, DAY DATE, AMOUNT NUMBER(12,2))",
    "INSERT INTO PUBLIC.EVENTS SELECT column1, column2, column3, column4 FROM VALUES "
    "(1, 'click', '2026-01-01', 1.5), (2, NULL, '2026-01-02', 2), (3, 'view', '2026-01-02', NULL), (4, 'click', '2026-01-05', 9.25)",
]
COLUMNS = [["ID", "integer"], ["KIND", "text"], ["DAY", "date"], ["AMOUNT", "decimal"]]


def test_snowflake_samples_micro_partitions_and_reads_the_answer():
    (answer,) = emulate(SETUP, [{"url": URL, "op": "sample", "percent": 100, "budget_s": 30,
                                 "tables": [["PUBLIC", "MISSING", [["ID", "integer"]]], ["PUBLIC", "EVENTS", COLUMNS]]}])
    sample = answer.sample
    assert sample["complete"]
    ((schema, name, stats),) = sample["profiles"]
    assert (schema, name) == ("PUBLIC", "EVENTS")
    assert stats["KIND"] == {"basis": "sample 100% (SAMPLE SYSTEM, 4 rows)", "null_frac": 0.25, "distinct": 2,
                             "min": "click", "max": "view", "min_len": 4, "max_len": 5}
    assert (stats["DAY"]["min"], stats["DAY"]["max"], stats["DAY"]["distinct"]) == ("2026-01-01", "2026-01-05", 3)
    assert stats["AMOUNT"]["null_frac"] == 0.25 and float(stats["AMOUNT"]["max"]) == 9.25
    ((_, missing, problem),) = sample["problems"]
    assert missing == "MISSING" and problem.startswith("no sampled profile: ") and "MISSING" in problem and "sf-pw" not in problem


def test_the_sample_query_reads_a_share_of_micro_partitions():
    sql = sample_query("shop", "PUBLIC", "EVENTS", [("KIND", "text"), ("TAGS", "array")], 0.5)
    assert sql.endswith('FROM "SHOP"."PUBLIC"."EVENTS" SAMPLE SYSTEM (0.5)')
    assert 'APPROX_COUNT_DISTINCT("KIND") AS V2' in sql and 'MIN(LENGTH("KIND")) AS V5' in sql
    assert 'COUNT("TAGS") AS V7, NULL AS V8' in sql  # an array: counted, never compared
    assert sampler("snowflake")[0] is sample_profiles


class _Recorded(SnowflakeConnector):
    """The connector with its session replaced by recorded answers: the SQL it sends and the time limits it asks
    for are kept; the second table's answer is Snowflake's documented statement-timeout error."""

    def __init__(self, url, answers):
        super().__init__(parse_source_url(url))
        self.answers, self.sent, self.session_timeout = answers, [], None

    def connect(self, statement_timeout=None):
        self.session_timeout = statement_timeout
        connector = self

        class Cursor:
            def execute(self, sql, timeout=None):
                connector.sent.append((sql, timeout))
                answer = next(a for table, a in connector.answers.items() if f'"{table}" SAMPLE SYSTEM' in sql)
                if isinstance(answer, Exception):
                    raise answer
                self.row = answer

            def fetchone(self):
                return self.row

        class Conn:
            def cursor(self):
                return Cursor()

            def close(self):
                pass

        return Conn()


def test_a_statement_timeout_is_a_warning_and_ends_the_run():
    timeout = snowflake.connector.errors.ProgrammingError(
        msg="Statement reached its statement or warehouse timeout of 3 second(s) and was canceled.", errno=630, sqlstate="57014")
    connector = _Recorded(URL, {"A": (2, 2, 1, "x", "x", 1, 1), "B": timeout, "C": (1, 1, 1, "y", "y", 1, 1)})
    tables = [("PUBLIC", name, [("V", "text")]) for name in ("A", "B", "C")]
    profiles, problems, complete = sample_profiles(connector, tables, percent=1, budget_s=2.5)
    assert connector.session_timeout == 3  # the server's limit: the whole budget, in whole seconds
    assert [t for _, t in connector.sent] == [3, 3]  # the driver cancels each statement when the time left is spent
    assert not complete and list(profiles) == [("PUBLIC", "A")]
    assert profiles[("PUBLIC", "A")]["V"]["basis"] == "sample 1% (SAMPLE SYSTEM, 2 rows)"
    assert problems == {("PUBLIC", "B"): "the sampled profile ran past the 2.5 s budget and was cancelled; tried again next crawl"}
    assert len(connector.sent) == 2  # C is left for the next crawl
