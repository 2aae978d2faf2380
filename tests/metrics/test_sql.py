"""catalog.metrics.sql: parsing, resolution, fingerprints and signatures, on real SQL in several dialects. No database."""

import time

import pytest

from catalog.metrics.sql import (
    MAX_SQL_CHARS,
    MAX_SQL_DEPTH,
    MetricSqlError,
    ResolvedTable,
    TableRef,
    analyse,
    format_sql,
    parse_metric_sql,
    sql_nesting_depth,
    table_refs,
)

CATALOG = {
    ("sales", "events"): {"event_id": "bigint", "customer_id": "bigint", "event_type": "text", "occurred_at": "timestamptz"},
    ("sales", "orders"): {"order_id": "bigint", "customer_id": "bigint", "amount": "numeric", "status": "text", "ordered_at": "timestamp"},
    ("sales", "customers"): {"customer_id": "bigint", "country": "text", "churned_at": "timestamptz"},
}


def resolver(upper=False):
    """Resolve refs the way the catalog service does: case-insensitively, unqualified names to schema 'sales'."""
    keys = {key: i for i, key in enumerate(CATALOG)}

    def resolve(ref):
        key = ((ref.schema or "sales").lower(), ref.name.lower())
        if key not in CATALOG:
            return "is not in the catalog"
        schema, name = key
        columns = {(c.upper() if upper else c): t for c, t in CATALOG[key].items()}
        return ResolvedTable(key=keys[key], schema=schema.upper() if upper else schema, name=name.upper() if upper else name,
                             columns=columns)
    return resolve


def run(sql, dialect="postgres", upper=False):
    query = parse_metric_sql(sql, dialect)
    resolve = resolver(upper)
    return analyse(query, dialect, {ref: resolve(ref) for ref in table_refs(query)}, sql_text=sql)


def named_columns(analysis, upper=False):
    names = {i: f"{s}.{n}" for i, (s, n) in enumerate(CATALOG)}
    return {f"{names[key]}.{column.lower()}" for key, column in analysis.columns}


# ---------------------------------------------------------------- dialects

def test_postgres_metric_with_cte_join_and_aliases_resolves_tables_and_columns():
    analysis = run("""
        WITH paying AS (
            SELECT o.customer_id, o.amount::numeric AS amount, o.ordered_at
            FROM sales.orders o WHERE o.status IN ('paid', 'shipped')
        )
        SELECT date_trunc('month', p.ordered_at) AS month, sum(p.amount) / count(DISTINCT c.customer_id) AS arpu
        FROM paying p JOIN customers c USING (customer_id)
        WHERE c.country <> 'GB'
        GROUP BY 1
    """)
    tables = [ref.qualified_name for ref, _ in analysis.tables]
    assert tables == ["sales.orders", "customers"], "the CTE 'paying' is not a table"
    assert named_columns(analysis) == {
        "sales.orders.customer_id", "sales.orders.amount", "sales.orders.ordered_at", "sales.orders.status",
        "sales.customers.customer_id", "sales.customers.country",
    }
    assert analysis.warnings == []


def test_snowflake_metric_with_upper_case_catalog_and_qualify():
    analysis = run("""
        select DATE_TRUNC('WEEK', e.OCCURRED_AT) as week,
               COUNT(DISTINCT IFF(e.EVENT_TYPE = 'login', e.CUSTOMER_ID, NULL)) as wau
        from ANALYTICS_DB.SALES.EVENTS e
        qualify ROW_NUMBER() over (partition by week order by wau desc) = 1
        group by 1
    """, dialect="snowflake", upper=True)
    assert [ref for ref, key in analysis.tables] == [TableRef("ANALYTICS_DB", "SALES", "EVENTS")]
    assert named_columns(analysis) == {"sales.events.occurred_at", "sales.events.event_type", "sales.events.customer_id"}
    assert not any("IFF" in w for w in analysis.warnings), "IFF is Snowflake's own function"


def test_bigquery_metric_with_backticked_project_dataset_table_and_unnest():
    analysis = run("""
        SELECT DATE_TRUNC(DATE(o.ordered_at), MONTH) AS month, SAFE_DIVIDE(SUM(o.amount), COUNT(DISTINCT o.customer_id)) AS arpu
        FROM `my-project.sales.orders` AS o, UNNEST([1, 2]) AS n
        WHERE o.status = 'paid'
        GROUP BY month
    """, dialect="bigquery")
    assert [ref.qualified_name for ref, _ in analysis.tables] == ["my-project.sales.orders"]
    assert {"sales.orders.amount", "sales.orders.customer_id", "sales.orders.status", "sales.orders.ordered_at"} == named_columns(analysis)


