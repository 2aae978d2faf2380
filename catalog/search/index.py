"""Keeping the search index fresh: the services every write that changes what search should find calls.

Each is called in its own transaction, for just the objects it changed:

- a crawl: search_index_crawl(source, result), in the crawl's transaction. A big
  change (a first crawl of a large warehouse) is handed to a task on the `index`
  queue instead, so that the crawl does not wait for it;
- a description edit, an owner mapping: search_index_datasets / search_index_owners;
- a metric definition saved, re-imported, certified or deprecated: search_index_metrics;
- a subscription made or dropped: search_refresh_weights (how many watch a dataset).

What a document holds is declared by the app that owns the object, in its search.py
(catalog.core.searchindex); this module knows the kinds of document, not their models.
`python manage.py reindex` (catalog.search.rebuild) rebuilds everything.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from typing import Callable

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q

from catalog.core.queue import task_send
from catalog.core.searchindex import dataset_popularity, get_index, upstream_of
from catalog.search.models import SearchDocument
from catalog.search.store import replace, rows_of

logger = logging.getLogger(__name__)

BATCH_DATASETS = 1000
# Pauses (seconds, before jitter) between attempts while SQLite says the database is locked: about 12 s in all,
# then the index task tries again later, backing off (catalog/search/tasks.py).
LOCK_RETRY_DELAYS = (0.2, 0.4, 0.8, 1.6, 3.2, 6.4)
INDEX_SOURCE_TASK = "canon.search_index_source"


def search_index_datasets(ids) -> int:
    """Rebuild the documents of these datasets and all their columns (removed datasets stay findable, labelled).
    Ids of datasets that no longer exist lose their documents. Returns the number of documents written."""
    index = get_index(SearchDocument.DATASET)
    ids = sorted(set(ids))
    written = 0
    with transaction.atomic():
        for start in range(0, len(ids), BATCH_DATASETS):
            batch = ids[start:start + BATCH_DATASETS]
            rows = rows_of(index.documents(batch), SearchDocument.DATASET)
            replace(Q(kind__in=[SearchDocument.DATASET, SearchDocument.COLUMN], dataset_id__in=batch), rows)
            written += len(rows)
    return written


def search_index_metrics(ids) -> int:
    """Rebuild these definitions' documents (and their tags'); the datasets they use, before and after, get their weight
    recomputed. A definition that no longer exists loses its document."""
    index = get_index(SearchDocument.METRIC)
    ids = sorted(set(ids))
    if not ids:
        return 0
    with transaction.atomic():
        before = list(SearchDocument.objects.filter(kind=SearchDocument.METRIC, object_id__in=ids).values_list("related", "tags"))
        rows = rows_of(index.documents(ids), SearchDocument.METRIC)
        replace(Q(kind=SearchDocument.METRIC, object_id__in=ids), rows)
        related = {i for r, _ in before for i in r or []} | {i for row in rows for i in row.related}
        tags = {t for _, bars in before for t in (bars or "").strip("|").split("|") if t}
        tags |= index.tag_names(ids)
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
            replace(Q(pk=document.pk), [])
        search_refresh_weights(related, exclude_definition=definition.pk)
        _index_tags_named(tags, exclude_definition=definition.pk)


def _index_tags_named(names, *, exclude_definition: int | None = None) -> None:
    names = [n for n in names if n]
    if not names:
        return
    index = get_index(SearchDocument.TAG)
    ids = index.ids_named(names)
    replace(Q(kind=SearchDocument.TAG, object_id__in=ids),
            rows_of(index.documents(ids, exclude_definition=exclude_definition), SearchDocument.TAG))


def search_index_owners(ids) -> int:
    rows = rows_of(get_index(SearchDocument.OWNER).documents(ids), SearchDocument.OWNER)
    with transaction.atomic():
        replace(Q(kind=SearchDocument.OWNER, object_id__in=list(ids)), rows)
    return len(rows)


def search_refresh_weights(dataset_ids, *, exclude_definition: int | None = None) -> None:
    """Recompute how many watch and use these datasets, into their documents' and their columns' weights.
    `exclude_definition`: a definition about to be deleted, no longer counted as a reader."""
    index = get_index(SearchDocument.DATASET)
    ids = sorted(set(dataset_ids))
    for start in range(0, len(ids), BATCH_DATASETS):
        batch = ids[start:start + BATCH_DATASETS]
        popular = dataset_popularity(batch, exclude_definition=exclude_definition)
        documents = list(SearchDocument.objects.filter(kind=SearchDocument.DATASET, dataset_id__in=batch).only(
            "id", "dataset_id", "status", "weight"))
        by_weight: dict[float, list[int]] = defaultdict(list)
        changed = []
        for document in documents:
            dataset_weight, column_weight = index.weights(document.status, popular.get(document.dataset_id, 0.0))
            weight = round(dataset_weight, 3)
            if weight != document.weight:
                document.weight = weight
                changed.append(document)
                by_weight[round(column_weight, 3)].append(document.dataset_id)
        if changed:
            SearchDocument.objects.bulk_update(changed, ["weight"])
        for weight, dataset_batch in by_weight.items():
            SearchDocument.objects.filter(kind=SearchDocument.COLUMN, dataset_id__in=dataset_batch).update(weight=weight)


# ---------------------------------------------------------------- after a crawl


def _stale_datasets(source_id: int) -> list[int]:
    """Datasets of the source without a document, or whose document was made from another state of them."""
    current = SearchDocument.objects.filter(kind=SearchDocument.DATASET, dataset_id=OuterRef("pk"), stamp=OuterRef("stamp"))
    return list(get_index(SearchDocument.DATASET).of_source(source_id).filter(~Exists(current)).values_list("id", flat=True))


def _unindexed_owners(source_id: int) -> list[int]:
    return list(get_index(SearchDocument.OWNER).of_source(source_id).exclude(
        Exists(SearchDocument.objects.filter(kind=SearchDocument.OWNER, object_id=OuterRef("pk")))).values_list("id", flat=True))


def search_index_crawl(source, result=None) -> int:
    """After a crawl is applied (same transaction): rebuild the documents of what it added, changed or removed,
    and of datasets whose stored columns it corrected without a schema change (result.refreshed_ids).

    The stamp check also catches what the crawl's result does not list (an owner that
    changed, a catalog indexed before search existed). When that is more than
    CANON_SEARCH_SYNC_DOCUMENTS documents, a task on the `index` queue does it after the
    commit, in batches, so a first crawl of a large warehouse is not held up.
    Returns the number of documents written now.
    """
    ids = set(_stale_datasets(source.pk))
    if result is not None:
        ids |= set(result.added_ids) | set(result.changed_ids) | set(result.removed_ids) | set(result.refreshed_ids)
    owners = _unindexed_owners(source.pk)
    if not ids and not owners:
        return 0
    documents = len(ids)  # and their columns' documents, counted only when that can decide
    if documents <= settings.CANON_SEARCH_SYNC_DOCUMENTS:
        documents += get_index(SearchDocument.DATASET).column_total(ids)
    if documents > settings.CANON_SEARCH_SYNC_DOCUMENTS:
        source_id = source.pk
        transaction.on_commit(lambda: _enqueue_source(source_id))
        return 0
    written = search_index_datasets(ids)
    if owners:
        written += search_index_owners(owners)
    # Definitions reading these datasets may be broken or repaired now; views' upstreams have new readers.
    definitions = get_index(SearchDocument.METRIC).reading(ids)
    if definitions:
        written += search_index_metrics(definitions)
    upstream = upstream_of(ids)
    if upstream - ids:
        search_refresh_weights(upstream - ids)
    return written


def _enqueue_source(source_id: int) -> None:
    try:
        task_send(INDEX_SOURCE_TASK, args=[source_id])  # by name: catalog.search.tasks imports this module
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
    """A source that no longer exists has no datasets nor owners: nothing to write."""
    ids = _stale_datasets(source_id)
    written = 0
    for start in range(0, len(ids), BATCH_DATASETS):
        written += search_index_datasets(ids[start:start + BATCH_DATASETS])
        if progress:
            progress(written)
    owners = _unindexed_owners(source_id)
    return written + (search_index_owners(owners) if owners else 0)
