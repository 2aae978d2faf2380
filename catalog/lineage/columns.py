"""The columns a view reads and, for each of its output columns, the input columns it derives from. Django-free.

sqlglot parses the view in its engine's dialect and, unless every column already names its table (the simple
path below: PostgreSQL prints its views that way), `qualify_columns` resolves every column against a schema
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

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema, normalize_name

from catalog.lineage.sql import LineageParseError, error_line, table_qualified

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
    try:
        qualified, _refs, root = table_qualified(sql, dialect, default_schema, default_catalog)
    except LineageParseError as exc:
        raise ColumnLineageError(str(exc)) from None
    try:
        found = _simple_lineage(qualified, root, dialect, default_catalog, frozen, normalize)
        if found is not None:
            return found
        return _general_lineage(qualified, dialect, default_catalog, frozen, normalize)
    except ColumnLineageError:
        raise
    except SqlglotError as exc:
        raise ColumnLineageError(error_line(exc)) from None
    except (RecursionError, ValueError, KeyError, AttributeError, TypeError, IndexError) as exc:
        raise ColumnLineageError(f"the view's columns could not be followed ({exc.__class__.__name__})") from None


def _general_lineage(qualified, dialect, default_catalog, frozen, normalize) -> ColumnLineage:
    """Any shape sqlglot can follow: `qualify_columns` on a copy of the tree resolves what the SQL leaves
    implicit (stars, unqualified columns, USING, alias references), then the walk."""
    mapping = MappingSchema(_nested(frozen, default_catalog), dialect=dialect, normalize=normalize)
    # The tables are qualified already (table lineage did it, on the tree this is a copy of): what qualify()
    # does next, and only that. Unresolved columns are checked in the walk below, which visits the scopes anyway.
    query = qualify_columns(qualified.copy(), mapping, expand_alias_refs=True, expand_stars=True, infer_schema=None)
    root = build_scope(query)
    if root is None:
        raise ColumnLineageError("the view's SQL is not a query")
    walk = _Walk(default_catalog, mapping)
    return walk.lineage(root)


def _simple_lineage(qualified, root, dialect, default_catalog, frozen, normalize) -> ColumnLineage | None:
    """The same answer as _general_lineage, read off the table-qualified tree as it is, for a query that
    leaves little for `qualify_columns` to resolve: every column names its table or alias, and that name is
    a table, CTE or derived table of the column's own scope, holding the column; a `t.*` only over a table
    whose columns the catalog knows (expanded here, in the catalog's order, as qualify_columns would); no bare
    `*`, no USING or NATURAL join, no column list on an alias, no positional GROUP BY or ORDER BY, no pivot,
    no CONNECT BY, no struct fields. PostgreSQL prints its views that way. No copy of the tree, no second
    scope traversal, no MappingSchema. Returns None for anything else: the general path then answers."""
    if root is None or default_catalog or (dialect or "").lower() == "bigquery":
        return None
    for alias in qualified.find_all(exp.TableAlias):
        if alias.args.get("columns"):
            return None
    known = _known_columns(frozen, dialect, normalize)
    outputs: dict[int, list[tuple[str, exp.Expression]]] = {}
    expanded: dict[int, list[exp.Column]] = {}
    scopes = list(root.traverse())
    for scope in scopes:
        expression = scope.expression
        if isinstance(expression, exp.Select):
            if scope.pivots or expression.args.get("connect"):
                return None
            selected = _simple_outputs(scope, known, dialect)
            if selected is None:
                return None
            outputs[id(scope)], stars = selected
            if stars:
                expanded[id(scope)] = stars
            for join in expression.args.get("joins") or ():
                if join.args.get("using") or (join.method or "").upper() == "NATURAL":
                    return None
            group = expression.args.get("group")
            if group is not None and any(node.is_int for node in group.expressions):
                return None
            order = expression.args.get("order")
            if order is not None and any(ordered.this.is_int for ordered in order.expressions):
                return None
        elif not isinstance(expression, exp.SetOperation):
            return None  # a table function's scope, VALUES
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                if not isinstance(source.this, exp.Identifier) or source.catalog:
                    return None
            elif not isinstance(source, Scope):
                return None
    for scope in scopes:
        for column in scope.columns:
            if not column.table or column.args.get("db") or column.args.get("catalog"):
                return None
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table):
                columns = known.get((source.db, source.name))
                if columns is not None and column.name not in columns[1]:
                    return None  # the general path says which column, as qualify_columns does
            elif isinstance(source, Scope):
                inner = source
                while isinstance(inner.expression, exp.SetOperation) and inner.union_scopes:
                    inner = inner.union_scopes[0]
                if column.name not in {name for name, _ in outputs.get(id(inner), ())}:
                    return None
            else:
                return None  # an outer scope's column (a correlated subquery), or a lateral source
    walk = _Walk(default_catalog, None, outputs=outputs, expanded=expanded)
    return walk.lineage(root)


def _simple_outputs(scope: Scope, known, dialect) -> tuple[list[tuple[str, exp.Expression]], list[exp.Column]] | None:
    """A select's outputs as `qualify_columns` would leave them: each `t.*` over a table the catalog knows
    expanded to its columns, then a column keeps its name, an alias its alias, any other expression
    `_col_<position>`; and the columns the stars expanded to. None when qualify_columns would do more."""
    found: list[tuple[str, exp.Expression]] = []
    stars: list[exp.Column] = []
    for selection in scope.expression.expressions:
        if isinstance(selection, (exp.Aliases, exp.QueryTransform, exp.Subquery, exp.Star)):
            return None
        if isinstance(selection, exp.Column) and isinstance(selection.this, exp.Star):
            star = selection.this
            source = scope.sources.get(selection.table)
            if any(star.args.values()) or not isinstance(source, exp.Table) or selection.args.get("db"):
                return None  # * EXCEPT/REPLACE/RENAME, a star over a CTE or derived table
            columns = known.get((source.db, source.name))
            if not columns:
                return None  # the general path says the star cannot be expanded
            for name in columns[0]:
                if name.upper() in _pseudocolumns(dialect):
                    continue
                column = exp.column(name, table=selection.table)
                stars.append(column)
                found.append((name, column))
            continue
        found.append((selection.alias if isinstance(selection, exp.Alias) else (selection.output_name or f"_col_{len(found)}"),
                      selection))
    if len(scope.stars) != sum(1 for selection in scope.expression.expressions if selection.is_star):
        return None  # a star inside an expression (row_to_json(t.*)): qualify_columns leaves it, so must we
    return found, stars


@lru_cache(maxsize=64)
def _pseudocolumns(dialect) -> frozenset[str]:
    return frozenset(Dialect.get_or_raise(dialect).PSEUDOCOLUMNS)


def _known_columns(frozen, dialect, normalize) -> dict[tuple[str, str], tuple[tuple[str, ...], frozenset[str]]]:
    """The inputs' columns by (schema, name) as MappingSchema holds them (folded when `normalize`; the names of
    a refresh come back view after view, so `_folded` remembers each): in order, and as a set."""
    known: dict[tuple[str, str], tuple[tuple[str, ...], frozenset[str]]] = {}
    for (catalog, schema, name), columns in frozen:
        if catalog:
            continue  # another database: its columns stay unknown here
        if normalize:
            schema, name = _folded(schema, dialect, True), _folded(name, dialect, True)
            columns = tuple(_folded(column, dialect, False) for column in columns)
        columns = tuple(dict.fromkeys(columns))
        known[(schema, name)] = (columns, frozenset(columns))
    return known


@lru_cache(maxsize=65536)
def _folded(name: str, dialect, is_table: bool) -> str:
    return normalize_name(name, dialect=dialect, is_table=is_table, normalize=True).name


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
    """Follows columns down the scopes, each (scope, column) once. `outputs`, when given, holds each select
    scope's outputs as (name, expression) and `expanded` the columns its `t.*` stand for (the simple path,
    which leaves the tree as it is); `schema`, when given, is checked against every column read (the
    general path; the simple path checked them already)."""

    def __init__(self, default_catalog: str, schema: MappingSchema | None,
                 outputs: dict[int, list[tuple[str, exp.Expression]]] | None = None, expanded: dict[int, list[exp.Column]] | None = None):
        self.default_catalog = default_catalog.lower()
        self.schema = schema
        self.outputs = outputs
        self.expanded = expanded or {}
        self.memo: dict[tuple[int, str], set[InputColumn]] = {}
        self.known: dict[int, set[str] | None] = {}  # a table node -> the columns the catalog gives it (None: unknown)

    def output_list(self, scope: Scope) -> list[tuple[str, exp.Expression]]:
        while scope.union_scopes:
            scope = scope.union_scopes[0]
        if self.outputs is not None:
            return self.outputs[id(scope)]
        return [(select.alias_or_name, select) for select in _selects(scope)]

    def output_names(self, scope: Scope) -> list[str]:
        return [name for name, _ in self.output_list(scope)]

    def lineage(self, root: Scope) -> ColumnLineage:
        reads = self.reads(root)
        outputs: dict[str, frozenset[InputColumn]] = {}
        for name in self.output_names(root):
            if name == "*":
                raise ColumnLineageError("a * could not be expanded: an input's columns are not in the catalog")
            outputs[name] = frozenset(self.sources(root, name))
        return ColumnLineage(outputs=outputs, reads=frozenset(reads))

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
            names = self.output_names(scope)
            position = names.index(name) if name in names else -1
            for branch in scope.union_scopes:
                branch_names = self.output_names(branch)
                if 0 <= position < len(branch_names):
                    found |= self.sources(branch, branch_names[position])
            return found
        for select_name, select in self.output_list(scope):
            if select_name == name:
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

    def columns_of(self, table: exp.Table) -> set[str] | None:
        key = id(table)
        if key not in self.known:
            self.known[key] = set(self.schema.column_names(table)) if self.schema.find(table, ensure_data_types=False) is not None else None
        return self.known[key]

    def reads(self, root: Scope) -> set[InputColumn]:
        """Every input column read, each checked as qualify()'s validation would: a column left without its
        table, or one its table does not have, cannot be resolved."""
        read: set[InputColumn] = set()
        for scope in root.traverse():
            for column in (scope.columns + self.expanded[id(scope)]) if id(scope) in self.expanded else scope.columns:
                if not column.table:
                    raise ColumnLineageError(f"Column '{column.name}' could not be resolved")
                source = scope.sources.get(column.table)
                if isinstance(source, exp.Table):
                    known = self.columns_of(source) if self.schema is not None else None
                    if known is not None and column.name not in known:
                        raise ColumnLineageError(f"Column '{column.name}' could not be resolved for table: '{source.name}'")
                    read.add((self.table_key(source), column.name))
        return read

