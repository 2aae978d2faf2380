"""The simple path (the table-qualified tree read as it is) and the general path (qualify_columns on a copy)
give the same column lineage, on a varied corpus; the simple path answers the shapes PostgreSQL prints and
steps aside for the rest. Pure: no database."""

import pytest

from catalog.lineage import columns as C
from catalog.lineage.sql import table_qualified

SCHEMA = {
    ("", "Sales", "Accounts"): ("Id", "email", "active", "Region"),
    ("", "sales", "orders"): ("order_id", "account_id", "amount", "note", "created_at"),
    ("", "archive", "orders"): ("order_id", "account_id", "amount", "note", "created_at"),
    ("", "public", "events"): ("id", "payload", "tags", "at"),
}
FOLDED = {  # what a case-insensitive engine's catalog would hold (DuckDB, MySQL)
    ("", "sales", "accounts"): ("Id", "email", "active", "Region"),
    ("", "sales", "orders"): ("order_id", "account_id", "amount", "note", "created_at"),
    ("", "main", "events"): ("id", "payload", "tags", "at"),
}

# The shapes pg_get_viewdef prints: every column qualified. The simple path answers all of them.
PRINTED = [
    ' SELECT a."Id",\n    a.email AS mail\n   FROM "Sales"."Accounts" a\n  WHERE a.active;',
    " SELECT o.order_id,\n    o.amount * 1.2 AS gross,\n    upper(o.note) AS note\n   FROM sales.orders o\n  WHERE o.amount > 100::numeric;",
    ' SELECT o.order_id,\n    a."Region",\n    o.amount + 1::numeric\n   FROM sales.orders o\n     JOIN "Sales"."Accounts" a ON a."Id" = o.account_id;',
    " WITH per AS (\n         SELECT o.account_id,\n            sum(o.amount) AS total\n           FROM sales.orders o\n          GROUP BY o.account_id\n        )\n"
    ' SELECT per.account_id,\n    per.total,\n    a.email\n   FROM per\n     LEFT JOIN "Sales"."Accounts" a ON a."Id" = per.account_id;',
    " SELECT o.order_id,\n    o.amount\n   FROM sales.orders o\nUNION ALL\n SELECT p.order_id,\n    p.amount * 2 AS amount\n   FROM archive.orders p;",
    " SELECT s.account_id,\n    s.n\n   FROM ( SELECT o.account_id,\n            count(*) AS n\n           FROM sales.orders o\n          GROUP BY o.account_id) s\n  WHERE s.n > 3;",
    " SELECT o.order_id,\n    row_number() OVER (PARTITION BY o.account_id ORDER BY o.created_at DESC) AS rn,\n    sum(o.amount) OVER (PARTITION BY o.account_id) AS running\n   FROM sales.orders o;",
    " SELECT o.account_id,\n    ( SELECT max(p.amount) AS max\n           FROM archive.orders p) AS top,\n    CASE WHEN o.amount > 10::numeric THEN o.note ELSE 'small'::text END AS label,\n    1 AS one\n   FROM sales.orders o\n  ORDER BY o.created_at;",
    " SELECT DISTINCT o.account_id\n   FROM sales.orders o\n  WHERE (o.order_id IN ( SELECT p.order_id\n           FROM archive.orders p\n          WHERE p.amount > 0::numeric));",
    " WITH a AS (\n         SELECT o.order_id, o.amount FROM sales.orders o\n        ), b AS (\n         SELECT a.order_id, a.amount FROM a\n        UNION\n"
    "         SELECT p.order_id, p.amount FROM archive.orders p\n        )\n SELECT b.order_id, sum(b.amount) AS amount\n   FROM b\n  GROUP BY b.order_id\n HAVING sum(b.amount) > 0::numeric;",
    " SELECT o.order_id,\n    o.note,\n    cast(o.created_at AS date) AS day\n   FROM sales.orders o\n     CROSS JOIN public.events e\n  WHERE e.id = o.order_id AND e.at > o.created_at;",
    ' SELECT x.order_id, y."Id" FROM sales.orders x, "Sales"."Accounts" y WHERE x.account_id = y."Id" AND y."Region" = \'eu\'',
    " SELECT n.order_id FROM public.not_in_catalog n WHERE n.anything > 1",  # an input whose columns are unknown
    "SELECT o.order_id, o.amount FROM sales.orders o ORDER BY amount",  # an output named in ORDER BY: not a column read
    # t.* over a table the catalog knows, as DuckDB, SQLite and Snowflake keep it: expanded in the catalog's order.
    'SELECT o.*, a."Region" FROM sales.orders o JOIN "Sales"."Accounts" a ON a."Id" = o.account_id',
    "SELECT o.*, o.amount + 1, upper(o.note) FROM sales.orders o WHERE o.created_at > now()",  # _col_5 after the 5 columns
    "WITH w AS (SELECT o.* FROM sales.orders o WHERE o.amount > 0) SELECT w.order_id, w.note FROM w",
]

# Shapes either path may answer: whichever does, the answer is the general one (the test below).
EITHER = [
    "SELECT s.* FROM (SELECT o.order_id FROM sales.orders o) s",  # a star over a derived table
    "SELECT n.* FROM public.not_in_catalog n",  # a star over a table the catalog does not know: an error
    "SELECT row_to_json(o.*) AS j, o.order_id FROM sales.orders o",  # a star inside an expression
    "SELECT o.* EXCLUDE (note) FROM sales.orders o",
    "SELECT o.*, p.* FROM sales.orders o JOIN archive.orders p ON p.order_id = o.order_id",  # the same names twice
    "SELECT x.*, y.* FROM sales.orders x, public.not_in_catalog y",
]

