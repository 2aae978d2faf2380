"""Writing documents into the index tables: the documents themselves, their aliases, and the distinct names.

Each app says what its documents hold (its search.py, a catalog.core.searchindex.SearchIndex); this
module clips them to the columns, keys their names, and keeps SearchName (one row per distinct name)
in step with the documents and aliases that use each name.
"""

from __future__ import annotations

from typing import Iterable

from django.db.models import Exists, OuterRef, Q

from catalog.core.bulk import insert_rows
from catalog.core.searchindex import Document
from catalog.search.models import SearchAlias, SearchDocument, SearchName
from catalog.search.text import name_key, split_words

MAX_BODY = 20_000
DOCUMENT_FIELDS = ("kind", "object_id", "dataset_id", "metric_id", "owner_identity_id", "tag_id", "name", "name_key", "path",
                   "title", "subtitle", "url", "keywords", "context", "body", "extra", "source_name", "schema_name", "owners",
                   "tags", "status", "broken", "weight", "stamp", "related")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


class Row:
    """One document as the tuple DOCUMENT_FIELDS names, plus the aliases (synonyms) it brings."""

    __slots__ = ("values", "aliases")

    def __init__(self, document: Document, kind: str):
        d = document
        self.values = (
            d.kind or kind, d.object_id, d.dataset_id, d.metric_id, d.owner_identity_id, d.tag_id, _clip(d.name, 500),
            _clip(name_key(d.name), 500), _clip(d.path, 1200), _clip(d.title, 1000), _clip(d.subtitle, 1000), d.url,
            d.keywords, d.context, _clip(d.body, MAX_BODY), d.extra, _clip(d.source_name, 100), _clip(d.schema_name, 255),
            _clip(d.owners, 1000), _clip(d.tags, 1000), d.status, bool(d.broken), round(d.weight, 3), d.stamp,
            list(d.related or []))
        self.aliases = tuple(d.aliases)

    @property
    def object_id(self) -> int:
        return self.values[1]

    @property
    def key(self) -> str:
        return self.values[7]

    @property
    def name(self) -> str:
        return self.values[6]

    @property
    def related(self) -> list[int]:
        return self.values[-1]


def rows_of(documents: Iterable[Document], kind: str) -> list[Row]:
    return [Row(document, kind) for document in documents]


class SeenNames:
    """Keys already written during a rebuild, so each batch inserts only new names. Bounded: forgets when full."""

    def __init__(self, limit: int = 500_000):
        self.limit, self.keys = limit, set()

    def new(self, names: dict[str, str]) -> dict[str, str]:
        fresh = {k: v for k, v in names.items() if k and k not in self.keys}
        if len(self.keys) + len(fresh) > self.limit:
            self.keys.clear()
        self.keys.update(fresh)
        return fresh


def insert(rows: list[Row], *, seen: SeenNames | None = None) -> None:
    """Insert documents, their aliases and any name not yet known (during a rebuild, `seen` skips names written by an
    earlier batch without asking the database)."""
    if not rows:
        return
    insert_rows(SearchDocument, DOCUMENT_FIELDS, (r.values for r in rows))
    aliased = [r for r in rows if r.aliases]
    if aliased:
        ids = dict(SearchDocument.objects.filter(
            kind=SearchDocument.METRIC, object_id__in=[r.object_id for r in aliased]).values_list("object_id", "id"))
        SearchAlias.objects.bulk_create([SearchAlias(document_id=ids[r.object_id], key=name_key(a), name=a)
                                         for r in aliased for a in r.aliases if name_key(a)])
    names = {r.key: r.name for r in rows} | {name_key(a): a for r in aliased for a in r.aliases}
    _add_names(seen.new(names) if seen is not None else names)


def _add_names(names: dict[str, str]) -> None:
    """SearchName rows for these keys (key -> a name spelled that way), where missing: an insert that skips conflicts.
    (Two concurrent writes, one dropping the last document of a name while the other adds the first new one, can
    leave that name out until `reindex`; rare enough not to lock for.)"""
    names = {k: v for k, v in names.items() if k}
    rows = [SearchName(key=k, words=" ".join(split_words(v))[:1000]) for k, v in names.items()]
    for start in range(0, len(rows), 5000):
        SearchName.objects.bulk_create(rows[start:start + 5000], ignore_conflicts=True)


def _drop_unused_names(keys: Iterable[str]) -> None:
    keys = list({k for k in keys if k})
    for start in range(0, len(keys), 2000):
        batch = keys[start:start + 2000]
        SearchName.objects.filter(key__in=batch).exclude(
            Exists(SearchDocument.objects.filter(name_key=OuterRef("key")))).exclude(
            Exists(SearchAlias.objects.filter(key=OuterRef("key")))).delete()


def replace(delete_filter: Q, rows: list[Row]) -> None:
    """Swap the documents the filter selects for `rows`; forget names nobody uses any more."""
    old = SearchDocument.objects.filter(delete_filter)
    old_keys = set(old.values_list("name_key", flat=True)) | set(
        SearchAlias.objects.filter(document__in=old).values_list("key", flat=True))
    old.delete()
    insert(rows)
    _drop_unused_names(old_keys - {r.key for r in rows})
