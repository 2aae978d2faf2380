"""Lineage edges from the views' SQL, refreshed after a crawl of a source that changed a dataset."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import sqlglot

from catalog.core.sourceurl import parse_source_url
from catalog.core.sqlnames import dialect_for
from catalog.inventory.models import Dataset
from catalog.lineage.models import LineageEdge
from catalog.lineage.sql import LineageParseError, case_sensitive, default_schema, fallback_schemas, view_upstreams

# Prefix of the warning a view gets when its SQL cannot be read; replaced on every refresh.
PARSE_WARNING = "Lineage: the view's SQL could not be parsed"


@dataclass
class LineageResult:
    views: int = 0
    edges: int = 0
    unparsed: int = 0


# Bump when the way edges are derived changes, so every source derives them again on its next crawl.
LINEAGE_VERSION = 2  # 2: unqualified names bound as each engine binds them; exact case where the engine keeps it


def lineage_key(source) -> str:
    """Everything besides the datasets that a source's edges depend on: when it and the datasets are
    unchanged since the last crawl, so are the edges, and the views need not be parsed again."""
    return f"{LINEAGE_VERSION}:{sqlglot.__version__}:{source.engine}:{_default_catalog(source)}"


# What each view's SQL was found to read, by a digest of the SQL and everything else view_upstreams is
# given. Parsing is most of a refresh (milliseconds a view with sqlglot); a worker that crawls a source
# again parses only the views whose SQL it has not seen.
_PARSED: OrderedDict[tuple, tuple | str] = OrderedDict()  # refs, or why the SQL could not be read
_PARSED_MAX = 20_000  # a few hundred bytes each
_PARSED_LOCK = threading.Lock()


def _upstreams(definition: str, dialect: str | None, schema: str, default_catalog: str):
    key = (hashlib.blake2b(definition.encode(), digest_size=16).digest(), dialect, schema, default_catalog, LINEAGE_VERSION)
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


def lineage_refresh(source) -> LineageResult:
    """Re-derive the source's edges from its present views. Writes only what changed.

    Runs inside the crawl's transaction. A view whose SQL does not parse keeps no
    edges and gets a warning on its dataset; the others are unaffected.
    """
    result = LineageResult()
    dialect = dialect_for(source.engine)
    default_catalog = _default_catalog(source)
    present = Dataset.objects.filter(source=source, removed_at__isnull=True)
    # Every present dataset's name, to resolve references; definitions and warnings of the views only
    # (most datasets are tables: their warnings need not be read and decoded on every crawl).
    exact = {(schema, name): pk for pk, schema, name in present.values_list("id", "schema_name", "name")}
    folded: dict[tuple[str, str], int] = {}
    if not case_sensitive(source.engine):
        for (schema, name), pk in exact.items():
            folded.setdefault((schema.lower(), name.lower()), pk)
    fallbacks = fallback_schemas(source.engine)
    spelled = {pk: f"{schema}.{name}" for (schema, name), pk in exact.items()}

    def find(schema: str, name: str) -> int | None:
        return exact.get((schema, name)) or folded.get((schema.lower(), name.lower()))
    views = present.exclude(definition="").values_list("id", "schema_name", "name", "definition", "warnings")

    wanted: dict[tuple[int, str], int | None] = {}
    warning_updates: list[Dataset] = []
    for pk, schema, name, definition, warnings in views:
        result.views += 1
        kept = [w for w in (warnings or []) if not w.startswith(PARSE_WARNING)]
        try:
            refs = _upstreams(definition, dialect, default_schema(source.engine, schema), default_catalog)
        except LineageParseError as exc:
            result.unparsed += 1
            kept.append(f"{PARSE_WARNING}: {exc}")
            refs = ()
        if kept != list(warnings or []):
            warning_updates.append(Dataset(id=pk, warnings=kept))
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


def _default_catalog(source) -> str:
    """The database (Snowflake) or project (BigQuery) a source's URL names: names in it are local."""
    if source.engine not in ("snowflake", "bigquery"):
        return ""
    url = parse_source_url(source.url_display)
    if source.engine == "bigquery":
        return url.host
    return url.database.split("/")[0]
