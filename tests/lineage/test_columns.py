"""Column lineage from a view's SQL and the catalog's schemas. Pure: no database."""

import pytest

from catalog.lineage.columns import ColumnLineageError, view_column_lineage

SCHEMA = {
    ("", "Sales", "Accounts"): ("Id", "email", "active", "Region"),
    ("", "sales", "orders"): ("order_id", "account_id", "amount", "note"),
    ("", "archive", "orders"): ("order_id", "account_id", "amount", "note"),
}


def lineage(sql, dialect="postgres", schema="public", catalog="", known=SCHEMA, normalize=False):
    found = view_column_lineage(sql, dialect, schema, catalog, known, normalize=normalize)
    outputs = {name: sorted(f"{t[1]}.{t[2]}.{c}" for t, c in sources) for name, sources in found.outputs.items()}
    return outputs, sorted(f"{t[1]}.{t[2]}.{c}" for t, c in found.reads)


def test_quoted_mixed_case_names_keep_their_case_and_each_output_names_its_inputs():
    outputs, reads = lineage('SELECT a."Id", a.email AS mail FROM "Sales"."Accounts" a WHERE a.active')
    assert outputs == {"Id": ["Sales.Accounts.Id"], "mail": ["Sales.Accounts.email"]}
    # The filter's column is read, though no output carries it.
    assert reads == ["Sales.Accounts.Id", "Sales.Accounts.active", "Sales.Accounts.email"]


def test_select_star_expands_from_the_catalog_and_unqualified_columns_find_their_table_across_schemas():
    outputs, _ = lineage('SELECT o.*, "Region" FROM sales.orders o JOIN "Sales"."Accounts" a ON a."Id" = o.account_id')
    assert list(outputs) == ["order_id", "account_id", "amount", "note", "Region"]
    assert outputs["amount"] == ["sales.orders.amount"]
    assert outputs["Region"] == ["Sales.Accounts.Region"]


def test_ctes_joins_and_expressions_follow_down_to_the_tables():
    sql = """
        WITH big AS (SELECT account_id, amount * 1.2 AS gross FROM sales.orders WHERE amount > 100),
             per AS (SELECT account_id, sum(gross) AS total FROM big GROUP BY account_id)
        SELECT upper(a.email) || '/' || a."Region" AS who, per.total, 1 AS one
        FROM per JOIN "Sales"."Accounts" a ON a."Id" = per.account_id
    """
    outputs, reads = lineage(sql)
    assert outputs == {"who": ["Sales.Accounts.Region", "Sales.Accounts.email"], "total": ["sales.orders.amount"], "one": []}
    assert "sales.orders.account_id" in reads and "Sales.Accounts.Id" in reads
    assert "sales.orders.note" not in reads


def test_a_union_output_derives_from_each_branch_by_position():
    sql = "SELECT order_id, amount AS value FROM sales.orders UNION ALL SELECT order_id, amount * -1 FROM archive.orders"
    outputs, _ = lineage(sql)
    assert outputs == {"order_id": ["archive.orders.order_id", "sales.orders.order_id"],
                       "value": ["archive.orders.amount", "sales.orders.amount"]}


def test_a_whole_create_view_statement_in_a_case_insensitive_engine():
    known = {("", "main", "orders"): ("Order_ID", "Amount")}
    outputs, _ = lineage("CREATE VIEW v AS SELECT ORDER_ID, amount FROM Orders", dialect="duckdb", schema="main",
                         known=known, normalize=True)
    assert outputs == {"order_id": ["main.orders.order_id"], "amount": ["main.orders.amount"]}


def test_snowflake_names_in_the_sources_database():
    known = {("", "S1", "T1"): ("ID", "NAME")}
    outputs, _ = lineage("select id, name as n from DB1.S1.T1", dialect="snowflake", schema="S1", catalog="DB1", known=known)
    assert outputs == {"ID": ["S1.T1.ID"], "N": ["S1.T1.NAME"]}


@pytest.mark.parametrize("sql, reason", [
    ("SELECT * FROM sales.orders JOIN unknown.t USING (order_id)", "could not be expanded"),
    ("SELECT missing_column FROM sales.orders", "missing_column"),
    ("SELECT order_id FROM sales.orders; SELECT 1", "2 statements"),
])
def test_what_cannot_be_resolved_to_columns_says_why(sql, reason):
    with pytest.raises(ColumnLineageError, match=reason):
        lineage(sql)
