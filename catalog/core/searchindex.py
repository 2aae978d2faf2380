"""How an app declares what search finds of it: its kinds of document, and what makes its datasets popular.

As NetBox does it (netbox/netbox/search/__init__.py, dcim/search.py): each app that has
something to find writes a ``search.py`` declaring a SearchIndex per kind of document,

    @register_search
    class OwnerIndex(SearchIndex):
        kind = "owner"
        model = OwnerIdentity
        prior = 1.0

        def documents(self, ids, **options):
            for owner in self.model.objects.filter(pk__in=ids):
                yield Document(owner.pk, name=owner.name, title=owner.name, url=..., keywords=name_words(owner.name))

and the search app, when it is ready, imports every app's ``search.py``; it stores, keeps fresh and
ranks the documents without knowing any other app's models. This module sits in core, below every
app, so that an app of any layer (inventory as much as metrics) can declare documents without
importing the search app above it.

A dataset's popularity (how many watch it, how many definitions and views read it) lifts it in
ranking; the apps that know those numbers say so with ``@dataset_watchers`` and ``@dataset_readers``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable, Iterator

from catalog.core.names import name_key

# Ranking priors a document carries (added to its match score; see catalog.search.engine). Each index says its
# kind's own prior; the status ones are shared by every kind: certified up, deprecated and removed well down.
ACTIVE, REMOVED = "active", "removed"
STATUS_PRIOR = {"certified": 15.0, "draft": 0.0, "deprecated": -40.0, REMOVED: -40.0, ACTIVE: 0.0}
BROKEN_PRIOR = -5.0
MAX_POPULARITY = 6.0


@dataclass
class Document:
    """One search document, as the app that owns the object describes it. The search app clips each field to
    its column and computes the name's key; `aliases` (synonyms) count as the name too."""

    object_id: int
    name: str
    title: str
    url: str
    dataset_id: int | None = None
    metric_id: int | None = None
    owner_identity_id: int | None = None
    tag_id: int | None = None
    path: str = ""  # keys of source, schema, dataset, column, dotted (see dotted())
    subtitle: str = ""
    keywords: str = ""  # full text, weight A: name words, synonyms
    context: str = ""  # B: title, the dataset a column belongs to, the schema
    body: str = ""  # C: descriptions and comments (also the snippet)
    extra: str = ""  # D: column names, tags, owners, types
    source_name: str = ""
    schema_name: str = ""
    owners: str = ""  # facets with several values: bars(values)
    tags: str = ""
    status: str = ACTIVE
    broken: bool = False
    weight: float = 0.0
    stamp: str = ""  # what the object looked like when indexed; a document whose stamp differs is stale
    related: list[int] = field(default_factory=list)  # datasets whose popularity this object adds to
    aliases: tuple[str, ...] = ()
    kind: str = ""  # set by the search app from the index that made it, unless the index makes several kinds


class SearchIndex:
    """One kind of search document. Subclasses set `kind`, `model` and `prior`, and build documents."""

    kind: ClassVar[str] = ""
    model: ClassVar = None
    prior: ClassVar[float] = 0.0
    # Where a full rebuild puts this kind: lower first (the text search's bounded scan meets them sooner).
    rebuild_order: ClassVar[int] = 100
    rebuild_batch: ClassVar[int | None] = 1000  # None: every object in one batch

    def documents(self, ids: list[int], **options) -> Iterator[Document]:
        """The documents of these objects (ids of objects that no longer exist are left out)."""
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        """How many documents a rebuild writes, by kind."""
        return {self.kind: self.model.objects.count()}

    def rebuild_batches(self) -> Iterator[list[int]]:
        """Every object's id, in batches of `rebuild_batch`, in the order a rebuild writes them."""
        if self.rebuild_batch is None:
            yield list(self.model.objects.values_list("pk", flat=True))
            return
        ids = list(self.model.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), self.rebuild_batch):
            yield ids[start:start + self.rebuild_batch]


registry: dict[str, SearchIndex] = {}


