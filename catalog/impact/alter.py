"""ALTER, DROP and RENAME statements read from their tokens, every dialect's spelling. Django-free.

sqlglot parses one action per ALTER TABLE well, and keeps many real migrations only as text: several
actions (`ALTER COLUMN a TYPE text, ADD COLUMN b int`), MySQL's `CHANGE old new type` and `DROP a`,
Snowflake's `DROP COLUMN a, b`, `DROP TABLE a, b`. A migration read as "nothing breaks" when it drops a
column is the worst answer the check can give, so these statements are read here, action by action,
from the dialect's tokens (quoting, keywords and comments as the dialect has them). An action that
could remove, rename or retype something and is not understood raises UnreadableAction; the caller
refuses the statement. Actions that change no column a reader sees (constraints, defaults, NOT NULL,
owners, storage options) are passed over.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

COLUMN_REMOVED = "column_removed"
COLUMN_RENAMED = "column_renamed"
TYPE_CHANGED = "type_changed"
COLUMN_ADDED = "column_added"
DATASET_REMOVED = "dataset_removed"
DATASET_RENAMED = "dataset_renamed"
SCHEMA_REMOVED = "schema_removed"

# After ADD or DROP, words that name something other than a column: nothing a reader sees changes.
_NOT_A_COLUMN = {"CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "PARTITION", "FULLTEXT",
                 "SPATIAL", "DEFAULT", "PERIOD", "SYSTEM", "ROW", "SEARCH", "ROW ACCESS", "TAG", "EXPRESSION",
                 "IDENTITY", "CLUSTERING", "MASKING", "PROJECTION", "AGGREGATION", "SORTKEY", "DISTKEY", "TRIGGER"}
# What may follow a column's name in ALTER [COLUMN] name ... without changing its type.
_HARMLESS_COLUMN_ALTER = {"SET", "DROP", "RESET", "OPTIONS", "COMMENT", "ADD", "RESTART", "COLLATE", "UNSET", "MASKING"}
_TYPE_ENDS = {"USING", "COLLATE", "NOT", "NULL", "DEFAULT", "FIRST", "AFTER", "COMMENT", "PRIMARY", "UNIQUE",
              "REFERENCES", "CHECK", "AUTO_INCREMENT", "ON", "CONSTRAINT", "GENERATED", "AS", "OPTIONS", "CHARACTER",
              "CHARSET", "VISIBLE", "INVISIBLE"}
_DROP_TAIL = {"CASCADE", "RESTRICT", "PURGE"}
# ALTER TABLE actions that change no column a reader sees, across dialects (owners, storage, options,
# partitions, clustering, triggers, charsets). Any other verb is refused rather than guessed at.
_HARMLESS_ACTIONS = {
    "OWNER", "SET", "RESET", "UNSET", "ENABLE", "DISABLE", "CLUSTER", "INHERIT", "NO", "OF", "NOT", "ATTACH",
    "DETACH", "REPLICA", "FORCE", "VALIDATE", "ALGORITHM", "LOCK", "ENGINE", "AUTO_INCREMENT", "COMMENT",
    "CONVERT", "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "ORDER", "PARTITION", "COALESCE", "REORGANIZE",
    "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR", "REMOVE", "TRUNCATE", "DISCARD", "IMPORT", "UPGRADE",
    "EXCHANGE", "WITH", "WITHOUT", "RECLUSTER", "SUSPEND", "RESUME", "ROW_FORMAT", "KEY_BLOCK_SIZE",
    "STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES", "AVG_ROW_LENGTH", "MAX_ROWS", "MIN_ROWS",
    "PACK_KEYS", "CHECKSUM", "DELAY_KEY_WRITE", "INSERT_METHOD", "TABLESPACE", "UNION", "ENCRYPTION",
    "COMPRESSION", "SECONDARY_ENGINE", "APPEND", "SECURITY", "ROW", "DATA_RETENTION_TIME_IN_DAYS",
    "CHANGE_TRACKING", "SEARCH", "ADD_ROW", "TAG", "OPTIONS",
}


class UnreadableAction(ValueError):
    """An action that might break something and cannot be read. The message quotes it."""


@dataclass(frozen=True)
class Action:
    kind: str
    table: exp.Table
    column: str = ""
    new: str = ""


class _Tokens:
    def __init__(self, text: str, tokens: list[Token], dialect: str | None):
        self.text, self.tokens, self.dialect, self.i = text, tokens, dialect, 0

    def word(self, offset: int = 0) -> str:
        """The token as a keyword (upper case), or "" for a quoted name, a literal or the end."""
        j = self.i + offset
        if j >= len(self.tokens):
            return ""
        token = self.tokens[j]
        if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER):
            return ""
        return token.text.upper()

    def accept(self, *words: str) -> bool:
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def name(self) -> str:
        """One name (a column): quoted or not, as written; a keyword used as a name is a name too."""
        if self.done():
            raise UnreadableAction("a name is missing")
        token = self.tokens[self.i]
        if token.token_type in (TokenType.STRING, TokenType.NUMBER, TokenType.COMMA, TokenType.L_PAREN,
                                TokenType.R_PAREN, TokenType.SEMICOLON, TokenType.DOT):
            raise UnreadableAction(f"'{token.text}' where a name was expected")
        self.i += 1
        return token.text

    def table(self) -> exp.Table:
        """A dotted table name, read as the dialect reads one (so BigQuery's `p.d.t` is three parts)."""
        if self.done():
            raise UnreadableAction("a table name is missing")
        start = self.i
        self.i += 1
        while self.i + 1 < len(self.tokens) and self.tokens[self.i].token_type == TokenType.DOT:
            self.i += 2
        span = self.text[self.tokens[start].start:self.tokens[self.i - 1].end + 1]
        try:
            table = exp.to_table(span, dialect=self.dialect)
        except (SqlglotError, ValueError) as exc:
            raise UnreadableAction(f"'{span}' is not a table name ({exc.__class__.__name__})") from None
        if not isinstance(table, exp.Table) or not table.name:
            raise UnreadableAction(f"'{span}' is not a table name")
        return table

    def rest(self) -> str:
        if self.done():
            return ""
        return self.text[self.tokens[self.i].start:self.tokens[-1].end + 1]

    def until(self, stop: set[str]) -> str:
        """The text up to the first of `stop` at parenthesis depth 0 (a type's spelling)."""
        start, depth = self.i, 0
        while not self.done():
            token = self.tokens[self.i]
            if token.token_type == TokenType.L_PAREN:
                depth += 1
            elif token.token_type == TokenType.R_PAREN:
                depth -= 1
            elif depth == 0 and self.word() in stop:
                break
            self.i += 1
        if self.i == start:
            return ""
        return self.text[self.tokens[start].start:self.tokens[self.i - 1].end + 1]


def _split(tokens: list[Token]) -> list[list[Token]]:
    """Comma-separated parts at parenthesis depth 0."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        if token.token_type == TokenType.COMMA and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def type_spelling(text: str, dialect: str | None) -> str:
    """A type as sqlglot spells it (so `int4` and `integer` read alike where sqlglot knows them)."""
    try:
        return exp.DataType.build(text, dialect=dialect).sql(dialect=dialect)
    except (SqlglotError, ValueError, KeyError, TypeError):
        return " ".join(text.split())


def reads_here(text: str, dialect: str | None) -> bool:
    """Whether this statement is one read here: ALTER TABLE/VIEW, DROP TABLE/VIEW/SCHEMA, RENAME TABLE."""
    words = [t.text.upper() for t in _tokens(text, dialect)[:3]]
    return (words[:1] == ["ALTER"] and len(words) > 1 and words[1] in ("TABLE", "VIEW", "MATERIALIZED", "SCHEMA")) or (
        words[:1] == ["DROP"] and len(words) > 1 and words[1] in ("TABLE", "VIEW", "MATERIALIZED", "SCHEMA", "DATABASE")
    ) or words[:2] == ["RENAME", "TABLE"]


def _tokens(text: str, dialect: str | None) -> list[Token]:
    tokenizer = sqlglot.Dialect.get_or_raise(dialect)
    tokens = tokenizer.tokenize(text)
    if len(tokens) > 1 and tokens[1].token_type == TokenType.STRING and tokens[0].token_type in tokenizer.tokenizer_class.COMMANDS:
        # A word the dialect keeps as a command (MySQL's RENAME) swallows the rest as one string: tokenize
        # the rest too, padded so offsets stay those of the statement.
        rest = tokens[0].end + 1
        tokens = [tokens[0], *tokenizer.tokenize(" " * rest + text[rest:])]
    return [t for t in tokens if t.token_type != TokenType.SEMICOLON]


def read_statement(text: str, dialect: str | None) -> list[Action]:
    """The actions of one ALTER / DROP / RENAME statement, in order. Raises UnreadableAction."""
    stream = _Tokens(text, _tokens(text, dialect), dialect)
    if stream.accept("RENAME", "TABLE"):
        return _rename_tables(stream)
    if stream.accept("DROP"):
        return _drop(stream)
    stream.accept("ALTER")
    if stream.accept("SCHEMA"):
        stream.accept("IF", "EXISTS")
        schema = stream.name()
        if stream.accept("RENAME", "TO"):
            return [Action(SCHEMA_REMOVED, exp.Table(this=exp.to_identifier(schema)), new=stream.name())]
        return []  # OWNER TO, SET options: no dataset moves
    view = stream.accept("VIEW") or stream.accept("MATERIALIZED", "VIEW")
    if not view and not stream.accept("TABLE"):
        raise UnreadableAction("not an ALTER TABLE or ALTER VIEW")
    stream.accept("IF", "EXISTS")
    stream.accept("ONLY")
    table = stream.table()
    stream.accept("*")
    actions: list[Action] = []
    previous = ""
    for part in _split(stream.tokens[stream.i:]):
        action = _Tokens(text, part, dialect)
        previous = _action(action, table, previous, actions)
    return actions


def _rename_tables(stream: _Tokens) -> list[Action]:
    """MySQL: RENAME TABLE a TO b [, c TO d]."""
    actions = []
    for part in _split(stream.tokens[stream.i:]):
        pair = _Tokens(stream.text, part, stream.dialect)
        table = pair.table()
        if not pair.accept("TO"):
            raise UnreadableAction("RENAME TABLE without TO")
        actions.append(Action(DATASET_RENAMED, table, new=pair.table().sql(dialect=stream.dialect)))
    return actions


def _drop(stream: _Tokens) -> list[Action]:
    if stream.accept("SCHEMA") or stream.accept("DATABASE"):
        stream.accept("IF", "EXISTS")
        schemas = [_Tokens(stream.text, part, stream.dialect) for part in _split(stream.tokens[stream.i:])]
        return [Action(SCHEMA_REMOVED, exp.Table(this=exp.to_identifier(s.name()))) for s in schemas]
    if not (stream.accept("TABLE") or stream.accept("VIEW") or stream.accept("MATERIALIZED", "VIEW")):
        raise UnreadableAction("not a DROP TABLE or DROP VIEW")
    stream.accept("IF", "EXISTS")
    actions = []
    for part in _split(stream.tokens[stream.i:]):
        name = _Tokens(stream.text, part, stream.dialect)
        actions.append(Action(DATASET_REMOVED, name.table()))
        while name.word() in _DROP_TAIL:
            name.i += 1
        if not name.done():
            raise UnreadableAction(f"'{name.rest()}' after the table name")
    return actions


_VERBS = {"DROP", "ADD", "RENAME", "ALTER", "MODIFY", "CHANGE", "SWAP"}


def _action(action: _Tokens, table: exp.Table, previous: str, actions: list[Action]) -> str:
    """Reads one comma-separated action onto `actions`; returns its verb (a bare name continues the verb
    before it: Snowflake's `DROP COLUMN a, b`, `ADD COLUMN a int, b int`)."""
    dialect = action.dialect
    verb = action.word()
    if verb == "COLUMN" and previous in ("ALTER", "MODIFY", "DROP", "ADD"):
        verb = previous  # Snowflake: ALTER COLUMN a SET DATA TYPE x, COLUMN b SET DATA TYPE y
    elif verb not in _VERBS and verb not in _HARMLESS_ACTIONS and previous in ("DROP", "ADD"):
        verb = previous  # a continuation: the name comes first (DROP COLUMN a, b)
    else:
        action.i += 1
    if verb == "DROP":
        if action.word() in _NOT_A_COLUMN:
            return verb
        action.accept("COLUMN")
        action.accept("IF", "EXISTS")
        actions.append(Action(COLUMN_REMOVED, table, action.name()))
        while action.word() in _DROP_TAIL:
            action.i += 1
        if not action.done():
            raise UnreadableAction(f"'{action.rest()}' after the dropped column")
        return verb
    if verb == "ADD":
        if action.word() in _NOT_A_COLUMN:
            return verb
        action.accept("COLUMN")
        action.accept("IF", "NOT", "EXISTS")
        if not action.done() and action.tokens[action.i].token_type == TokenType.L_PAREN:
            # MySQL: ADD (a int, b text)
            inner = action.tokens[action.i + 1:-1] if action.tokens[-1].token_type == TokenType.R_PAREN else []
            for part in _split(inner):
                column = _Tokens(action.text, part, dialect)
                if column.word() not in _NOT_A_COLUMN:
                    actions.append(Action(COLUMN_ADDED, table, column.name()))
            return verb
        actions.append(Action(COLUMN_ADDED, table, action.name()))
        return verb
    if verb == "RENAME":
        if action.accept("TO") or action.accept("AS"):
            actions.append(Action(DATASET_RENAMED, table, new=action.table().sql(dialect=dialect)))
            return verb
        if action.word() in ("CONSTRAINT", "INDEX", "KEY"):
            return verb
        action.accept("COLUMN")
        old = action.name()
        if not action.accept("TO"):
            raise UnreadableAction("RENAME COLUMN without TO")
        actions.append(Action(COLUMN_RENAMED, table, old, action.name()))
        return verb
    if verb == "SET" and action.accept("SCHEMA"):
        actions.append(Action(DATASET_RENAMED, table, new=f"{action.name()}.{table.name}"))
        return verb
    if verb == "SWAP" and action.accept("WITH"):
        # Snowflake: the two tables trade places; what read this one now reads the other's columns.
        actions.append(Action(DATASET_RENAMED, table, new=f"(swapped with {action.table().sql(dialect=dialect)})"))
        return verb
    if verb == "ALTER":
        if action.word() in ("CONSTRAINT", "INDEX", "PARTITION", "SORTKEY", "DISTKEY", "DISTSTYLE", "ENCODE"):
            return verb
        action.accept("COLUMN")
        column = action.name()
        if action.accept("SET", "DATA", "TYPE") or action.accept("TYPE") or action.accept("DATA", "TYPE"):
            actions.append(Action(TYPE_CHANGED, table, column, type_spelling(action.until(_TYPE_ENDS), dialect)))
            return verb
        if action.word() in _HARMLESS_COLUMN_ALTER or action.done():
            return verb
        raise UnreadableAction(f"ALTER COLUMN {column} {action.rest()}")
    if verb == "MODIFY":
        # MySQL, Oracle, Snowflake, Redshift: MODIFY [COLUMN] name type ..., or Snowflake's MODIFY COLUMN name SET DATA TYPE.
        action.accept("COLUMN")
        column = action.name()
        if action.word() in _HARMLESS_COLUMN_ALTER and not action.accept("SET", "DATA", "TYPE"):
            return verb
        action.accept("TYPE") or action.accept("DATA", "TYPE")
        spelled = action.until(_TYPE_ENDS)
        if spelled:
            actions.append(Action(TYPE_CHANGED, table, column, type_spelling(spelled, dialect)))
        return verb
    if verb == "CHANGE":
        # MySQL: CHANGE [COLUMN] old new type ...: a rename when the names differ, and the type restated.
        action.accept("COLUMN")
        old, new = action.name(), action.name()
        spelled = action.until(_TYPE_ENDS)
        renamed = old.lower() != new.lower()  # MySQL compares column names without case
        if renamed:
            actions.append(Action(COLUMN_RENAMED, table, old, new))
        if spelled:
            actions.append(Action(TYPE_CHANGED, table, new if renamed else old, type_spelling(spelled, dialect)))
        return verb
    if verb in _HARMLESS_ACTIONS:
        return verb  # SET, OWNER TO, ENABLE, ALGORITHM=, ENGINE=, COMMENT, CLUSTER BY ...: no column a reader sees changes
    raise UnreadableAction(f"an action Canon does not know: '{action.text[action.tokens[0].start:action.tokens[-1].end + 1][:200]}'")
