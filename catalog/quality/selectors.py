"""Reads of freshness for pages and the API: the words shown, and what reads a dataset."""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from catalog.alerts.impact import impact_providers
from catalog.quality.models import Freshness
from catalog.quality.services import freshness_cadence


def readers_of(dataset_ids) -> dict[int, list[str]]:
    """What reads each dataset, named ("view sales.daily", "metric revenue"), directly first, then through
    the views that read it: asked of the impact providers lineage and metrics register."""
    dataset_ids = list(dataset_ids)
    providers = impact_providers()
    dependents = defaultdict(list)
    for provider in providers:
        for dataset_id, found in provider.dependents_of(dataset_ids).items():
            dependents[dataset_id] += found
    asked = list(dict.fromkeys([*dataset_ids, *(d.dataset_id for found in dependents.values() for d in found)]))
    users = defaultdict(list)
    for provider in providers:
        for dataset_id, names in provider.users_of(asked).items():
            users[dataset_id] += names
    readers = {}
    for dataset_id in dataset_ids:
        names = list(users.get(dataset_id, []))
        for dependent in dependents.get(dataset_id, []):
            names.append(f"{dependent.kind} {dependent.name}")
            names += [f"{name} (through {dependent.name})" for name in users.get(dependent.dataset_id, [])]
        if names:
            readers[dataset_id] = list(dict.fromkeys(names))
    return readers


def freshness_summary(freshness: Freshness | None, now=None) -> dict:
    """What the dataset page and the API say: state (stale, fresh, unknown), the cadence and where it comes from."""
    now = now or timezone.now()
    if freshness is None:
        return {"state": "unknown", "cadence": "", "cadence_from": "", "late_s": None}
    cadence = freshness_cadence(freshness)
    cadence_from = "set" if freshness.cadence_text and cadence else ("learned" if cadence else "")
    if freshness.stale_since is not None:
        state = "stale"
    elif freshness.last_changed_at is None or cadence is None:
        state = "unknown"
    else:
        state = "fresh"
    late = (now - freshness.stale_since).total_seconds() if freshness.stale_since else None
    return {"state": state, "cadence": cadence.describe() if cadence else "", "cadence_from": cadence_from, "late_s": late}


def stale_dataset_ids(dataset_ids) -> set[int]:
    """Which of these datasets are stale: one query for a page of them."""
    dataset_ids = [i for i in dataset_ids if i is not None]
    if not dataset_ids:
        return set()
    return set(Freshness.objects.filter(dataset_id__in=dataset_ids, stale_since__isnull=False).values_list("dataset_id", flat=True))
