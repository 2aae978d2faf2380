"""Writing the search index: building documents from the catalog, and keeping them fresh.

Every write to the catalog that changes what search should find calls one of the
services here, in its own transaction, for just the objects it changed:

- a crawl: search_index_crawl(source, result), in the crawl's transaction. A big
  change (a first crawl of a large warehouse) is handed to a task on the `index`
  queue instead, so that the crawl does not wait for it;
- a description edit, an owner mapping: search_index_datasets / search_index_owners;
- a metric definition saved, re-imported, certified or deprecated: search_index_metrics;
- a subscription made or dropped: search_refresh_weights (how many watch a dataset).

`python manage.py reindex` (search_rebuild) rebuilds everything, streaming in batches.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from catalog.core.bulk import insert_rows
from catalog.search.models import SearchAlias, SearchDocument, SearchName
from catalog.search.text import name_key, name_words, split_words

logger = logging.getLogger(__name__)

BATCH_DATASETS = 1000
# Pauses (seconds, before jitter) between attempts while SQLite says the database is locked: about 12 s in all,
# then the index task tries again later, backing off (catalog/search/tasks.py).
LOCK_RETRY_DELAYS = (0.2, 0.4, 0.8, 1.6, 3.2, 6.4)
MAX_COLUMN_NAMES = 300  # a dataset's document lists at most this many of its column names
MAX_BODY = 20_000

# The prior each document carries into ranking (added to its match score; see catalog.search.engine).
KIND_PRIOR = {SearchDocument.METRIC: 4.0, SearchDocument.DATASET: 4.0, SearchDocument.OWNER: 1.0, SearchDocument.TAG: 1.0,
              SearchDocument.COLUMN: 0.0}
STATUS_PRIOR = {"certified": 15.0, "draft": 0.0, "deprecated": -40.0, SearchDocument.REMOVED: -40.0, SearchDocument.ACTIVE: 0.0}
BROKEN_PRIOR = -5.0
MAX_POPULARITY = 6.0

DOCUMENT_FIELDS = ("kind", "object_id", "dataset_id", "metric_id", "owner_identity_id", "tag_id", "name", "name_key", "path",
                   "title", "subtitle", "url", "keywords", "context", "body", "extra", "source_name", "schema_name", "owners",
                   "tags", "status", "broken", "weight", "stamp", "related")


def popularity(watchers: int, uses: int) -> float:
    """Datasets many watch, or many definitions and views read, rank higher; with diminishing returns."""
    return min(MAX_POPULARITY, 1.5 * math.log2(1 + watchers) + 1.5 * math.log2(1 + uses))


def _bars(values: Iterable[str]) -> str:
    values = [v.replace("|", "/") for v in values if v]
    return f"|{'|'.join(values)}|" if values else ""


def _dotted(*parts: str) -> str:
    return ".".join(name_key(p) for p in parts if p)


def _listing(label: str, names) -> str:
    """Names as the full-text index reads them (it splits snake_case itself) and as a snippet shows them."""
    names = [n for n in names if n]
    return f"{label}: {', '.join(names)}." if names else ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


@dataclass
class Row:
    """One document, as the tuple DOCUMENT_FIELDS names, plus the aliases (synonyms) it brings."""

    values: tuple
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.values[7]

    @property
    def name(self) -> str:
        return self.values[6]


def _row(kind, object_id, *, name, title, url, dataset_id=None, metric_id=None, owner_identity_id=None, tag_id=None, path="",
         subtitle="", keywords="", context="", body="", extra="", source_name="", schema_name="", owners="", tags="",
         status=SearchDocument.ACTIVE, broken=False, weight=0.0, stamp="", related=None, aliases=()) -> Row:
    return Row((kind, object_id, dataset_id, metric_id, owner_identity_id, tag_id, _clip(name, 500), _clip(name_key(name), 500),
                _clip(path, 1200), _clip(title, 1000), _clip(subtitle, 1000), url, keywords, context, _clip(body, MAX_BODY),
                extra, _clip(source_name, 100), _clip(schema_name, 255), _clip(owners, 1000), _clip(tags, 1000), status,
                bool(broken), round(weight, 3), stamp, list(related or [])), tuple(aliases))


# ---------------------------------------------------------------- datasets and columns


def dataset_stamp():
    """What a dataset's document depends on, as one SQL expression: its schema (fingerprint), owner, presence, description."""
    return Concat(
        F("fingerprint"), Value(":"), Coalesce(Cast("owner_id", CharField()), Value("")), Value(":"),
        Case(When(removed_at__isnull=True, then=Value("p")), default=Value("r"), output_field=CharField()), Value(":"),
        Coalesce(Cast("description_updated_at", CharField()), Value("")),
        output_field=CharField(),
    )


