"""What search finds of metric definitions: each definition (its synonyms count as its name) and each tag.

A definition reading a dataset adds to that dataset's popularity. Declared here, built and kept fresh
by the search app (catalog.search.index), which imports this module when it is ready.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode
from typing import Iterator

from django.db.models import Count
from django.urls import reverse

from catalog.core.names import name_key, name_words, split_words
from catalog.core.searchindex import (
    BROKEN_PRIOR, STATUS_PRIOR, Document, SearchIndex, bars, dataset_readers, listing, register_search,
)
from catalog.metrics.models import MetricDatasetUse, MetricDefinition, MetricTag


@register_search
class MetricIndex(SearchIndex):
    kind = "metric"
    model = MetricDefinition
    prior = 4.0
    rebuild_order = 10
    rebuild_batch = 500

    def documents(self, ids, **options) -> Iterator[Document]:
        definitions = MetricDefinition.objects.filter(pk__in=list(ids)).select_related("source").prefetch_related(
            "owners", "tags", "synonyms", "dataset_uses").annotate(watcher_count=Count("watchers", distinct=True))
        for d in definitions:
            synonyms = [s.name for s in d.synonyms.all()]
            owner_names = [u.get_username() for u in d.owners.all()] + list(d.external_owners or [])
            tag_names = [t.name for t in d.tags.all()]
            uses = [u.dataset_name for u in d.dataset_uses.all()]
            weight = (self.prior + STATUS_PRIOR.get(d.status, 0.0) + min(4.0, 2 * math.log2(1 + d.watcher_count))
                      + (BROKEN_PRIOR if d.broken else 0.0))
            facts = [d.status] + (["broken"] if d.broken else []) + ([d.unit] if d.unit else [])
            yield Document(
                d.pk, metric_id=d.pk, name=d.name, title=d.title or d.name,
                subtitle=f"metric definition {d.name} · " + " · ".join(facts), url=d.get_absolute_url(), path=name_key(d.name),
                keywords=" ".join([name_words(d.name), *(name_words(s) for s in synonyms)]), context=" ".join(split_words(d.title)),
                body=d.description, extra=" ".join(t for t in (listing("Tags", tag_names), listing("Owners", owner_names),
                                                                listing("Reads", uses), listing("Time", [d.time_dimension])) if t),
                source_name=d.source.name if d.source_id else "", owners=bars(owner_names), tags=bars(tag_names), status=d.status,
                broken=d.broken, weight=weight, related=sorted({u.dataset_id for u in d.dataset_uses.all()}), aliases=tuple(synonyms),
            )

    def reading(self, dataset_ids) -> set[int]:
        """Definitions reading these datasets: a crawl that changed them may have broken or repaired those."""
        return set(MetricDatasetUse.objects.filter(dataset_id__in=list(dataset_ids)).values_list("definition_id", flat=True))

    def tag_names(self, ids) -> set[str]:
        """The names of these definitions' tags (whose documents count the definitions)."""
        return set(MetricDefinition.tags.through.objects.filter(metricdefinition_id__in=list(ids)).values_list(
            "metrictag__name", flat=True))


@register_search
class TagIndex(SearchIndex):
    kind = "tag"
    model = MetricTag
    prior = 1.0
    rebuild_order = 20
    rebuild_batch = None  # every tag in one batch

    def ids_named(self, names) -> list[int]:
        return list(MetricTag.objects.filter(name__in=list(names)).values_list("id", flat=True))

    def documents(self, ids, *, exclude_definition: int | None = None, **options) -> Iterator[Document]:
        """`exclude_definition`: a definition about to be deleted, no longer counted."""
        metrics_url = reverse("metric-list")
        for t in MetricTag.objects.filter(pk__in=list(ids)).prefetch_related("definitions"):
            names = sorted(d.name for d in t.definitions.all() if d.pk != exclude_definition)
            yield Document(
                t.pk, tag_id=t.pk, name=t.name, title=t.name,
                subtitle=f"tag · {len(names)} definition{'s' if len(names) != 1 else ''}", url=f"{metrics_url}?{urlencode({'tag': t.name})}",
                path=name_key(t.name), keywords=name_words(t.name), extra=listing("Definitions", names), tags=bars([t.name]),
                weight=self.prior + min(4.0, math.log2(1 + len(names))),
            )


@dataset_readers
def definitions_reading(dataset_ids, *, exclude_definition: int | None = None):
    """How many definitions read each dataset (`exclude_definition`: one about to be deleted, not counted)."""
    uses = MetricDatasetUse.objects.filter(dataset_id__in=dataset_ids)
    if exclude_definition is not None:
        uses = uses.exclude(definition_id=exclude_definition)
    return uses.values_list("dataset_id").annotate(n=Count("id"))
