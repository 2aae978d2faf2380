"""Broken definitions: what the catalog now says about the datasets and columns a definition reads.

A definition is broken when a dataset it reads was removed or renamed, or a
column it reads was removed, renamed or changed type since its SQL was resolved
(the types recorded then are the reference). It stops being broken when the
catalog matches again (the column comes back) or when its SQL is edited and
resolves cleanly. What a crawl does to definitions, and the messages it sends, is in
after_crawl.py.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from catalog.inventory.models import Column, Dataset
from catalog.metrics.models import MetricColumnUse, MetricDatasetUse, MetricDefinition, MetricEvent


def metric_health(definition_ids) -> dict[int, list[str]]:
    """{definition id: reasons it is broken (empty: it is not)} from the stored links and the catalog as it is now."""
    ids = list(definition_ids)
    reasons: dict[int, list[str]] = {pk: [] for pk in ids}
    if not ids:
        return reasons
    uses = list(MetricDatasetUse.objects.filter(definition_id__in=ids).select_related("dataset"))
    column_uses = list(MetricColumnUse.objects.filter(definition_id__in=ids))
    datasets = {u.dataset_id: u.dataset for u in uses}
    missing = {u.dataset_id for u in column_uses} - set(datasets)
    if missing:
        datasets.update(Dataset.objects.in_bulk(list(missing)))
    current: dict[int, dict[str, str]] = defaultdict(dict)
    column_names: dict[int, str] = {}
    for pk, dataset_id, name, data_type in Column.objects.filter(dataset_id__in=list(datasets)).values_list(
        "id", "dataset_id", "name", "data_type"
    ):
        current[dataset_id][name] = data_type
        column_names[pk] = name

    unusable: set[tuple[int, int]] = set()
    for use in uses:
        dataset = use.dataset
        if dataset.removed_at is not None:
            reasons[use.definition_id].append(f"dataset {use.dataset_name} was removed")
            unusable.add((use.definition_id, use.dataset_id))
        elif dataset.qualified_name != use.dataset_name:
            reasons[use.definition_id].append(f"dataset {use.dataset_name} was renamed to {dataset.qualified_name}")
            unusable.add((use.definition_id, use.dataset_id))
    for use in column_uses:
        if (use.definition_id, use.dataset_id) in unusable:
            continue
        dataset = datasets.get(use.dataset_id)
        where = f"{dataset.qualified_name}.{use.column_name}" if dataset else use.column_name
        now_type = current.get(use.dataset_id, {}).get(use.column_name)
        if now_type is None:
            renamed_to = column_names.get(use.column_id) if use.column_id else None
            if renamed_to and renamed_to != use.column_name:
                reasons[use.definition_id].append(f"column {where} was renamed to {renamed_to}")
            else:
                reasons[use.definition_id].append(f"column {where} was removed")
        elif use.data_type and now_type != use.data_type:
            reasons[use.definition_id].append(f"column {where} changed type from {use.data_type} to {now_type}")
    return reasons


def metric_apply_health(definition_ids, *, crawl=None, user=None, now=None) -> tuple[list[MetricDefinition], list[MetricDefinition]]:
    """Store each definition's broken state; record the transitions. Returns (newly broken, repaired)."""
    now = now or timezone.now()
    reasons = metric_health(definition_ids)
    broken, repaired, events, updates = [], [], [], []
    for definition in MetricDefinition.objects.filter(pk__in=list(reasons)).prefetch_related("owners", "watchers"):
        found = reasons[definition.pk]
        if found == list(definition.broken_reasons or []) and bool(found) == definition.broken:
            continue
        if found and not definition.broken:
            definition.broken_since = now
            broken.append(definition)
            events.append(MetricEvent(definition=definition, kind=MetricEvent.BROKEN, note="; ".join(found), crawl=crawl, user=user))
        elif not found and definition.broken:
            definition.broken_since = None
            repaired.append(definition)
            note = "the SQL was edited" if crawl is None else "the catalog matches the SQL again"
            events.append(MetricEvent(definition=definition, kind=MetricEvent.REPAIRED, note=note, crawl=crawl, user=user))
        elif found and crawl is not None and set(found) - set(definition.broken_reasons or []):
            broken.append(definition)  # broken already, and now by something more: say so
        definition.broken, definition.broken_reasons = bool(found), found
        updates.append(definition)
    if updates:
        MetricDefinition.objects.bulk_update(updates, ["broken", "broken_reasons", "broken_since"])
    if events:
        MetricEvent.objects.bulk_create(events)
    return broken, repaired


def metric_impacts(dataset_ids) -> dict[int, list[str]]:
    """{dataset id: ["metric weekly_active_users", ...]}: the definitions the datasets' current state breaks."""
    ids = list(dataset_ids)
    if not ids:
        return {}
    uses = list(MetricDatasetUse.objects.filter(dataset_id__in=ids).values_list("definition_id", "dataset_id", "definition__name"))
    if not uses:
        return {}
    reasons = metric_health({definition_id for definition_id, _, _ in uses})
    impacts: dict[int, list[str]] = defaultdict(list)
    for definition_id, dataset_id, name in sorted(uses, key=lambda u: u[2]):
        if reasons.get(definition_id):
            impacts[dataset_id].append(f"metric {name}")
    return impacts