# Shapes that need qualify_columns: the simple path steps aside, the general path answers (or says why not).
GENERAL = [
    'SELECT "Id", email FROM "Sales"."Accounts"',  # unqualified columns
    "SELECT * FROM sales.orders",  # select *
    "SELECT order_id, o.amount FROM sales.orders o JOIN archive.orders p USING (order_id)",  # USING
    "SELECT order_id FROM sales.orders NATURAL JOIN archive.orders",  # NATURAL
    "SELECT o.amount * 2 AS twice, twice + 1 AS more FROM sales.orders o",  # an alias reference
    "SELECT o.account_id, sum(o.amount) AS total FROM sales.orders o GROUP BY 1 ORDER BY 2 DESC",  # positions
    "SELECT o.order_id FROM sales.orders o WHERE EXISTS (SELECT 1 FROM archive.orders p WHERE p.order_id = o.order_id)",  # correlated
    "SELECT o.order_id, (SELECT max(p.amount) FROM archive.orders p WHERE p.account_id = o.account_id) AS top FROM sales.orders o",
    "SELECT s.a, s.b FROM (SELECT o.order_id, o.amount FROM sales.orders o) AS s(a, b)",  # column aliases
    "WITH c(x) AS (SELECT o.order_id FROM sales.orders o) SELECT c.x FROM c",
    "SELECT e.id, t.tag FROM public.events e CROSS JOIN LATERAL unnest(e.tags) AS t(tag)",  # table function
    "SELECT g.n FROM generate_series(1, 10) AS g(n)",
    "SELECT o.order_id, l.m FROM sales.orders o CROSS JOIN LATERAL (SELECT max(p.amount) AS m FROM archive.orders p WHERE p.account_id = o.account_id) l",
    "SELECT o.missing FROM sales.orders o",  # a column the catalog does not have: the general path names it
    "SELECT s.nothing FROM (SELECT o.order_id FROM sales.orders o) s",
    'SELECT a."Nope", a."Id" FROM "Sales"."Accounts" a',  # quoted, mixed case, not in the catalog
    "SELECT v.a FROM (VALUES (1), (2)) AS v(a)",
]


def _answer(function, sql, dialect, schema, normalize, known, default_schema="public"):
    qualified, _refs, root = table_qualified(sql, dialect, default_schema, "")
    frozen = tuple(sorted((key, tuple(columns)) for key, columns in known.items()))
    try:
        if function is C._simple_lineage:
            return function(qualified, root, dialect, "", frozen, normalize)
        return function(qualified, dialect, "", frozen, normalize)
    except C.ColumnLineageError as exc:
        return f"error: {exc}"
    except Exception as exc:  # what _lineage turns into a reason; the same for both paths
        return f"error: {exc.__class__.__name__}"


@pytest.mark.parametrize("sql", PRINTED)
def test_the_simple_path_answers_what_postgresql_prints_and_agrees_with_the_general_path(sql):
    simple = _answer(C._simple_lineage, sql, "postgres", "public", False, SCHEMA)
    general = _answer(C._general_lineage, sql, "postgres", "public", False, SCHEMA)
    assert simple is not None, "the simple path should answer a view as PostgreSQL prints it"
    assert not isinstance(general, str), general
    assert simple == general
    assert simple.reads  # it read something real


@pytest.mark.parametrize("sql", GENERAL)
def test_the_simple_path_steps_aside_where_qualify_columns_has_work_to_do(sql):
    simple = _answer(C._simple_lineage, sql, "postgres", "public", False, SCHEMA)
    assert simple is None


@pytest.mark.parametrize("sql", PRINTED + GENERAL + EITHER)
@pytest.mark.parametrize("dialect,normalize,known,schema", [
    ("postgres", False, SCHEMA, "public"),
    ("duckdb", True, FOLDED, "main"),
    ("mysql", True, FOLDED, "main"),
    ("snowflake", False, SCHEMA, "public"),
])
def test_whichever_path_answers_the_answer_is_the_general_paths(sql, dialect, normalize, known, schema):
    """view_column_lineage takes the simple path when it can: its answer (or its error) is the general one."""
    general = _answer(C._general_lineage, sql, dialect, schema, normalize, known, schema)
    simple = _answer(C._simple_lineage, sql, dialect, schema, normalize, known, schema)
    if simple is not None:
        assert simple == general
    C._lineage.cache_clear()
    try:
        found = C.view_column_lineage(sql, dialect, schema, "", known, normalize=normalize)
    except C.ColumnLineageError as exc:
        found = f"error: {exc}"
    if isinstance(general, str):
        assert isinstance(found, str)
    else:
        assert found == general


def test_the_general_path_names_the_missing_column_the_simple_path_stepped_aside_for():
    with pytest.raises(C.ColumnLineageError, match="missing"):
        C.view_column_lineage("SELECT o.missing FROM sales.orders o", "postgres", "public", "", SCHEMA)


def test_an_unaliased_expression_is_named_by_its_position_on_both_paths():
    found = C.view_column_lineage("SELECT o.order_id, o.amount + 1 FROM sales.orders o", "postgres", "public", "", SCHEMA)
    assert list(found.outputs) == ["order_id", "_col_1"]
    assert found.outputs["_col_1"] == frozenset({(("", "sales", "orders"), "amount")})
