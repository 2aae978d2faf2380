"""Who hears about a crawl's changes, and the messages they get (written to the outbox).

For one user and one dataset the most specific subscription wins (dataset, then
schema, then source); a source or schema subscription that excludes the dataset
decides "off" for it (the person stopped that dataset from an email). An owner of
a dataset (a person mapped to its owner identity) hears about it immediately
unless a dataset-level subscription says otherwise. One message per recipient per
crawl, grouped by dataset; digests follow the same rule.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog.alerts.impact import impacts_for
from catalog.alerts.models import OutboxMessage, Subscription, SubscriptionExclusion
from catalog.alerts.services.outbox import Email, outbox_queue
from catalog.alerts.services.subscriptions import unsubscribe_keys_get, unsubscribe_token
from catalog.history.diff import BREAKING
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.sources.models import Crawl

SPECIFICITY = {"dataset": 3, "schema": 2, "source": 1}


def _decide(user_subs: list[Subscription], dataset: Dataset, is_owner: bool, excluded: set[tuple[int, int]]):
    """(mode, breaking_only, subscription or None) for one user and dataset, or None.

    `excluded` holds (subscription id, dataset id) pairs of SubscriptionExclusion."""
    covering = [s for s in user_subs if s.covers(dataset.source_id, dataset.schema_name, dataset.pk)]
    best = max(covering, key=lambda s: SPECIFICITY[s.scope], default=None)
    if best is not None and (best.scope == "dataset" or not is_owner):
        if best.mode == Subscription.OFF or (best.pk, dataset.pk) in excluded:
            return None
        return (best.mode, best.breaking_only, best)
    if is_owner:
        return (Subscription.IMMEDIATE, False, None)
    return None


def _render(kind: str, context: dict) -> tuple[str, str]:
    return render_to_string(f"alerts/email/{kind}.txt", context), render_to_string(f"alerts/email/{kind}.html", context)


def _excluded(dataset_ids, **subscriptions) -> set[tuple[int, int]]:
    """(subscription id, dataset id) of the exclusions of these datasets from the subscriptions so filtered."""
    return set(SubscriptionExclusion.objects.filter(dataset_id__in=list(dataset_ids), **{
        f"subscription__{name}": value for name, value in subscriptions.items()}).values_list("subscription_id", "dataset_id"))


def _token(user_id: int, dataset_id: int, subscription: Subscription | None, owner_nonces: dict[int, str]) -> str:
    """The link that stops this dataset only, from the subscription that decided it (or the owner's default)."""
    if subscription is None:
        return unsubscribe_token(user_id, owner_nonces[user_id], dataset_id=dataset_id)
    return unsubscribe_token(user_id, subscription.nonce, subscription_id=subscription.pk, dataset_id=dataset_id)


def _groups(changes: list[SchemaChange], datasets: dict[int, Dataset], impacts, user_id, tokens: dict):
    by_dataset: dict[int, list[SchemaChange]] = defaultdict(list)
    for change in changes:
        by_dataset[change.dataset_id].append(change)
    groups = []
    for dataset_id, items in sorted(by_dataset.items(), key=lambda kv: datasets[kv[0]].qualified_name):
        dataset = datasets[dataset_id]
        groups.append({
            "dataset": dataset,
            "name": items[0].dataset_name,
            "url": f"{settings.CANON_BASE_URL}{dataset.get_absolute_url()}",
            "changes": items,
            "breaking": any(c.severity == BREAKING for c in items),
            "impacts": impacts.get(dataset_id, []),
            "unsubscribe_url": f"{settings.CANON_BASE_URL}{reverse('unsubscribe', args=[tokens[dataset_id]])}",
        })
    return groups


def alerts_queue_for_crawl(source, crawl, changes: list[SchemaChange]) -> list[OutboxMessage]:
    """Immediate messages for one crawl's changes. Called inside the crawl's transaction."""
    if not changes:
        return []
    dataset_ids = {c.dataset_id for c in changes}
    datasets = {d.pk: d for d in Dataset.objects.filter(id__in=dataset_ids).select_related("owner", "source")}
    subscriptions = list(Subscription.objects.filter(source=source).select_related("user"))
    subs_by_user: dict[int, list[Subscription]] = defaultdict(list)
    for sub in subscriptions:
        subs_by_user[sub.user_id].append(sub)
    owners_by_dataset = {d.pk: d.owner.user_id for d in datasets.values() if d.owner_id and d.owner.user_id}
    user_ids = set(subs_by_user) | set(owners_by_dataset.values())
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids, is_active=True).exclude(email="")}
    impacts = impacts_for(dataset_ids)
    excluded = _excluded(dataset_ids, source=source)
    owner_nonces = unsubscribe_keys_get(user_id for user_id in owners_by_dataset.values() if user_id in users)

    messages = []
    for user_id, user in users.items():
        chosen: list[SchemaChange] = []
        tokens = {}
        for dataset_id, dataset in datasets.items():
            decision = _decide(subs_by_user.get(user_id, []), dataset, owners_by_dataset.get(dataset_id) == user_id, excluded)
            if decision is None or decision[0] != Subscription.IMMEDIATE:
                continue
            _, breaking_only, sub = decision
            picked = [c for c in changes if c.dataset_id == dataset_id and (not breaking_only or c.severity == BREAKING)]
            if picked:
                chosen += picked
                tokens[dataset_id] = _token(user_id, dataset_id, sub, owner_nonces)
        if not chosen:
            continue
        groups = _groups(chosen, datasets, impacts, user_id, tokens)
        breaking = sum(1 for c in chosen if c.severity == BREAKING)
        subject = (f"[Canon] {source.name}: {len(groups)} dataset{'s' if len(groups) != 1 else ''} changed"
                   + (f", {breaking} breaking change{'s' if breaking != 1 else ''}" if breaking else ""))
        context = {"user": user, "source": source, "crawl": crawl, "groups": groups, "subject": subject,
                   "base_url": settings.CANON_BASE_URL, "watching_url": f"{settings.CANON_BASE_URL}{reverse('watching')}"}
        text, html = _render("changes", context)
        messages.append(Email(key=f"crawl:{crawl.pk}:user:{user_id}", kind="changes", user=user, subject=subject,
                              body_text=text, body_html=html, crawl=crawl))
    return outbox_queue(messages)


