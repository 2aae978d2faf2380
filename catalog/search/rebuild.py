"""Rebuilding the whole search index from the catalog (`python manage.py reindex`): every kind of document the apps
declare (catalog.core.searchindex), in one transaction, streamed in batches."""

from __future__ import annotations

from typing import Callable

from django.db import connection, transaction

from catalog.core.searchindex import registry
from catalog.search.backends.postgres import REBUILT_INDEXES
from catalog.search.models import SearchAlias, SearchDocument, SearchName
from catalog.search.store import Row, SeenNames, insert, rows_of


def _indexes():
    """Definitions, tags and owners first, then datasets each followed by its columns: the text search's bounded
    candidate scan meets the documents people most often want before the long tail of columns."""
    return sorted(registry.values(), key=lambda index: index.rebuild_order)


def search_counts() -> dict[str, int]:
    """How many documents a rebuild writes, by kind."""
    counts: dict[str, int] = {}
    for index in _indexes():
        counts.update(index.counts())
    return counts


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


def search_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Throw the index away and build it again from the catalog, in one transaction, streaming datasets and their
    columns in batches. On PostgreSQL searches wait for it to commit (it holds the index tables' lock); an
    interrupted rebuild leaves the old index. Returns the number of documents written."""
    total = sum(search_counts().values())
    done = 0
    seen = SeenNames()

    def write(rows: list[Row]) -> None:
        nonlocal done
        insert(rows, seen=seen)
        done += len(rows)
        if rows and progress:
            progress(done, total)

    with transaction.atomic():
        _clear()
        dropped = _drop_indexes()
        if progress:
            progress(0, total)
        for index in _indexes():
            for batch in index.rebuild_batches():
                write(rows_of(index.documents(batch), index.kind))
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