def test_subquery_and_unknown_table_and_column_are_warnings_not_errors():
    analysis = run("""
        SELECT count(*) FROM (SELECT o.customer_id, o.discount FROM sales.orders o) AS t
        JOIN sales.refunds r ON r.customer_id = t.customer_id
    """)
    assert [key is None for _, key in analysis.tables] == [False, True]
    assert "Table sales.refunds is not in the catalog." in analysis.warnings
    assert "Column discount is not in sales.orders." in analysis.warnings
    assert analysis.missing_columns == [(1, "discount")]


def test_a_function_of_another_dialect_is_flagged():
    analysis = run("SELECT IFF(o.amount > 100, 1, 0) FROM sales.orders o")
    assert any("IFF() is not a PostgreSQL function" in w and "Snowflake" in w for w in analysis.warnings)


# ---------------------------------------------------------------- bad input

def test_syntax_error_has_line_and_column():
    with pytest.raises(MetricSqlError) as caught:
        parse_metric_sql("SELECT count(*\nFROM sales.orders\nWHERE", "postgres")
    error = caught.value
    assert error.line is not None and error.column is not None
    assert "does not parse as PostgreSQL" in error.message
    assert f"line {error.line}, column {error.column}" in str(error)


def test_wrong_dialect_is_named():
    with pytest.raises(MetricSqlError) as caught:
        parse_metric_sql("SELECT COUNT(*) FROM `proj.sales.orders`", "postgres")
    assert "BigQuery" in caught.value.hint and "is the dialect right?" in caught.value.hint


def test_unterminated_string_points_at_it():
    with pytest.raises(MetricSqlError) as caught:
        parse_metric_sql("SELECT count(*)\nFROM t WHERE status = 'paid", "postgres")
    assert "not closed" in caught.value.message
    assert caught.value.line == 2


@pytest.mark.parametrize("sql, expected", [
    ("SELECT 1; SELECT 2", "holds 2 statements"),
    ("DELETE FROM sales.orders", "this SQL is a DELETE statement"),
    ("   ", "Write the SQL query"),
])
def test_not_one_query(sql, expected):
    with pytest.raises(MetricSqlError) as caught:
        parse_metric_sql(sql, "postgres")
    assert expected in str(caught.value)


def test_unknown_dialect():
    with pytest.raises(MetricSqlError, match="Unknown dialect 'oracle'"):
        parse_metric_sql("SELECT 1", "oracle")


def test_a_megabyte_of_sql_is_refused_at_once_with_the_limit():
    huge = "SELECT " + " + ".join(f"col_{i}" for i in range(150_000)) + " FROM t"
    assert len(huge) > 1_000_000
    started = time.monotonic()
    with pytest.raises(MetricSqlError) as caught:
        parse_metric_sql(huge, "postgres")
    assert time.monotonic() - started < 0.5
    assert f"at most {MAX_SQL_CHARS:,}" in str(caught.value)


def test_deep_nesting_is_a_clear_error_not_a_crash():
    with pytest.raises(MetricSqlError):
        parse_metric_sql("SELECT " + "(" * 3000 + "1" + ")" * 3000, "postgres")


def test_format_sql_lays_out_any_text():
    assert format_sql("select a,b from t where x=1") == "select a,\n       b\nfrom t\nwhere x=1"
    assert format_sql("SELEC nonsense ((") == "SELEC nonsense (("


def test_nesting_depth_counts_parentheses_case_and_subqueries_from_tokens():
    assert sql_nesting_depth("SELECT count(*) FROM t", "postgres") == 1
    assert sql_nesting_depth("SELECT CASE WHEN a THEN (SELECT max(b) FROM u) END FROM t", "postgres") == 3
    assert sql_nesting_depth("SELECT '((((((((' AS text, \"(((\" FROM t -- (((((", "postgres") == 0, "quoted and commented ones are text"
    assert sql_nesting_depth("SELECT 'not closed ((((", "postgres") == 4, "untokenizable text: its raw parentheses"
    nested = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    assert sql_nesting_depth(nested, "postgres") == 3000
    assert 900 < sql_nesting_depth(nested, "postgres", stop_above=20) < 1000, "refused from the start of the text alone"
    padded = "SELECT '" + "x" * 990 + "', " + "(" * 30 + "1" + ")" * 30
    assert sql_nesting_depth(padded, "postgres", stop_above=20) == 30, "a start cut inside a string: the whole text is read"


