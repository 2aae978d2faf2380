"""Who hears about one dataset outside a crawl's schema changes (another app's news: it went stale, it is
fresh again), by the rule schema changes follow: the most specific subscription wins, an exclusion
decides "off", an owner hears by default. Any mode but "off" hears: such news is not put off to a digest.
Each with the link that stops that dataset. Other apps write the messages with outbox_queue."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.alerts.models import Subscription
from catalog.alerts.services.recipients import _decide, _excluded, _token
from catalog.alerts.services.subscriptions import unsubscribe_keys_get


def dataset_listeners(datasets) -> dict[int, list[tuple[object, str]]]:
    """{dataset id: [(user, unsubscribe url), ...]} for these datasets (owner and source loaded or not)."""
    datasets = {d.pk: d for d in datasets}
    if not datasets:
        return {}
    subs_by_user: dict[int, list[Subscription]] = defaultdict(list)
    for sub in Subscription.objects.filter(source_id__in={d.source_id for d in datasets.values()}):
        subs_by_user[sub.user_id].append(sub)
    owner_users = {d.pk: d.owner.user_id for d in datasets.values() if d.owner_id and d.owner.user_id}
    users = {u.pk: u for u in get_user_model().objects.filter(
        pk__in=set(subs_by_user) | set(owner_users.values()), is_active=True).exclude(email="")}
    excluded = _excluded(datasets)
    owner_nonces = unsubscribe_keys_get(user_id for user_id in owner_users.values() if user_id in users)
    found: dict[int, list[tuple[object, str]]] = {}
    for dataset_id, dataset in datasets.items():
        for user_id, user in users.items():
            decision = _decide(subs_by_user.get(user_id, []), dataset, owner_users.get(dataset_id) == user_id, excluded)
            if decision is None:
                continue
            token = _token(user_id, dataset_id, decision[2], owner_nonces)
            found.setdefault(dataset_id, []).append((user, f"{settings.CANON_BASE_URL}{reverse('unsubscribe', args=[token])}"))
    return found
