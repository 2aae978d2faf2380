"""Watching: who wants to hear about which source, schema or dataset."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.core import signing
from django.db import transaction

from catalog.alerts.models import Subscription, SubscriptionExclusion, UnsubscribeKey, new_nonce
from catalog.inventory.models import Dataset
from catalog.search.index import search_refresh_weights
from catalog.sources.models import Source

UNSUBSCRIBE_SALT = "canon.unsubscribe"


class SubscriptionError(ValueError):
    pass


class UnsubscribeLinkExpired(SubscriptionError):
    """A well-formed link that no longer stops anything: sent before links carried a nonce, or its
    nonce was replaced since. Also what a link forged with the SECRET_KEY alone gets."""


def subscription_resolve_target(target: str) -> tuple[Source, str, Dataset | None]:
    """'SOURCE', 'SOURCE.SCHEMA' or 'SOURCE.SCHEMA.DATASET' (the dataset name may itself hold dots)."""
    parts = (target or "").split(".", 2)
    source = Source.objects.filter(name=parts[0]).first()
    if source is None:
        raise SubscriptionError(f"No source named '{parts[0]}'.")
    if len(parts) == 1:
        return source, "", None
    schema = parts[1]
    if len(parts) == 2:
        if not Dataset.objects.filter(source=source, schema_name=schema).exists():
            raise SubscriptionError(f"Source {source.name} has no schema '{schema}'.")
        return source, schema, None
    dataset = Dataset.objects.filter(source=source, schema_name=schema, name=parts[2]).first()
    if dataset is None:
        raise SubscriptionError(f"Source {source.name} has no dataset {schema}.{parts[2]}.")
    return source, schema, dataset


def subscription_create(*, user, source: Source, schema_name: str = "", dataset: Dataset | None = None,
                        mode: str = Subscription.IMMEDIATE, breaking_only: bool = False) -> Subscription:
    """Create or update the user's subscription to that target (one per target)."""
    if mode not in dict(Subscription.MODE_CHOICES):
        raise SubscriptionError(f"Mode is one of: {', '.join(dict(Subscription.MODE_CHOICES))}.")
    if dataset is not None:
        if dataset.source_id != source.pk:
            raise SubscriptionError("That dataset is not in that source.")
        schema_name = dataset.schema_name
    subscription, _ = Subscription.objects.update_or_create(
        user=user, source=source, schema_name=schema_name or "", dataset=dataset,
        defaults={"mode": mode, "breaking_only": bool(breaking_only)},
    )
    search_refresh_weights([dataset.pk] if dataset is not None else [])
    return subscription


def subscription_delete(subscription: Subscription) -> None:
    subscription.delete()
    search_refresh_weights([subscription.dataset_id] if subscription.dataset_id else [])


def exclusion_create(subscription: Subscription, dataset: Dataset) -> SubscriptionExclusion:
    """Leave one dataset out of a source or schema subscription; the rest of it still alerts."""
    if subscription.dataset_id or not subscription.covers(dataset.source_id, dataset.schema_name, dataset.pk):
        raise SubscriptionError(f"Your subscription to {subscription.target_label} does not cover {dataset.qualified_name}.")
    exclusion, _ = SubscriptionExclusion.objects.get_or_create(subscription=subscription, dataset=dataset)
    return exclusion


def exclusion_delete(exclusion: SubscriptionExclusion) -> None:
    """Undo an exclusion: the subscription alerts about that dataset again."""
    exclusion.delete()


# ---------------------------------------------------------------- unsubscribe links
#
# A link names what it stops (a subscription and a dataset, or an owner's default watch of a
# dataset) and carries a random nonce stored with that subscription (or, for an owner's default
# watch, with the person: UnsubscribeKey). The signature alone proves nothing once the
# SECRET_KEY leaks; the nonce cannot be made without reading the catalog's database.


