"""What a metric definition's SQL computes, in forms that compare. Django-free.

sql.py reads a query and ties it to the catalog; this module says what it computes:

- a fingerprint: a hash of the query with formatting, comments, identifier case and alias
  names taken out (CTE, table, subquery and projection aliases are renamed by position), and
  equivalent ways of writing a condition or a count made one, so the same query written twice
  hashes the same. Literal values are kept;
- a signature: the aggregates, filters, joins and grouping, each with its columns traced to
  the base table column it reads, compared as sets, so the same aggregate over the same
  columns with the same filters matches however the query is arranged.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

# ---------------------------------------------------------------- fingerprint


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _rename_projections(query: exp.Expression, prefix: str) -> dict[str, str]:
    """Rename a query's output columns by position; returns {old name (lower): new name}."""
    renames: dict[str, str] = {}
    if isinstance(query, exp.SetOperation):
        renames = _rename_projections(query.left, prefix)
        _rename_projections(query.right, prefix)
        return renames
    if not isinstance(query, exp.Select):
        return renames
    projections = []
    for index, projection in enumerate(query.expressions):
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)):
            projections.append(projection)
            continue
        new = f"{prefix}{index}"
        old = projection.alias_or_name
        if old:
            renames.setdefault(old.lower(), new)
        if isinstance(projection, exp.Alias):
            projection.set("alias", exp.to_identifier(new))
            projections.append(projection)
        else:  # wrap the node itself, so the scope's cached columns stay the tree's columns
            projections.append(exp.alias_(projection, new, copy=False))
    query.set("expressions", projections)
    return renames


def _canonicalise(tree: exp.Expression) -> exp.Expression:
    """Rename CTEs, aliases and projections by position, so that names chosen by the author do not count;
    then put equivalent forms and commutable operands in one spelling and order."""
    tree = _rewrite_equivalents(tree)
    scopes = list(traverse_scope(tree))
    cte_names = {}
    for index, cte in enumerate(tree.find_all(exp.CTE)):
        cte_names[cte.alias_or_name.lower()] = f"_c{index}"
    # Outputs of CTEs and subqueries, renamed where they are defined and where they are read.
    outputs: dict[int, dict[str, str]] = {}
    for index, scope in enumerate(scopes):
        if scope.is_cte or scope.is_derived_table:
            outputs[id(scope.expression)] = _rename_projections(scope.expression, f"_p{index}_")
    counter = 0
    for scope in scopes:
        renames = {}
        for alias, (node, source) in scope.selected_sources.items():
            new = f"_t{counter}"
            counter += 1
            renames[alias] = new
            if isinstance(source, Scope):
                projection_names = outputs.get(id(source.expression), {})
                for column in scope.columns:
                    if column.table == alias and column.name.lower() in projection_names:
                        column.set("this", exp.to_identifier(projection_names[column.name.lower()]))
                if isinstance(node, exp.Table) and node.name.lower() in cte_names:
                    node.set("this", exp.to_identifier(cte_names[node.name.lower()]))
            if isinstance(node, (exp.Table, exp.Subquery)):
                old_alias = node.args.get("alias")
                columns = old_alias.args.get("columns") if isinstance(old_alias, exp.TableAlias) else None
                node.set("alias", exp.TableAlias(this=exp.to_identifier(new), columns=columns))
        for column in scope.columns:
            if column.table in renames:
                column.set("table", exp.to_identifier(renames[column.table]))
    for cte in tree.find_all(exp.CTE):
        old = cte.alias_or_name.lower()
        if old in cte_names:
            cte.set("alias", exp.TableAlias(this=exp.to_identifier(cte_names[old])))
    # The outermost query's output names are the metric's own labels: position is what counts.
    outer = _rename_projections(tree, "_o")
    for order in tree.find_all(exp.Order):
        for column in order.find_all(exp.Column):
            if not column.table and column.name.lower() in outer:
                column.set("this", exp.to_identifier(outer[column.name.lower()]))
    for identifier in tree.find_all(exp.Identifier):
        identifier.set("this", identifier.name.lower())
        identifier.set("quoted", False)
    # Only now that names no longer depend on the author can operands be put in a canonical order.
    return _order_operands(tree)


