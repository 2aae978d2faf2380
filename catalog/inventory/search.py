"""What search finds of the inventory: datasets (each with its columns) and owner identities.

Declared here, built and kept fresh by the search app (catalog.search.index), which imports this module
when it is ready.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterator

from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse

from catalog.core.names import name_key, name_words
from catalog.core.searchindex import (
    ACTIVE, REMOVED, STATUS_PRIOR, Document, SearchIndex, bars, copies_among, dataset_popularity, dotted, listing,
    register_search,
)
from catalog.inventory.models import Column, Dataset, OwnerIdentity

MAX_COLUMN_NAMES = 300  # a dataset's document lists at most this many of its column names
DATASET_VALUES = ("id", "name", "schema_name", "kind", "comment", "description", "removed_at", "properties", "source__name",
                  "owner__name", "stamp")


def dataset_stamp():
    """What a dataset's document depends on, as one SQL expression: its schema (fingerprint), owner, presence, description."""
    return Concat(
        F("fingerprint"), Value(":"), Coalesce(Cast("owner_id", CharField()), Value("")), Value(":"),
        Case(When(removed_at__isnull=True, then=Value("p")), default=Value("r"), output_field=CharField()), Value(":"),
        Coalesce(Cast("description_updated_at", CharField()), Value("")),
        output_field=CharField(),
    )


def detail_url_maker():
    """A function giving a dataset's page path (dataset-detail) from its id, reversed once per batch: reverse() costs
    some 40 µs, a second of a rebuild per 20,000 datasets."""
    marker = 2_147_483_647
    before, after = reverse("dataset-detail", args=[marker]).split(str(marker))
    return lambda dataset_id: f"{before}{dataset_id}{after}"


