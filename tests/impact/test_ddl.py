"""Reading a migration's DDL into planned changes. Pure: no database."""

import pytest

from catalog.impact.ddl import (
    COLUMN_ADDED, COLUMN_REMOVED, COLUMN_RENAMED, DATASET_REMOVED, DATASET_RENAMED, SCHEMA_REMOVED, TYPE_CHANGED, VIEW_REPLACED,
    ImpactInputError, read_ddl,
)

MIGRATION = """-- 0042: tidy accounts; a semicolon in a comment; is not a statement
BEGIN;
ALTER TABLE "CRM"."Accounts" RENAME COLUMN email TO email_address;
ALTER TABLE shop.orders DROP COLUMN note;
ALTER TABLE shop.orders ALTER COLUMN amount TYPE bigint USING amount::bigint;
ALTER TABLE shop.orders ADD COLUMN channel text DEFAULT ';';
CREATE INDEX orders_channel ON shop.orders (channel);
ALTER TABLE shop.old_orders RENAME TO orders_2020;
DROP VIEW IF EXISTS shop.totals;
DROP MATERIALIZED VIEW shop.all_ids;
CREATE OR REPLACE VIEW shop.emails AS SELECT 1 AS one;
COMMIT;
"""


def test_every_kind_of_change_in_order_with_its_statement_and_line():
    changes = read_ddl(MIGRATION, "postgres")
    assert [(c.statement, c.line, c.kind, str(c.table), c.column, c.new) for c in changes] == [
        (2, 3, COLUMN_RENAMED, "CRM.Accounts", "email", "email_address"),
        (3, 4, COLUMN_REMOVED, "shop.orders", "note", ""),
        (4, 5, TYPE_CHANGED, "shop.orders", "amount", "BIGINT"),
        (5, 6, COLUMN_ADDED, "shop.orders", "channel", ""),
        (7, 8, DATASET_RENAMED, "shop.old_orders", "", "orders_2020"),
        (8, 9, DATASET_REMOVED, "shop.totals", "", ""),
        (9, 10, DATASET_REMOVED, "shop.all_ids", "", ""),
        (10, 11, VIEW_REPLACED, "shop.emails", "", "SELECT 1 AS one"),
    ]
    assert changes[0].table.quoted and not changes[1].table.quoted


def test_other_dialects():
    [change] = read_ddl("ALTER TABLE `shop`.`Orders` DROP COLUMN `Note`", "mysql")
    assert (change.kind, change.table.schema, change.table.name, change.column) == (COLUMN_REMOVED, "shop", "Orders", "Note")
    [change] = read_ddl("alter table S1.T1 rename column A to B", "snowflake")
    assert (change.kind, change.column, change.new) == (COLUMN_RENAMED, "A", "B")


