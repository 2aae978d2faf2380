"""Statement shapes (catalog/usage/sql.py): a statement answered from its shape says exactly what parsing it says.

Every statement below runs through a shared shape cache (most after another of the same shape with other names,
so it is answered from the shape) and is parsed as itself too; the answers must be equal, unparsed included."""

import logging

import pytest
import sqlglot

from catalog.usage.sql import ShapeCache, StatementUse, UnparsedStatement, statement_use

# (dialect, template, names for each variant): every template runs once per set of names.
NAMES = [
    {"s": "sales", "t": "orders", "u": "customers", "a": "o", "b": "c", "x": "amount", "y": "email"},
    {"s": "hr", "t": "people", "u": "teams", "a": "p", "b": "tm", "x": "salary", "y": "manager_id"},
    {"s": "Mixed", "t": "Events", "u": "events", "a": "e", "b": "ev", "x": "Amount", "y": "amount"},
    {"s": "analytics", "t": "daily_sessions", "u": "visitors", "a": "ds", "b": "v", "x": "started_at", "y": "visitor_id"},
    {"s": "shop", "t": "order_lines", "u": "products", "a": "ol", "b": "pr", "x": "quantity", "y": "sku"},
    {"s": "Ünïcode", "t": "Tabelle", "u": "größe", "a": "tb", "b": "gr", "x": "Spalte", "y": "wert"},
    # aliases equal to table names, a column equal to a table name
    {"s": "s1", "t": "t1", "u": "t2", "a": "t2", "b": "t1", "x": "t1", "y": "c1"},
    # names the parser reads by their text, and keywords used as names
    {"s": "public", "t": "status", "u": "level", "a": "first", "b": "last", "x": "nulls", "y": "value"},
    {"s": "zone", "t": "user", "u": "date", "a": "name", "b": "type", "x": "id", "y": "count"},
    {"s": "", "t": "", "u": "", "a": "", "b": "", "x": "", "y": ""},  # empty quoted names
]

TEMPLATES = [
    ("postgres", "SELECT {a}.{x}, {b}.{y} FROM {s}.{t} {a} JOIN {s}.{u} {b} ON {b}.id = {a}.{y} WHERE {a}.{x} > $1"),
    ("postgres", "SELECT {x}, {y} FROM {t} WHERE {x} = $1 ORDER BY {y} NULLS FIRST LIMIT $2"),
    ("postgres", 'SELECT "{a}"."{x}" FROM "{s}"."{t}" AS "{a}" WHERE "{a}"."{y}" IN ($1, $2)'),
    ("postgres", 'SELECT {x}, "{x}" FROM {s}."{t}" WHERE "{y}" = {y}'),
    ("postgres", "WITH {t} AS (SELECT {x} FROM {s}.{t}) SELECT {x} FROM {t}"),
    ("postgres", "WITH {u} AS (SELECT {x}, {y} FROM {s}.{t} WHERE {y} > $1) SELECT {b}.{x} FROM {u} {b} JOIN {t} ON {t}.{x} = {b}.{x}"),
    ("postgres", "INSERT INTO {s}.{t} ({x}, {y}) SELECT {x}, {y} FROM {s}.{u} WHERE {x} IS NOT NULL"),
    ("postgres", "UPDATE {s}.{t} SET {x} = $1 WHERE {y} = $2"),
    ("postgres", "UPDATE {s}.{t} {a} SET {x} = {b}.{x} FROM {s}.{u} {b} WHERE {a}.{y} = {b}.{y}"),
    ("postgres", "DELETE FROM {t} WHERE {y} < $1"),
    ("postgres", "MERGE INTO {s}.{t} {a} USING {s}.{u} {b} ON {a}.{y} = {b}.{y} "
                 "WHEN MATCHED THEN UPDATE SET {x} = {b}.{x} WHEN NOT MATCHED THEN INSERT ({x}) VALUES ({b}.{x})"),
    ("postgres", "CREATE TABLE {s}.{u} AS SELECT {x} FROM {s}.{t}"),
    ("postgres", "SELECT count(*), max({x}), lower({y}) FROM {s}.{t} GROUP BY {y}"),
    ("postgres", "SELECT {a}.* FROM {s}.{t} {a}, LATERAL generate_series(1, {a}.{x}) g"),
    ("postgres", "SELECT {x}::text, CAST({y} AS numeric) FROM {t} WHERE {x} ~ $1"),
    ("postgres", "SELECT {a}.{x} FROM {s}.{t} {a}, LATERAL ROWS FROM (generate_series($1, $2)) g"),  # unparsed
    ("postgres", "SELECT {x} FROM {s}.{t} WITH ORDINALITY"),
    ("postgres", "SELECT {x} FROM (SELECT {x}, {y} FROM {s}.{t}) {a} WHERE {a}.{y} = $1; SELECT {y} FROM {u}"),
    ("postgres", "SELECT {x} FROM {t} WHERE {y} = ANY($1) AND {x} BETWEEN $2 AND $3 ORDER BY 1 DESC"),
    ("postgres", "SELECT {x} FROM {t} WHERE"),  # unparsed
    ("mysql", "SELECT `{a}`.`{x}` FROM `{s}`.`{t}` `{a}` WHERE `{a}`.`{y}` = ? LIMIT ?"),
    ("mysql", "SELECT {x} FROM {s}.{t} WHERE {y} = ? AND {x} IN (?, ?) FOR UPDATE"),
    ("mysql", "INSERT INTO {t} ({x}, {y}) VALUES (?, ?) ON DUPLICATE KEY UPDATE {x} = VALUES({x})"),
    ("mysql", "UPDATE `{s}`.`{t}` SET `{x}` = ? WHERE `{y}` = ?"),
    ("mysql", "DELETE {a} FROM {t} {a} JOIN {u} {b} ON {a}.{x} = {b}.{x} WHERE {b}.{y} = ?"),
    ("snowflake", 'SELECT "{a}"."{x}", {y} FROM {s}.{t} "{a}" QUALIFY ROW_NUMBER() OVER (PARTITION BY {y} ORDER BY {x}) = 1'),
    ("snowflake", "CREATE OR REPLACE TABLE {s}.{u} AS SELECT * FROM {s}.{t}"),
    ("bigquery", "SELECT {x} FROM `proj.{s}.{t}` WHERE {y} = @p"),
    ("bigquery", "SELECT {a}.{x} FROM my-project.{s}.{t} {a}"),
    ("tsql", "SELECT [{x}], {y} FROM [{s}].[{t}] WHERE {y} = @p"),
]


