from django import template
from django.conf import settings
from django.utils import timezone

from catalog.connectors.sampling import sampling_described
from catalog.quality.jumps import is_sensitive
from catalog.quality.models import DataChange, Freshness, ProfileAlertOptIn, ProfileChange, SampleState, SamplingPolicy
from catalog.quality.profiling import profiles_latest, sensitive_columns
from catalog.quality.selectors import freshness_summary, stale_dataset_ids

register = template.Library()

RECENT_CHANGES = 10


def _freshness_of(dataset) -> Freshness | None:
    """The dataset's freshness, read once per page (the badge by its name and the section share it)."""
    if not hasattr(dataset, "_quality_freshness"):
        dataset._quality_freshness = Freshness.objects.filter(dataset_id=dataset.pk).select_related("cadence_set_by").first()
    return dataset._quality_freshness


@register.inclusion_tag("quality/_freshness.html", takes_context=True)
def freshness_section(context, dataset):
    """The dataset page's Freshness section: when the data last changed and how that is known, the cadence, stale or not."""
    f = _freshness_of(dataset)
    changes = (list(DataChange.objects.filter(dataset_id=dataset.pk).order_by("-changed_at")[:RECENT_CHANGES])
               if f and f.last_changed_at else [])
    now = timezone.now()
    return {"dataset": dataset, "freshness": f, "summary": freshness_summary(f, now), "changes": changes, "now": now,
            "user": context.get("user"), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("quality/_badge.html")
def stale_badge(dataset):
    f = _freshness_of(dataset)
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


@register.inclusion_tag("quality/_profiles.html", takes_context=True)
def profiles_section(context, dataset):
    """The dataset page's Column profiles: each column's latest profile from the engine's statistics and its trend."""
    latest = profiles_latest(dataset)
    marked = {name for _, name in sensitive_columns([dataset.pk])} if latest else set()
    patterns = settings.CANON_SENSITIVE_COLUMNS
    user = context.get("user")
    rows = []
    for name, history in sorted(latest.items()):
        current = history[0]
        rows.append({"name": name, "profile": current, "history": list(reversed(history)),
                     "sensitive": current.get("hidden") or name in marked or is_sensitive(name, patterns),
                     "marked": name in marked, "by_pattern": is_sensitive(name, patterns)})
    changes = list(ProfileChange.objects.filter(dataset=dataset)[:10]) if latest else []
    opted = bool(user and user.is_authenticated and ProfileAlertOptIn.objects.filter(user=user).exists())
    bases = sorted({str(r["profile"].get("basis") or "") for r in rows} - {""})
    return {"dataset": dataset, "rows": rows, "changes": changes, "user": user, "csrf_token": context.get("csrf_token"),
            "opted": opted, "bases": bases, "sampled": any(b.startswith("sample") for b in bases)}


@register.inclusion_tag("quality/_profile_changes.html")
def profile_changes_section(limit: int = 20):
    """The changes page's jumps in column profiles, newest first."""
    return {"changes": list(ProfileChange.objects.select_related("dataset", "source")[:limit])}


@register.filter
def pct(value) -> str:
    """A fraction as a percentage: 0.2 -> 20%, 0.004 -> 0.4%, None -> ''."""
    if value is None:
        return ""
    value = float(value) * 100
    return f"{value:.1f}%" if 0 < value < 1 else f"{value:.0f}%"


@register.inclusion_tag("quality/_sampling.html", takes_context=True)
def sampling_section(context, source):
    """The source page's Sampled profiles, for staff (who set them): opt-in, its budget, and what the last run did.
    Others see each dataset's sampled profile, or why there is none, on its page."""
    user = context.get("user")
    if not (user and user.is_staff):
        return {"shown": False}
    unit, how = sampling_described(source.engine) or ("", "")
    return {"shown": True, "source": source, "policy": SamplingPolicy.objects.filter(source=source).first(), "user": user,
            "csrf_token": context.get("csrf_token"), "unit": unit, "how": how}


@register.simple_tag
def sample_warning(dataset) -> str:
    """Why the dataset's last sampled profile failed, if it did."""
    return SampleState.objects.filter(dataset_id=dataset.pk).exclude(warning="").values_list("warning", flat=True).first() or ""