def _dataset_popularity(ids, *, exclude_definition: int | None = None) -> dict[int, float]:
    from catalog.alerts.models import Subscription
    from catalog.lineage.models import LineageEdge
    from catalog.metrics.models import MetricDatasetUse

    ids = list(ids)
    if not ids:
        return {}
    watchers = dict(Subscription.objects.active().filter(dataset_id__in=ids).values_list("dataset_id").annotate(n=Count("id")))
    uses = MetricDatasetUse.objects.filter(dataset_id__in=ids)
    if exclude_definition is not None:
        uses = uses.exclude(definition_id=exclude_definition)
    used = defaultdict(int, uses.values_list("dataset_id").annotate(n=Count("id")))
    for dataset_id, n in LineageEdge.objects.filter(upstream_id__in=ids).values_list("upstream_id").annotate(n=Count("id")):
        used[dataset_id] += n
    return {i: popularity(watchers.get(i, 0), used.get(i, 0)) for i in ids}


DATASET_VALUES = ("id", "name", "schema_name", "kind", "comment", "description", "removed_at", "properties", "source__name",
                  "owner__name", "stamp")


def _dataset_rows(datasets: list[dict], columns: dict[int, list[tuple]], popular: dict[int, float]) -> Iterator[Row]:
    from catalog.inventory.models import Dataset

    kinds = dict(Dataset.KIND_CHOICES)
    for d in datasets:
        removed = d["removed_at"] is not None
        status = SearchDocument.REMOVED if removed else SearchDocument.ACTIVE
        source, schema, name = d["source__name"], d["schema_name"], d["name"]
        owners = _bars([d["owner__name"] or ""])
        labels = (d["properties"] or {}).get("labels") if isinstance(d["properties"], dict) else None
        tags = _bars(f"{k}={v}" for k, v in labels.items()) if isinstance(labels, dict) else ""
        pop = popular.get(d["id"], 0.0)
        cols = columns.get(d["id"], [])
        body = "\n\n".join(t for t in (d["description"], d["comment"]) if t)
        dataset_url = f"/datasets/{d['id']}/"
        yield _row(
            SearchDocument.DATASET, d["id"], dataset_id=d["id"], name=name, title=f"{schema}.{name}",
            subtitle=f"{kinds.get(d['kind'], d['kind'])} in {source}", url=dataset_url, path=_dotted(source, schema, name),
            keywords=name_words(name), context=f"{name_words(schema)} {source}", body=body,
            extra=_listing("Columns", [c[1] for c in cols[:MAX_COLUMN_NAMES]]), source_name=source, schema_name=schema,
            owners=owners, tags=tags, status=status, weight=KIND_PRIOR[SearchDocument.DATASET] + pop + STATUS_PRIOR[status],
            stamp=d["stamp"],
        )
        column_weight = KIND_PRIOR[SearchDocument.COLUMN] + pop / 2 + STATUS_PRIOR[status]
        for column_id, column_name, data_type, comment, description in cols:
            text = "\n\n".join(t for t in (description, comment) if t)
            yield _row(
                SearchDocument.COLUMN, column_id, dataset_id=d["id"], name=column_name, title=f"{name}.{column_name}",
                subtitle=f"{data_type} column of {schema}.{name} in {source}", url=f"{dataset_url}#col-{column_id}",
                path=_dotted(source, schema, name, column_name),
                # A column nobody described has no text to search: its name is matched through SearchName.
                keywords=name_words(column_name) if text else "", context=f"{name_words(name)} {name_words(schema)}" if text else "",
                body=text, extra=data_type if text else "", source_name=source, schema_name=schema, owners=owners, tags=tags,
                status=status, weight=column_weight,
            )