def register_search(cls: type[SearchIndex]) -> type[SearchIndex]:
    """Class decorator: documents of cls.kind are built by cls (one instance). A kind is declared once."""
    if cls.kind in registry and type(registry[cls.kind]) is not cls:
        raise ValueError(f"search documents of kind {cls.kind!r} are already declared by {type(registry[cls.kind]).__name__}")
    registry[cls.kind] = cls()
    return cls


def get_index(kind: str) -> SearchIndex:
    return registry[kind]


# ---------------------------------------------------------------- popularity of datasets

# Each: (dataset ids, exclude_definition=<a definition about to be deleted, not to count>) -> (dataset id, count) pairs.
CountFunction = Callable[..., Iterable[tuple[int, int]]]
_watchers: list[CountFunction] = []
_readers: list[CountFunction] = []
# Each: (dataset ids that changed) -> the datasets they read, whose popularity counts them.
_read_by: list[Callable[[list[int]], Iterable[int]]] = []


def dataset_watchers(function: CountFunction) -> CountFunction:
    """Declares how many people watch each of some datasets."""
    _watchers.append(function)
    return function


def dataset_readers(function: CountFunction = None, *, upstream_of: Callable[[list[int]], Iterable[int]] | None = None):
    """Declares how many definitions or views read each of some datasets; `upstream_of` (optional) names the
    datasets some changed datasets read, whose popularity a crawl refreshes."""
    def register(counted: CountFunction) -> CountFunction:
        _readers.append(counted)
        if upstream_of is not None:
            _read_by.append(upstream_of)
        return counted

    return register(function) if function is not None else register


# Each: (dataset ids) -> {id: qualified name of its original} for those found to be copies of another dataset
# (catalog/duplicates). A copy ranks below its original and its document says whose copy it is.
_copies: list[Callable[[list[int]], dict[int, str]]] = []
COPY_PRIOR = -3.0


def dataset_copies(function: Callable[[list[int]], dict[int, str]]):
    """Declares which of some datasets are copies of another, and of which."""
    _copies.append(function)
    return function


def copies_among(ids) -> dict[int, str]:
    ids = list(ids)
    found: dict[int, str] = {}
    for copies in _copies:
        found.update(copies(ids) if ids else {})
    return found


def popularity(watchers: int, uses: int) -> float:
    """Datasets many watch, or many definitions and views read, rank higher; with diminishing returns."""
    return min(MAX_POPULARITY, 1.5 * math.log2(1 + watchers) + 1.5 * math.log2(1 + uses))


def dataset_popularity(ids, *, exclude_definition: int | None = None, copies: dict[int, str] | None = None) -> dict[int, float]:
    """`copies`: copies_among(ids), when the caller has it already."""
    ids = list(ids)
    if not ids:
        return {}
    watchers: dict[int, int] = defaultdict(int)
    for count in _watchers:
        for dataset_id, n in count(ids, exclude_definition=exclude_definition):
            watchers[dataset_id] += n
    used: dict[int, int] = defaultdict(int)
    for count in _readers:
        for dataset_id, n in count(ids, exclude_definition=exclude_definition):
            used[dataset_id] += n
    if copies is None:
        copies = copies_among(ids)
    return {i: popularity(watchers.get(i, 0), used.get(i, 0)) + (COPY_PRIOR if i in copies else 0.0) for i in ids}


def upstream_of(dataset_ids) -> set[int]:
    """The datasets these read (views' upstreams): their popularity counts these."""
    ids = list(dataset_ids)
    return {upstream for read_by in _read_by for upstream in read_by(ids)}


# ---------------------------------------------------------------- spelling documents


def bars(values: Iterable[str]) -> str:
    """A facet with several values, as one LIKE '%|value|%' finds: "|a|b|"."""
    values = [v.replace("|", "/") for v in values if v]
    return f"|{'|'.join(values)}|" if values else ""


def dotted(*parts: str) -> str:
    """A path of names as their keys: source, schema, dataset, column."""
    return ".".join(name_key(p) for p in parts if p)


def listing(label: str, names) -> str:
    """Names as the full-text index reads them (it splits snake_case itself) and as a snippet shows them."""
    names = [n for n in names if n]
    return f"{label}: {', '.join(names)}." if names else ""
