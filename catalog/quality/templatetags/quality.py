from django import template
from django.utils import timezone

from catalog.quality.models import DataChange, Freshness
from catalog.quality.selectors import freshness_summary, stale_dataset_ids

register = template.Library()

RECENT_CHANGES = 10


@register.inclusion_tag("quality/_freshness.html", takes_context=True)
def freshness_section(context, dataset):
    """The dataset page's Freshness section: when the data last changed and how that is known, the cadence, stale or not."""
    f = Freshness.objects.filter(dataset_id=dataset.pk).select_related("cadence_set_by").first()
    changes = list(DataChange.objects.filter(dataset_id=dataset.pk).order_by("-changed_at")[:RECENT_CHANGES]) if f else []
    now = timezone.now()
    return {"dataset": dataset, "freshness": f, "summary": freshness_summary(f, now), "changes": changes, "now": now,
            "user": context.get("user"), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("quality/_badge.html")
def stale_badge(dataset):
    f = Freshness.objects.filter(dataset_id=dataset.pk, stale_since__isnull=False).only("stale_since").first()
    return {"stale_since": f.stale_since if f else None}


@register.simple_tag
def stale_ids(objects):
    """Ids of the stale datasets among these (datasets, or search hits of kind dataset): one query for a page."""
    ids = []
    for o in objects:
        if isinstance(o, dict):
            continue
        if getattr(o, "kind", None) == "dataset" and hasattr(o, "object_id"):
            ids.append(o.object_id)
        elif hasattr(o, "qualified_name"):
            ids.append(o.pk)
    return stale_dataset_ids(ids)
