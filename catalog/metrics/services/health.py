"""Broken definitions: what the catalog now says about the datasets and columns a definition reads.

A definition is broken when a dataset it reads was removed or renamed, or a
column it reads was removed, renamed or changed type since its SQL was resolved
(the types recorded then are the reference). It stops being broken when the
catalog matches again (the column comes back) or when its SQL is edited and
resolves cleanly. A crawl that breaks or repairs definitions tells their owners
and watchers, in the crawl's own transaction, one message per person per crawl.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.alerts.models import OutboxMessage
from catalog.history.diff import BREAKING, DATASET_ADDED, DATASET_RENAMED
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


def metrics_after_changes(source, crawl, changes) -> list:
    """After a crawl's changes are recorded (same transaction): re-check the definitions they touch, and tell people.

    Definitions whose SQL named tables the catalog did not hold are re-resolved
    too, so one registered before its source was crawled links up once it is.
    """
    from catalog.metrics.services.definitions import metric_link_new_tables

    now = crawl.started_at if crawl is not None else timezone.now()
    # Names that appeared in this crawl: new datasets (first seen now), returning or renamed ones.
    appeared = set(Dataset.objects.filter(source=source, first_seen_at=now).values_list("name", flat=True))
    appeared |= {c.dataset_name.rsplit(".", 1)[-1] for c in changes if c.kind in (DATASET_ADDED, DATASET_RENAMED)}
    if appeared:
        metric_link_new_tables(source, appeared)
    dataset_ids = {c.dataset_id for c in changes}
    if not dataset_ids:
        return []
    affected = set(MetricDatasetUse.objects.filter(dataset_id__in=dataset_ids).values_list("definition_id", flat=True))
    affected |= set(MetricColumnUse.objects.filter(dataset_id__in=dataset_ids).values_list("definition_id", flat=True))
    affected |= set(MetricDefinition.objects.filter(broken=True, dataset_uses__dataset__source=source).values_list("id", flat=True))
    if not affected:
        return []
    broken, repaired = metric_apply_health(affected, crawl=crawl, now=now)
    return _queue_messages(source, crawl, changes, broken, repaired)


def _queue_messages(source, crawl, changes, broken, repaired) -> list[OutboxMessage]:
    """One message per owner or watcher per crawl, naming every definition it broke or repaired for them."""
    if not broken and not repaired:
        return []
    by_user: dict[int, dict[str, list]] = defaultdict(lambda: {"broken": [], "repaired": []})
    users = {}
    for kind, definitions in (("broken", broken), ("repaired", repaired)):
        for definition in definitions:
            for user in {*definition.owners.all(), *definition.watchers.all()}:
                if user.is_active and user.email:
                    users[user.pk] = user
                    by_user[user.pk][kind].append(definition)
    changes_by_dataset: dict[int, list] = defaultdict(list)
    for change in changes:
        changes_by_dataset[change.dataset_id].append(change)
    base = settings.CANON_BASE_URL
    messages = []
    for user_id, found in by_user.items():
        user = users[user_id]
        items = []
        for definition in found["broken"]:
            dataset_ids = set(definition.dataset_uses.values_list("dataset_id", flat=True))
            causes = [c for d in dataset_ids for c in changes_by_dataset.get(d, []) if c.severity == BREAKING]
            items.append({"definition": definition, "url": f"{base}{definition.get_absolute_url()}", "reasons": definition.broken_reasons,
                          "causes": causes})
        fixed = [{"definition": d, "url": f"{base}{d.get_absolute_url()}"} for d in found["repaired"]]
        names = [i["definition"].name for i in items]
        if names:
            subject = f"[Canon] {source.name}: breaks metric {names[0]}" + (f" and {len(names) - 1} more" if len(names) > 1 else "")
        else:
            subject = f"[Canon] {source.name}: metric {fixed[0]['definition'].name} works again" + (
                f" (and {len(fixed) - 1} more)" if len(fixed) > 1 else "")
        context = {"user": user, "source": source, "crawl": crawl, "broken": items, "repaired": fixed, "subject": subject,
                   "metrics_url": f"{base}/metrics/"}
        messages.append(OutboxMessage(
            key=f"metrics:crawl:{crawl.pk}:user:{user_id}", kind="metrics", user=user, recipient=user.email, subject=subject[:300],
            body_text=render_to_string("metrics/email/metrics.txt", context),
            body_html=render_to_string("metrics/email/metrics.html", context),
            crawl=crawl, next_attempt_at=timezone.now(),
        ))
    return OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