def _columns_of(dataset_ids) -> dict[int, list[tuple]]:
    from catalog.inventory.models import Column

    found: dict[int, list[tuple]] = defaultdict(list)
    rows = Column.objects.filter(dataset_id__in=list(dataset_ids)).order_by("dataset_id", "position").values_list(
        "dataset_id", "id", "name", "data_type", "comment", "description")
    for dataset_id, *rest in rows.iterator(chunk_size=5000):
        found[dataset_id].append(tuple(rest))
    return found


def _datasets_rows_for(ids) -> Iterator[Row]:
    from catalog.inventory.models import Dataset

    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH_DATASETS):
        batch = ids[start:start + BATCH_DATASETS]
        datasets = list(Dataset.objects.filter(pk__in=batch).annotate(stamp=dataset_stamp()).values(*DATASET_VALUES))
        yield from _dataset_rows(datasets, _columns_of(batch), _dataset_popularity(batch))


# ---------------------------------------------------------------- metric definitions, owners, tags


def _metric_rows(ids) -> Iterator[Row]:
    from catalog.metrics.models import MetricDefinition

    definitions = MetricDefinition.objects.filter(pk__in=list(ids)).select_related("source").prefetch_related(
        "owners", "tags", "synonyms", "dataset_uses").annotate(watcher_count=Count("watchers", distinct=True))
    for d in definitions:
        synonyms = [s.name for s in d.synonyms.all()]
        owner_names = [u.get_username() for u in d.owners.all()] + list(d.external_owners or [])
        tag_names = [t.name for t in d.tags.all()]
        uses = [u.dataset_name for u in d.dataset_uses.all()]
        weight = (KIND_PRIOR[SearchDocument.METRIC] + STATUS_PRIOR.get(d.status, 0.0) + min(4.0, 2 * math.log2(1 + d.watcher_count))
                  + (BROKEN_PRIOR if d.broken else 0.0))
        facts = [d.status] + (["broken"] if d.broken else []) + ([d.unit] if d.unit else [])
        yield _row(
            SearchDocument.METRIC, d.pk, metric_id=d.pk, name=d.name, title=d.title or d.name,
            subtitle=f"metric definition {d.name} · " + " · ".join(facts), url=d.get_absolute_url(), path=name_key(d.name),
            keywords=" ".join([name_words(d.name), *(name_words(s) for s in synonyms)]), context=" ".join(split_words(d.title)),
            body=d.description, extra=" ".join(t for t in (_listing("Tags", tag_names), _listing("Owners", owner_names),
                                                            _listing("Reads", uses), _listing("Time", [d.time_dimension])) if t),
            source_name=d.source.name if d.source_id else "", owners=_bars(owner_names), tags=_bars(tag_names), status=d.status,
            broken=d.broken, weight=weight, related=sorted({u.dataset_id for u in d.dataset_uses.all()}), aliases=tuple(synonyms),
        )


def _owner_rows(ids) -> Iterator[Row]:
    from catalog.inventory.models import OwnerIdentity

    identities = OwnerIdentity.objects.filter(pk__in=list(ids)).select_related("source", "user").annotate(
        dataset_total=Count("datasets", filter=Q(datasets__removed_at__isnull=True)))
    for o in identities:
        person = (o.user.get_full_name() or o.user.get_username()) if o.user_id else ""
        about = " ".join(t for t in (person, o.contact_email) if t)
        yield _row(
            SearchDocument.OWNER, o.pk, owner_identity_id=o.pk, name=o.name, title=o.name,
            subtitle=f"owner in {o.source.name} · {o.dataset_total} dataset{'s' if o.dataset_total != 1 else ''}" + (f" · {person}" if person else ""),
            url=f"/datasets/?owner={o.pk}", path=_dotted(o.source.name, o.name), keywords=name_words(o.name),
            context=o.source.name, body=about, source_name=o.source.name, owners=_bars([o.name]),
            weight=KIND_PRIOR[SearchDocument.OWNER] + min(4.0, math.log2(1 + o.dataset_total)),
        )