# ---------------------------------------------------------------- normalisation
#
# Two ways of writing the same condition or count must fingerprint (and sign) the same, and two
# different ones must not. Every rewrite here keeps the meaning exactly, with one stated exception:
# sum(1) is read as count(*), though over zero rows sum(1) is NULL where count(*) is 0 (docs/metrics.md).
# Stored definitions keep the fingerprint and signature they were saved with: a change here ships with a
# data migration calling `metrics_refingerprint` (as metrics/0002 does), or old duplicates go unseen.

# `a op b` is `b mirror(op) a`.
_MIRRORED = {exp.LT: exp.GT, exp.LTE: exp.GTE, exp.GT: exp.LT, exp.GTE: exp.LTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
# Where a condition stands on its own, so `x >= a AND x <= b` needs no parentheses.
_CONDITION_PARENTS = (exp.Where, exp.Having, exp.Qualify, exp.Join, exp.If, exp.Paren, exp.And, exp.Or)


def _rewrite_equivalents(tree: exp.Expression) -> exp.Expression:
    """One spelling for forms that compute the same: `x BETWEEN a AND b` is `x >= a AND x <= b`;
    count(1), count('x'), count(true) and sum(1) are count(*). Names are not touched, so this may run
    before the scopes are walked; a BETWEEN SYMMETRIC and count(DISTINCT 1) keep their own meaning."""
    for node in reversed(list(tree.find_all(exp.Between, exp.Count, exp.Sum, bfs=False))):
        if isinstance(node, exp.Between):
            if node.args.get("symmetric"):
                continue
            subject = node.this
            both = exp.And(this=exp.GTE(this=subject.copy(), expression=node.args["low"]),
                           expression=exp.LTE(this=subject, expression=node.args["high"]))
            replacement = both if isinstance(node.parent, _CONDITION_PARENTS) else exp.Paren(this=both)
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
        elif isinstance(node, exp.Count):
            # Any value that is never NULL counts every row (count(false) too); NULL, a column or DISTINCT do not.
            if isinstance(node.this, (exp.Boolean, exp.Literal)) and not node.expressions:
                node.set("this", exp.Star())
        elif isinstance(node, exp.Sum) and isinstance(node.this, exp.Literal) and not node.this.is_string \
                and node.this.name.strip() == "1":
            counted = exp.Count(this=exp.Star(), big_int=True)
            if node is tree:
                tree = counted
            else:
                node.replace(counted)
    return tree


def _refers_to_data(expression: exp.Expression) -> bool:
    """True when the expression reads a column (a Var stands for one in a rendered signature)."""
    return any(isinstance(n, (exp.Column, exp.Var)) for n in expression.walk())


def _operand_key(expression: exp.Expression) -> tuple[bool, str]:
    # Columns before constants (`order_total >= 20`, never `20 <= order_total`), then by text.
    return (not _refers_to_data(expression), expression.sql(comments=False, normalize_functions="lower"))


def _unwrapped(expression: exp.Expression) -> exp.Expression:
    while isinstance(expression, exp.Paren):
        expression = expression.this
    return expression


def _chain(node: exp.Expression, kind: type) -> list[exp.Expression]:
    """The operands of a chain of ANDs (or ORs), through parentheses: a AND (b AND c) is a, b, c."""
    inner = _unwrapped(node)
    if isinstance(inner, kind):
        return _chain(inner.this, kind) + _chain(inner.expression, kind)
    return [inner]


def _order_operands(tree: exp.Expression) -> exp.Expression:
    """Operands whose order does not count, in one order: both sides of a comparison (mirroring the
    operator), an IN list (repeats dropped), the operands of a chain of ANDs or of ORs. Children come
    before their parents, so each key is taken of an operand already in its own order. Returns the root
    (a new node when the root itself was rewritten)."""
    for node in reversed(list(tree.find_all(exp.And, exp.Or, exp.In, *_MIRRORED, bfs=False))):
        replacement = None
        if isinstance(node, exp.Connector):
            kind = type(node)
            parent = node.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if isinstance(parent, kind):
                continue  # a link inside a chain: its root orders the whole chain
            operands = []
            for operand in _chain(node, kind):
                # Inside AND only an OR needs parentheses, inside OR an AND keeps them for clarity.
                operands.append(exp.Paren(this=operand) if isinstance(operand, exp.Connector) else operand)
            operands.sort(key=_operand_key)
            replacement = operands[0]
            for operand in operands[1:]:
                replacement = kind(this=replacement, expression=operand)
        elif isinstance(node, exp.In):
            if node.args.get("query") is None and node.expressions and not node.args.get("unnest") and not node.args.get("field"):
                unique = {_operand_key(e): e for e in node.expressions}
                node.set("expressions", [unique[key] for key in sorted(unique)])
        else:
            left, right = node.left, node.right
            if _operand_key(left) > _operand_key(right):
                replacement = _MIRRORED[type(node)](this=right, expression=left)
        if replacement is not None:
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree


def sql_fingerprint(tree: exp.Expression, dialect: str) -> tuple[str, str]:
    try:
        canonical = _canonicalise(tree).sql(comments=False, normalize_functions="lower")
    except (SqlglotError, RecursionError, ValueError, KeyError, AttributeError, TypeError):
        canonical = tree.sql(comments=False, normalize_functions="lower")
    return digest(canonical), canonical


# ---------------------------------------------------------------- signature


def _conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    if condition is None:
        return []
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    return [condition]


def signature_parts(qualified: exp.Expression) -> dict:
    """Aggregates, filters, joins, grouping and tables, with columns traced to base table columns.
    Equivalent forms are rewritten in place first (BETWEEN as two filters, count(1) as count(*))."""
    qualified = _rewrite_equivalents(qualified)
    scopes = list(traverse_scope(qualified))
    scope_of = {id(s.expression): s for s in scopes}

    def base(scope: Scope, column: exp.Column, depth: int = 0) -> str:
        source = scope.sources.get(column.table) if column.table else None
        if isinstance(source, exp.Table):
            return f"«{source.db}.{source.name}.{column.name}»".lower()
        if isinstance(source, Scope) and depth < 8:
            inner = source.expression
            selects = inner.selects if isinstance(inner, exp.Query) else []
            for projection in selects:
                if projection.alias_or_name.lower() == column.name.lower():
                    expression = projection.this if isinstance(projection, exp.Alias) else projection
                    return render(source, expression, depth + 1)
        return f"«{column.name.lower()}»"

    def render(scope: Scope, expression: exp.Expression, depth: int = 0) -> str:
        if isinstance(expression, exp.Column) and not isinstance(expression.this, exp.Star):
            return base(scope, expression, depth)
        copy = expression.copy()
        originals = list(expression.find_all(exp.Column))
        for original, replica in zip(originals, list(copy.find_all(exp.Column))):
            if isinstance(original.this, exp.Star):
                continue
            replica.replace(exp.var(base(scope, original, depth)))
        for node in list(copy.find_all(exp.Alias)):
            node.replace(node.this)
        # With columns traced, operand order no longer depends on the author's aliases.
        return _order_operands(copy).sql(comments=False, normalize_functions="lower")

    aggregates, filters, joins, groups, tables = set(), set(), set(), set(), set()
    for scope in scopes:
        expression = scope.expression
        if not isinstance(expression, exp.Select):
            continue
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                tables.add(f"{source.db}.{source.name}".lower())
        for agg in expression.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.AggFunc) is None and _in_scope(agg, expression, scope_of):
                aggregates.add(render(scope, agg))
        for clause in ("where", "having"):
            node = expression.args.get(clause)
            if node is not None:
                filters.update(render(scope, c) for c in _conjuncts(node.this))
        for join in expression.args.get("joins") or []:
            on = join.args.get("on")
            if on is not None:
                for condition in _conjuncts(on):
                    rendered = render(scope, condition)
                    if isinstance(condition, exp.EQ):  # a = b is b = a
                        rendered = " = ".join(sorted(render(scope, side) for side in (condition.left, condition.right)))
                    joins.add(rendered)
        group = expression.args.get("group")
        if group is not None:
            groups.update(render(scope, g) for g in group.expressions)
    return {
        "aggregates": sorted(aggregates), "filters": sorted(filters), "joins": sorted(joins),
        "groups": sorted(groups), "tables": sorted(tables),
    }


def _in_scope(node: exp.Expression, select: exp.Select, scope_of: dict) -> bool:
    """True when node belongs to this SELECT, not to a subquery nested in it."""
    parent = node.parent
    while parent is not None and parent is not select:
        if id(parent) in scope_of:
            return False
        parent = parent.parent
    return True