@pytest.mark.parametrize("text, message, statement, line", [
    ("ALTER TABLE a.b DROP COLUMN c;\n\nALTER TABLE FROM WHERE (((;", "statement 2 (line 3) does not parse", 2, 3),
    ("ALTER TABLE t RENAME COLUMN a TO b, FROBNICATE y", "statement 1 (line 1): Canon cannot read this statement: an action", 1, 1),
    ("ALTER TABLE t DROP COLUMN x;\nALTER TABLE t ALTER COLUMN y WIBBLE", "statement 2 (line 2): Canon cannot read this statement", 2, 2),
    ("ALTER TABLE t RENAME COLUMN a b", "statement 1 (line 1): Canon cannot read this statement: RENAME COLUMN without TO", 1, 1),
    ("   \n-- only a comment\n", "holds no SQL statement", None, None),
    ("SELECT 'unterminated", "cannot be read as SQL", None, None),
])
def test_input_that_cannot_be_read_names_the_statement_and_where(text, message, statement, line):
    with pytest.raises(ImpactInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_ddl(text, "postgres")
    assert (caught.value.statement, caught.value.line) == (statement, line)


@pytest.mark.parametrize("dialect, text, expected", [
    # Several actions in one ALTER: each is a change (sqlglot alone keeps the mixed ones as text).
    ("postgres", "ALTER TABLE shop.orders ALTER COLUMN amount TYPE text, ADD COLUMN x int, DROP note CASCADE",
     [(TYPE_CHANGED, "shop.orders", "amount", "TEXT"), (COLUMN_ADDED, "shop.orders", "x", ""), (COLUMN_REMOVED, "shop.orders", "note", "")]),
    ("postgres", 'ALTER TABLE IF EXISTS ONLY "Shop"."Orders" * DROP COLUMN IF EXISTS "Status", ALTER "Note" SET NOT NULL',
     [(COLUMN_REMOVED, "Shop.Orders", "Status", "")]),
    ("postgres", "ALTER TABLE shop.orders ADD CONSTRAINT pk PRIMARY KEY (id), ALTER COLUMN a DROP DEFAULT, OWNER TO bob", []),
    ("postgres", "DROP TABLE IF EXISTS shop.a, shop.b CASCADE", [(DATASET_REMOVED, "shop.a", "", ""), (DATASET_REMOVED, "shop.b", "", "")]),
    ("postgres", "ALTER VIEW shop.v RENAME TO v2", [(DATASET_RENAMED, "shop.v", "", "v2")]),
    ("postgres", "ALTER MATERIALIZED VIEW shop.mv RENAME COLUMN a TO b", [(COLUMN_RENAMED, "shop.mv", "a", "b")]),
    ("postgres", "ALTER TABLE shop.orders SET SCHEMA archive", [(DATASET_RENAMED, "shop.orders", "", "archive.orders")]),
    ("postgres", "DROP SCHEMA shop CASCADE", [(SCHEMA_REMOVED, "shop", "", "")]),
    ("postgres", "ALTER SCHEMA shop RENAME TO shop2", [(SCHEMA_REMOVED, "shop", "", "shop2")]),
    # MySQL: DROP without COLUMN, CHANGE (a rename with the type restated), MODIFY, ADD (a, b), table options.
    ("mysql", "ALTER TABLE shop.orders DROP a, ADD b int, ADD (c int, d text), ADD INDEX i (a), ALGORITHM=INPLACE",
     [(COLUMN_REMOVED, "shop.orders", "a", ""), (COLUMN_ADDED, "shop.orders", "b", ""), (COLUMN_ADDED, "shop.orders", "c", ""),
      (COLUMN_ADDED, "shop.orders", "d", "")]),
    ("mysql", "ALTER TABLE `Shop`.`Orders` CHANGE COLUMN `a` `b` int(11) NOT NULL AFTER c",
     [(COLUMN_RENAMED, "Shop.Orders", "a", "b"), (TYPE_CHANGED, "Shop.Orders", "b", "INT(11)")]),
    ("mysql", "ALTER TABLE shop.orders CHANGE a A bigint", [(TYPE_CHANGED, "shop.orders", "a", "BIGINT")]),
    ("mysql", "ALTER TABLE shop.orders MODIFY COLUMN amount text NOT NULL DEFAULT 'x'", [(TYPE_CHANGED, "shop.orders", "amount", "TEXT")]),
    ("mysql", "RENAME TABLE shop.a TO shop.b, shop.c TO shop.d", [(DATASET_RENAMED, "shop.a", "", "shop.b"), (DATASET_RENAMED, "shop.c", "", "shop.d")]),
    # Snowflake: a list of columns after one DROP COLUMN / ALTER COLUMN, SWAP WITH.
    ("snowflake", "ALTER TABLE shop.orders DROP COLUMN status, note", [(COLUMN_REMOVED, "shop.orders", "status", ""), (COLUMN_REMOVED, "shop.orders", "note", "")]),
    ("snowflake", "ALTER TABLE shop.orders ALTER COLUMN a SET DATA TYPE varchar(50), COLUMN b SET DATA TYPE int",
     [(TYPE_CHANGED, "shop.orders", "a", "VARCHAR(50)"), (TYPE_CHANGED, "shop.orders", "b", "INT")]),
    ("snowflake", "ALTER TABLE db.shop.orders SWAP WITH db.shop.orders_new", [(DATASET_RENAMED, "shop.orders", "", "(swapped with db.shop.orders_new)")]),
    # BigQuery: a project-qualified name in one pair of backticks.
    ("bigquery", "ALTER TABLE `proj.shop.orders` DROP COLUMN status, DROP COLUMN IF EXISTS note, ALTER COLUMN x SET OPTIONS (description='d')",
     [(COLUMN_REMOVED, "shop.orders", "status", ""), (COLUMN_REMOVED, "shop.orders", "note", "")]),
])
def test_alter_statements_in_each_dialects_spelling(dialect, text, expected):
    assert [(c.kind, str(c.table), c.column, c.new) for c in read_ddl(text, dialect)] == expected