@register_search
class DatasetIndex(SearchIndex):
    """A dataset's document, followed by one per column: a column is found by its name, its description and comment,
    and ranks with half its dataset's popularity."""

    kind = "dataset"
    column_kind = "column"
    model = Dataset
    prior = 4.0
    column_prior = 0.0
    rebuild_order = 40

    def weights(self, status: str, popularity: float) -> tuple[float, float]:
        """The prior weight of a dataset's document and of each of its columns' documents."""
        return (self.prior + popularity + STATUS_PRIOR[status],
                self.column_prior + popularity / 2 + STATUS_PRIOR[status])

    def counts(self) -> dict[str, int]:
        return {self.kind: Dataset.objects.count(), self.column_kind: Column.objects.count()}

    def rebuild_batches(self) -> Iterator[list[int]]:
        """Page by id (keyset), so a rebuild never holds every dataset's id."""
        last = 0
        while True:
            batch = list(Dataset.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:self.rebuild_batch])
            if not batch:
                return
            last = batch[-1]
            yield batch

    def of_source(self, source_id: int):
        """The source's datasets, each annotated with the stamp its document should carry."""
        return Dataset.objects.filter(source_id=source_id).annotate(stamp=dataset_stamp())

    def column_total(self, ids) -> int:
        """Columns of these datasets. A first crawl passes every dataset: one array parameter, not one per id."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(SUM(column_count), 0) FROM {Dataset._meta.db_table} WHERE id = ANY(%s)", [list(ids)])
                return cursor.fetchone()[0]
        return Dataset.objects.filter(pk__in=list(ids)).aggregate(n=Coalesce(Sum("column_count"), 0))["n"]

    def documents(self, ids, **options) -> Iterator[Document]:
        datasets = list(Dataset.objects.filter(pk__in=ids).annotate(stamp=dataset_stamp()).values(*DATASET_VALUES))
        copies = copies_among(ids)
        yield from self._documents(datasets, self._columns_of(ids), dataset_popularity(ids, copies=copies), copies)

    @staticmethod
    def _columns_of(dataset_ids) -> dict[int, list[tuple]]:
        found: dict[int, list[tuple]] = defaultdict(list)
        rows = Column.objects.filter(dataset_id__in=list(dataset_ids)).order_by("dataset_id", "position").values_list(
            "dataset_id", "id", "name", "data_type", "comment", "description")
        for dataset_id, *rest in rows.iterator(chunk_size=5000):
            found[dataset_id].append(tuple(rest))
        return found

    def _documents(self, datasets: list[dict], columns: dict[int, list[tuple]], popular: dict[int, float],
                   copies: dict[int, str] | None = None) -> Iterator[Document]:
        kinds = dict(Dataset.KIND_CHOICES)
        dataset_url_of = detail_url_maker()
        for d in datasets:
            removed = d["removed_at"] is not None
            status = REMOVED if removed else ACTIVE
            source, schema, name = d["source__name"], d["schema_name"], d["name"]
            owners = bars([d["owner__name"] or ""])
            labels = (d["properties"] or {}).get("labels") if isinstance(d["properties"], dict) else None
            tags = bars(f"{k}={v}" for k, v in labels.items()) if isinstance(labels, dict) else ""
            cols = columns.get(d["id"], [])
            body = "\n\n".join(t for t in (d["description"], d["comment"]) if t)
            dataset_url = dataset_url_of(d["id"])
            dataset_path = dotted(source, schema, name)
            dataset_weight, column_weight = self.weights(status, popular.get(d["id"], 0.0))
            yield Document(
                d["id"], kind=self.kind, dataset_id=d["id"], name=name, title=f"{schema}.{name}",
                subtitle=f"{kinds.get(d['kind'], d['kind'])} in {source}"
                + (f" · copy of {copies[d['id']]}" if copies and d["id"] in copies else ""), url=dataset_url, path=dataset_path,
                keywords=name_words(name), context=f"{name_words(schema)} {source}", body=body,
                extra=listing("Columns", [c[1] for c in cols[:MAX_COLUMN_NAMES]]), source_name=source, schema_name=schema,
                owners=owners, tags=tags, status=status, weight=dataset_weight, stamp=d["stamp"],
            )
            for column_id, column_name, data_type, comment, description in cols:
                text = "\n\n".join(t for t in (description, comment) if t)
                yield Document(
                    column_id, kind=self.column_kind, dataset_id=d["id"], name=column_name, title=f"{name}.{column_name}",
                    subtitle=f"{data_type} column of {schema}.{name} in {source}", url=f"{dataset_url}#col-{column_id}",
                    # dotted(source, schema, name, column_name), without splitting the dataset's names once per column
                    path=f"{dataset_path}.{name_key(column_name)}" if column_name else dataset_path,
                    # A column nobody described has no text to search: its name is matched through SearchName.
                    keywords=name_words(column_name) if text else "",
                    context=f"{name_words(name)} {name_words(schema)}" if text else "",
                    body=text, extra=data_type if text else "", source_name=source, schema_name=schema, owners=owners,
                    tags=tags, status=status, weight=column_weight,
                )


@register_search
class OwnerIndex(SearchIndex):
    """An owner as the source names it, with the person it is mapped to."""

    kind = "owner"
    model = OwnerIdentity
    prior = 1.0
    rebuild_order = 30
    rebuild_batch = 2000

    def of_source(self, source_id: int):
        return OwnerIdentity.objects.filter(source_id=source_id)

    def documents(self, ids, **options) -> Iterator[Document]:
        identities = OwnerIdentity.objects.filter(pk__in=list(ids)).select_related("source", "user").annotate(
            dataset_total=Count("datasets", filter=Q(datasets__removed_at__isnull=True)))
        datasets_url = reverse("dataset-list")
        for o in identities:
            person = (o.user.get_full_name() or o.user.get_username()) if o.user_id else ""
            about = " ".join(t for t in (person, o.contact_email) if t)
            yield Document(
                o.pk, owner_identity_id=o.pk, name=o.name, title=o.name,
                subtitle=f"owner in {o.source.name} · {o.dataset_total} dataset{'s' if o.dataset_total != 1 else ''}"
                + (f" · {person}" if person else ""),
                url=f"{datasets_url}?owner={o.pk}", path=dotted(o.source.name, o.name), keywords=name_words(o.name),
                context=o.source.name, body=about, source_name=o.source.name, owners=bars([o.name]),
                weight=self.prior + min(4.0, math.log2(1 + o.dataset_total)),
            )
