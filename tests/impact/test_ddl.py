"""Reading a migration's DDL into planned changes. Pure: no database."""

import pytest

from catalog.impact.ddl import (
    COLUMN_ADDED, COLUMN_REMOVED, COLUMN_RENAMED, DATASET_REMOVED, DATASET_RENAMED, TYPE_CHANGED, VIEW_REPLACED,
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
    ("ALTER TABLE t ADD COLUMN x int, DROP COLUMN y", "statement 1 (line 1): Canon cannot read this ALTER", 1, 1),
    ("   \n-- only a comment\n", "holds no SQL statement", None, None),
    ("SELECT 'unterminated", "cannot be read as SQL", None, None),
])
def test_input_that_cannot_be_read_names_the_statement_and_where(text, message, statement, line):
    with pytest.raises(ImpactInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_ddl(text, "postgres")
    assert (caught.value.statement, caught.value.line) == (statement, line)
