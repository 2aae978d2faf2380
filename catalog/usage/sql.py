"""What a logged statement reads and writes, from its SQL. Django-free.

One parse per statement shape (sqlglot, the source's dialect), no qualification against a schema: query history
is large (100,000 digests) and this must be fast. Tables: every table the statement names that is not a
CTE; writes: the target of INSERT, UPDATE, DELETE, MERGE, CREATE ... AS and COPY; reads: the rest.
Columns: those the SQL qualifies with a table or its alias, and unqualified ones when one table is read.
Placeholders (PostgreSQL's $1, MySQL's ?) parse like literals.

Shapes. Query histories are mostly the same statements with other names (ORMs, dashboards). A statement is
tokenized (cheap, next to parsing), and every name in it that cannot change the parse is replaced by a
placeholder numbered by its name (`select a.x from t a` -> `select zqi0.zqi1 from zqi2 zqi0`; quoted names stay
quoted): the token types and texts that remain are the statement's shape. The first statement of a shape is
parsed twice, as itself and in its placeholder form; when both give the same answer the shape's answer (in
placeholders) is kept, and each later statement of that shape only puts its own names back. Kept literal,
because the parser reads them: keywords (the tokenizer types them), a name followed by `(` (a function), names
the dialect's parser matches by their text (NULLS FIRST, ORDINALITY, function and property names), names that
are not plain words, and dotted or empty quoted names. A statement naming something like a placeholder is
parsed as itself. A shape neither parse reads is unparsed for each of its statements.
"""

from __future__ import annotations

import ast
import inspect
import logging
import re
import textwrap
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

MAX_CHARS = 20_000
# Shapes kept per process, least recently used dropped first: at most this many, and this many tokens in all (a
# token of a kept shape is about 100 bytes, so about 50 MB at most).
MAX_SHAPES = 20_000
MAX_SHAPE_TOKENS = 500_000

# Statements about no table, or only about the session: parsed, and naming nothing.
_WRITE_KINDS = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Copy)
_FAILURES = (SqlglotError, RecursionError, ValueError, KeyError, TypeError, AttributeError, IndexError)

PLACEHOLDER = "zqi"
_PLACEHOLDER_IN = re.compile(PLACEHOLDER + r"\d", re.IGNORECASE)
_PLAIN = re.compile(r"[^\W\d]\w*\Z")  # an unquoted name that is one plain word


class UnparsedStatement(ValueError):
    pass


_parsing = threading.local()


class _NoStatementText(logging.Filter):
    """sqlglot's warnings quote the statement they are about (a Command fallback, up to 100 characters); a logged
    statement's literals can be personal data, kept only where a person opted in: not logged while one is parsed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_parsing, "history", False)


logging.getLogger("sqlglot").addFilter(_NoStatementText())


@dataclass
class StatementUse:
    reads: set[tuple[str, str]] = field(default_factory=set)  # (schema, name); schema "" where the SQL gave none
    writes: set[tuple[str, str]] = field(default_factory=set)
    columns: set[tuple[str, str, str]] = field(default_factory=set)  # (schema, table, column)


def _key(table: exp.Table, default_schema: str) -> tuple[str, str]:
    return (table.db or default_schema, table.name)


class _Dialect:
    """A dialect's tokenizer and parser, and the words its parser reads by their text (never placeholders)."""

    _known: dict[str | None, "_Dialect"] = {}

    def __init__(self, name: str | None):
        self.dialect = Dialect.get_or_raise(name)
        try:
            self.words: frozenset[str] | None = _parser_words(self.dialect)
        except (OSError, TypeError, SyntaxError):  # sqlglot installed without its sources: no shapes, each statement parsed
            self.words = None

    @classmethod
    def get(cls, name: str | None) -> "_Dialect":
        found = cls._known.get(name)
        if found is None:
            found = cls._known[name] = cls(name)
        return found

    def tokenize(self, text: str):
        try:
            return self.dialect.tokenize(text)
        except _FAILURES as exc:
            raise UnparsedStatement(exc.__class__.__name__) from None

    def use(self, tokens, text: str, default_schema: str) -> StatementUse:
        _parsing.history = True
        try:
            statements = [s for s in self.dialect.parser().parse(tokens, text) if s is not None]
        except _FAILURES as exc:
            raise UnparsedStatement(exc.__class__.__name__) from None
        finally:
            _parsing.history = False
        if not statements:
            raise UnparsedStatement("nothing to read")
        use = StatementUse()
        for statement in statements:
            _collect(statement, default_schema, use)
        return use