def unsubscribe_token(user_id: int, nonce: str, *, subscription_id: int | None = None, dataset_id: int | None = None) -> str:
    """A link token that stops alerts for one dataset: from one subscription (subscription_id and
    dataset_id), or from the owner's default watch (dataset_id alone, with the user's key nonce)."""
    return signing.dumps({"u": user_id, "s": subscription_id, "d": dataset_id, "n": nonce}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_keys_get(user_ids) -> dict[int, str]:
    """The owner-link nonce of each user, made on first need."""
    user_ids = set(user_ids)
    found = dict(UnsubscribeKey.objects.filter(user_id__in=user_ids).values_list("user_id", "nonce"))
    missing = user_ids - set(found)
    if missing:
        UnsubscribeKey.objects.bulk_create([UnsubscribeKey(user_id=user_id) for user_id in missing], ignore_conflicts=True)
        found = dict(UnsubscribeKey.objects.filter(user_id__in=user_ids).values_list("user_id", "nonce"))
    return found


@transaction.atomic
def unsubscribe_links_reset(user) -> int:
    """New nonces for all of a person's subscriptions and their owner key: every unsubscribe link
    already sent to them stops working. Returns how many subscriptions were given one."""
    subscriptions = list(Subscription.objects.filter(user=user).only("id"))
    for subscription in subscriptions:
        subscription.nonce = new_nonce()
    Subscription.objects.bulk_update(subscriptions, ["nonce"])
    UnsubscribeKey.objects.filter(user=user).update(nonce=new_nonce())
    return len(subscriptions)


@dataclass(frozen=True)
class UnsubscribeTarget:
    """What one link stops, for the page that asks and the page that confirms.

    how: "exclusion" (one dataset left out of a source or schema subscription; `via` names that
    subscription, `via_scope` says which kind), "subscription" (a subscription to the dataset
    itself is turned off) or "owner" (the owner's default watch of the dataset is turned off).
    """

    how: str
    dataset: str
    via: str = ""
    via_scope: str = ""


def _nonce_matches(stored: str | None, given) -> bool:
    return bool(stored) and isinstance(given, str) and hmac.compare_digest(stored.encode(), given.encode())


def _unsubscribe_target(token: str) -> tuple[Subscription | None, Dataset | None, int]:
    """(subscription or None, dataset or None, user id); the dataset is None when it is gone, and
    the subscription too when the link was for a subscription that is gone.

    Raises SubscriptionError for a token that is not one, UnsubscribeLinkExpired for one without
    the current nonce.
    """
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise SubscriptionError("This unsubscribe link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise SubscriptionError("This unsubscribe link is not valid.")
    if "n" not in data:
        raise UnsubscribeLinkExpired("This unsubscribe link has expired.")
    user_id, subscription_id, dataset_id = data["u"], data.get("s"), data.get("d")
    if subscription_id:
        subscription = (Subscription.objects.filter(pk=subscription_id, user_id=user_id)
                        .select_related("source", "dataset__source").first())
        if subscription is None:
            return None, None, user_id
        if not _nonce_matches(subscription.nonce, data["n"]):
            raise UnsubscribeLinkExpired("This unsubscribe link has expired.")
        if subscription.dataset_id:
            return subscription, subscription.dataset, user_id
        return subscription, Dataset.objects.filter(pk=dataset_id).select_related("source").first(), user_id
    key = UnsubscribeKey.objects.filter(user_id=user_id).values_list("nonce", flat=True).first()
    if not _nonce_matches(key, data["n"]):
        raise UnsubscribeLinkExpired("This unsubscribe link has expired.")
    return None, Dataset.objects.filter(pk=dataset_id).select_related("source").first(), user_id


def _describe(subscription: Subscription | None, dataset: Dataset) -> UnsubscribeTarget:
    label = f"{dataset.source.name}.{dataset.schema_name}.{dataset.name}"
    if subscription is None:
        return UnsubscribeTarget("owner", label)
    if subscription.dataset_id:
        return UnsubscribeTarget("subscription", label)
    return UnsubscribeTarget("exclusion", label, via=subscription.target_label, via_scope=subscription.scope)


def unsubscribe_describe(token: str) -> UnsubscribeTarget | None:
    """What an unsubscribe link would stop, changing nothing; None when that is already gone.

    Raises SubscriptionError for a bad token (UnsubscribeLinkExpired for an old one). Mail
    scanners open links: only a POST unsubscribes.
    """
    subscription, dataset, _ = _unsubscribe_target(token)
    if dataset is None:
        return None
    return _describe(subscription, dataset)


def unsubscribe_with_token(token: str) -> UnsubscribeTarget | None:
    """Stop what an unsubscribe link names: alerts for its one dataset, nothing else.

    From a source or schema subscription that is an exclusion (the other datasets still alert);
    from a subscription to the dataset itself, that subscription is turned off; from an owner's
    default watch, a dataset subscription turned off (as the dataset page's "Stop alerts" does).
    None when that is already gone. Raises as unsubscribe_describe does. Repeating it is harmless.
    """
    subscription, dataset, user_id = _unsubscribe_target(token)
    if dataset is None:
        return None
    if subscription is not None and subscription.dataset_id:
        if subscription.mode != Subscription.OFF:
            subscription.mode = Subscription.OFF
            subscription.save(update_fields=["mode"])
            search_refresh_weights([dataset.pk])
    elif subscription is not None:
        exclusion_create(subscription, dataset)
    else:
        Subscription.objects.update_or_create(
            user_id=user_id, source=dataset.source, schema_name=dataset.schema_name, dataset=dataset,
            defaults={"mode": Subscription.OFF},
        )
    return _describe(subscription, dataset)