@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 1000 + "1" + ")" * 1000,  # 2 KB: sqlparse's layout of it took 15 s, 25-40 s on a busy machine
    "SELECT " + "CASE WHEN a THEN " * 120 + "1" + " END" * 120,
    "SELECT * FROM " + "(SELECT * FROM " * 60 + "t" + ") x" * 60,
    "SELECT " + "f(" * 700 + "1" + ")" * 700,
])
def test_deeply_nested_sql_is_refused_before_parsing(sql):
    parse_metric_sql("SELECT 1", "postgres")  # the dialect's tokenizer and parser made first: not what is timed
    started = time.monotonic()
    with pytest.raises(MetricSqlError) as caught:
        parse_metric_sql(sql, "postgres")
    assert time.monotonic() - started < 1.0  # refused at once; parsing it took 15-40 s
    assert f"may nest at most {MAX_SQL_DEPTH}" in str(caught.value) and "WITH clause" in str(caught.value)


def test_nesting_at_the_limit_parses():
    depth = MAX_SQL_DEPTH - 1  # count( adds one
    parse_metric_sql("SELECT count(" + "(" * depth + "a" + ")" * depth + ") FROM t", "postgres")


def test_format_sql_shows_text_beyond_its_bounds_as_written():
    nested = "SELECT " + "(" * 1000 + "1" + ")" * 1000
    started = time.monotonic()
    assert format_sql(nested) == nested
    assert time.monotonic() - started < 1.0  # sqlparse laid it out in 15 s
    wide = "SELECT " + ",".join(f"c{i}" for i in range(3000)) + " FROM t"  # sqlparse: about 9 s
    started = time.monotonic()
    assert format_sql(wide, seconds=0.2) == wide
    assert time.monotonic() - started < 1.0


# ---------------------------------------------------------------- fingerprints

WAU = """-- weekly active
SELECT date_trunc('week', e.occurred_at) AS week, count(DISTINCT e.customer_id) AS wau
FROM sales.events e WHERE e.event_type = 'login' GROUP BY 1"""


def test_fingerprint_survives_formatting_case_comments_and_alias_names():
    rewritten = """select   DATE_TRUNC('WEEK', Logins.OCCURRED_AT) as "Week start",
         COUNT(distinct Logins.Customer_Id) as active   /* per week */
    from SALES.EVENTS as Logins
    where Logins.event_type = 'login'
    group by 1"""
    assert run(WAU).fingerprint == run(rewritten).fingerprint


def test_fingerprint_survives_renamed_ctes_and_their_columns():
    one = """WITH a AS (SELECT customer_id AS c, occurred_at AS t FROM sales.events WHERE event_type = 'login')
             SELECT date_trunc('week', a.t), count(DISTINCT a.c) FROM a GROUP BY 1"""
    two = """WITH logins AS (SELECT customer_id AS who, occurred_at AS at_time FROM sales.events WHERE event_type = 'login')
             SELECT date_trunc('week', l.at_time) AS wk, count(DISTINCT l.who) AS n FROM logins AS l GROUP BY 1"""
    assert run(one).fingerprint == run(two).fingerprint


def test_fingerprint_differs_for_different_metrics():
    base = run(WAU)
    assert base.fingerprint != run(WAU.replace("'login'", "'purchase'")).fingerprint, "another filter value is another metric"
    assert base.fingerprint != run(WAU.replace("'week'", "'month'")).fingerprint
    assert base.fingerprint != run(WAU.replace("count(DISTINCT e.customer_id)", "count(e.customer_id)")).fingerprint


def test_signature_matches_the_same_aggregate_and_filters_however_arranged():
    inline = run("""SELECT date_trunc('week', e.occurred_at), count(DISTINCT e.customer_id)
                    FROM sales.events e JOIN sales.customers c ON c.customer_id = e.customer_id
                    WHERE e.event_type = 'login' AND c.country <> 'GB' GROUP BY 1""")
    with_cte = run("""WITH ev AS (SELECT customer_id, occurred_at FROM sales.events WHERE event_type = 'login')
                      SELECT date_trunc('week', ev.occurred_at) AS w, count(DISTINCT ev.customer_id) AS n
                      FROM ev JOIN sales.customers cu ON ev.customer_id = cu.customer_id
                      WHERE cu.country <> 'GB' GROUP BY 1""")
    assert inline.fingerprint != with_cte.fingerprint
    assert inline.signature == with_cte.signature
    assert inline.signature_parts["aggregates"] == ["count(DISTINCT «sales.events.customer_id»)"]
    other = run("""SELECT date_trunc('week', e.occurred_at), count(DISTINCT e.customer_id) FROM sales.events e
                   JOIN sales.customers c ON c.customer_id = e.customer_id WHERE e.event_type = 'login' AND c.country = 'GB' GROUP BY 1""")
    assert other.signature != inline.signature