def _parser_words(dialect: Dialect) -> frozenset[str]:
    """Every word in the string constants of the dialect's parser and tokenizer classes (and their bases), and in
    their tables (functions, properties, ...): the texts the parser may compare a name with. More than needed;
    a name among them only stays literal in its shape."""
    words: set[str] = set()
    for cls in (dialect.parser_class,):
        for base in cls.__mro__:
            if base.__module__.startswith("sqlglot"):
                words.update(_string_words(ast.parse(textwrap.dedent(inspect.getsource(base)))))
    for cls in (dialect.parser_class,):
        for name in dir(cls):
            value = getattr(cls, name, None)
            if isinstance(value, (dict, set, frozenset, list, tuple)):
                for item in value:
                    if isinstance(item, str):
                        words.update(w.upper() for w in re.findall(r"\w+", item))
    return frozenset(words)


def _string_words(tree) -> set[str]:
    """Words of a class's string constants, leaving out docstrings and messages (f-strings, raise_error, warnings)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip.add(id(node.value))  # a docstring
        elif isinstance(node, ast.JoinedStr) or (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("raise_error", "warning", "error", "debug", "info")):
            skip.update(id(n) for n in ast.walk(node))
    return {w.upper() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            for w in re.findall(r"\w+", node.value)}


@dataclass
class _Shape:
    use: StatementUse | None  # in placeholders; None: each statement of the shape is parsed as itself
    parsed: bool = True  # False: neither the statement nor its placeholder form parsed
    tokens: int = 0


@dataclass
class ShapeCache:
    """Statement shapes of this process and their answers in placeholders, with counts for the benchmark."""

    max_shapes: int = MAX_SHAPES
    max_tokens: int = MAX_SHAPE_TOKENS
    tokens: int = 0  # of the shapes kept
    shapes: OrderedDict = field(default_factory=OrderedDict)
    statements: int = 0  # statements asked about
    parses: int = 0  # sqlglot parses run
    hits: int = 0  # statements answered from their shape, with no parse
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)  # crawls in threads share it

    def counts(self) -> dict[str, int]:
        return {"statements": self.statements, "shapes": len(self.shapes), "parses": self.parses, "hits": self.hits}


SHAPES = ShapeCache()


def statement_use(sql: str, dialect: str | None, default_schema: str = "", cache: ShapeCache | None = SHAPES) -> StatementUse:
    """Raises UnparsedStatement when sqlglot cannot read it (or it is too long to try). cache=None parses the
    statement as itself, every time."""
    text = (sql or "").strip()
    if not text:
        raise UnparsedStatement("empty")
    if len(text) > MAX_CHARS:
        raise UnparsedStatement("too long")
    try:
        reader = _Dialect.get(dialect)
    except ValueError as exc:  # a dialect sqlglot does not know
        raise UnparsedStatement(str(exc)) from None
    tokens = reader.tokenize(text)
    if cache is None:
        return reader.use(tokens, text, default_schema)
    cache.statements += 1
    if reader.words is None or _PLACEHOLDER_IN.search(text):  # something like a placeholder in it: parsed as itself
        cache.parses += 1
        return reader.use(tokens, text, default_schema)
    key, names, spans = _shape_of(tokens, reader.words)
    key = (dialect, key)
    with cache.lock:
        known = cache.shapes.get(key)
        if known is not None:
            cache.shapes.move_to_end(key)
    if known is None:
        known, use = _learn(reader, tokens, text, default_schema, key[1], names, spans, cache)
        known.tokens = len(key[1])
        with cache.lock:
            if key not in cache.shapes:
                cache.shapes[key] = known
                cache.tokens += known.tokens
            while len(cache.shapes) > cache.max_shapes or (cache.tokens > cache.max_tokens and len(cache.shapes) > 1):
                cache.tokens -= cache.shapes.popitem(last=False)[1].tokens
        if use is None:
            raise UnparsedStatement("does not parse")
        return use
    if not known.parsed:
        cache.hits += 1
        raise UnparsedStatement("its shape does not parse")
    if known.use is None:
        cache.parses += 1
        return reader.use(tokens, text, default_schema)
    cache.hits += 1
    return _with_names(known.use, names, default_schema)


def _shape_of(tokens, words):
    """(key, names by placeholder number, spans of the names to replace)."""
    key: list = []
    classes: dict[str, int] = {}
    spans: list[tuple[int, int, bool, int]] = []
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        kind, text = token.token_type, token.text
        if kind is TokenType.VAR:
            replace = (_PLAIN.match(text) is not None and text.upper() not in words
                       and not (i < last and tokens[i + 1].token_type is TokenType.L_PAREN))
        elif kind is TokenType.IDENTIFIER:
            replace = bool(text) and "." not in text and text.upper() not in words
        else:
            replace = False
        if replace:
            number = classes.setdefault(text, len(classes))
            spans.append((token.start, token.end, kind is TokenType.IDENTIFIER, number))
            key.append((kind, f"{PLACEHOLDER}{number}"))
        else:
            key.append((kind, text))
    return tuple(key), list(classes), spans


def _learn(reader, tokens, text, default_schema, key, names, spans, cache):
    """Parse the first statement of a shape as itself and in placeholder form: (the shape, its own answer)."""
    cache.parses += 1
    try:
        own = reader.use(tokens, text, default_schema)
    except UnparsedStatement:
        own = None
    parts, at = [], 0
    for start, end, quoted, number in spans:
        parts.append(text[at:start])
        name = f"{PLACEHOLDER}{number}"
        parts.append(f"{text[start]}{name}{text[end]}" if quoted else name)
        at = end + 1
    parts.append(text[at:])
    form = "".join(parts)
    try:
        form_tokens = reader.tokenize(form)
    except UnparsedStatement:
        form_tokens = None
    if form_tokens is None or tuple((t.token_type, t.text) for t in form_tokens) != key:
        return _Shape(use=None), own  # the placeholder form does not tokenize as the shape: each parsed as itself
    cache.parses += 1
    try:
        placeholders = reader.use(form_tokens, form, "")
    except UnparsedStatement:
        placeholders = None
    if placeholders is None and own is None:
        return _Shape(use=None, parsed=False), None
    if (placeholders is None or own is None or not _only_whole_placeholders(placeholders, len(names))
            or _with_names(placeholders, names, default_schema) != own):
        return _Shape(use=None), own
    return _Shape(use=placeholders), own


def _only_whole_placeholders(use: StatementUse, count: int) -> bool:
    """Every name of the answer is a whole placeholder or has none in it (else names were joined or cut)."""
    whole = {f"{PLACEHOLDER}{n}" for n in range(count)}
    for group in (use.reads, use.writes, use.columns):
        for item in group:
            for name in item:
                if name not in whole and _PLACEHOLDER_IN.search(name):
                    return False
    return True


def _with_names(use: StatementUse, names: list[str], default_schema: str) -> StatementUse:
    def name(text):
        if text.startswith(PLACEHOLDER):
            number = text[len(PLACEHOLDER):]
            if number.isdigit():
                return names[int(number)]
        return text

    return StatementUse(reads={(name(s) or default_schema, name(t)) for s, t in use.reads},
                        writes={(name(s) or default_schema, name(t)) for s, t in use.writes},
                        columns={(name(s) or default_schema, name(t), name(c)) for s, t, c in use.columns})


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
