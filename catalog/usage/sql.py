"""What a logged statement reads and writes, from its SQL. Django-free.

One parse per statement (sqlglot, the source's dialect), no qualification against a schema: query history
is large (100,000 digests) and this must be fast. Tables: every table the statement names that is not a
CTE; writes: the target of INSERT, UPDATE, DELETE, MERGE, CREATE ... AS and COPY; reads: the rest.
Columns: those the SQL qualifies with a table or its alias, and unqualified ones when one table is read.
Placeholders (PostgreSQL's $1, MySQL's ?) parse like literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

MAX_CHARS = 20_000

# Statements about no table, or only about the session: parsed, and naming nothing.
_WRITE_KINDS = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Copy)


class UnparsedStatement(ValueError):
    pass


@dataclass
class StatementUse:
    reads: set[tuple[str, str]] = field(default_factory=set)  # (schema, name); schema "" where the SQL gave none
    writes: set[tuple[str, str]] = field(default_factory=set)
    columns: set[tuple[str, str, str]] = field(default_factory=set)  # (schema, table, column)


def _key(table: exp.Table, default_schema: str) -> tuple[str, str]:
    return (table.db or default_schema, table.name)


def statement_use(sql: str, dialect: str | None, default_schema: str = "") -> StatementUse:
    """Raises UnparsedStatement when sqlglot cannot read it (or it is too long to try)."""
    text = (sql or "").strip()
    if not text:
        raise UnparsedStatement("empty")
    if len(text) > MAX_CHARS:
        raise UnparsedStatement("too long")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except (SqlglotError, RecursionError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnparsedStatement(exc.__class__.__name__) from None
    if not statements:
        raise UnparsedStatement("nothing to read")
    use = StatementUse()
    for statement in statements:
        _collect(statement, default_schema, use)
    return use


def _collect(statement: exp.Expression, default_schema: str, use: StatementUse) -> None:
    # One walk over the tree (find_all three times cost a third of the time of parsing).
    ctes, tables, columns = set(), [], []
    for node in statement.walk():
        if isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, exp.Column):
            columns.append(node)
        elif isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name)
    target = None
    if isinstance(statement, _WRITE_KINDS):
        target = statement.this
        if isinstance(target, exp.Schema):
            target = target.this
        if isinstance(target, exp.Table) and target.name:
            use.writes.add(_key(target, default_schema))
        else:
            target = None
    aliases: dict[str, tuple[str, str]] = {}
    read: set[tuple[str, str]] = set()
    for table in tables:
        if not table.name or (not table.db and table.name in ctes) or not isinstance(table.this, exp.Identifier):
            continue
        key = _key(table, default_schema)
        aliases[table.alias_or_name] = key
        aliases[table.name] = key
        if table is not target:
            read.add(key)
    use.reads |= read
    distinct = read | use.writes
    only = next(iter(distinct)) if len(distinct) == 1 else None
    for column in columns:
        name = column.name
        if not name or isinstance(column.this, exp.Star):
            continue
        qualifier = column.table
        owner = aliases.get(qualifier) if qualifier else only
        if owner:
            use.columns.add((owner[0], owner[1], name))
