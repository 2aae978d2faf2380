"""The columns a view reads and, for each of its output columns, the input columns it derives from. Django-free.

sqlglot parses the view in its engine's dialect and `qualify` resolves every column against a schema
built from the catalog (so `select *` expands and an unqualified column finds its table); then one walk
over the query's scopes follows each output column down through CTEs, derived tables and unions to the
columns of real tables, as `sqlglot.lineage` does for one column, here for all of them at once with each
(scope, column) followed once.

The answer names tables by the same keys as `view_upstreams` ((catalog, schema, name), the default catalog
left out) and columns as the SQL spells them after the engine's normalisation; the caller maps them to the
catalog's spelling. When a column cannot be resolved (an input whose columns the catalog does not know under
a `*`, a column the schema does not hold, a shape the optimizer cannot follow) it raises ColumnLineageError
with a one-line reason: the view then keeps its table edges, "table level only".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

TableKey = tuple[str, str, str]  # (catalog, schema, name); catalog "" = the source's own
InputColumn = tuple[TableKey, str]  # (table, column)


class ColumnLineageError(ValueError):
    """The view's columns cannot be resolved. The message is one line, fit to show on the dataset's page."""


@dataclass
class ColumnLineage:
    # Each output column, in the view's order, and the input columns it derives from (empty: a literal).
    outputs: dict[str, frozenset[InputColumn]] = field(default_factory=dict)
    # Every input column the query reads anywhere: outputs, filters, joins, grouping, ordering.
    reads: frozenset[InputColumn] = frozenset()


def view_column_lineage(
    sql: str,
    dialect: str | None,
    default_schema: str,
    default_catalog: str,
    schema: dict[TableKey, tuple[str, ...]],
    *,
    normalize: bool = False,
) -> ColumnLineage:
    """Column lineage of one view's SQL. `schema` holds the column names of each input the catalog knows,
    keyed as view_upstreams names them; `normalize` folds their spelling as the dialect folds unquoted
    names (engines that compare names without case)."""
    frozen = tuple(sorted((key, tuple(columns)) for key, columns in schema.items()))
    return _lineage(sql, dialect, default_schema, default_catalog, frozen, normalize)


@lru_cache(maxsize=2048)
def _lineage(sql, dialect, default_schema, default_catalog, frozen, normalize) -> ColumnLineage:
    text = (sql or "").strip().rstrip(";").strip()
    if not text:
        raise ColumnLineageError("the view has no SQL")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
        if len(statements) != 1:
            raise ColumnLineageError(f"the view's SQL holds {len(statements)} statements, not one query")
        query = statements[0]
        if isinstance(query, exp.Create):
            query = query.expression
        if not isinstance(query, exp.Query):
            raise ColumnLineageError("the view's SQL is not a query")
        for table in query.find_all(exp.Table):
            # A table named without an alias gets its own name as one, quoted as written: qualify() would give
            # it an unquoted one, and then `"Accounts"."Id"` (PostgreSQL's way of printing a view) finds no table.
            if not table.alias and isinstance(table.this, exp.Identifier):
                table.set("alias", exp.TableAlias(this=table.this.copy()))
        mapping = MappingSchema(_nested(frozen, default_catalog), dialect=dialect, normalize=normalize)
        query = qualify(
            query,
            dialect=dialect,
            schema=mapping,
            db=default_schema or None,
            catalog=default_catalog or None,
            quote_identifiers=False,
            validate_qualify_columns=True,
        )
        root = build_scope(query)
        if root is None:
            raise ColumnLineageError("the view's SQL is not a query")
        walk = _Walk(default_catalog)
        outputs: dict[str, frozenset[InputColumn]] = {}
        for select in _selects(root):
            name = select.alias_or_name
            if name == "*":
                raise ColumnLineageError("a * could not be expanded: an input's columns are not in the catalog")
            outputs[name] = frozenset(walk.sources(root, name))
        reads = walk.reads(root)
    except ColumnLineageError:
        raise
    except SqlglotError as exc:
        raise ColumnLineageError(_one_line(exc)) from None
    except (RecursionError, ValueError, KeyError, AttributeError, TypeError, IndexError) as exc:
        raise ColumnLineageError(f"the view's columns could not be followed ({exc.__class__.__name__})") from None
    return ColumnLineage(outputs=outputs, reads=frozenset(reads))


def _nested(frozen, default_catalog: str) -> dict:
    """MappingSchema wants one depth for every table: schema.table, or catalog.schema.table when the
    source names a default catalog (Snowflake database, BigQuery project)."""
    nested: dict = {}
    for (catalog, schema, name), columns in frozen:
        if default_catalog:
            level = nested.setdefault(catalog or default_catalog, {}).setdefault(schema, {})
        elif catalog:
            continue  # another database: its columns stay unknown here
        else:
            level = nested.setdefault(schema, {})
        level[name] = {column: "UNKNOWN" for column in columns}
    return nested


def _selects(scope: Scope) -> list[exp.Expression]:
    expression = scope.expression
    while isinstance(expression, exp.SetOperation):
        expression = expression.left
    return list(expression.selects) if isinstance(expression, exp.Query) else []


class _Walk:
    """Follows columns down the scopes, each (scope, column) once."""

    def __init__(self, default_catalog: str):
        self.default_catalog = default_catalog.lower()
        self.memo: dict[tuple[int, str], set[InputColumn]] = {}

    def table_key(self, table: exp.Table) -> TableKey:
        catalog = table.catalog or ""
        if self.default_catalog and catalog.lower() == self.default_catalog:
            catalog = ""
        return (catalog, table.db or "", table.name)

    def sources(self, scope: Scope, name: str) -> set[InputColumn]:
        key = (id(scope), name)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = found = set()  # a recursive CTE meets itself here, and finds nothing more
        if scope.union_scopes:
            # A union's output column at position i is column i of every branch.
            names = [select.alias_or_name for select in _selects(scope)]
            position = names.index(name) if name in names else -1
            for branch in scope.union_scopes:
                branch_selects = _selects(branch)
                if 0 <= position < len(branch_selects):
                    found |= self.sources(branch, branch_selects[position].alias_or_name)
            return found
        for select in _selects(scope):
            if select.alias_or_name == name:
                for column in select.find_all(exp.Column):
                    found |= self.column(scope, column)
                break
        return found

    def column(self, scope: Scope, column: exp.Column) -> set[InputColumn]:
        source = scope.sources.get(column.table)
        if isinstance(source, exp.Table):
            return {(self.table_key(source), column.name)}
        if isinstance(source, Scope):
            return self.sources(source, column.name)
        return set()  # a table function, or a correlated name from an outer scope walked elsewhere

    def reads(self, root: Scope) -> set[InputColumn]:
        read: set[InputColumn] = set()
        for scope in root.traverse():
            for column in scope.columns:
                source = scope.sources.get(column.table)
                if isinstance(source, exp.Table):
                    read.add((self.table_key(source), column.name))
        return read


def _one_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
        return f"{first.get('description', 'invalid SQL')}{where}"
    text = " ".join(str(exc).split())
    return text[:300] or exc.__class__.__name__
