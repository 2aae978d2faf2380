"""Lineage edges from the views' SQL, refreshed after a crawl of a source that changed a dataset."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import sqlglot

from catalog.core.bulk import insert_rows
from catalog.core.sqlnames import dialect_for
from catalog.core.sqlnames import TableRef
from catalog.inventory.models import Column, Dataset
from catalog.inventory.services import build_sql_of_source
from catalog.lineage import keys
from catalog.lineage.columns import ColumnLineageError, view_column_lineage
from catalog.lineage.models import ColumnLineageEdge, ColumnLineageState, LineageEdge
from catalog.lineage.sql import LineageParseError, case_sensitive, default_schema, fallback_schemas, parse_view, table_qualified, view_upstreams
from catalog.sources.models import Source

# Prefix of the warning a view gets when its SQL cannot be read; replaced on every refresh.
PARSE_WARNING = "Lineage: the view's SQL could not be parsed"
# Prefix of the warning a view gets when its SQL parses but its columns cannot be resolved: it keeps its
# table edges, and a change to any column of what it reads counts as reaching it.
TABLE_LEVEL_WARNING = "Lineage: table level only"


@dataclass
class LineageResult:
    views: int = 0
    edges: int = 0
    unparsed: int = 0
    columns_derived: int = 0  # views whose column lineage was derived again (SQL or an input's schema moved)
    table_level: int = 0  # of those, views left at table level
    column_edges: int = 0  # column edges written or removed



# What each view's SQL was found to read, by a digest of the SQL and everything else view_upstreams is
# given. Parsing is most of a refresh (milliseconds a view with sqlglot); a worker that crawls a source
# again parses only the views whose SQL it has not seen.
_PARSED: OrderedDict[tuple, tuple | str] = OrderedDict()  # refs, or why the SQL could not be read
_PARSED_MAX = 20_000  # a few hundred bytes each
_PARSED_LOCK = threading.Lock()


def _upstreams(definition: str, dialect: str | None, schema: str, default_catalog: str):
    key = (hashlib.blake2b(definition.encode(), digest_size=16).digest(), dialect, schema, default_catalog, keys.LINEAGE_VERSION)
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None:
            _PARSED.move_to_end(key)
    if found is None:
        try:
            found = view_upstreams(definition, dialect, schema, default_catalog)
        except LineageParseError as exc:
            found = str(exc)  # the message, not the exception: a raised one keeps the frames it passed
        with _PARSED_LOCK:
            _PARSED[key] = found
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
    if isinstance(found, str):
        raise LineageParseError(found)
    return found


def lineage_forget_parses() -> None:
    """Parse every view again from now on (tests that count parses)."""
    with _PARSED_LOCK:
        _PARSED.clear()
    parse_view.cache_clear()
    table_qualified.cache_clear()


def lineage_refresh(source, *, columns: bool = True) -> LineageResult:
    """Re-derive the source's edges from its present views. Writes only what changed.

    Runs inside the crawl's transaction. A view whose SQL does not parse keeps no
    edges and gets a warning on its dataset; the others are unaffected.
    """
    result = LineageResult()
    dialect = dialect_for(source.engine)
    default_catalog = keys.default_catalog(source)
    present = Dataset.objects.filter(source=source, removed_at__isnull=True)
    # Every present dataset's name, to resolve references; definitions and warnings of the views only
    # (most datasets are tables: their warnings need not be read and decoded on every crawl).
    exact: dict[tuple[str, str], int] = {}
    fingerprints: dict[int, str] = {}
    for pk, schema, name, fingerprint in present.values_list("id", "schema_name", "name", "fingerprint"):
        exact[(schema, name)] = pk
        fingerprints[pk] = fingerprint
    folded: dict[tuple[str, str], int] = {}
    if not case_sensitive(source.engine):
        for (schema, name), pk in exact.items():
            folded.setdefault((schema.lower(), name.lower()), pk)
    fallbacks = fallback_schemas(source.engine)
    spelled = {pk: f"{schema}.{name}" for (schema, name), pk in exact.items()}

    def find(schema: str, name: str) -> int | None:
        return exact.get((schema, name)) or folded.get((schema.lower(), name.lower()))
    views = list(present.exclude(definition="").values_list("id", "schema_name", "name", "definition", "warnings"))
    # Where each view's SQL binds the names it leaves unqualified: (default schema, default catalog).
    binding = {pk: (default_schema(source.engine, schema), default_catalog) for pk, schema, *_ in views}
    # Datasets the warehouse keeps no SQL for (a dbt model built as a table) with the SQL a tool builds them
    # with: derived as views are, from that SQL, its names bound in the dataset's own schema and the tool's
    # database. Without SQL (a dbt manifest from `dbt parse`): table edges to what the tool says it reads.
    builds = build_sql_of_source(source.pk)
    no_sql: dict[int, str] = {}
    if builds:
        for pk, schema, name, warnings in present.filter(id__in=list(builds), definition="").values_list(
                "id", "schema_name", "name", "warnings"):
            build = builds[pk]
            views.append((pk, schema, name, build.sql, warnings))
            binding[pk] = (schema, default_catalog or build.database)
            if not build.sql.strip():
                no_sql[pk] = (f"the {build.get_origin_display()} manifest has no compiled SQL for {build.origin_id} (it comes from "
                              f"`dbt parse`); import the target/ of `dbt compile` or `dbt build` for its columns")

    wanted: dict[tuple[int, str], int | None] = {}
    parsed: dict[int, list[tuple[TableRef, int | None, str]]] = {}  # view -> each ref, the dataset it resolved to, its name
    parse_errors: dict[int, str] = {}
    for pk, schema, name, definition, warnings in views:
        result.views += 1
        try:
            if pk in no_sql:
                refs = tuple(TableRef("", read_schema, read_name) for read_schema, read_name in builds[pk].reads or ())
            else:
                refs = _upstreams(definition, dialect, *binding[pk])
        except LineageParseError as exc:
            result.unparsed += 1
            parse_errors[pk] = str(exc)
            refs = ()
        parsed[pk] = []
        for ref in refs:
            if ref.catalog:
                upstream_id, shown = None, ref.qualified_name
            else:
                upstream_id = find(ref.schema, ref.name)
                if upstream_id is None and ref.implicit_schema:
                    for schema_name in fallbacks:  # where the engine looks next for a name the SQL left unqualified
                        upstream_id = find(schema_name, ref.name)
                        if upstream_id is not None:
                            break
                # A dataset found is named as the catalog spells it (a case-insensitive engine's SQL may not).
                shown = spelled[upstream_id] if upstream_id is not None else ref.qualified_name
            if upstream_id == pk:
                continue  # a view never reads itself; a same-named table elsewhere is not resolvable here
            wanted[(pk, shown)] = upstream_id
            parsed[pk].append((ref, upstream_id, shown))

    # columns=False: table edges only, as before column lineage (bench/impact.py compares the two).
    column_reasons = columns_refresh(source, dialect, binding, views, parsed, parse_errors, fingerprints, result,
                                     no_sql=no_sql) if columns else {}
    warning_updates: list[Dataset] = []
    for pk, _schema, _name, _definition, warnings in views:
        kept = [w for w in (warnings or []) if not w.startswith(PARSE_WARNING)]
        if pk in parse_errors:
            kept.append(f"{PARSE_WARNING}: {parse_errors[pk]}")
        if pk in column_reasons:  # derived again: its column warning is what this derivation found
            kept = [w for w in kept if not w.startswith(TABLE_LEVEL_WARNING)]
            if column_reasons[pk] and pk not in parse_errors:
                kept.append(f"{TABLE_LEVEL_WARNING}: {column_reasons[pk]}")
        if kept != list(warnings or []):
            warning_updates.append(Dataset(id=pk, warnings=kept))

    stored = {(d, n): (edge_id, u) for edge_id, d, n, u in
              LineageEdge.objects.filter(source=source).values_list("id", "downstream_id", "upstream_name", "upstream_id")}
    stale = [edge_id for key, (edge_id, _) in stored.items() if key not in wanted]
    moved = [LineageEdge(id=stored[key][0], upstream_id=u) for key, u in wanted.items() if key in stored and stored[key][1] != u]
    new = [LineageEdge(source=source, downstream_id=d, upstream_name=n, upstream_id=u) for (d, n), u in wanted.items() if (d, n) not in stored]
    if stale:
        LineageEdge.objects.filter(id__in=stale).delete()
    if moved:
        LineageEdge.objects.bulk_update(moved, ["upstream"], batch_size=1000)
    if new:
        LineageEdge.objects.bulk_create(new, batch_size=1000)
    if warning_updates:
        Dataset.objects.bulk_update(warning_updates, ["warnings"], batch_size=1000)
    result.edges = len(wanted)
    return result


def _chunks(ids, size: int = 900):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def columns_refresh(source, dialect, binding, views, parsed, parse_errors, fingerprints, result: LineageResult, *,
                    no_sql=None) -> dict[int, str]:
    """Column edges of the views whose SQL or inputs moved since their column lineage was last derived.

    A view's digest covers its SQL, what each name it reads resolved to and that dataset's schema
    fingerprint: an unchanged view over unchanged inputs is not parsed again. Returns, for each view
    derived, why it stays at table level ("" when its columns resolved). A view at table level keeps its
    table edges and has no column edges. `binding`: each view's default schema and catalog; `no_sql`: the
    datasets built by a tool that gave no SQL, and why (they stay at table level).
    """
    no_sql = no_sql or {}
    fold = not case_sensitive(source.engine)
    digests: dict[int, str] = {}
    for pk, schema, _name, definition, _warnings in views:
        digest = hashlib.blake2b(digest_size=20)
        view_schema, view_catalog = binding[pk]
        digest.update(f"{keys.COLUMN_LINEAGE_VERSION}|{sqlglot.__version__}|{dialect}|{view_schema}|{view_catalog}|".encode())
        digest.update(definition.encode() if pk not in no_sql else f"no SQL: {no_sql[pk]}".encode())
        for ref, upstream_id, shown in parsed[pk]:
            digest.update(f"|{ref.catalog}.{ref.schema}.{ref.name}={shown}:{upstream_id}:{fingerprints.get(upstream_id, '')}".encode())
        digests[pk] = digest.hexdigest()
    stored = dict(ColumnLineageState.objects.filter(source=source).values_list("dataset_id", "digest"))
    gone = [pk for pk in stored if pk not in digests]  # views removed, or no longer views
    for chunk in _chunks(gone):
        result.column_edges += ColumnLineageEdge.objects.filter(downstream_id__in=chunk).delete()[0]
        ColumnLineageState.objects.filter(dataset_id__in=chunk).delete()
    due = [view for view in views if stored.get(view[0]) != digests[view[0]]]
    if not due:
        return {}

    wanted_ids = {pk for pk, *_ in due} | {u for pk, *_ in due for _, u, _ in parsed[pk] if u is not None}
    columns: dict[int, list[str]] = {}
    for chunk in _chunks(wanted_ids):
        for dataset_id, name in Column.objects.filter(dataset_id__in=chunk).order_by("dataset_id", "position").values_list(
                "dataset_id", "name"):
            columns.setdefault(dataset_id, []).append(name)
    spellings: dict[int, dict[str, str]] = {}

    def spelled(dataset_id: int | None, column: str) -> str:
        """A column as the catalog spells it (a case-insensitive engine's SQL may not)."""
        if dataset_id is None:
            return column
        names = spellings.get(dataset_id)
        if names is None:
            names = spellings[dataset_id] = {}
            for name in reversed(columns.get(dataset_id, [])):
                names[name.lower()] = name
            for name in columns.get(dataset_id, []):
                names[name] = name
        return names.get(column) or (names.get(column.lower(), column) if fold else column)

    reasons: dict[int, str] = {}
    # Views whose SQL no longer resolves keep the column edges they had (what they read when it last did):
    # a column they read that was just dropped is then still named, and nothing known is lost.
    kept_views: set[int] = set()
    wanted: dict[tuple[int, str, str, str], int | None] = {}
    for pk, schema, _name, definition, _warnings in due:
        result.columns_derived += 1
        if pk in parse_errors or pk in no_sql:
            reasons[pk] = parse_errors.get(pk) or no_sql[pk]
            result.table_level += pk in no_sql
            kept_views.add(pk)
            continue
        by_key = {}
        inputs = {}
        for ref, upstream_id, shown in parsed[pk]:
            key = (ref.catalog, ref.schema, ref.name)
            by_key[key] = (upstream_id, shown)
            if upstream_id is not None and upstream_id in columns:
                inputs[key] = tuple(columns[upstream_id])
        folded_keys = {tuple(part.lower() for part in key): value for key, value in by_key.items()}
        try:
            found = view_column_lineage(definition, dialect, *binding[pk], inputs, normalize=fold)
        except ColumnLineageError as exc:
            reasons[pk] = str(exc)
            result.table_level += 1
            kept_views.add(pk)
            continue
        reasons[pk] = ""
        fed = set()
        for output, sources in found.outputs.items():
            for key, column in sources:
                upstream = by_key.get(key) or folded_keys.get(tuple(part.lower() for part in key))
                if upstream is None:
                    continue
                fed.add((key, column))
                wanted[(pk, spelled(pk, output), upstream[1], spelled(upstream[0], column))] = upstream[0]
        for key, column in found.reads - fed:
            upstream = by_key.get(key) or folded_keys.get(tuple(part.lower() for part in key))
            if upstream is not None:
                wanted[(pk, "", upstream[1], spelled(upstream[0], column))] = upstream[0]

    due_ids = [pk for pk, *_ in due]
    existing: dict[tuple[int, str, str, str], tuple[int, int | None]] = {}
    for chunk in _chunks(due_ids):
        for edge_id, d, dc, n, uc, u in ColumnLineageEdge.objects.filter(downstream_id__in=chunk).values_list(
                "id", "downstream_id", "downstream_column", "upstream_name", "upstream_column", "upstream_id"):
            existing[(d, dc, n, uc)] = (edge_id, u)
    stale = [edge_id for key, (edge_id, _) in existing.items() if key not in wanted and key[0] not in kept_views]
    moved = [ColumnLineageEdge(id=existing[key][0], upstream_id=u) for key, u in wanted.items() if key in existing and existing[key][1] != u]
    new = [(source.pk, d, dc, n, uc, u) for (d, dc, n, uc), u in wanted.items() if (d, dc, n, uc) not in existing]
    for chunk in _chunks(stale):
        ColumnLineageEdge.objects.filter(id__in=chunk).delete()
    if moved:
        ColumnLineageEdge.objects.bulk_update(moved, ["upstream"], batch_size=1000)
    if new:  # COPY on PostgreSQL: a first crawl writes several edges a view
        insert_rows(ColumnLineageEdge, ["source_id", "downstream_id", "downstream_column", "upstream_name", "upstream_column",
                                        "upstream_id"], new)
    result.column_edges += len(stale) + len(moved) + len(new)

    states = [ColumnLineageState(dataset_id=pk, source=source, digest=digests[pk], table_level_reason=reasons[pk]) for pk in due_ids]
    known = [state for state in states if state.dataset_id in stored]
    if known:
        ColumnLineageState.objects.bulk_update(known, ["digest", "table_level_reason"], batch_size=1000)
    fresh = [state for state in states if state.dataset_id not in stored]
    if fresh:
        ColumnLineageState.objects.bulk_create(fresh, batch_size=1000)
    return reasons


def lineage_after_build_sql(sender=None, source_ids=(), **kwargs) -> None:
    """A tool's import wrote or removed build SQL (catalog/inventory/services/build_sql.py): the edges of
    those sources are derived again now, in the import's transaction."""
    for source in Source.objects.filter(id__in=list(source_ids)):
        lineage_refresh(source)
