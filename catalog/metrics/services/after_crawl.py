"""What a crawl does to metric definitions: after its changes are recorded, in its transaction,
the definitions they touch are checked again (broken or repaired, see health.py), ones waiting
for tables that just appeared are linked, and their owners and watchers are told, one message
per person per crawl."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog.alerts.services.outbox import Email, outbox_queue
from catalog.history.diff import BREAKING, DATASET_ADDED, DATASET_RENAMED
from catalog.inventory.models import Dataset
from catalog.metrics.models import MetricColumnUse, MetricDatasetUse, MetricDefinition
from catalog.metrics.services.definitions import metric_link_new_tables
from catalog.metrics.services.health import metric_apply_health


def metrics_after_changes(source, crawl, changes) -> list:
    """After a crawl's changes are recorded (same transaction): re-check the definitions they touch, and tell people.

    Definitions whose SQL named tables the catalog did not hold are re-resolved
    too, so one registered before its source was crawled links up once it is.
    """
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


def _queue_messages(source, crawl, changes, broken, repaired) -> list:
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
                   "metrics_url": f"{base}{reverse('metric-list')}"}
        messages.append(Email(
            key=f"metrics:crawl:{crawl.pk}:user:{user_id}", kind="metrics", user=user, subject=subject[:300],
            body_text=render_to_string("metrics/email/metrics.txt", context),
            body_html=render_to_string("metrics/email/metrics.html", context),
            crawl=crawl,
        ))
    return outbox_queue(messages)