def crawl_health_record(source, crawl) -> OutboxMessage | None:
    """Count failures in a row; tell the source's owners once when it starts failing and once when it recovers.
    Attempts count (a schedule's, a person's), not the automatic retries of one attempt."""
    if crawl.status not in (Crawl.FAILED, Crawl.SUCCEEDED):
        return None
    source.refresh_from_db(fields=["failure_streak", "failing_alert_sent"])
    kind = None
    if crawl.status == Crawl.FAILED and crawl.trigger == "retry":
        return None  # an automatic retry of a failed attempt: the attempt was counted, its retries are not
    if crawl.status == Crawl.FAILED:
        source.failure_streak += 1
        if source.failure_streak >= settings.CANON_FAILING_AFTER and not source.failing_alert_sent:
            source.failing_alert_sent, kind = True, "crawl_failing"
    else:
        if source.failing_alert_sent:
            kind = "crawl_recovered"
        source.failure_streak, source.failing_alert_sent = 0, False
    source.save(update_fields=["failure_streak", "failing_alert_sent"])
    if kind is None:
        return None
    recipients = {u.pk: u for u in source.owners.filter(is_active=True).exclude(email="")}
    if source.created_by_id and source.created_by.is_active and source.created_by.email:
        recipients.setdefault(source.created_by_id, source.created_by)
    streak = settings.CANON_FAILING_AFTER if kind == "crawl_failing" else 0
    subject = (f"[Canon] {source.name}: crawls are failing" if kind == "crawl_failing"
               else f"[Canon] {source.name}: crawls work again")
    created = None
    for user in recipients.values():
        context = {"user": user, "source": source, "crawl": crawl, "streak": streak, "subject": subject,
                   "source_url": f"{settings.CANON_BASE_URL}{source.get_absolute_url()}"}
        text, html = _render(kind, context)
        created = OutboxMessage.objects.get_or_create(
            key=f"{kind}:{source.pk}:{crawl.pk}:user:{user.pk}",
            defaults=dict(kind=kind, user=user, recipient=user.email, subject=subject, body_text=text, body_html=html,
                          crawl=crawl, next_attempt_at=timezone.now()),
        )[0]
    return created