def _tag_rows(ids, *, exclude_definition: int | None = None) -> Iterator[Row]:
    from catalog.metrics.models import MetricTag

    for t in MetricTag.objects.filter(pk__in=list(ids)).prefetch_related("definitions"):
        names = sorted(d.name for d in t.definitions.all() if d.pk != exclude_definition)
        yield _row(
            SearchDocument.TAG, t.pk, tag_id=t.pk, name=t.name, title=t.name,
            subtitle=f"tag · {len(names)} definition{'s' if len(names) != 1 else ''}", url=f"/metrics/?tag={t.name}",
            path=name_key(t.name), keywords=name_words(t.name), extra=_listing("Definitions", names), tags=_bars([t.name]),
            weight=KIND_PRIOR[SearchDocument.TAG] + min(4.0, math.log2(1 + len(names))),
        )


# ---------------------------------------------------------------- writing


def _insert(rows: list[Row], *, seen: "_SeenNames | None" = None) -> None:
    """Insert documents, their aliases and any name not yet known (during a rebuild, `seen` skips names written by an
    earlier batch without asking the database)."""
    if not rows:
        return
    insert_rows(SearchDocument, DOCUMENT_FIELDS, (r.values for r in rows))
    aliased = [r for r in rows if r.aliases]
    if aliased:
        ids = dict(SearchDocument.objects.filter(
            kind=SearchDocument.METRIC, object_id__in=[r.values[1] for r in aliased]).values_list("object_id", "id"))
        SearchAlias.objects.bulk_create([SearchAlias(document_id=ids[r.values[1]], key=name_key(a), name=a)
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


def _replace(delete_filter: Q, rows: list[Row]) -> None:
    """Swap the documents the filter selects for `rows`; forget names nobody uses any more."""
    old = SearchDocument.objects.filter(delete_filter)
    old_keys = set(old.values_list("name_key", flat=True)) | set(
        SearchAlias.objects.filter(document__in=old).values_list("key", flat=True))
    old.delete()
    _insert(rows)
    _drop_unused_names(old_keys - {r.key for r in rows})


def search_index_datasets(ids) -> int:
    """Rebuild the documents of these datasets and all their columns (removed datasets stay findable, labelled).
    Ids of datasets that no longer exist lose their documents. Returns the number of documents written."""
    ids = sorted(set(ids))
    written = 0
    with transaction.atomic():
        for start in range(0, len(ids), BATCH_DATASETS):
            batch = ids[start:start + BATCH_DATASETS]
            rows = list(_datasets_rows_for(batch))
            _replace(Q(kind__in=[SearchDocument.DATASET, SearchDocument.COLUMN], dataset_id__in=batch), rows)
            written += len(rows)
    return written


def search_index_metrics(ids) -> int:
    """Rebuild these definitions' documents (and their tags'); the datasets they use, before and after, get their weight
    recomputed. A definition that no longer exists loses its document."""
    from catalog.metrics.models import MetricDefinition

    ids = sorted(set(ids))
    if not ids:
        return 0
    with transaction.atomic():
        before = list(SearchDocument.objects.filter(kind=SearchDocument.METRIC, object_id__in=ids).values_list("related", "tags"))
        rows = list(_metric_rows(ids))
        _replace(Q(kind=SearchDocument.METRIC, object_id__in=ids), rows)
        related = {i for r, _ in before for i in r or []} | {i for row in rows for i in row.values[-1]}
        tags = {t for _, bars in before for t in (bars or "").strip("|").split("|") if t}
        tags |= set(MetricDefinition.tags.through.objects.filter(metricdefinition_id__in=ids).values_list("metrictag__name", flat=True))
        search_refresh_weights(related)
        _index_tags_named(tags)
    return len(rows)


def search_forget_metric(definition) -> None:
    """Before a definition is deleted: drop its document, and lower the weight of the datasets it used."""
    with transaction.atomic():
        document = SearchDocument.objects.filter(kind=SearchDocument.METRIC, object_id=definition.pk).first()
        related = list(definition.dataset_uses.values_list("dataset_id", flat=True))
        tags = [t.name for t in definition.tags.all()]
        if document is not None:
            _replace(Q(pk=document.pk), [])
        search_refresh_weights(related, exclude_definition=definition.pk)
        _index_tags_named(tags, exclude_definition=definition.pk)


def _index_tags_named(names, *, exclude_definition: int | None = None) -> None:
    from catalog.metrics.models import MetricTag

    names = [n for n in names if n]
    if not names:
        return
    ids = list(MetricTag.objects.filter(name__in=names).values_list("id", flat=True))
    _replace(Q(kind=SearchDocument.TAG, object_id__in=ids), list(_tag_rows(ids, exclude_definition=exclude_definition)))


def search_index_owners(ids) -> int:
    rows = list(_owner_rows(ids))
    with transaction.atomic():
        _replace(Q(kind=SearchDocument.OWNER, object_id__in=list(ids)), rows)
    return len(rows)


def search_index_tags(ids) -> int:
    rows = list(_tag_rows(ids))
    with transaction.atomic():
        _replace(Q(kind=SearchDocument.TAG, object_id__in=list(ids)), rows)
    return len(rows)


def search_refresh_weights(dataset_ids, *, exclude_definition: int | None = None) -> None:
    """Recompute how many watch and use these datasets, into their documents' and their columns' weights."""
    ids = sorted(set(dataset_ids))
    for start in range(0, len(ids), BATCH_DATASETS):
        batch = ids[start:start + BATCH_DATASETS]
        popular = _dataset_popularity(batch, exclude_definition=exclude_definition)
        documents = list(SearchDocument.objects.filter(kind=SearchDocument.DATASET, dataset_id__in=batch).only(
            "id", "dataset_id", "status", "weight"))
        by_weight: dict[float, list[int]] = defaultdict(list)
        changed = []
        for document in documents:
            status = STATUS_PRIOR.get(document.status, 0.0)
            weight = round(KIND_PRIOR[SearchDocument.DATASET] + popular.get(document.dataset_id, 0.0) + status, 3)
            if weight != document.weight:
                document.weight = weight
                changed.append(document)
                by_weight[round(KIND_PRIOR[SearchDocument.COLUMN] + popular.get(document.dataset_id, 0.0) / 2 + status, 3)].append(
                    document.dataset_id)
        if changed:
            SearchDocument.objects.bulk_update(changed, ["weight"])
        for weight, dataset_batch in by_weight.items():
            SearchDocument.objects.filter(kind=SearchDocument.COLUMN, dataset_id__in=dataset_batch).update(weight=weight)


# ---------------------------------------------------------------- after a crawl


def _stale_datasets(source) -> list[int]:
    """Datasets of the source without a document, or whose document was made from another state of them."""
    from catalog.inventory.models import Dataset

    current = SearchDocument.objects.filter(kind=SearchDocument.DATASET, dataset_id=OuterRef("pk"), stamp=OuterRef("stamp"))
    return list(Dataset.objects.filter(source=source).annotate(stamp=dataset_stamp()).filter(~Exists(current)).values_list(
        "id", flat=True))


def _unindexed_owners(source) -> list[int]:
    from catalog.inventory.models import OwnerIdentity

    return list(OwnerIdentity.objects.filter(source=source).exclude(
        Exists(SearchDocument.objects.filter(kind=SearchDocument.OWNER, object_id=OuterRef("pk")))).values_list("id", flat=True))


def _column_total(ids) -> int:
    """Columns of these datasets. A first crawl passes every dataset: one array parameter, not one per id."""
    from catalog.inventory.models import Dataset

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(SUM(column_count), 0) FROM {Dataset._meta.db_table} WHERE id = ANY(%s)", [list(ids)])
            return cursor.fetchone()[0]
    return Dataset.objects.filter(pk__in=list(ids)).aggregate(n=Coalesce(Sum("column_count"), 0))["n"]


def search_index_crawl(source, result=None) -> int:
    """After a crawl is applied (same transaction): rebuild the documents of what it added, changed or removed,
    and of datasets whose stored columns it corrected without a schema change (result.refreshed_ids).

    The stamp check also catches what the crawl's result does not list (an owner that
    changed, a catalog indexed before search existed). When that is more than
    CANON_SEARCH_SYNC_DOCUMENTS documents, a task on the `index` queue does it after the
    commit, in batches, so a first crawl of a large warehouse is not held up.
    Returns the number of documents written now.
    """
    from catalog.inventory.models import Dataset
    from catalog.lineage.models import LineageEdge
    from catalog.metrics.models import MetricDatasetUse

    ids = set(_stale_datasets(source))
    if result is not None:
        ids |= set(result.added_ids) | set(result.changed_ids) | set(result.removed_ids) | set(result.refreshed_ids)
    owners = _unindexed_owners(source)
    if not ids and not owners:
        return 0
    documents = len(ids)  # and their columns' documents, counted only when that can decide
    if documents <= settings.CANON_SEARCH_SYNC_DOCUMENTS:
        documents += _column_total(ids)
    if documents > settings.CANON_SEARCH_SYNC_DOCUMENTS:
        source_id = source.pk
        transaction.on_commit(lambda: _enqueue_source(source_id))
        return 0
    written = search_index_datasets(ids)
    if owners:
        written += search_index_owners(owners)
    # Definitions reading these datasets may be broken or repaired now; views' upstreams have new readers.
    definitions = set(MetricDatasetUse.objects.filter(dataset_id__in=list(ids)).values_list("definition_id", flat=True))
    if definitions:
        written += search_index_metrics(definitions)
    upstream = set(LineageEdge.objects.filter(downstream_id__in=list(ids), upstream__isnull=False).values_list("upstream_id", flat=True))
    if upstream - ids:
        search_refresh_weights(upstream - ids)
    return written


def _enqueue_source(source_id: int) -> None:
    try:
        from catalog.search.tasks import search_index_source_task

        search_index_source_task.apply_async(args=[source_id], retry=False)
    except Exception as exc:
        # No broker: the crawl's own process indexes now rather than leave search stale until a later crawl.
        logger.warning("could not enqueue search indexing of source %s (%s); indexing it now", source_id, exc.__class__.__name__)
        try:
            search_index_source(source_id)
        except Exception:  # the crawl is committed; the next crawl's stamp check, or `reindex`, catches up
            logger.exception("search indexing of source %s failed", source_id)


def database_is_locked(exc: BaseException) -> bool:
    """SQLite refusing a statement because another connection holds a lock: past the busy timeout ("database is
    locked"), on a read snapshot gone stale in WAL (at once), or in a shared cache ("database table is locked")."""
    return isinstance(exc, OperationalError) and connection.vendor == "sqlite" and "is locked" in str(exc)


def _retrying_locks(work: Callable[[], int]) -> int:
    """work(), started again after a pause each time SQLite says the database is locked. Only outside a transaction:
    inside one, a lock error ends the transaction's hope of writing, and only its owner can start again."""
    for delay in (*LOCK_RETRY_DELAYS, None):
        try:
            return work()
        except OperationalError as exc:
            if delay is None or connection.in_atomic_block or not database_is_locked(exc):
                raise
            logger.info("search indexing waits: %s; trying again in %.1f s", exc, delay)
            time.sleep(delay * random.uniform(1.0, 1.5))
    raise AssertionError("unreachable")


def search_index_source(source_id: int, *, progress: Callable[[int], None] | None = None) -> int:
    """Bring one source's documents up to date, in batches, each its own transaction (the task behind a big crawl).

    Another connection holding SQLite's write lock (a crawl's long transaction) is waited out: the work starts
    again after a pause, and does only what is still stale. Raises OperationalError if the lock outlasts
    LOCK_RETRY_DELAYS."""
    return _retrying_locks(lambda: _index_source(source_id, progress))


def _index_source(source_id: int, progress: Callable[[int], None] | None) -> int:
    from catalog.sources.models import Source

    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return 0
    ids = _stale_datasets(source)
    written = 0
    for start in range(0, len(ids), BATCH_DATASETS):
        written += search_index_datasets(ids[start:start + BATCH_DATASETS])
        if progress:
            progress(written)
    owners = _unindexed_owners(source)
    return written + (search_index_owners(owners) if owners else 0)


# ---------------------------------------------------------------- full rebuild


def search_counts() -> dict[str, int]:
    """How many documents a rebuild writes, by kind."""
    from catalog.inventory.models import Column, Dataset, OwnerIdentity
    from catalog.metrics.models import MetricDefinition, MetricTag

    return {
        SearchDocument.METRIC: MetricDefinition.objects.count(), SearchDocument.TAG: MetricTag.objects.count(),
        SearchDocument.OWNER: OwnerIdentity.objects.count(), SearchDocument.DATASET: Dataset.objects.count(),
        SearchDocument.COLUMN: Column.objects.count(),
    }


def _clear() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Django's foreign keys are deferred: checks pending from earlier writes in this transaction would block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE search_searchalias, search_searchdocument, search_searchname")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        SearchAlias.objects.all().delete()
        SearchDocument.objects.all().delete()
        SearchName.objects.all().delete()


class _SeenNames:
    """Keys already written during a rebuild, so each batch inserts only new names. Bounded: forgets when full."""

    def __init__(self, limit: int = 500_000):
        self.limit, self.keys = limit, set()

    def new(self, names: dict[str, str]) -> dict[str, str]:
        fresh = {k: v for k, v in names.items() if k and k not in self.keys}
        if len(self.keys) + len(fresh) > self.limit:
            self.keys.clear()
        self.keys.update(fresh)
        return fresh


def search_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Throw the index away and build it again from the catalog, in one transaction, streaming datasets and their
    columns in batches. On PostgreSQL searches wait for it to commit (it holds the index tables' lock); an
    interrupted rebuild leaves the old index. Returns the number of documents written."""
    from catalog.inventory.models import Dataset, OwnerIdentity
    from catalog.metrics.models import MetricDefinition, MetricTag

    total = sum(search_counts().values())
    done = 0
    seen = _SeenNames()

    def write(rows: list[Row]) -> None:
        nonlocal done
        _insert(rows, seen=seen)
        done += len(rows)
        if rows and progress:
            progress(done, total)

    with transaction.atomic():
        _clear()
        dropped = _drop_indexes()
        if progress:
            progress(0, total)
        # Definitions, tags and owners first, then datasets each followed by its columns: the text search's bounded
        # candidate scan meets the documents people most often want before the long tail of columns.
        metric_ids = list(MetricDefinition.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(metric_ids), 500):
            write(list(_metric_rows(metric_ids[start:start + 500])))
        write(list(_tag_rows(MetricTag.objects.values_list("pk", flat=True))))
        owner_ids = list(OwnerIdentity.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(owner_ids), 2000):
            write(list(_owner_rows(owner_ids[start:start + 2000])))
        last = 0
        while True:
            batch = list(Dataset.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH_DATASETS])
            if not batch:
                break
            last = batch[-1]
            write(list(_datasets_rows_for(batch)))
        _create_indexes(dropped)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE search_searchdocument")
                cursor.execute("ANALYZE search_searchname")
    return done


def _drop_indexes() -> list:
    """PostgreSQL builds an index over loaded rows far faster than it grows one row by row: drop the search indexes
    (the unique one stays) before a full load. Returns what _create_indexes must build again."""
    if connection.vendor != "postgresql":
        return []
    from catalog.search.backends.postgres import REBUILT_INDEXES

    with connection.cursor() as cursor:
        for name in REBUILT_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    with connection.schema_editor(atomic=False) as editor:
        for index in SearchDocument._meta.indexes:
            editor.remove_index(SearchDocument, index)
    return list(REBUILT_INDEXES.values()) + list(SearchDocument._meta.indexes)


def _create_indexes(dropped: list) -> None:
    if not dropped:
        return
    with connection.cursor() as cursor:
        # The deferred foreign key checks of the rows just loaded run now (they would at commit): no index can be built
        # on a table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in dropped:
            if isinstance(statement, str):
                cursor.execute(statement)
    with connection.schema_editor(atomic=False) as editor:
        for index in dropped:
            if not isinstance(index, str):
                editor.add_index(SearchDocument, index)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