def test_no_aggregate_no_signature():
    assert run("SELECT o.amount FROM sales.orders o").signature == ""


# ---------------------------------------------------------------- equivalent forms

ORDERS = "SELECT count(*) FROM sales.orders o WHERE "


@pytest.mark.parametrize("one, two", [
    ("o.amount >= 20", "20 <= o.amount"),
    ("o.amount < 20", "20 > o.amount"),
    ("o.status <> 'paid'", "'paid' <> o.status"),
    ("o.amount BETWEEN 1 AND 5", "o.amount >= 1 AND o.amount <= 5"),
    ("o.amount BETWEEN 1 AND 5", "o.amount <= 5 AND 1 <= o.amount"),
    ("o.amount NOT BETWEEN 1 AND 5", "NOT (o.amount >= 1 AND o.amount <= 5)"),
    ("o.amount BETWEEN 1 AND 5 OR o.status = 'x'", "o.status = 'x' OR (5 >= o.amount AND o.amount >= 1)"),
    ("o.status IN ('paid', 'shipped')", "o.status IN ('shipped', 'paid', 'shipped')"),
    ("o.status = 'x' AND o.amount > 1", "1 < o.amount AND 'x' = o.status"),
    ("(o.status = 'x' OR o.amount > 1) AND o.customer_id = 3", "o.customer_id = 3 AND (1 < o.amount OR o.status = 'x')"),
])
def test_the_same_condition_written_another_way_is_the_same_metric(one, two):
    first, second = run(ORDERS + one), run(ORDERS + two)
    assert first.fingerprint == second.fingerprint, (first.canonical_sql, second.canonical_sql)
    assert first.signature == second.signature


def test_a_mirrored_comparison_reads_column_first():
    assert run(ORDERS + "20 <= o.amount").canonical_sql.endswith("WHERE _t0.amount >= 20")
    assert run(ORDERS + "20 <= o.amount").signature_parts["filters"] == ["«sales.orders.amount» >= 20"]


@pytest.mark.parametrize("one, two", [
    ("o.amount > 20", "o.amount >= 20"),
    ("o.amount > 20", "20 > o.amount"),
    ("o.amount > 20", "o.amount > 21"),
    ("o.amount BETWEEN 1 AND 5", "o.amount NOT BETWEEN 1 AND 5"),
    ("o.amount BETWEEN 1 AND 5", "o.amount BETWEEN 1 AND 6"),
    ("o.amount BETWEEN 1 AND 5", "o.amount BETWEEN SYMMETRIC 1 AND 5"),
    ("o.status IN ('paid', 'shipped')", "o.status IN ('paid', 'lost')"),
    ("o.status IN ('paid', 'shipped')", "o.status NOT IN ('shipped', 'paid')"),
    ("o.status = 'x' AND o.amount > 1", "o.status = 'x' OR o.amount > 1"),
])
def test_near_misses_stay_different(one, two):
    first, second = run(ORDERS + one), run(ORDERS + two)
    assert first.fingerprint != second.fingerprint
    assert first.signature != second.signature


@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "bigquery", "mysql"])
@pytest.mark.parametrize("same", ["count(1)", "count('x')", "count(true)", "sum(1)"])
def test_counting_a_constant_is_counting_rows(dialect, same):
    rows = run("SELECT count(*) FROM sales.orders o WHERE o.status = 'paid'", dialect)
    other = run(f"SELECT {same} FROM sales.orders o WHERE o.status = 'paid'", dialect)
    assert other.fingerprint == rows.fingerprint
    assert other.signature == rows.signature
    assert other.signature_parts["aggregates"] == ["count(*)"]


@pytest.mark.parametrize("different", ["count(DISTINCT 1)", "count(NULL)", "sum(2)", "count(o.amount)", "sum(o.amount)"])
def test_counting_anything_else_is_not_counting_rows(different):
    rows = run("SELECT count(*) FROM sales.orders o")
    other = run(f"SELECT {different} FROM sales.orders o")
    assert other.fingerprint != rows.fingerprint
    assert other.signature != rows.signature