def digests_send(now=None) -> list[OutboxMessage]:
    """Once a day (after CANON_DIGEST_HOUR), one digest per user of what their digest subscriptions saw.

    A change is in the digest when the subscription that decides for its dataset (the rule of
    immediate alerts: most specific wins, exclusions, owners) is a digest subscription due today,
    and the change came after that subscription's last digest."""
    now = now or timezone.now()
    if timezone.localtime(now).hour < settings.CANON_DIGEST_HOUR:
        return []
    day = timezone.localdate(now)
    due = Subscription.objects.filter(mode=Subscription.DIGEST).select_related("user", "source", "dataset")
    by_user: dict[int, list[Subscription]] = defaultdict(list)
    for sub in due:
        if sub.last_digest_at is None or timezone.localdate(sub.last_digest_at) < day:
            by_user[sub.user_id].append(sub)
    created = []
    for user_id, subs in by_user.items():
        user = subs[0].user
        since = {sub.pk: sub.last_digest_at or sub.created_at or now - timedelta(days=1) for sub in subs}
        candidates = []
        for sub in subs:
            scope = SchemaChange.objects.filter(source=sub.source, created_at__gt=since[sub.pk], created_at__lte=now)
            if sub.dataset_id:
                scope = scope.filter(dataset_id=sub.dataset_id)
            elif sub.schema_name:
                scope = scope.filter(dataset__schema_name=sub.schema_name)
            candidates += list(scope.select_related("source"))
        Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(last_digest_at=now)
        candidates = list({c.pk: c for c in candidates}.values())
        if not candidates or not user.is_active or not user.email:
            continue
        datasets = {d.pk: d for d in Dataset.objects.filter(id__in={c.dataset_id for c in candidates}).select_related("source", "owner")}
        user_subs = list(Subscription.objects.filter(user_id=user_id, source_id__in={d.source_id for d in datasets.values()}))
        excluded = _excluded(datasets, user_id=user_id)
        due_ids = set(since)
        deciding = {}
        for dataset_id, dataset in datasets.items():
            is_owner = bool(dataset.owner_id and dataset.owner.user_id == user_id)
            decision = _decide(user_subs, dataset, is_owner, excluded)
            if decision is not None and decision[0] == Subscription.DIGEST and decision[2].pk in due_ids:
                deciding[dataset_id] = decision[2]
        changes = [c for c in candidates if c.dataset_id in deciding
                   and c.created_at > since[deciding[c.dataset_id].pk]
                   and (not deciding[c.dataset_id].breaking_only or c.severity == BREAKING)]
        if not changes:
            continue
        datasets = {dataset_id: datasets[dataset_id] for dataset_id in {c.dataset_id for c in changes}}
        tokens = {dataset_id: _token(user_id, dataset_id, deciding[dataset_id], {}) for dataset_id in datasets}
        groups = _groups(changes, datasets, impacts_for(datasets), user_id, tokens)
        subject = f"[Canon] Daily digest: {len(groups)} dataset{'s' if len(groups) != 1 else ''} changed"
        text, html = _render("digest", {"user": user, "groups": groups, "subject": subject, "day": day,
                                        "watching_url": f"{settings.CANON_BASE_URL}{reverse('watching')}"})
        message, was_created = OutboxMessage.objects.get_or_create(
            key=f"digest:{user_id}:{day.isoformat()}",
            defaults=dict(kind="digest", user=user, recipient=user.email, subject=subject, body_text=text, body_html=html,
                          next_attempt_at=now),
        )
        if was_created:
            created.append(message)
    return created
