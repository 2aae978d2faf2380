"""The schema changes a migration would make, read from its DDL in a source's dialect. Django-free.

Each statement is read on its own so an error names the statement and the line and column in the
file. What is read: ALTER TABLE / VIEW with any number of actions (DROP [COLUMN], RENAME [COLUMN] ... TO,
ALTER COLUMN ... [SET DATA] TYPE, MODIFY, MySQL's CHANGE, ADD, RENAME TO, SET SCHEMA, Snowflake's SWAP
WITH), DROP TABLE / VIEW / MATERIALIZED VIEW (one or several), DROP SCHEMA, ALTER SCHEMA ... RENAME TO,
MySQL's RENAME TABLE: those from their tokens (alter.py); CREATE [OR REPLACE] VIEW through sqlglot.
Statements that change no existing schema (CREATE TABLE, CREATE INDEX, INSERT, SET, constraints,
defaults, transactions) are passed over. An ALTER or DROP that cannot be read is refused: it might break
something Canon cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokens import TokenType

from catalog.impact import alter
from catalog.impact.alter import (  # noqa: F401  (the kinds of change, one home: alter.py)
    COLUMN_ADDED, COLUMN_REMOVED, COLUMN_RENAMED, DATASET_REMOVED, DATASET_RENAMED, SCHEMA_REMOVED, TYPE_CHANGED,
    type_spelling,
)

VIEW_REPLACED = "view_replaced"
TABLE_REPLACED = "table_replaced"


class ImpactInputError(ValueError):
    """The input cannot be read. The message names the statement (or file) and where."""

    def __init__(self, message: str, *, statement: int | None = None, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.statement, self.line, self.column = statement, line, column

    def as_dict(self) -> dict:
        return {"error": str(self), "statement": self.statement, "line": self.line, "column": self.column}


@dataclass(frozen=True)
class Name:
    """A table as a statement names it: schema may be "" (the engine's default); quoted names keep their case."""

    schema: str
    name: str
    quoted: bool = False

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class PlannedChange:
    statement: int  # 1-based, in the file
    line: int  # where the statement starts
    sql: str  # the statement, for the answer
    kind: str
    table: Name
    column: str = ""  # the column; for a view or table created again, "replace" or "create" ("": CREATE VIEW)
    new: str = ""  # the new name (rename), type (retype), or query (view replaced)
    columns: tuple[tuple[str, str], ...] = ()  # a table created again: its columns and types


@dataclass
class _Statement:
    number: int
    text: str
    start: int  # offset in the file
    line: int


def _statements(text: str, dialect: str | None) -> list[_Statement]:
    """Split on the tokenizer's semicolons (a semicolon in a string or comment is not one)."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except TokenError as exc:
        line, column = _position(exc)
        raise ImpactInputError(f"the file cannot be read as SQL: {_first_line(exc)}", line=line, column=column) from None
    found: list[_Statement] = []
    group: list = []
    for token in [*tokens, None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            group.append(token)
            continue
        if group:  # comments ride on tokens: a stretch of only comments is no statement
            begin, end = group[0].start, group[-1].end + 1
            found.append(_Statement(len(found) + 1, text[begin:end], begin, text.count("\n", 0, begin) + 1))
        group = []
    return found


def read_ddl(text: str, dialect: str | None) -> list[PlannedChange]:
    """Every schema change the DDL makes, in order. Raises ImpactInputError for SQL that does not parse,
    or an ALTER/DROP Canon cannot read, naming the statement and its position in the file."""
    if not (text or "").strip():
        raise ImpactInputError("the file holds no SQL statement")
    statements = _statements(text, dialect)
    if not statements:
        raise ImpactInputError("the file holds no SQL statement (only comments)")
    changes: list[PlannedChange] = []
    for statement in statements:
        ours = alter.reads_here(statement.text, dialect)
        try:
            parsed = sqlglot.parse_one(statement.text, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        except (ParseError, TokenError) as exc:
            if ours:  # DROP TABLE a, b: sqlglot refuses what the dialect allows; the token reader may read it
                try:
                    changes += _actions_of(statement, dialect)
                    continue
                except ImpactInputError:
                    pass
            line, column = _position(exc)
            file_line = statement.line + (line - 1 if line else 0)
            raise ImpactInputError(f"statement {statement.number} (line {file_line}) does not parse: {_describe(exc)}",
                                   statement=statement.number, line=file_line, column=column) from None
        except SqlglotError as exc:
            raise ImpactInputError(f"statement {statement.number} (line {statement.line}) cannot be read: {_first_line(exc)}",
                                   statement=statement.number, line=statement.line) from None
        if ours:
            changes += _actions_of(statement, dialect)
            continue
        changes += _changes_of(parsed, statement)
    return changes


def _actions_of(statement: _Statement, dialect: str | None) -> list[PlannedChange]:
    """ALTER / DROP / RENAME TABLE, read action by action (alter.py), each kept as a planned change."""
    try:
        actions = alter.read_statement(statement.text, dialect)
    except alter.UnreadableAction as exc:
        raise ImpactInputError(
            f"statement {statement.number} (line {statement.line}): Canon cannot read this statement: {exc}; "
            "it might break something Canon cannot see", statement=statement.number, line=statement.line) from None
    except TokenError as exc:
        line, column = _position(exc)
        raise ImpactInputError(f"statement {statement.number} (line {statement.line}) cannot be read: {_first_line(exc)}",
                               statement=statement.number, line=statement.line, column=column) from None
    return [PlannedChange(statement.number, statement.line, statement.text[:500], action.kind,
                          _name(action.table, statement), action.column, action.new) for action in actions]


def _name(table: exp.Expression, statement: _Statement) -> Name:
    if not isinstance(table, exp.Table) or not table.name:
        raise ImpactInputError(f"statement {statement.number} (line {statement.line}) names no table",
                               statement=statement.number, line=statement.line)
    return Name(table.db or "", table.name, bool(table.this.args.get("quoted")) if isinstance(table.this, exp.Identifier) else False)


def _changes_of(parsed: exp.Expression, statement: _Statement) -> list[PlannedChange]:
    def change(kind, table, column="", new=""):
        return PlannedChange(statement.number, statement.line, statement.text[:500], kind, table, column, new)

    if isinstance(parsed, exp.Command):
        verb = str(parsed.this or "").upper()
        if verb in ("ALTER", "DROP"):
            raise ImpactInputError(
                f"statement {statement.number} (line {statement.line}): Canon cannot read this {verb} "
                "(an action it does not know)",
                statement=statement.number, line=statement.line)
        return []
    kind = str(parsed.args.get("kind") or "").upper() if isinstance(parsed, exp.Create) else ""
    if kind == "VIEW":
        query = parsed.expression
        return [change(VIEW_REPLACED, _name(parsed.this, statement), new=query.sql() if query is not None else "")]
    if kind == "TABLE" and not parsed.args.get("exists"):
        # CREATE [OR REPLACE] TABLE: over a table the catalog knows (replaced, or dropped earlier in the file),
        # what the new one no longer has breaks its readers. CREATE TABLE IF NOT EXISTS changes nothing there.
        target = parsed.this.this if isinstance(parsed.this, exp.Schema) else parsed.this
        how = "replace" if parsed.args.get("replace") else "create"
        if isinstance(parsed.expression, exp.Query):
            return [change(VIEW_REPLACED, _name(target, statement), column=how, new=parsed.expression.sql())]
        if isinstance(parsed.this, exp.Schema):
            defs = tuple((d.name, d.args["kind"].sql() if d.args.get("kind") is not None else "")
                         for d in parsed.this.expressions if isinstance(d, exp.ColumnDef))
            if defs:
                return [PlannedChange(statement.number, statement.line, statement.text[:500], TABLE_REPLACED,
                                      _name(target, statement), how, "", defs)]
    return []


_TOKEN = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: \d+.*?>")


def _position(exc: Exception) -> tuple[int | None, int | None]:
    """Line and column of a sqlglot error, within the text it was given."""
    errors = getattr(exc, "errors", None)
    if errors:
        return errors[0].get("line"), errors[0].get("col")
    words = str(exc).replace(".", " ").replace(",", " ").split()
    line = column = None
    for i, word in enumerate(words[:-1]):
        if word == "Line" and words[i + 1].isdigit():
            line = int(words[i + 1])
        if word == "Col:" and words[i + 1].isdigit():
            column = int(words[i + 1])
    return line, column


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [exc.__class__.__name__])[0][:300]


def _describe(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        where = f" near '{first.get('highlight')}'" if first.get("highlight") else ""
        description = _TOKEN.sub(lambda m: f"'{m.group(1)}'", first.get("description") or "invalid SQL")
        return f"{description}{where} (column {first.get('col')})"
    return _first_line(exc)