def answer(sql, dialect, cache):
    try:
        return statement_use(sql, dialect, "dflt", cache=cache)
    except UnparsedStatement:
        return "unparsed"


def test_every_statement_answered_from_its_shape_says_what_parsing_it_says():
    cache = ShapeCache()
    compared = 0
    for dialect, template in TEMPLATES:
        for names in NAMES:
            sql = template.format(**names)
            assert answer(sql, dialect, cache) == answer(sql, dialect, None), (dialect, sql)
            compared += 1
    counts = cache.counts()
    assert counts["statements"] == compared
    # Most statements came from their shape, without a parse; names the parser reads kept their shapes apart.
    assert counts["hits"] > compared * 0.4, counts
    assert counts["shapes"] < compared * 0.6, counts


def test_a_shape_answers_later_statements_with_their_own_names_without_parsing():
    cache = ShapeCache()
    first = statement_use("SELECT o.amount FROM orders o WHERE o.status = $1", "postgres", "sales", cache=cache)
    assert first == StatementUse(reads={("sales", "orders")}, columns={("sales", "orders", "amount"), ("sales", "orders", "status")})
    parses = cache.parses
    later = statement_use("SELECT p.Salary FROM people p WHERE p.team = $1", "postgres", "hr", cache=cache)
    assert cache.parses == parses, "answered from the shape"
    assert later == StatementUse(reads={("hr", "people")}, columns={("hr", "people", "Salary"), ("hr", "people", "team")})
    # The same text with the quotes elsewhere is another shape: parsed.
    quoted = statement_use('SELECT p.salary FROM "People" p WHERE p.team = $1', "postgres", cache=cache)
    assert cache.parses > parses and quoted.reads == {("", "People")}


def test_names_the_parser_reads_stay_in_the_shape():
    cache = ShapeCache()
    statement_use("SELECT amount FROM orders ORDER BY amount NULLS FIRST", "postgres", cache=cache)
    statement_use("SELECT price FROM products ORDER BY price NULLS FIRST", "postgres", cache=cache)
    assert cache.counts()["hits"] == 1
    statement_use("SELECT price FROM products ORDER BY price NULLS LAST", "postgres", cache=cache)
    # LEVEL and VALUE are words the parser compares text with: a column of that name is its own shape.
    assert statement_use("SELECT level FROM products", "postgres", cache=cache).columns == {("", "products", "level")}
    assert statement_use("SELECT price FROM products", "postgres", cache=cache).columns == {("", "products", "price")}
    assert statement_use("SELECT value FROM products", "postgres", cache=cache).columns == {("", "products", "value")}
    assert cache.counts() == {"statements": 6, "shapes": 5, "parses": 10, "hits": 1}


def test_an_unparseable_shape_stays_unparsed_and_is_not_parsed_again():
    cache = ShapeCache()
    for n in range(5):
        with pytest.raises(UnparsedStatement):
            statement_use(f"SELECT t.c{n} FROM s.t{n} t, LATERAL ROWS FROM (generate_series($1, $2)) g", "postgres", cache=cache)
    assert cache.counts() == {"statements": 5, "shapes": 1, "parses": 2, "hits": 4}


def test_a_name_like_a_placeholder_is_parsed_as_itself():
    cache = ShapeCache()
    statement_use("SELECT x FROM t", "postgres", cache=cache)
    use = statement_use("SELECT zqi0 FROM zqi1", "postgres", cache=cache)
    assert use == StatementUse(reads={("", "zqi1")}, columns={("", "zqi1", "zqi0")})
    assert cache.counts()["hits"] == 0


def test_the_cache_keeps_at_most_its_number_of_shapes_and_tokens():
    cache = ShapeCache(max_shapes=3)
    for n in range(6):
        statement_use(f"SELECT a FROM t LIMIT {n}", "postgres", cache=cache)
    assert cache.counts()["shapes"] == 3
    cache = ShapeCache(max_tokens=12)  # SELECT a FROM t LIMIT n: 6 tokens
    for n in range(6):
        statement_use(f"SELECT a FROM t LIMIT {n}", "postgres", cache=cache)
    assert cache.counts()["shapes"] == 2 and cache.tokens == 12


def test_a_dialect_sqlglot_does_not_know_is_unparsed_not_an_error():
    with pytest.raises(UnparsedStatement):
        statement_use("SELECT a FROM t", "no-such-dialect")


def test_sqlglot_logs_no_statement_text_while_a_history_is_parsed(caplog):
    unsupported = "CALL send_mail('ana@example.com')"  # sqlglot reads it as a Command, and warns quoting it
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        statement_use(unsupported.replace("ana", "bo"), "postgres", cache=None)
        statement_use(unsupported.replace("ana", "cy"), "postgres", cache=ShapeCache())
        assert "example.com" not in caplog.text
        sqlglot.parse(unsupported, read="postgres")  # elsewhere (lineage's views) sqlglot still says so
    assert "unsupported syntax" in caplog.text
